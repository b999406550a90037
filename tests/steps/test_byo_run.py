"""`maestro run` of a bring-your-own pipeline: each step's `local` command as a process, then maestro's
gate on the evaluator's metrics.json and publish of the trainer's model. No torch, no containers:
each run takes well under a second."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from .conftest import REPO, read_summary, run_cli

STEP = """\
    - name: {name}
      image: ghcr.io/acme/byo:1
      local: [python, scripts/{name}.py]
{extra}"""


def project(root: Path, scripts: dict[str, str], gate: str = "{min: {score: 0.5}}", steps: str | None = None) -> Path:
    """Environments of the repository, one custom pipeline `byo`: make -> fit (trainer) -> judge (evaluator)."""
    shutil.copytree(REPO / "environments", root / "environments")
    (root / "pipelines").mkdir()
    (root / "scripts").mkdir()
    for name, body in scripts.items():
        (root / "scripts" / f"{name}.py").write_text(textwrap.dedent(body))
    steps = steps or "".join([
        STEP.format(name="make", extra="      outputs: [data]\n      env: {GREETING: hello}\n"
                                       "      secrets: [warehouse]\n"),
        STEP.format(name="fit", extra="      role: trainer\n      inputs: [make.data]\n      outputs: [model]\n"),
        STEP.format(name="judge", extra="      role: evaluator\n      inputs: [fit.model]\n      outputs: [metrics]\n"),
    ])
    (root / "pipelines" / "byo.yaml").write_text(
        "apiVersion: maestro/v1\nkind: Pipeline\nmetadata: {name: byo, team: lab}\n"
        f"spec:\n  template: custom\n  gate: {gate}\n  serving: {{format: pickle, requirements: [python]}}\n"
        f"  steps:\n{steps}")
    return root


MAKE = """\
    import json, os, pathlib
    out = pathlib.Path(os.environ["MAESTRO_OUTPUT_DATA"])
    (out / "data.json").write_text(json.dumps({"values": [1, 2, 3]}))
    (out / "seen.json").write_text(json.dumps({"env": dict(os.environ), "cwd": os.getcwd()}))
"""
FIT = """\
    import json, os, pathlib
    data = json.loads((pathlib.Path(os.environ["MAESTRO_INPUT_MAKE_DATA"]) / "data.json").read_text())
    (pathlib.Path(os.environ["MAESTRO_OUTPUT_MODEL"]) / "model.json").write_text(json.dumps({"mean": 2.0}))
"""
JUDGE = """\
    import json, os, pathlib
    model = json.loads((pathlib.Path(os.environ["MAESTRO_INPUT_FIT_MODEL"]) / "model.json").read_text())
    (pathlib.Path(os.environ["MAESTRO_OUTPUT_METRICS"]) / "metrics.json").write_text(
        json.dumps({"metrics": {"score": SCORE}}))
