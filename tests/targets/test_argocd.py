"""Argo CD objects: one project per team namespace, one ApplicationSet and one bootstrap file per environment."""

from __future__ import annotations

import pytest
import yaml

from maestro.render import render
from maestro.targets import argocd

from .conftest import REPO, pipeline_yaml, plan_of, write_project


def _by_kind(env):
    return {o.body["kind"]: o for o in argocd.emit(env)}


def _projects(env) -> dict:
    return {o.body["metadata"]["name"]: o.body for o in argocd.emit(env) if o.body["kind"] == "AppProject"}


@pytest.mark.parametrize("env_name", ["dev", "prod", "staging"])
def test_paths(plan, env_name: str) -> None:
    env = next(e for e in plan.environments if e.name == env_name)
    paths = sorted(o.path for o in argocd.emit(env))
    assert paths == [f"bootstrap/{env_name}.yaml", f"{env_name}/argocd/applicationset-maestro-{env_name}.yaml",
                     f"{env_name}/argocd/appproject-maestro-{env_name}-quant-research-{env_name}.yaml",
                     f"{env_name}/argocd/appproject-maestro-{env_name}-risk-lab-{env_name}.yaml"]


def test_bootstrap_is_one_application_syncing_the_argocd_folder(plan) -> None:
    prod = next(e for e in plan.environments if e.name == "prod")
    output = _by_kind(prod)["Application"]
    documents = list(yaml.safe_load_all(render(output.body, output.sources)))
    assert len(documents) == 1
    spec = documents[0]["spec"]
    assert spec["project"] == "default"
    assert spec["source"] == {"repoURL": "https://github.com/acme/ml-platform.git", "targetRevision": "main",
                              "path": "gitops/prod/argocd"}
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "argocd"}


def test_application_set_pins_each_namespace_to_its_folder_and_project(plan) -> None:
    prod = next(e for e in plan.environments if e.name == "prod")
    spec = _by_kind(prod)["ApplicationSet"].body["spec"]
    assert spec["goTemplate"] is True and spec["goTemplateOptions"] == ["missingkey=error"]
    assert spec["syncPolicy"] == {"preserveResourcesOnDeletion": True}
    # A list, not a git directory generator: a folder added by hand gets no Application.
    assert spec["generators"] == [{"list": {"elements": [
        {"namespace": "quant-research-prod", "path": "gitops/prod/quant-research-prod",
         "project": "maestro-prod-quant-research-prod"},
        {"namespace": "risk-lab-prod", "path": "gitops/prod/risk-lab-prod", "project": "maestro-prod-risk-lab-prod"}]}}]
    app = spec["template"]["spec"]
    assert app["project"] == "{{.project}}" and app["source"]["path"] == "{{.path}}"
    assert app["destination"] == {"server": "https://prod.k8s.acme.internal", "namespace": "{{.namespace}}"}
    assert app["syncPolicy"] == {"automated": {"prune": True, "selfHeal": True},
                                 "syncOptions": ["ServerSideApply=true", "CreateNamespace=false"]}


@pytest.mark.parametrize(("argocd_block", "expected"), [
    pytest.param("auto_sync: false", None, id="manual"),
    pytest.param("self_heal: false", {"prune": True, "selfHeal": False}, id="no-self-heal"),
])
def test_sync_policy_follows_the_environment(tmp_path, argocd_block: str, expected) -> None:
    key = argocd_block.split(":")[0]
    staging = "\n".join(f"    {argocd_block}" if line.strip().startswith(f"{key}:") else line
                        for line in (REPO / "environments" / "staging.yaml").read_text().splitlines())
    root = write_project(tmp_path, {"demo": pipeline_yaml()}, {"staging": staging + "\n"})
    policy = _by_kind(plan_of(root, "staging"))["ApplicationSet"].body["spec"]["template"]["spec"]["syncPolicy"]
    assert policy.get("automated") == expected
    assert policy["syncOptions"] == ["ServerSideApply=true", "CreateNamespace=false"]


def test_each_project_allows_only_its_own_namespace(plan) -> None:
    prod = next(e for e in plan.environments if e.name == "prod")
    projects = _projects(prod)
    assert sorted(projects) == ["maestro-prod-quant-research-prod", "maestro-prod-risk-lab-prod"]
    for ns in ("quant-research-prod", "risk-lab-prod"):
        spec = projects[f"maestro-prod-{ns}"]["spec"]
        assert spec["sourceRepos"] == ["https://github.com/acme/ml-platform.git"]
        assert spec["destinations"] == [{"server": "https://prod.k8s.acme.internal", "namespace": ns}]
        # Its own Namespace and no other cluster-scoped object.
        assert spec["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace", "name": ns}]
        assert "clusterResourceBlacklist" not in spec


def test_a_manifest_in_one_team_folder_cannot_target_another_team(plan) -> None:
    """What Argo CD checks at sync: the Application of a folder, then its project's destinations."""
    import fnmatch

    prod = next(e for e in plan.environments if e.name == "prod")
    elements = _by_kind(prod)["ApplicationSet"].body["spec"]["generators"][0]["list"]["elements"]
    projects = _projects(prod)
    app = next(e for e in elements if e["path"] == "gitops/prod/risk-lab-prod")
    allowed = projects[app["project"]]["spec"]["destinations"]
    assert not any(fnmatch.fnmatch("quant-research-prod", d["namespace"]) for d in allowed)
    names_allowed = [r["name"] for r in projects[app["project"]]["spec"]["clusterResourceWhitelist"]]
    assert not any(fnmatch.fnmatch("quant-research-prod", n) for n in names_allowed)


@pytest.mark.parametrize(("earlier", "later"), [
    pytest.param("Namespace", "ServiceAccount", id="namespace-first"),
    pytest.param("NetworkPolicy", "ConfigMap", id="scaffolding-before-configmaps"),
    pytest.param("ConfigMap", "WorkflowTemplate", id="configmaps-before-templates"),
    pytest.param("WorkflowTemplate", "Model", id="templates-before-models"),
    pytest.param("SeldonRuntime", "Model", id="runtime-before-models"),
    pytest.param("Server", "Model", id="servers-before-models"),
    pytest.param("Model", "Experiment", id="models-before-experiments"),
    pytest.param("AppProject", "ApplicationSet", id="project-before-applicationset"),
])
def test_sync_waves(earlier: str, later: str) -> None:
    from maestro import names

    assert int(names.SYNC_WAVES[earlier]) < int(names.SYNC_WAVES[later])


def test_a_namespace_named_like_the_argocd_folder_is_refused(tmp_path) -> None:
    from maestro.errors import MaestroError

    staging = ((REPO / "environments" / "staging.yaml").read_text().replace('"{team}-{env}"', "argocd")
               .replace("{team}/", ""))
    root = write_project(tmp_path, {"demo": pipeline_yaml()}, {"staging": staging})
    with pytest.raises(MaestroError) as caught:
        argocd.emit(plan_of(root, "staging"))
    assert [d.format() for d in caught.value.diagnostics] == [
        "environments/staging.yaml: error: spec.namespace: team namespace 'argocd' collides with the folder "
        "gitops/staging/argocd (choose a namespace pattern that does not produce 'argocd')"]
