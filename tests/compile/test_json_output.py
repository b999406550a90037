"""`--output json` of compile, compile --check, diff and promote, and failures as JSON: real outputs,
each validated against its documented schema (docs/schemas/output/), exit codes as in text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.output_schemas import conforming

from tests.support import EXAMPLE_ENVIRONMENTS, EXAMPLE_PIPELINES

from .conftest import maestro


def _commit(root: Path) -> None:
    for args in (("init", "-q", "-b", "main"), ("add", "-A"),
                 ("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "compiled")):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def compiled(project: Path) -> Path:
    maestro(project, "compile", check=True)
    return project


def _edit(root: Path, old: str, new: str, pipeline: str = "msft-momentum") -> None:
    spec = root / "pipelines" / f"{pipeline}.yaml"
    spec.write_text(spec.read_text().replace(old, new))


def test_compile_lists_what_it_wrote(project: Path) -> None:
    result = maestro(project, "compile", "--output", "json")
    assert result.returncode == 0, result.stderr
    report = conforming(result.stdout, "compile")
    files = sorted(p.relative_to(project).as_posix() for p in (project / "gitops").rglob("*") if p.is_file())
    assert report["written"] == files and report["pruned"] == [] and report["unchanged"] == 0
    assert (report["environments"], report["pipelines"]) == (len(EXAMPLE_ENVIRONMENTS), len(EXAMPLE_PIPELINES))
    again = conforming(maestro(project, "compile", "-o", "json", check=True).stdout, "compile")
    assert again["written"] == [] and again["unchanged"] == len(files)


def test_check_up_to_date_and_stale(compiled: Path) -> None:
    fresh = maestro(compiled, "compile", "--check", "-o", "json")
    assert fresh.returncode == 0 and conforming(fresh.stdout, "check") == {
        "schema": "maestro.check/v1", "up_to_date": True, "files": [], "warnings": []}
    _edit(compiled, "candidate_weight: 15", "candidate_weight: 10")
    stale = maestro(compiled, "compile", "--check", "-o", "json")
    assert stale.returncode == 1
    report = conforming(stale.stdout, "check")
    by_status = {(f["status"], f["path"]) for f in report["files"]}
    assert ("missing", "gitops/prod/quant-research-prod/experiment-msft-momentum-shadow-v12-w10.yaml") in by_status
    assert ("extra", "gitops/prod/quant-research-prod/experiment-msft-momentum-shadow-v12-w15.yaml") in by_status
    stale_spec = next(f for f in report["files"] if f["path"].endswith("prod/quant-research-prod/configmap-msft-momentum-spec.yaml"))
    assert stale_spec["status"] == "stale"
    assert {'-              "candidate_weight": 15,', '+              "candidate_weight": 10,'} <= set(stale_spec["diff"].splitlines())


@pytest.mark.parametrize("spelling", [("--output", "json"), ("--format", "json")], ids=["output", "format"])
def test_diff(compiled: Path, spelling: tuple[str, str]) -> None:
    _commit(compiled)
    _edit(compiled, "candidate_weight: 15", "candidate_weight: 10")
    report = conforming(maestro(compiled, "diff", "--against", "HEAD", "--env", "prod", *spelling, check=True).stdout,
                        "diff")
    assert report["counts"] == {"added": 1, "changed": 1, "removed": 1}   # the Experiment is renamed
    added = next(c for c in report["changes"] if c["kind"] == "Experiment" and c["change"] == "added")
    assert (added["pipeline"], added["namespace"], added["name"]) == \
        ("msft-momentum", "quant-research-prod", "msft-momentum-shadow-v12-w10")
    assert {"path": "spec.mirror", "old": None, "new": {"name": "msft-momentum-v12", "percent": 10}} in added["fields"]


def test_diff_refuses_output_json_with_another_format(compiled: Path) -> None:
    result = maestro(compiled, "diff", "--output", "json", "--format", "markdown")
    assert result.returncode == 2
    assert conforming(result.stdout, "error")["kind"] == "usage" and "contradict" in result.stderr


def test_promote(compiled: Path) -> None:
    result = maestro(compiled, "promote", "msft-momentum", "--version", "v12", "--as", "default", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = conforming(result.stdout, "promote")
    assert (report["edited"], report["role"], report["version"]) == ("pipelines/msft-momentum.yaml", "default", "v12")
    removed = {(c["env"], c["kind"]) for c in report["changes"] if c["change"] == "removed"}
    assert ("prod", "Experiment") in removed   # a default with no candidate: the experiment goes


def test_invalid_spec_diagnostics_as_json_with_the_same_exit_code(project: Path) -> None:
    _edit(project, "epochs: 25", "epochz: 25")
    text, data = maestro(project, "compile"), maestro(project, "compile", "-o", "json")
    assert text.returncode == data.returncode == 1 and text.stdout == ""
    report = conforming(data.stdout, "error")
    assert (report["command"], report["kind"]) == ("compile", "invalid")
    assert report["diagnostics"] == [{
        "file": "pipelines/msft-momentum.yaml", "line": 9, "col": 1, "path": "",
        "message": "4 check(s) were not run (cpu nodes, gpu quota, gpus, nodes): they read spec.training, "
                   "which has errors in this file", "hint": "", "severity": "note"}, {
        "file": "pipelines/msft-momentum.yaml", "line": 22, "col": 5, "path": "spec.training.epochz",
        "message": "unknown field 'epochz'", "hint": "did you mean 'epochs'?", "severity": "error"}]
    assert report["message"] == "1 error(s); nothing was written."   # the note is not counted
    assert data.stderr == text.stderr   # the human lines still go to stderr
    assert not (project / "gitops").exists()


@pytest.mark.parametrize("args, code", [
    (("compile", "--env", "nope", "-o", "json"), 2),
    (("compile", "--check", "--env", "nope", "-o", "json"), 2),
    (("promote", "nope", "--version", "v1", "--as", "default", "-o", "json"), 2),
    (("run", "nope", "-o", "json"), 2),
    (("diff", "--against", "no-such-ref", "-o", "json"), 2),
], ids=["compile", "check", "promote", "run", "diff"])
def test_usage_errors_as_json(compiled: Path, args: tuple[str, ...], code: int) -> None:
    _commit(compiled)
    result = maestro(compiled, *args)
    assert result.returncode == code
    report = conforming(result.stdout, "error")
    assert (report["command"], report["kind"], report["diagnostics"]) == (args[0], "usage", [])
    assert report["message"] in result.stderr
