"""Every document the platform, monitoring, Seldon and Argo CD targets emit validates offline."""

from __future__ import annotations

import pytest

from maestro.render import render

from .conftest import EMITTERS, example_plan, plan_of, pipeline_yaml, write_project
from .schema import errors


def _cases():
    return [pytest.param(output.body, id=f"{env.name}:{output.path}")
            for env in example_plan().environments for emit in EMITTERS for output in emit(env)]


@pytest.mark.parametrize("body", _cases())
def test_example_document_validates(body: dict) -> None:
    assert errors(body) == []


@pytest.mark.parametrize(("runtime", "mode"), [
    pytest.param("triton", "ab", id="triton-ab"),
    pytest.param("mlserver", "shadow", id="mlserver-shadow"),
])
def test_small_project_documents_validate(tmp_path, runtime: str, mode: str) -> None:
    root = write_project(tmp_path, {"demo": pipeline_yaml(runtime=runtime, mode=mode)})
    plan = plan_of(root, "staging")
    bodies = [o.body for emit in EMITTERS for o in emit(plan)]
    assert {b["kind"] for b in bodies} >= {"Model", "Experiment", "Server", "SeldonRuntime", "ExternalSecret"}
    assert [(b["kind"], errors(b)) for b in bodies if errors(b)] == []


def test_no_null_values_and_no_secret_with_values(all_outputs) -> None:
    def nulls(value, path="$"):
        if isinstance(value, dict):
            return [p for k, v in value.items() for p in nulls(v, f"{path}.{k}")]
        if isinstance(value, list):
            return [p for i, v in enumerate(value) for p in nulls(v, f"{path}[{i}]")]
        return [path] if value is None else []

    assert [(o.path, nulls(o.body)) for _, o in all_outputs if nulls(o.body)] == []
    assert [o.path for _, o in all_outputs if o.body["kind"] == "Secret"] == []


def test_every_object_carries_labels_and_sync_wave(all_outputs) -> None:
    for env, output in all_outputs:
        meta = output.body["metadata"]
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "maestro", output.path
        assert meta["labels"]["maestro.dev/environment"] == env, output.path
        assert "argocd.argoproj.io/sync-wave" in meta["annotations"], output.path


def test_emitting_twice_gives_the_same_bytes() -> None:
    def rendered():
        return [(o.path, render(o.body, o.sources)) for env in example_plan().environments
                for emit in EMITTERS for o in emit(env)]

    first = rendered()
    assert first == rendered()
    assert len({path for path, _ in first}) == len(first)
