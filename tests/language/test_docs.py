"""docs/spec.md documents every field of both kinds, and its examples are what maestro prints."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from maestro.language.environment import Environment
from maestro.language.pipeline import Pipeline
from maestro.language.workflow import CustomPipeline
from maestro.language.teams import Teams

from .conftest import REPO

DOC = (REPO / "docs" / "spec.md").read_text()


def models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in models_in(arg)]


def field_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every field path of a kind, as the docs write it: `spec.steps[].name`."""
    paths = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{info.alias or name}"    # as written in YAML: `promotion.from`, not its Python name
        paths.add(path)
        origin = typing.get_origin(info.annotation)
        marker = {list: "[]", dict: ".<name>"}.get(origin, "")   # a mapping's entries: `spec.teams.<name>.owners`
        for sub in models_in(info.annotation):
            paths |= field_paths(sub, f"{path}{marker}.")
    return paths


def container_paths(paths: set[str]) -> set[str]:
    """Paths that only group others (`spec.training`); documented through their fields."""
    return {p for p in paths if any(q.startswith(p + ".") or q.startswith(p + "[]") for q in paths)}


@pytest.mark.parametrize("kind", [pytest.param(Pipeline, id="pipeline"), pytest.param(Environment, id="environment"),
                                  pytest.param(Teams, id="teams"), pytest.param(CustomPipeline, id="custom-pipeline")])
def test_every_field_is_documented(kind: type[BaseModel]) -> None:
    paths = field_paths(kind)
    documented = set(re.findall(r"`([\w.\[\]<>]+)`", DOC))
    assert sorted(paths - container_paths(paths) - documented) == []


def test_the_policy_example_is_what_maestro_prints(example: Path, maestro) -> None:
    line = next(l for l in DOC.splitlines() if "exceeds prod's policy.max_gpus_per_step" in l)
    spec = example / "pipelines" / "aapl-direction.yaml"
    spec.write_text(spec.read_text().replace("resources: {gpus: 1,", "resources: {gpus: 8,"))
    result = maestro("compile", "--root", example, "--env", "prod")
    assert result.returncode == 1 and result.stderr.splitlines()[0] == line


def test_the_documented_loader_limits_are_the_real_ones() -> None:
    from maestro.loading.positions import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

    assert f"a file over {MAX_FILE_BYTES // 1024} KiB" in DOC
    assert f"more than {MAX_NODES:,} nodes" in DOC
    assert f"nesting deeper than {MAX_DEPTH} levels" in DOC
