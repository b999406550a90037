"""`maestro diff` on a real temporary git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import maestro, refusing_model_schemas


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def repo(project: Path) -> Path:
    _git(project, "init", "-q", "-b", "main")
    _git(project, "config", "user.email", "ci@example.com")
    _git(project, "config", "user.name", "CI")
    maestro(project, "compile", check=True)
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "initial")
    spec = project / "pipelines/msft-momentum.yaml"
    spec.write_text(spec.read_text().replace("candidate_weight: 15", "candidate_weight: 10"))
    return project


def test_no_changes_against_the_committed_tree(project: Path) -> None:
    maestro(project, "compile", check=True)
    result = maestro(project, "diff", check=True)
    assert result.stdout.strip() == "no changes"


def test_text_diff_names_resource_field_and_values(repo: Path) -> None:
    result = maestro(repo, "diff", "--against", "HEAD", "--env", "prod", check=True)
    assert ("prod/quant-research-prod/msft-momentum-spec ConfigMap: "
            "data.spec.json.pipeline.spec.serving.experiment.candidate_weight 15 → 10") in result.stdout.splitlines()


def test_json_diff_parses(repo: Path) -> None:
    records = json.loads(maestro(repo, "diff", "--against", "HEAD", "--format", "json", check=True).stdout)["changes"]
    envs = {r["env"] for r in records}
    assert envs == {"dev", "staging", "prod"}
    assert all(r["change"] in ("added", "removed", "changed") for r in records)


def test_exit_code_flag(repo: Path) -> None:
    assert maestro(repo, "diff", "--exit-code").returncode == 1


def test_unknown_ref_is_a_usage_error(repo: Path) -> None:
    result = maestro(repo, "diff", "--against", "no-such-ref")
    assert result.returncode == 2 and "no-such-ref" in result.stderr


def test_a_tree_compile_refuses_is_refused_with_the_same_errors(repo: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MAESTRO_SCHEMA_LOCATION", str(refusing_model_schemas(tmp_path / "schemas")))
    refused = maestro(repo, "diff", "--against", "HEAD")
    compiled = maestro(repo, "compile", "--check")
    assert refused.returncode == compiled.returncode == 1
    assert refused.stdout == "" and refused.stderr == compiled.stderr
    assert "Model msft-momentum-v12" in refused.stderr and "storageUri" in refused.stderr


def test_a_renamed_experiment_is_a_removal_and_an_addition_under_its_real_names(repo: Path) -> None:
    document = json.loads(maestro(repo, "diff", "--against", "HEAD", "--env", "prod", "-o", "json", check=True).stdout)
    experiments = [(r["change"], r["namespace"], r["name"]) for r in document["changes"] if r["kind"] == "Experiment"]
    assert experiments == [("added", "quant-research-prod", "msft-momentum-shadow-v12-w10"),
                           ("removed", "quant-research-prod", "msft-momentum-shadow-v12-w15")]


def test_an_added_experiment_shows_its_key_fields(repo: Path) -> None:
    document = json.loads(maestro(repo, "diff", "--against", "HEAD", "--env", "prod", "-o", "json", check=True).stdout)
    added = next(r for r in document["changes"] if r["kind"] == "Experiment" and r["change"] == "added")
    fields = {f["path"]: (f["old"], f["new"]) for f in added["fields"]}
    assert fields["spec.mirror"] == (None, {"name": "msft-momentum-v12", "percent": 10})
    assert fields["spec.default"] == (None, "msft-momentum-v11")


def test_a_new_model_version_is_added_under_its_name_with_its_storage_uri(repo: Path) -> None:
    spec = repo / "pipelines/msft-momentum.yaml"
    spec.write_text(spec.read_text().replace("{name: v12, run: msft-momentum-b41e7a}",
                                             "{name: v13, run: msft-momentum-b41e7a}").replace("candidate: v12", "candidate: v13"))
    lines = maestro(repo, "diff", "--against", "HEAD", "--env", "prod", check=True).stdout.splitlines()
    assert "prod/quant-research-prod/msft-momentum-v13 Model: added" in lines
    assert "prod/quant-research-prod/msft-momentum-v12 Model: removed" in lines
    assert any(line.startswith("prod/quant-research-prod/msft-momentum-v13 Model: spec.storageUri s3://")
               for line in lines)


def test_every_markdown_row_names_the_namespace(repo: Path) -> None:
    markdown = maestro(repo, "diff", "--against", "HEAD", "--env", "prod", "--format", "markdown", check=True).stdout
    rows = [line for line in markdown.splitlines() if line.startswith("| `")]
    assert rows and all(line.startswith("| `quant-research-prod/") for line in rows)
