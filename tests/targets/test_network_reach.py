"""Who can reach whom through the compiled NetworkPolicies, decided by `netpol.reaches`.

The exploits: any pod of any namespace reached a team's Seldon scheduler API (9004), and every pod of
a team namespace, Seldon's Envoy and scheduler included, could open connections to the whole
`network.egress` range (10.0.0.0/8 in prod).
"""

from __future__ import annotations

import pytest

from maestro.lower import lower
from maestro.project import load_project
from maestro.targets import platform
from tests.support import copy_examples

from .netpol import Pod, matches, reaches

TEAM = "quant-research-prod"
SCHEDULER = Pod(TEAM, {"app.kubernetes.io/name": "seldon-scheduler"}, "10.244.1.4")
ENVOY = Pod(TEAM, {"app.kubernetes.io/name": "seldon-envoy"}, "10.244.1.5")
SERVER = Pod(TEAM, {"seldon-server-name": "mlserver", "app.kubernetes.io/name": "seldon-server"}, "10.244.1.6")
OPERATOR = Pod("seldon-mesh", {"control-plane": "v2-controller-manager"}, "10.244.2.2")
API_SERVER = Pod("default", {}, "10.0.0.1")


def _prod_policies(root) -> list[dict]:
    prod = next(e for e in lower(load_project(root)).environments if e.name == "prod")
    return [o.body for o in platform.emit(prod) if o.body["kind"] == "NetworkPolicy"]


@pytest.fixture(scope="module")
def policies(tmp_path_factory) -> list[dict]:
    root = copy_examples(tmp_path_factory.mktemp("network") / "project")
    spec = root / "environments/prod.yaml"
    spec.write_text(spec.read_text().replace("    ingest_internet: true\n",
                                             "    ingest_internet: true\n    inference_from: [trading-apps]\n", 1))
    return _prod_policies(root)


@pytest.mark.parametrize("caller", [
    pytest.param(Pod("attacker"), id="unlisted-namespace"),
    pytest.param(Pod("trading-apps"), id="inference-client"),
    pytest.param(Pod("seldon-mesh", {"app": "something-else"}), id="other-pod-of-the-operator-namespace"),
    pytest.param(Pod(TEAM, {"maestro.dev/step": "backtest"}), id="custom-step-of-the-same-team"),
    pytest.param(Pod("risk-lab-prod", {"maestro.dev/step": "train"}), id="another-team"),
])
def test_only_the_seldon_operator_reaches_the_scheduler_api(policies, caller: Pod) -> None:
    assert not reaches(policies, caller, SCHEDULER, 9004)


def test_the_seldon_operator_reaches_the_scheduler_api(policies) -> None:
    assert reaches(policies, OPERATOR, SCHEDULER, 9004)


def test_inference_clients_reach_envoy_on_the_inference_port_only(policies) -> None:
    client = Pod("trading-apps")
    assert reaches(policies, client, ENVOY, 9000)
    assert not reaches(policies, client, ENVOY, 9002)
    assert not reaches(policies, Pod("attacker"), ENVOY, 9000)


def test_seldon_components_still_reach_each_other(policies) -> None:
    assert reaches(policies, ENVOY, SCHEDULER, 9002)       # xDS
    assert reaches(policies, SERVER, SCHEDULER, 9005)      # agent API
    assert reaches(policies, ENVOY, SERVER, 9001)          # agent reverse proxy


@pytest.mark.parametrize("pod", [
    pytest.param(Pod(TEAM, {"maestro.dev/step": "train"}), id="builtin-step"),
    pytest.param(Pod(TEAM, {"maestro.dev/step": "backtest"}), id="custom-step"),
    pytest.param(SERVER, id="seldon-server"),
])
def test_pods_that_need_the_api_server_and_the_store_reach_them(policies, pod: Pod) -> None:
    assert reaches(policies, pod, API_SERVER, 443)


@pytest.mark.parametrize("pod", [pytest.param(ENVOY, id="envoy"), pytest.param(SCHEDULER, id="scheduler"),
                                 pytest.param(Pod(TEAM, {"app": "anything"}), id="unlabelled-pod")])
def test_other_pods_do_not_reach_the_egress_range(policies, pod: Pod) -> None:
    assert not reaches(policies, pod, API_SERVER, 443)


def test_the_operator_namespace_is_the_environments(tmp_path) -> None:
    root = copy_examples(tmp_path / "project")
    spec = root / "environments/prod.yaml"
    spec.write_text(spec.read_text().replace("    ingest_internet: true\n",
                                             "    ingest_internet: true\n    seldon_namespace: seldon-system\n", 1))
    moved = _prod_policies(root)
    assert reaches(moved, Pod("seldon-system", OPERATOR.labels), SCHEDULER, 9004)
    assert not reaches(moved, OPERATOR, SCHEDULER, 9004)


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    pytest.param({}, {"a": "1"}, True, id="empty-selects-all"),
    pytest.param({"matchLabels": {"a": "1"}}, {"a": "2"}, False, id="label-differs"),
    pytest.param({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {}, False, id="exists"),
    pytest.param({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {}, True, id="does-not-exist"),
    pytest.param({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {"a": "1"}, True, id="in"),
])
def test_selector_semantics(selector: dict, labels: dict, expected: bool) -> None:
    assert matches(selector, labels) is expected
