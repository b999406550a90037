"""The Argo CD health Lua for Seldon kinds, run against sample objects, and the shipped patch file."""

from __future__ import annotations

from importlib import resources

import lupa
import pytest
import yaml

from maestro.targets import argocd_health


def _health(obj: dict) -> dict:
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(argocd_health.health_lua())
    return dict(result.items())


def _conditions(*conditions):
    return {"status": {"conditions": [dict(zip(("type", "status", "reason", "message"), c)) for c in conditions]}}


@pytest.mark.parametrize(("kind", "obj", "expected"), [
    pytest.param("Model", {}, "Progressing", id="model-no-status"),
    pytest.param("Model", {"status": {}}, "Progressing", id="model-no-conditions"),
    pytest.param("Model", _conditions(("ModelReady", "True", "ModelAvailable", ""), ("Ready", "True", "ModelAvailable", "")),
                 "Healthy", id="model-ready"),
    pytest.param("Model", _conditions(("ModelReady", "False", "ModelProgressing", "loading"),
                                      ("Ready", "False", "ModelProgressing", "loading")),
                 "Progressing", id="model-loading"),
    pytest.param("Model", _conditions(("ModelReady", "False", "ScheduleFailed", "no server"),
                                      ("Ready", "False", "ScheduleFailed", "no server")),
                 "Degraded", id="model-schedule-failed"),
    pytest.param("Model", _conditions(("Ready", "False", "ModelFailed", "load error")), "Degraded", id="model-failed"),
    pytest.param("Experiment", _conditions(("ExperimentReady", "True", "", ""), ("Ready", "True", "", "")),
                 "Healthy", id="experiment-ready"),
    pytest.param("Experiment", _conditions(("CandidatesReady", "False", "Candidates not ready", ""),
                                           ("Ready", "False", "", "")), "Progressing", id="experiment-waiting"),
    pytest.param("Experiment", _conditions(("ModelReady", "False", "already the baseline of another experiment", "")),
                 "Degraded", id="experiment-rejected"),
    pytest.param("Server", _conditions(("StatefulSetReady", "True", "", ""), ("Ready", "True", "", "")),
                 "Healthy", id="server-ready"),
    pytest.param("SeldonRuntime", _conditions(("Ready", "Unknown", "", "")), "Progressing", id="runtime-unknown"),
])
def test_health(kind: str, obj: dict, expected: str) -> None:
    status = _health({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": kind, "metadata": {"name": "x"}, **obj})
    assert status["status"] == expected
    assert status["message"]


def test_degraded_message_names_the_reason() -> None:
    obj = {"kind": "Model", **_conditions(("Ready", "False", "ScheduleFailed", "no matching server"))}
    assert _health(obj)["message"] == "ScheduleFailed: no matching server"


def test_shipped_patch_is_the_generated_one() -> None:
    shipped = resources.files("maestro").joinpath("resources", argocd_health.PATCH_RESOURCE).read_text(encoding="utf-8")
    assert shipped == argocd_health.seldon_health_patch()
    data = yaml.safe_load(shipped)["data"]
    assert sorted(data) == [f"resource.customizations.health.mlops.seldon.io_{k}"
                            for k in ("Experiment", "Model", "SeldonRuntime", "Server")]
    assert set(data.values()) == {argocd_health.health_lua()}
