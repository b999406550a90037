"""`maestro run` end to end: the example dev pipeline offline, honesty on synthetic series, the cache,
failures, and `maestro step` as the pods call it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


from tests.output_schemas import conforming
from tests.support import maestro

from .conftest import REPO, make_project, read_summary, run_cli, step_context

pytestmark = pytest.mark.slow


def test_example_dev_pipeline_runs_end_to_end_offline(dev_example_run):
    output, result = dev_example_run
    assert result.exit_code == 0, result.output
    summary = read_summary(output)
    assert (summary["pipeline"], summary["environment"], summary["status"]) == ("aapl-direction", "dev", "succeeded")
    assert list(summary["steps"]) == ["ingest", "validate", "features", "train", "evaluate", "gate", "publish"]
    assert all(s["status"] == "ran" for name, s in summary["steps"].items() if name != "publish")
    assert {"accuracy", "sharpe", "max_drawdown", "p_value"} <= set(summary["metrics"])
    assert set(summary["baselines"]) == {"majority", "previous_bar", "buy_and_hold"}
    assert all("accuracy" in b for b in summary["baselines"].values())
    assert len(summary["folds"]) == 3 and all(f["test"]["rows"] == 60 for f in summary["folds"])
    assert isinstance(summary["gate"]["passed"], bool) and len(summary["gate"]["reasons"]) == 6
    assert Path(summary["model"]["path"]).is_file() and summary["model"]["format"] == "torchscript"
    verdict = "gate PASSED" if summary["gate"]["passed"] else "gate REFUSED"
    assert verdict in result.output


def test_second_run_reuses_every_step_from_the_cache(dev_example_run):
    output, _ = dev_example_run
    before = {p: p.read_bytes() for p in (output / "work").rglob("manifest.json")}
    result = run_cli("aapl-direction", "--root", str(REPO), "--env", "dev", "--output-dir", str(output))
    assert result.exit_code == 0, result.output
    statuses = {n: s["status"] for n, s in read_summary(output)["steps"].items()}
    assert {statuses[n] for n in ("ingest", "validate", "features", "train", "evaluate", "gate")} == {"cached"}
    assert before == {p: p.read_bytes() for p in (output / "work").rglob("manifest.json")}


def test_json_output_is_summary_json_with_its_steps_in_dag_order(dev_example_run):
    output, _ = dev_example_run
    result = run_cli("aapl-direction", "--root", str(REPO), "--env", "dev", "--output-dir", str(output), "-o", "json")
    assert result.exit_code == 0, result.stderr
    report, summary = conforming(result.stdout, "run"), read_summary(output)
    assert [(s.pop("name"), s) for s in report["steps"]] == list(summary["steps"].items())
    assert (report["gate"], report["metrics"], report["run_id"]) == (summary["gate"], summary["metrics"], summary["run_id"])
    assert report["summary_file"] == str((output / "summary.json").resolve())
    assert "ingest" in result.stderr   # stdout is the document alone (it parsed); progress stays on stderr


def test_random_walk_is_not_learned_and_the_gate_refuses(tmp_path):
    root = make_project(tmp_path, "walk")
    result = run_cli("syn", "--root", str(root), "--output-dir", str(root / "out"))
    assert result.exit_code == 0, result.output
    summary = read_summary(root / "out")
    assert abs(summary["metrics"]["accuracy"] - 0.5) < 0.07
    assert summary["gate"]["passed"] is False and "gate REFUSED" in result.output
    assert summary["steps"]["publish"] == {"status": "skipped", "seconds": 0.0, "detail": "the gate refused the model"}
    assert not (root / "out" / "work" / "publish").exists()
    # The refused model still gets its card: what was measured, against what, and why it was refused.
    card_path = Path(summary["model_card"])
    assert card_path == (root / "out" / "work" / "gate" / "model_card.md").resolve() and f"model card: {card_path}" in result.output
    card = card_path.read_text()
    assert "Decision of the promotion gate: **refused**" in card and "**not published**" in card
    for name in ("majority", "previous_bar", "buy_and_hold"):
        assert name in card
    assert f"the one-sided p-value is {summary['significance']['p_value']:.3g}" in card
    for reason in summary["gate"]["reasons"]:
        assert f"- {reason}" in card
    assert "s3://" not in card     # no storage URI for a model that is not uploaded


def test_a_rule_invisible_to_the_baselines_is_learned_and_passes_the_gate(learnable_run):
    root, result = learnable_run
    assert result.exit_code == 0, result.output
    summary = read_summary(root / "out")
    assert summary["metrics"]["accuracy"] > 0.75
    assert all(b["accuracy"] < 0.6 for b in summary["baselines"].values())
    assert summary["metrics"]["p_value"] < 1e-6 and summary["metrics"]["sharpe"] > 1
    assert summary["gate"]["passed"] is True and "gate PASSED" in result.output
    assert summary["steps"]["publish"]["status"] == "ran"
    # The served file was scored on the final block, which its training left out.
    served, last = summary["served_model"], summary["folds"][-1]
    trained = json.loads((root / "out" / "work" / "train" / "model.json").read_text())
    assert served["holdout"] == last["test"] and served["holdout"]["rows"] == 100
    assert trained["data"]["last_date"] < served["holdout"]["first"] and trained["holdout"]["rows"] == 100
    assert served["agrees_with_last_fold"] and served["metrics"]["accuracy"] > 0.75
    assert any("served model on the held-out final block" in r for r in summary["gate"]["reasons"])
    assert Path(summary["model"]["published"]["path"]).is_file()


def test_a_failing_step_exits_non_zero_with_its_message_and_no_traceback(tmp_path):
    root = make_project(tmp_path, "walk")
    spec = root / "pipelines" / "syn.yaml"
    spec.write_text(spec.read_text().replace("min_rows: 500", "min_rows: 5000"))
    result = run_cli("syn", "--root", str(root), "--output-dir", str(root / "out"))
    assert result.exit_code == 1
    assert "step validate failed" in result.output and "- min_rows for SYN: 1500 rows" in result.output
    assert "Traceback" not in result.output
    assert read_summary(root / "out")["steps"]["train"]["status"] == "not-run"


def test_a_failing_step_with_json_output_is_an_error_document_and_exit_1(tmp_path):
    root = make_project(tmp_path, "walk")
    spec = root / "pipelines" / "syn.yaml"
    spec.write_text(spec.read_text().replace("min_rows: 500", "min_rows: 5000"))
    result = run_cli("syn", "--root", str(root), "--output-dir", str(root / "out"), "--output", "json")
    assert result.exit_code == 1
    report = conforming(result.stdout, "error")
    assert (report["command"], report["kind"]) == ("run", "failure") and "step validate failed" in report["message"]


def test_spec_errors_and_unknown_pipelines(tmp_path):
    root = make_project(tmp_path, "walk")
    assert run_cli("nope", "--root", str(root)).exit_code == 2
    spec = root / "pipelines" / "syn.yaml"
    spec.write_text(spec.read_text().replace("folds: 3", "foldz: 3"))
    result = run_cli("syn", "--root", str(root))
    assert result.exit_code == 1 and "syn.yaml:" in result.output and "Traceback" not in result.output


def test_custom_steps_are_listed_as_skipped(tmp_path):
    extra = ("  steps:\n    - {name: backtest, after: [evaluate], image: ghcr.io/acme/backtest:1.2, "
             "inputs: [evaluate]}\n")
    root = make_project(tmp_path, "walk", extra=extra)
    spec = root / "pipelines" / "syn.yaml"
    spec.write_text(spec.read_text().replace("epochs: 60", "epochs: 2"))
    run_cli("syn", "--root", str(root), "--output-dir", str(root / "out"))
    steps = read_summary(root / "out")["steps"]
    assert list(steps).index("backtest") == list(steps).index("evaluate") + 1
    assert steps["backtest"]["status"] == "skipped" and "runs only in the cluster" in steps["backtest"]["detail"]


def test_a_train_step_spanning_nodes_runs_as_one_node_locally_and_says_so(tmp_path):
    root = make_project(tmp_path, "walk")
    spec = root / "pipelines" / "syn.yaml"
    spec.write_text(spec.read_text().replace("epochs: 60", "epochs: 2, resources: {nodes: 2, allow_cpu_nodes: true}"))
    result = run_cli("syn", "--root", str(root), "--output-dir", str(root / "out"))
    assert "(train spans 2 nodes in dev; here it runs on this machine alone)" in result.stderr
    assert read_summary(root / "out")["steps"]["train"]["status"] == "ran"
    training = json.loads((root / "out" / "work" / "train" / "model.json").read_text())["training"]
    assert "world_size" not in training   # one process, as on one node without GPUs


def test_maestro_step_runs_one_step_from_spec_json_as_a_pod_does(learnable_run, tmp_path, monkeypatch):
    root, _ = learnable_run
    work = tmp_path / "work"
    for step in ("ingest", "validate"):          # the pod gets spec.json and its upstream folders
        (work / step).mkdir(parents=True)
        for f in (root / "out" / "work" / step).iterdir():
            (work / step / f.name).write_bytes(f.read_bytes())
    spec = root / "out" / "spec.json"
    monkeypatch.chdir(root)   # a relative data.path resolves from the pod's working directory
    result = maestro(None, "step", "features", "--spec", str(spec), "--workdir", str(work), "--run-id", "r-1")
    assert result.exit_code == 0, result.output
    ours = json.loads((work / "features" / "manifest.json").read_text())
    theirs = json.loads((root / "out" / "work" / "features" / "manifest.json").read_text())
    assert ours["run_id"] == "r-1" and ours["outputs"] == theirs["outputs"] and ours["spec_hash"] == theirs["spec_hash"]
    refused = maestro(None, "step", "validate", "--spec", str(spec), "--workdir", str(work),
                             "--run-id", "r-1", "--start", "2001-01-01")
    assert refused.exit_code == 2 and "ingest step only" in refused.output


def test_real_entry_point_runs_the_example(dev_example_run):
    output, _ = dev_example_run
    maestro = Path(sys.executable).parent / "maestro"
    done = subprocess.run([str(maestro), "run", "aapl-direction", "--env", "dev", "--root", str(REPO),
                           "--output-dir", str(output)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert read_summary(output)["run_id"].startswith("aapl-direction-")


@pytest.mark.parametrize("args", [pytest.param(a, id=a[0] if a else "top") for a in (["step", "--help"], ["run", "--help"], ["--help"])])
def test_help_never_imports_torch_or_pandas(args):
    code = ("import sys; sys.argv = ['maestro'] + sys.argv[1:]\n"
            "from maestro.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'pandas', 'numpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_too_good_to_be_true_is_refused_as_a_suspected_leak_without_acknowledgement(tmp_path):
    """The planted rule is learned to ~87%: on market data that means a leak, so without the
    spec's acknowledged_leak the gate refuses, and the card says why."""
    root = make_project(tmp_path, "rule", acknowledged_leak="")
    result = run_cli("syn", "--root", str(root), "--output-dir", str(root / "out"))
    assert result.exit_code == 0, result.output
    summary = read_summary(root / "out")
    assert summary["gate"]["passed"] is False and "MISSED suspected leak: accuracy" in result.output
    card = Path(summary["model_card"]).read_text()
    assert "suspected leak" in card and "acknowledged_leak" in card


