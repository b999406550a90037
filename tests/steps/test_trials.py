"""The trial registry and policy.multiple_testing: Holm's correction over a pipeline's recent runs,
a registry that is validated rather than trusted, and `maestro run` counting distinct runs."""

from __future__ import annotations

import json

import pytest

from maestro.steps import trials
from maestro.steps.context import StepError

from .conftest import make_project, read_summary, run_cli


def test_holm_step_down_matches_the_definition():
    p = [0.01, 0.04, 0.03, 0.2]
    # sorted 0.01, 0.03, 0.04, 0.2 -> 4*0.01, max(.04, 3*.03), max(.09, 2*.04), max(.09, .2)
    assert [trials.holm_adjusted(p, i) for i in range(4)] == pytest.approx([0.04, 0.09, 0.09, 0.2])
    assert trials.holm_adjusted([0.5], 0) == 0.5
    assert trials.holm_adjusted([0.9, 0.8], 0) == 1.0          # 2 x 0.8 capped at 1, carried up the step-down


def test_a_rerun_is_the_same_trial_and_the_window_counts_days():
    entries = trials.record([], "a", "2024-01-31", 0.01)
    entries = trials.record(entries, "b", "2024-02-20", 0.02)
    entries = trials.record(entries, "a", "2024-01-31", 0.03)       # rerun of a: replaced, not added
    assert [(e["run_id"], e["p_value"]) for e in entries] == [("a", 0.03), ("b", 0.02)]
    assert [e["run_id"] for e in trials.in_window(entries, "2024-03-15", 30)] == ["b"]


@pytest.mark.parametrize("content", [
    pytest.param("not json", id="not-json"),
    pytest.param('{"run_id": "x"}', id="not-a-list"),
    pytest.param('[{"run_id": "x", "data_end": "2024-01-01", "p_value": -1}]', id="negative-p"),
    pytest.param('[{"run_id": "x", "data_end": "yesterday", "p_value": 0.1}]', id="bad-date"),
    pytest.param('[{"run_id": "x", "data_end": "2024-01-01", "p_value": 0.1, "extra": 1}]', id="extra-key"),
])
def test_a_malformed_registry_is_refused_with_a_plain_message(tmp_path, content):
    path = tmp_path / "trials.json"
    path.write_text(content)
    with pytest.raises(StepError, match="trial registry"):
        trials.load(path)


POLICY = "  policy: {multiple_testing: {method: holm, window_days: 30}}\n"


@pytest.mark.slow
def test_maestro_run_counts_distinct_runs_and_holm_adjusts_the_p_value(tmp_path):
    root = make_project(tmp_path, "walk")
    env = root / "environments" / "dev.yaml"
    env.write_text(env.read_text() + POLICY)
    out = root / "out"
    assert run_cli("syn", "--root", str(root), "--output-dir", str(out)).exit_code == 0
    first = read_summary(out)
    assert first["gate"]["trials"]["trials"] == 1
    pipeline = root / "pipelines" / "syn.yaml"
    pipeline.write_text(pipeline.read_text().replace("epochs: 60", "epochs: 2"))     # another setting: another trial
    result = run_cli("syn", "--root", str(root), "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    second = read_summary(out)
    registry = json.loads((out / "trials.json").read_text())
    assert sorted(e["run_id"] for e in registry) == sorted({first["run_id"], second["run_id"]})
    counted = second["gate"]["trials"]
    raw = [e["p_value"] for e in registry]
    mine = [e["run_id"] for e in registry].index(second["run_id"])
    assert counted["trials"] == 2 and counted["adjusted_p_value"] == pytest.approx(trials.holm_adjusted(raw, mine))
    assert "Holm-adjusted p-value" in result.output and "2 trial(s) of this pipeline within 30 days" in result.output
    card = (out / "work" / "gate" / "model_card.md").read_text()
    assert "2 trial(s)" in card
