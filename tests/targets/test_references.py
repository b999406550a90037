"""Cross-object references resolve: semaphores, artifact repositories, Experiment models, Argo CD."""

from __future__ import annotations

import fnmatch

import pytest
import yaml

from maestro import names
from maestro.targets import argo, argocd

from .conftest import example_plan
from .schema import errors


def _envs():
    return [pytest.param(env, id=env.name) for env in example_plan().environments]


def _configmap_keys(outputs) -> dict[tuple[str, str], set]:
    return {(o.body["metadata"]["namespace"], o.body["metadata"]["name"]): set(o.body.get("data", {}))
            for o in outputs if o.body["kind"] == "ConfigMap"}


@pytest.mark.parametrize("env", _envs())
def test_semaphore_and_artifact_repository_of_every_workflow_resolve(env, all_outputs) -> None:
    keys = _configmap_keys([o for name, o in all_outputs if name == env.name])
    for pipeline in env.pipelines:
        ns = pipeline.namespace
        assert names.SEMAPHORE_KEY in keys[(ns, names.semaphore_configmap(pipeline.team))]
        assert names.ARTIFACT_REPOSITORY_KEY in keys[(ns, names.ARTIFACT_REPOSITORIES)]


@pytest.mark.parametrize("env", _envs())
def test_argo_target_references_resolve(env, all_outputs) -> None:
    ours = [o for name, o in all_outputs if name == env.name]
    keys = _configmap_keys(ours + list(argo.emit(env)))
    accounts = {(o.body["metadata"]["namespace"], o.body["metadata"]["name"]) for o in ours
                if o.body["kind"] == "ServiceAccount"}
    found = 0
    for output in argo.emit(env):
        ns, spec = output.body["metadata"]["namespace"], output.body.get("spec", {})
        for ref in _walk(spec, "configMapKeyRef"):
            found += 1
            assert ref["key"] in keys.get((ns, ref["name"]), set()), (output.path, ref)
        for ref in _walk(spec, "artifactRepositoryRef"):
            found += 1
            assert ref["key"] in keys[(ns, ref["configMap"])], (output.path, ref)
        for account in _walk(spec, "serviceAccountName"):
            assert (ns, account) in accounts, (output.path, account)
    assert found >= len(env.pipelines)


def _walk(value, key):
    if isinstance(value, dict):
        yield from ([value[key]] if key in value else [])
        for child in value.values():
            yield from _walk(child, key)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child, key)


def test_semaphore_holds_the_concurrency_of_the_environment(project, all_outputs) -> None:
    expected = {name: str(env.spec.gpu.max_concurrent_trainings) for name, env in project.environments.items()}
    semaphores = [(env, o.body) for env, o in all_outputs if o.body["metadata"]["name"].endswith("-training-semaphore")]
    assert semaphores and all(body["data"] == {names.SEMAPHORE_KEY: expected[env]} for env, body in semaphores)


def test_artifact_repository_is_the_environment_store(project, all_outputs) -> None:
    prod = project.environments["prod"].spec.artifacts
    repo = next(o.body for env, o in all_outputs
                if env == "prod" and o.body["metadata"]["name"] == names.ARTIFACT_REPOSITORIES)
    assert repo["metadata"]["annotations"]["workflows.argoproj.io/default-artifact-repository"] == "default"
    s3 = yaml.safe_load(repo["data"]["default"])["s3"]
    assert (s3["bucket"], s3["endpoint"], s3["region"], s3["insecure"]) == (prod.bucket, prod.endpoint, prod.region, False)
    assert s3["accessKeySecret"] == {"name": prod.credentials_secret, "key": "accessKey"}
    assert s3["secretKeySecret"] == {"name": prod.credentials_secret, "key": "secretKey"}