def test_maestro_step_failures_go_through_the_one_funnel(tmp_path):
    """A step that cannot go on is one plain line naming the step; a broken spec.json is an internal
    error, its traceback shown with --debug wherever the flag stands."""
    from maestro.lower import spec_json

    ctx = step_context(tmp_path, {"source": "sample", "tickers": ["AAPL"], "start": "2010-01-04", "end": "2011-12-30"})
    (tmp_path / "spec.json").write_text(spec_json(ctx.pipeline, ctx.environment))
    step = ["step", "features", "--spec", str(tmp_path / "spec.json"), "--workdir", str(ctx.workdir), "--run-id", "r-1"]
    missing = maestro(None, *step)
    assert (missing.exit_code, missing.stdout) == (1, "")
    assert missing.stderr == (f"maestro step features: error: the output of step 'ingest' is missing at "
                              f"{ctx.workdir / 'ingest'}; run 'ingest' first\n")
    (tmp_path / "spec.json").write_text("{not json")
    broken = maestro(None, *step)
    assert broken.exit_code == 1
    assert broken.stderr.startswith("maestro step features: internal error: JSONDecodeError: ")
    assert broken.stderr.endswith(" (run with --debug for the traceback and please report it)\n")
    for debug in (["--debug", *step], [*step, "--debug"]):
        shown = maestro(None, *debug)
        assert shown.exit_code == 1 and "Traceback (most recent call last):" in shown.stderr, shown.stderr
        assert shown.stderr.splitlines()[0].startswith("maestro step features: internal error: JSONDecodeError: ")
