"""Namespace scaffolding: one set per namespace, least privilege, default-deny networking, no secrets."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from maestro.targets import platform, storage

from .conftest import REPO, pipeline_yaml, plan_of, write_project


def _shared_namespace_project(tmp_path):
    # Teams that share a namespace share its artifact Secret, so its store key cannot be per team.
    staging = ((REPO / "environments" / "staging.yaml").read_text().replace('"{team}-{env}"', "ml-shared")
               .replace('"ml/{env}/{team}/artifacts"', '"ml/{env}/shared/artifacts"'))
    pipelines = {"demo": pipeline_yaml(), "risk": pipeline_yaml(name="risk", team="risk-lab")}
    return write_project(tmp_path, pipelines, {"staging": staging})


def test_shared_namespace_gets_one_set_of_namespace_objects(tmp_path) -> None:
    plan = plan_of(_shared_namespace_project(tmp_path), "staging")
    outputs = list(platform.emit(plan))
    paths = Counter(o.path for o in outputs)
    assert [p for p, n in paths.items() if n > 1] == []
    kinds = Counter(o.body["kind"] for o in outputs)
    assert (kinds["Namespace"], kinds["ResourceQuota"], kinds["ServiceAccount"], kinds["Role"]) == (1, 1, 2, 2)
    namespace = next(o.body for o in outputs if o.body["kind"] == "Namespace")
    assert "maestro.dev/team" not in namespace["metadata"]["labels"]   # it belongs to both teams


def test_namespace_enforces_restricted_pod_security(plan) -> None:
    body = next(o.body for o in platform.emit(plan.environments[0]) if o.body["kind"] == "Namespace")
    labels = body["metadata"]["labels"]
    assert {labels[f"pod-security.kubernetes.io/{m}"] for m in ("enforce", "audit", "warn")} == {"restricted"}


def test_workflow_role_is_least_privilege(plan) -> None:
    roles = [o.body for o in platform.emit(plan.environments[0]) if o.body["kind"] == "Role"]
    assert roles and all(r["rules"] == [{"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"],
                                         "verbs": ["create", "patch"]}] for r in roles)


def test_quota_limits_gpu_requests(plan) -> None:
    prod = next(e for e in plan.environments if e.name == "prod")
    quota = next(o.body for o in platform.emit(prod) if o.body["kind"] == "ResourceQuota")
    assert quota["spec"]["hard"] == {"requests.cpu": "64", "requests.memory": "256Gi", "requests.nvidia.com/gpu": "16"}


def _policies(plan, namespace):
    return {o.body["metadata"]["name"]: o.body["spec"] for o in platform.emit(plan)
            if o.body["kind"] == "NetworkPolicy" and o.body["metadata"]["namespace"] == namespace}


@pytest.mark.parametrize(("namespace", "expected"), [
    pytest.param("quant-research-prod", ["maestro-allow-dns", "maestro-allow-egress-cidrs",
                                         "maestro-allow-egress-cidrs-servers", "maestro-allow-ingest-internet", "maestro-allow-publish-git",
                                         "maestro-allow-rendezvous-msft-return-multinode",
                                         "maestro-allow-seldon", "maestro-default-deny"], id="serving-namespace"),
    pytest.param("risk-lab-prod", ["maestro-allow-dns", "maestro-allow-egress-cidrs",
                                   "maestro-allow-ingest-internet", "maestro-allow-publish-git",
                                   "maestro-default-deny"], id="training-only"),
])
def test_network_policy_set(plan, namespace: str, expected: list[str]) -> None:
    prod = next(e for e in plan.environments if e.name == "prod")
    assert sorted(_policies(prod, namespace)) == expected


def test_inference_clients_reach_only_the_inference_port(tmp_path) -> None:
    from maestro.lower import lower
    from maestro.project import load_project
    from tests.support import copy_examples

    root = copy_examples(tmp_path / "project")
    spec = root / "environments/prod.yaml"
    spec.write_text(spec.read_text().replace("    ingest_internet: true\n", "    ingest_internet: true\n    inference_from: [trading-apps, web]\n", 1))
    prod = next(e for e in lower(load_project(root)).environments if e.name == "prod")
    clients = _policies(prod, "quant-research-prod")["maestro-allow-inference-clients"]
    assert clients["ingress"] == [{"from": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "trading-apps"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}}],
        "ports": [{"protocol": "TCP", "port": 9000}]}]
    assert "maestro-allow-inference-clients" not in _policies(prod, "risk-lab-prod")


def test_only_publish_pods_reach_the_git_host(plan) -> None:
    prod = next(e for e in plan.environments if e.name == "prod")
    publish = _policies(prod, "quant-research-prod")["maestro-allow-publish-git"]
    assert publish["podSelector"] == {"matchLabels": {"maestro.dev/step": "publish"}}
    assert [p["port"] for p in publish["egress"][0]["ports"]] == [22, 443]
    assert "10.0.0.0/8" in publish["egress"][0]["to"][0]["ipBlock"]["except"]


def test_network_policy_rules(plan) -> None:
    prod = next(e for e in plan.environments if e.name == "prod")
    policies = _policies(prod, "quant-research-prod")
    assert policies["maestro-default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["maestro-allow-dns"]["egress"][0]
    assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    for name, selector in (("maestro-allow-egress-cidrs", "maestro.dev/step"),
                           ("maestro-allow-egress-cidrs-servers", "seldon-server-name")):
        assert policies[name]["egress"] == [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]
        assert policies[name]["podSelector"] == {"matchExpressions": [{"key": selector, "operator": "Exists"}]}
    scheduler_api = [rule for rule in policies["maestro-allow-seldon"]["ingress"]
                     if rule["ports"] == [{"protocol": "TCP", "port": 9004}]]
    assert scheduler_api == [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "seldon-mesh"}},
                                        "podSelector": {"matchLabels": {"control-plane": "v2-controller-manager"}}}],
                              "ports": [{"protocol": "TCP", "port": 9004}]}]
    internet = policies["maestro-allow-ingest-internet"]
    assert internet["podSelector"] == {"matchLabels": {"maestro.dev/step": "ingest"}}
    assert "10.0.0.0/8" in internet["egress"][0]["to"][0]["ipBlock"]["except"]


def test_no_internet_egress_when_ingest_internet_is_off(tmp_path) -> None:
    staging = (REPO / "environments" / "staging.yaml").read_text().replace("ingest_internet: true", "ingest_internet: false")
    root = write_project(tmp_path, {"demo": pipeline_yaml()}, {"staging": staging})
    assert "maestro-allow-ingest-internet" not in _policies(plan_of(root, "staging"), "quant-research-staging")


@pytest.mark.parametrize(("env", "namespace", "expected"), [
    pytest.param("dev", "quant-research-dev", [], id="secret-by-name"),
    pytest.param("prod", "quant-research-prod", ["ml-artifacts", "ml-artifacts-rclone"], id="external-secret-serving"),
    pytest.param("prod", "risk-lab-prod", ["ml-artifacts"], id="external-secret-training-only"),
])
def test_external_secrets_only_when_configured(plan, env: str, namespace: str, expected: list[str]) -> None:
    envplan = next(e for e in plan.environments if e.name == env)
    names = sorted(o.body["metadata"]["name"] for o in platform.emit(envplan)
                   if o.body["kind"] == "ExternalSecret" and o.body["metadata"]["namespace"] == namespace)
    assert names == expected


@pytest.mark.parametrize("env", ["prod", "staging"])
def test_each_team_reads_its_own_artifact_keys(plan, env: str) -> None:
    """One team's credentials are not another's, so it cannot overwrite another team's models."""
    envplan = next(e for e in plan.environments if e.name == env)
    keys = {(o.body["metadata"]["namespace"], o.body["metadata"]["name"]): {d["remoteRef"]["key"] for d in o.body["spec"]["data"]}
            for o in platform.emit(envplan) if o.body["kind"] == "ExternalSecret"}
    assert keys[(f"quant-research-{env}", "ml-artifacts")] == {f"ml/{env}/quant-research/artifacts"}
    assert keys[(f"quant-research-{env}", "ml-artifacts-rclone")] == {f"ml/{env}/quant-research/artifacts"}
    assert keys[(f"risk-lab-{env}", "ml-artifacts")] == {f"ml/{env}/risk-lab/artifacts"}