@pytest.mark.parametrize("env", _envs())
def test_every_experiment_refers_to_emitted_models(env, all_outputs) -> None:
    bodies = [o.body for name, o in all_outputs if name == env.name]
    models = {(b["metadata"]["namespace"], b["metadata"]["name"]) for b in bodies if b["kind"] == "Model"}
    experiments = [b for b in bodies if b["kind"] == "Experiment"]
    assert experiments
    for exp in experiments:
        ns, spec = exp["metadata"]["namespace"], exp["spec"]
        referenced = [c["name"] for c in spec["candidates"]] + [spec[k]["name"] for k in ("mirror",) if k in spec]
        assert {(ns, name) for name in referenced + [spec["default"]]} <= models


@pytest.mark.parametrize("env", _envs())
def test_every_model_has_a_server_with_its_requirements(env, all_outputs) -> None:
    bodies = [o.body for name, o in all_outputs if name == env.name]
    capabilities = {"triton": {"pytorch"}, "mlserver": {"mlflow"}}
    servers = {(b["metadata"]["namespace"], b["spec"]["serverConfig"]): b for b in bodies if b["kind"] == "Server"}
    for model in (b for b in bodies if b["kind"] == "Model"):
        ns = model["metadata"]["namespace"]
        server = next(s for (n, config), s in servers.items()
                      if n == ns and set(model["spec"]["requirements"]) <= capabilities[config])
        assert server["spec"]["replicas"] >= model["spec"]["replicas"]


@pytest.mark.parametrize("env", _envs())
def test_generated_applications_are_allowed_by_their_project(env) -> None:
    outputs = argocd.emit(env)
    projects = {o.body["metadata"]["name"]: o.body for o in outputs if o.body["kind"] == "AppProject"}
    appset = next(o.body for o in outputs if o.body["kind"] == "ApplicationSet")
    template = appset["spec"]["template"]["spec"]
    elements = appset["spec"]["generators"][0]["list"]["elements"]
    assert sorted(e["namespace"] for e in elements) == sorted({p.namespace for p in env.pipelines})
    for element in elements:
        project = projects[element["project"]]
        assert template["source"]["repoURL"] in project["spec"]["sourceRepos"]
        server = template["destination"]["server"]
        assert any(d["server"] == server and fnmatch.fnmatch(element["namespace"], d["namespace"])
                   for d in project["spec"]["destinations"]), element
        assert element["path"].endswith(f"/{env.name}/{element['namespace']}")


@pytest.mark.parametrize("env", _envs())
def test_project_whitelists_exactly_what_lands_in_team_namespaces(env, all_outputs) -> None:
    projects = [o.body for o in argocd.emit(env) if o.body["kind"] == "AppProject"]
    team_outputs = [o.body for name, o in all_outputs if name == env.name] + [o.body for o in argo.emit(env)]
    for project in projects:
        ns = project["spec"]["destinations"][0]["namespace"]
        allowed = {(r["group"], r["kind"]) for r in project["spec"]["namespaceResourceWhitelist"]}
        emitted = {(b["apiVersion"].rpartition("/")[0], b["kind"]) for b in team_outputs
                   if b["metadata"].get("namespace") == ns}
        assert emitted <= allowed
        assert allowed == set(argocd.NAMESPACED_KINDS)
        assert project["spec"]["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace", "name": ns}]


def test_all_namespaced_kinds_are_emitted_somewhere(tmp_path) -> None:
    from .conftest import EMITTERS, pipeline_yaml, plan_of, write_project

    root = write_project(tmp_path, {"demo": pipeline_yaml()})
    plan = plan_of(root, "prod")
    bodies = [o.body for emit in (*EMITTERS, argo.emit) for o in emit(plan)]
    emitted = {(b["apiVersion"].rpartition("/")[0], b["kind"]) for b in bodies
               if b["metadata"].get("namespace") not in (None, "argocd")}
    assert emitted == set(argocd.NAMESPACED_KINDS)


def test_validator_rejects_an_unknown_field(all_outputs) -> None:
    model = next(o.body for _, o in all_outputs if o.body["kind"] == "Model")
    assert errors({**model, "spec": {**model["spec"], "storageURI": "s3://x"}}) != []