"""


def scripts(score: str = "0.8", **replaced: str) -> dict[str, str]:
    return {"make": MAKE, "fit": FIT, "judge": JUDGE.replace("SCORE", score), **replaced}


def run(root: Path):
    return run_cli("byo", "--root", str(root), "--env", "dev", "--output-dir", str(root / "out"))


def test_the_example_runs_end_to_end_in_dev(tmp_path: Path) -> None:
    output = tmp_path / "out"
    result = run_cli("synthetic-regression", "--root", str(REPO), "--env", "dev", "--output-dir", str(output))
    assert result.exit_code == 0, result.output
    summary = read_summary(output)
    assert {name: step["status"] for name, step in summary["steps"].items()} == {
        "prepare": "ran", "fit": "ran", "score": "ran", "gate": "ran", "publish": "ran"}
    assert summary["gate"]["passed"] is True and summary["metrics"]["r2"] > 0.9 and summary["metrics"]["rows"] == 100
    published = summary["model"]["published"]
    assert (published["format"], published["seldon_requirements"]) == ("linear-json", ["python"])
    assert published["storage_uri"] == f"s3://acme-ml-dev/models/risk-lab/synthetic-regression/{summary['run_id']}/"
    model = json.loads((output / "work" / "publish" / "model" / "model.json").read_text())
    assert model["coefficients"]["x1"] == pytest.approx(3.0, abs=0.05)
    assert "gate PASSED" in result.output and "met    r2" in result.output


def test_a_step_sees_only_what_it_is_given(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MAESTRO_TEST_LEAK", "from-the-shell")
    root = project(tmp_path / "p", scripts())
    assert run(root).exit_code == 0
    seen = json.loads((root / "out" / "work" / "make" / "data" / "seen.json").read_text())
    work = root / "out" / "work"
    assert Path(seen["cwd"]) == (work / "make").resolve()
    assert seen["env"]["GREETING"] == "hello" and seen["env"]["MAESTRO_WORKDIR"] == str(work)
    assert seen["env"]["MAESTRO_OUTPUT_DATA"] == str(work / "make" / "data")
    assert "MAESTRO_TEST_LEAK" not in seen["env"]
    assert set(seen["env"]) - {"GREETING", "MAESTRO_WORKDIR", "MAESTRO_OUTPUT_DATA"} <= {
        "PATH", "HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE", "LC_CTYPE"}   # LC_CTYPE: Python may set it
    assert not (work / "make" / ".scratch").exists()


def test_the_gate_refuses_a_low_metric_and_publish_is_skipped(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scripts(score="0.2"))
    result = run(root)
    assert result.exit_code == 0, result.output
    summary = read_summary(root / "out")
    assert summary["gate"]["reasons"] == ["score 0.2 misses the minimum of 0.5 (gate.min.score)"]
    assert summary["steps"]["publish"]["status"] == "skipped"
    assert (root / "out" / "work" / "gate" / "passed").read_text() == "false"


def test_a_bound_on_a_metric_the_evaluator_did_not_write_is_missed(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scripts(), gate="{max: {rmse: 1}}")
    assert run(root).exit_code == 0
    assert read_summary(root / "out")["gate"]["reasons"] == [
        "rmse is not among the evaluator's metrics (it wrote: score) (gate.max.rmse)"]


@pytest.mark.parametrize("judge, message", [
    pytest.param("pass\n", "the evaluator 'judge' wrote no metrics/metrics.json", id="no-file"),
    pytest.param(JUDGE.replace('{"metrics": {"score": SCORE}}', '{"score": 1}'), 'without a "metrics" object',
                 id="no-metrics-object"),
    pytest.param(JUDGE.replace("SCORE", '"high"'), "whose metrics score are not finite numbers", id="not-a-number"),
])
def test_a_bad_metrics_file_fails_the_gate(judge: str, message: str, tmp_path: Path) -> None:
    root = project(tmp_path / "p", scripts(judge=judge))
    result = run(root)
    assert result.exit_code == 1 and message in result.output, result.output
    assert read_summary(root / "out")["steps"]["gate"]["status"] == "failed"


def test_a_failing_command_stops_the_run(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scripts(fit="import sys\nprint('diverged')\nsys.exit(3)\n"))
    result = run(root)
    assert result.exit_code == 1
    assert "the local command of step 'fit' exited with status 3; its output is in logs/fit.log" in result.output
    steps = read_summary(root / "out")["steps"]
    assert (steps["fit"]["status"], steps["judge"]["status"], steps["gate"]["status"]) == ("failed", "not-run", "not-run")
    assert "diverged" in (root / "out" / "logs" / "fit.log").read_text()


def test_a_link_left_among_the_outputs_is_refused(tmp_path: Path) -> None:
    """A step could point the model folder at any file of the machine; publish would copy it."""
    planted = f"import os\nos.symlink('/etc/passwd', os.path.join(os.environ['MAESTRO_OUTPUT_MODEL'], 'model.json'))\n"
    root = project(tmp_path / "p", scripts(fit=planted))
    result = run(root)
    assert result.exit_code == 1 and "step 'fit' left a symbolic link" in result.output, result.output
    assert not (root / "out" / "work" / "fit" / "model" / "model.json").is_symlink()


def test_a_step_without_a_local_command_cannot_run_here(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scripts())
    spec = root / "pipelines" / "byo.yaml"
    spec.write_text(spec.read_text().replace("      local: [python, scripts/judge.py]\n", ""))
    result = run(root)
    assert result.exit_code == 1 and "step judge gives no local command" in result.output, result.output


def test_an_argument_outside_the_repository_is_passed_as_written(tmp_path: Path) -> None:
    from maestro.local_process import command_line

    root = project(tmp_path / "p", scripts())
    (tmp_path / "outside.py").write_text("")
    (root / "scripts" / "link.py").symlink_to(tmp_path / "outside.py")
    assert command_line(("python", "scripts/make.py", "../outside.py", "scripts/link.py", "-v"), root)[1:] == [
        str((root / "scripts" / "make.py").resolve()), "../outside.py", "scripts/link.py", "-v"]


def test_the_pods_gate_and_publish_read_the_custom_spec(tmp_path: Path) -> None:
    """`maestro step gate|publish`, as the cluster's pods run them, on the spec.json the compile ships."""
    from tests.support import maestro

    root = project(tmp_path / "p", scripts())
    assert run(root).exit_code == 0
    out = root / "out"
    shutil.rmtree(out / "work" / "gate")
    shutil.rmtree(out / "work" / "publish")
    common = ("--spec", out / "spec.json", "--workdir", out / "work", "--run-id", "byo-pod1")
    gate = maestro(None, "step", "gate", *common)
    assert (gate.returncode, gate.stdout) == (0, "gate: passed\n"), gate.stderr
    assert maestro(None, "step", "publish", *common).returncode == 0
    record = json.loads((out / "work" / "publish" / "publish.json").read_text())
    assert record["storage_uri"].endswith("/models/lab/byo/byo-pod1/") and record["trainer"] == "fit"
    assert (out / "work" / "publish" / "model" / "model.json").is_file()