def test_a_per_team_key_in_a_shared_namespace_is_refused(tmp_path) -> None:
    from maestro.errors import MaestroError
    from maestro.project import load_project

    staging = (REPO / "environments" / "staging.yaml").read_text().replace('"{team}-{env}"', "ml-shared")
    root = write_project(tmp_path, {"demo": pipeline_yaml()}, {"staging": staging})
    with pytest.raises(MaestroError) as caught:
        load_project(root)
    (diagnostic,) = [d for d in caught.value.diagnostics if d.severity == "error"]   # notes say what was not run
    assert (diagnostic.file, diagnostic.path) == ("environments/staging.yaml", ("spec", "artifacts"))
    assert "is per team, but namespace 'ml-shared' is shared by every team" in diagnostic.message


def test_no_step_container_gets_the_artifact_keys(project, plan) -> None:
    """Argo's executor reads them from the artifact repository; the containers never name them."""
    from maestro.targets import argo

    for envplan in plan.environments:
        spec = project.environments[envplan.name].spec
        reserved = {spec.artifacts.credentials_secret, spec.artifacts.credentials_secret + "-rclone"}
        for output in argo.emit(envplan):
            for template in output.body.get("spec", {}).get("templates", []):
                container = template.get("container", {})
                named = {e["secretRef"]["name"] for e in container.get("envFrom", [])}
                named |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "valueFrom" in e}
                assert not named & reserved, (output.path, template["name"])
                if named & {spec.gitops.credentials_secret}:
                    assert template["name"] == "publish"


def test_rclone_template_renders_the_config_seldon_parses(plan) -> None:
    prod = next(e for e in plan.environments if e.name == "prod")
    secret = next(o.body for o in platform.emit(prod) if o.body["metadata"]["name"] == "ml-artifacts-rclone")
    template = secret["spec"]["target"]["template"]
    assert list(template["data"]) == ["s3"]   # Seldon wants exactly one key
    # What External Secrets' `toJson` produces for keys with awkward characters.
    rendered = (template["data"]["s3"].replace("{{ .accessKey | toJson }}", json.dumps('AK"1'))
                .replace("{{ .secretKey | toJson }}", json.dumps("s,e:c\\r")))
    config = json.loads(rendered)
    assert config == {"name": "s3", "type": "s3", "parameters": {
        "provider": "AWS", "env_auth": "false", "endpoint": "https://s3.us-east-1.amazonaws.com",
        "region": "us-east-1", "access_key_id": 'AK"1', "secret_access_key": "s,e:c\\r"}}
    assert json.loads(storage.rclone_config(prod.settings.artifacts, 'AK"1', "s,e:c\\r")) == config


def test_rclone_remote_for_an_insecure_minio(plan) -> None:
    dev = next(e for e in plan.environments if e.name == "dev").settings.artifacts
    assert storage.rclone_parameters(dev) == {"provider": "Other", "env_auth": "false",
                                              "endpoint": "http://minio.minio.svc:9000", "region": "us-east-1"}
