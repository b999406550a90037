"""Writing gitops/: check, prune, refusal, foreign files, read-only folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import maestro, tree_digest


def test_compile_then_check_is_clean(project: Path) -> None:
    first = maestro(project, "compile", check=True)
    assert "written" in first.stdout
    result = maestro(project, "compile", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


@pytest.mark.parametrize("damage, status", [
    pytest.param(lambda f: f.unlink(), "missing", id="missing"),
    pytest.param(lambda f: f.write_text(f.read_text().replace("Forbid", "Allow")), "stale", id="stale"),
])
def test_check_reports_drift_and_writes_nothing(project: Path, damage, status: str) -> None:
    maestro(project, "compile", check=True)
    target = project / "gitops/prod/quant-research-prod/cronworkflow-aapl-direction.yaml"
    damage(target)
    before = tree_digest(project / "gitops")
    result = maestro(project, "compile", "--check")
    assert result.returncode == 1
    assert f"{status}: gitops/prod/quant-research-prod/cronworkflow-aapl-direction.yaml" in result.stdout
    assert tree_digest(project / "gitops") == before
    if status == "stale":
        assert "-  concurrencyPolicy: Allow" in result.stdout and "+  concurrencyPolicy: Forbid" in result.stdout


def test_check_reports_extra_generated_file(project: Path) -> None:
    maestro(project, "compile", check=True)
    (project / "pipelines/goog-volatility.yaml").unlink()
    result = maestro(project, "compile", "--check")
    assert result.returncode == 1
    assert "extra: gitops/prod/risk-lab-prod/workflowtemplate-goog-volatility.yaml" in result.stdout


def test_prune_removes_what_maestro_wrote_and_keeps_hand_written_files(project: Path) -> None:
    maestro(project, "compile", check=True)
    hand_written = project / "gitops/prod/risk-lab-prod/extra-configmap.yaml"
    hand_written.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mine}\n")
    (project / "pipelines/goog-volatility.yaml").unlink()
    result = maestro(project, "compile", check=True)
    assert "pruned" in result.stdout
    assert not (project / "gitops/prod/risk-lab-prod/workflowtemplate-goog-volatility.yaml").exists()
    assert hand_written.read_text().startswith("apiVersion: v1")


def test_a_hand_written_file_in_the_way_is_not_overwritten(project: Path) -> None:
    maestro(project, "compile", check=True)
    target = project / "gitops/prod/quant-research-prod/cronworkflow-aapl-direction.yaml"
    target.write_text("# mine\nkind: CronWorkflow\n")
    result = maestro(project, "compile")
    assert result.returncode == 2
    assert "was not written by maestro" in result.stderr
    assert target.read_text() == "# mine\nkind: CronWorkflow\n"


def test_an_invalid_pipeline_leaves_gitops_byte_identical(project: Path) -> None:
    maestro(project, "compile", check=True)
    before = tree_digest(project / "gitops")
    spec = project / "pipelines/aapl-direction.yaml"
    spec.write_text(spec.read_text().replace("epochs: 30", "epochs: -3"))
    result = maestro(project, "compile")
    assert result.returncode == 1
    assert "pipelines/aapl-direction.yaml:" in result.stderr and "spec.training.epochs" in result.stderr
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree_digest(project / "gitops") == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_gitops_gets_a_clear_error(project: Path) -> None:
    maestro(project, "compile", check=True)
    (project / "pipelines/goog-volatility.yaml").unlink()
    folder = project / "gitops/prod/risk-lab-prod"
    folder.chmod(0o555)
    try:
        result = maestro(project, "compile")
    finally:
        folder.chmod(0o755)
    assert result.returncode == 1
    assert "Permission denied" in result.stderr and "Traceback" not in result.stderr