def test_the_pods_publish_writes_back_as_the_builtins_does(tmp_path: Path) -> None:
    """`maestro step publish --write-back` of a custom pipeline: the same push as the built-in's, to
    the environment's gitops repository (here a local bare one), with the run in its promotion record."""
    from tests.support import git, maestro, seed_bare_repository

    root = project(tmp_path / "p", scripts())
    spec_file = root / "pipelines" / "byo.yaml"   # prod's policy asks for pinned images in the repository
    spec_file.write_text(spec_file.read_text().replace("ghcr.io/acme/byo:1", "ghcr.io/acme/byo@sha256:" + "c" * 64))
    assert run(root).exit_code == 0
    bare = seed_bare_repository(tmp_path, root)
    out = root / "out"
    spec = json.loads((out / "spec.json").read_text())
    spec["environment"]["spec"]["gitops"]["repo_url"] = str(bare)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    shutil.rmtree(out / "work" / "publish")
    result = maestro(None, "step", "publish", "--spec", tmp_path / "spec.json", "--workdir", out / "work",
                     "--run-id", "byo-pod2", "--write-back")
    assert result.returncode == 0, result.stderr
    record = json.loads((out / "work" / "publish" / "publish.json").read_text())
    assert record["environment"] == "dev"
    promotion = record["promotion"]
    assert (promotion["status"], promotion["version"], promotion["ref"]) == ("pushed", "v1", "main")
    assert "propose byo v1 from run byo-pod2 in dev" in git(bare, "log", "-1", "--format=%B", "main")
    changed = git(bare, "diff", "--name-only", "main~1", "main").split()
    assert {"pipelines/byo.yaml", "promotions/byo/dev.yaml"} <= set(changed)


def test_a_trainer_spanning_nodes_runs_here_as_one_process(tmp_path: Path) -> None:
    """In the cluster a TrainJob of 2 nodes (environments allow it with GPUs); here one local process,
    and the run says so."""
    steps = "".join([
        STEP.format(name="make", extra="      outputs: [data]\n"),
        STEP.format(name="fit", extra="      role: trainer\n      inputs: [make.data]\n      outputs: [model]\n"
                                      "      resources: {nodes: 2, allow_cpu_nodes: true}\n"),
        STEP.format(name="judge", extra="      role: evaluator\n      inputs: [fit.model]\n      outputs: [metrics]\n"),
    ])
    root = project(tmp_path / "p", scripts(), steps=steps)
    result = run(root)
    assert result.exit_code == 0, result.output
    assert "(fit spans 2 nodes in dev; here it runs on this machine alone)" in result.output
    summary = read_summary(root / "out")
    assert summary["gate"]["passed"] is True and summary["steps"]["publish"]["status"] == "ran"
