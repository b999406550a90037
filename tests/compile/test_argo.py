"""What the WorkflowTemplate and CronWorkflow say, checked on the compiled example project."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro.compile import compile_project


def _objects(project: Path) -> dict[tuple[str, str, str], dict]:
    tree = compile_project(project, validate=False).tree
    return {(_env(o.path), o.body["kind"], o.body["metadata"]["name"]): o.body for o in tree.outputs}


def _env(path: str) -> str:
    return Path(path).stem if path.startswith("bootstrap/") else path.split("/")[0]


def _templates(workflow: dict) -> dict[str, dict]:
    return {t["name"]: t for t in workflow["spec"]["templates"]}


@pytest.fixture
def objects(project: Path) -> dict:
    return _objects(project)


def test_dag_runs_the_builtin_chain_then_custom_steps(objects: dict) -> None:
    workflow = objects[("prod", "WorkflowTemplate", "msft-momentum")]
    tasks = {t["name"]: t for t in _templates(workflow)["pipeline"]["dag"]["tasks"]}
    assert [t for t in tasks] == ["ingest", "validate", "features", "train", "evaluate", "gate", "publish", "backtest"]
    assert "depends" not in tasks["ingest"]
    assert tasks["train"]["depends"] == "features"
    assert tasks["publish"]["when"] == "{{tasks.gate.outputs.parameters.passed}} == true"
    assert tasks["backtest"]["depends"] == "evaluate"
    assert tasks["backtest"]["arguments"]["artifacts"] == [
        {"name": "evaluate", "from": "{{tasks.evaluate.outputs.artifacts.out}}"}]


def test_builtin_steps_run_the_environment_image_with_maestro_step(objects: dict) -> None:
    workflow = objects[("prod", "WorkflowTemplate", "aapl-direction")]
    train = _templates(workflow)["train"]["container"]
    assert train["image"].startswith("ghcr.io/acme/maestro-steps@sha256:")
    assert train["command"] == ["maestro", "step", "train"]
    assert train["args"][:2] == ["--spec", "/maestro/spec/spec.json"]


def test_custom_step_has_its_image_env_and_secrets(objects: dict) -> None:
    backtest = _templates(objects[("prod", "WorkflowTemplate", "msft-momentum")])["backtest"]
    container = backtest["container"]
    assert container["command"] == ["python", "-m", "backtest"]
    assert container["env"] == [{"name": "MODE", "value": "full"}]
    assert container["envFrom"] == [{"secretRef": {"name": "backtest-api"}}]


def test_gpu_settings_on_the_train_and_evaluate_steps_only(objects: dict) -> None:
    """evaluate trains the fold models, so it gets the GPU placement too: scored where served is trained."""
    templates = _templates(objects[("prod", "WorkflowTemplate", "aapl-direction")])
    for name in ("train", "evaluate"):
        step = templates[name]
        assert step["container"]["resources"]["limits"]["nvidia.com/gpu"] == "1", name
        assert step["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}, name
        assert step["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}], name
        assert step["priorityClassName"] == "ml-training", name
        assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}} in step["volumes"], name
        assert "affinity" not in step, name
    for name, template in templates.items():
        if name in ("train", "evaluate", "pipeline"):
            continue
        assert "nvidia.com/gpu" not in template["container"]["resources"]["limits"], name
        assert "nodeSelector" not in template and "tolerations" not in template, name
        avoid = template["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert avoid["nodeSelectorTerms"][0]["matchExpressions"][0]["operator"] == "NotIn", name


def test_zero_gpus_means_no_gpu_settings_at_all(objects: dict) -> None:
    train = _templates(objects[("dev", "WorkflowTemplate", "aapl-direction")])["train"]
    assert set(train["container"]["resources"]["limits"]) == {"memory"}
    assert not {"nodeSelector", "tolerations", "priorityClassName"} & set(train)
    assert all(v["name"] != "dshm" for v in train["volumes"])


def test_training_is_capped_by_the_team_semaphore(objects: dict) -> None:
    templates = _templates(objects[("prod", "WorkflowTemplate", "aapl-direction")])
    for name in ("train", "evaluate"):     # both fit networks
        assert templates[name]["synchronization"] == {"semaphores": [{"configMapKeyRef": {
            "name": "quant-research-training-semaphore", "key": "trainings"}}]}, name
    # The gate fits no network: it may hold the trial registry's mutex, never a training slot.
    assert "semaphores" not in templates["gate"].get("synchronization", {})


def test_retries_deadlines_and_security(objects: dict) -> None:
    workflow = objects[("prod", "WorkflowTemplate", "aapl-direction")]
    train = _templates(workflow)["train"]
    assert train["retryStrategy"]["limit"] == 2
    assert train["retryStrategy"]["backoff"]["factor"] == 2
    assert train["activeDeadlineSeconds"] == 7200
    assert workflow["spec"]["activeDeadlineSeconds"] >= 7200 * 3
    security = train["container"]["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"] == {"drop": ["ALL"]}
    assert workflow["spec"]["securityContext"]["runAsNonRoot"] is True
    assert workflow["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


def test_housekeeping(objects: dict) -> None:
    spec = objects[("prod", "WorkflowTemplate", "aapl-direction")]["spec"]
    assert spec["serviceAccountName"] == "quant-research-workflow"
    assert spec["artifactRepositoryRef"] == {"configMap": "artifact-repositories", "key": "default"}
    assert spec["podGC"]["strategy"] == "OnPodSuccess" and "secondsAfterFailure" in spec["ttlStrategy"]
    assert [p["name"] for p in spec["arguments"]["parameters"]] == ["start", "end"]
    assert {m["name"] for m in spec["metrics"]["prometheus"]} >= {
        "maestro_training_duration_seconds", "maestro_training_failures_total"}


@pytest.mark.parametrize("env, suspended", [pytest.param("staging", False, id="staging"),
                                             pytest.param("prod", False, id="prod")])
def test_cron_workflow(objects: dict, env: str, suspended: bool) -> None:
    cron = objects[(env, "CronWorkflow", "aapl-direction")]["spec"]
    assert cron["schedules"] == ["0 6 * * 1-5"] and "schedule" not in cron
    assert cron["timezone"] == "America/New_York"
    assert cron["concurrencyPolicy"] == "Forbid"
    assert cron["suspend"] is suspended
    assert cron["workflowSpec"] == {"workflowTemplateRef": {"name": "aapl-direction"}}


def test_no_cron_without_schedule_and_suspended_where_schedules_are_off(project: Path) -> None:
    assert not any(kind == "CronWorkflow" for env, kind, _ in _objects(project) if env == "dev")
    spec = project / "pipelines/aapl-direction.yaml"
    spec.write_text(spec.read_text().replace("      schedule: null\n", "", 1))
    cron = _objects(project)[("dev", "CronWorkflow", "aapl-direction")]
    assert cron["spec"]["suspend"] is True


def test_long_names_are_cut_with_a_stable_hash(project: Path) -> None:
    name = "a" * 40
    source = (project / "pipelines/goog-volatility.yaml").read_text().replace("name: goog-volatility", f"name: {name}")
    (project / f"pipelines/{name}.yaml").write_text(source)
    spec = project / "environments/prod.yaml"
    spec.write_text(spec.read_text().replace('namespace: "{team}-{env}"', 'namespace: "{team}-{env}-ml-platform-tenant-namespace-x"'))
    objects = _objects(project)
    names = [n for _, _, n in objects] + [b["metadata"].get("namespace", "") for b in objects.values()]
    assert all(len(n) <= 63 for n in names)
    crons = [n for _, kind, n in objects if kind == "CronWorkflow"]
    assert all(len(n) <= 52 for n in crons)
    assert _objects(project).keys() == objects.keys()


def test_labels_on_every_object(objects: dict) -> None:
    for (env, kind, name), body in objects.items():
        labels = body["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "maestro", (kind, name)
        assert labels["maestro.dev/environment"] == env, (kind, name)
