"""The plan (IR): target-neutral, built once by lowering, read by the emitters and by `maestro run`.

spec.json is part of the plan: what it holds is asserted here, once, for the Argo ConfigMap and the
local executor alike (both write the plan's text).
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pydantic
import pytest

from maestro.ir import StepPlan
from maestro.local import run_order
from maestro.steps.context import parse_spec
from maestro.targets import argo

from .conftest import REPO

TARGETS = REPO / "compiler" / "maestro" / "targets"


def _pipeline(plan, env: str, name: str):
    return next(p for e in plan.environments if e.name == env for p in e.pipelines if p.name == name)


def test_spec_json_is_the_effective_pipeline_without_overrides_and_its_environment(project, plan) -> None:
    text = _pipeline(plan, "dev", "aapl-direction").spec_json
    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"
    assert sorted(document) == ["environment", "pipeline"]
    pipeline, environment = document["pipeline"], document["environment"]
    assert "overrides" not in pipeline["spec"]
    # dev's overrides are applied: the sample data, a small model, three folds, no schedule.
    assert pipeline["spec"]["data"] == {**pipeline["spec"]["data"], "source": "sample", "start": "2004-01-01",
                                        "end": "2012-12-31"}
    assert pipeline["spec"]["evaluation"]["folds"] == 3 and pipeline["spec"]["schedule"] is None
    assert environment["metadata"]["name"] == "dev"
    assert environment == project.environments["dev"].model_dump(mode="json")


def test_every_spec_json_is_what_one_json_dumps_of_it_writes(plan) -> None:
    """The environment's part is written once per environment and nested: the bytes must not tell."""
    texts = [p.spec_json for e in plan.environments for p in e.pipelines]
    assert len(texts) >= 12
    for text in texts:
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_spec_json_reads_back_as_the_effective_spec_the_steps_get(project, plan) -> None:
    effective = project.effective[("aapl-direction", "prod")]
    pipeline, environment = parse_spec(_pipeline(plan, "prod", "aapl-direction").spec_json)
    assert pipeline.model_dump(exclude={"spec": {"overrides"}}) == \
        effective.pipeline.model_dump(exclude={"spec": {"overrides"}})
    assert environment == effective.environment


def test_the_configmap_mounts_the_plans_spec_json(plan) -> None:
    for env in plan.environments:
        for pipeline in env.pipelines:
            assert argo.spec_configmap(pipeline)["data"] == {"spec.json": pipeline.spec_json}


def _spec_models(value, path: str = "plan"):
    if isinstance(value, pydantic.BaseModel):
        yield path
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _spec_models(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from _spec_models(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _spec_models(item, f"{path}[{key!r}]")


def test_the_plan_holds_no_spec_model(plan) -> None:
    assert list(_spec_models(plan)) == []


def _imports(path: Path) -> set[str]:
    """The maestro modules a targets/ module imports (lazy imports included), relative to the package."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            found.add(module.removeprefix("maestro.") if node.level == 0 else module)
        elif isinstance(node, ast.Import):
            found |= {alias.name.removeprefix("maestro.") for alias in node.names}
    return found


@pytest.mark.parametrize("path", sorted(TARGETS.glob("*.py")), ids=lambda p: p.name)
def test_emitters_read_only_the_plan(path: Path) -> None:
    spec_side = {m for m in _imports(path) if m.split(".")[0] in ("language", "lower", "project", "overlay")}
    assert spec_side == set()


def _step(name: str, *depends: str, builtin: bool = False) -> StepPlan:
    return StepPlan(name, builtin, "img", (), (), depends, (), "1", "1Gi")


@pytest.mark.parametrize("steps, expected", [
    pytest.param([_step("a"), _step("b", "a"), _step("c", "b")], "abc", id="chain"),
    pytest.param([_step("a"), _step("b", "a"), _step("x", "a")], "axb", id="right-after-its-last-dependency"),
    pytest.param([_step("y", "x"), _step("a"), _step("x", "a")], "axy", id="waits-for-a-later-step"),
    pytest.param([_step("a"), _step("z", "nope")], "az", id="unknown-dependency-last"),
])
def test_run_order_places_each_step_after_its_dependencies(steps, expected) -> None:
    assert "".join(s.name for s in run_order(steps)) == expected


def test_maestro_run_walks_the_steps_the_workflow_template_lists(plan) -> None:
    pipeline = _pipeline(plan, "prod", "aapl-direction")
    template = argo.workflow_template(next(e for e in plan.environments if e.name == "prod"), pipeline)
    tasks = {t["name"]: t.get("depends", "") for t in template["spec"]["templates"][0]["dag"]["tasks"]}
    order = [s.name for s in run_order(pipeline.steps)]
    assert sorted(order) == sorted(tasks)
    for step in order:
        upstream = [d for d in tasks[step].split(" && ") if d]
        assert all(order.index(d) < order.index(step) for d in upstream), step
