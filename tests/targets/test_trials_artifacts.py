"""The gate's trial registry in the cluster: with `policy.multiple_testing` the compiled
WorkflowTemplate reads it from, and writes it back to, one fixed key of the artifact repository;
without the policy the template has no trace of it."""

from __future__ import annotations

import yaml

from maestro.targets.argo import workflow_template

from .conftest import REPO, plan_of, pipeline_yaml, write_project
from .schema import errors

TRIALS_IN = {"name": "trials", "path": "/maestro/work/trials/trials.json", "optional": True,
             "s3": {"key": "trials/quant-research/demo/trials.json"}}
TRIALS_OUT = {"name": "trials", "path": "/maestro/work/gate/trials.json", "archive": {"none": {}},
              "s3": {"key": "trials/quant-research/demo/trials.json"}}


def _staging(multiple_testing):
    env = yaml.safe_load((REPO / "environments" / "staging.yaml").read_text())
    if multiple_testing is None:
        env["spec"]["policy"].pop("multiple_testing", None)
    else:
        env["spec"]["policy"]["multiple_testing"] = multiple_testing
    return yaml.safe_dump(env, sort_keys=False)


def _template(tmp_path, multiple_testing):
    root = write_project(tmp_path, {"demo": pipeline_yaml()}, {"staging": _staging(multiple_testing)})
    plan = plan_of(root, "staging")
    return workflow_template(plan, next(p for p in plan.pipelines if p.name == "demo"))


def _step(body, name):
    return next(t for t in body["spec"]["templates"] if t["name"] == name)


def _artifacts(template, side):
    return template.get(side, {}).get("artifacts", [])


def test_gate_reads_and_writes_the_registry_with_multiple_testing(tmp_path) -> None:
    body = _template(tmp_path, {"method": "holm", "window_days": 30})
    gate = _step(body, "gate")
    assert TRIALS_IN in _artifacts(gate, "inputs")
    assert TRIALS_OUT in _artifacts(gate, "outputs")
    # Only the gate keeps the registry; no other step sees it.
    others = [t["name"] for t in body["spec"]["templates"] if t["name"] != "gate"
              and any(a["name"] == "trials" for side in ("inputs", "outputs") for a in _artifacts(t, side))]
    assert others == []
    # One gate of the pipeline at a time: the registry is read at its start and replaced at its end.
    assert gate["synchronization"] == {"mutexes": [{"name": "maestro-trials-demo"}]}
    assert errors(body) == []


def test_no_registry_artifact_without_multiple_testing(tmp_path) -> None:
    body = _template(tmp_path, None)
    gate = _step(body, "gate")
    names = [a["name"] for side in ("inputs", "outputs") for a in _artifacts(gate, side)]
    assert "trials" not in names and "synchronization" not in gate
    assert "trials/" not in yaml.safe_dump(body)
    assert errors(body) == []


def test_the_policy_changes_only_the_gate_template(tmp_path) -> None:
    with_policy = _template(tmp_path / "with", {"method": "holm", "window_days": 30})
    without = _template(tmp_path / "without", None)
    differ = [t["name"] for t, u in zip(with_policy["spec"]["templates"], without["spec"]["templates"]) if t != u]
    assert differ == ["gate"]
    assert {k: v for k, v in with_policy["spec"].items() if k != "templates"} == \
        {k: v for k, v in without["spec"].items() if k != "templates"}
