"""Lowering a bring-your-own pipeline: the DAG with artifacts between steps, the trainer placed as the
built-in train step is, maestro's gate and publish, a Seldon Model of the trainer's artifact, and
output that `maestro validate` accepts."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from maestro.lower import lower
from maestro.project import load_project
from tests.support import maestro

from .conftest import REPO, write_project

IMAGE = "ghcr.io/acme/byo@sha256:" + "b" * 64
BYO = f"""\
apiVersion: maestro/v1
kind: Pipeline
metadata: {{name: churn, team: quant-research}}
spec:
  template: custom
  steps:
    - {{name: extract, image: {IMAGE}, command: [python, /app/extract.py], outputs: [rows], secrets: [warehouse]}}
    - name: fit
      role: trainer
      image: {IMAGE}
      command: [python, /app/fit.py]
      args: [--epochs, "3"]
      inputs: [extract.rows]
      outputs: [model]
      env: {{MODE: full}}
      resources: {{gpus: 1, cpu: "4", memory: 8Gi, shared_memory: 2Gi}}
    - {{name: score, role: evaluator, image: {IMAGE}, inputs: [extract.rows, fit.model], outputs: [metrics]}}
  gate: {{min: {{auc: 0.7}}}}
  schedule: {{cron: "0 3 * * *"}}
  serving:
    format: sklearn
    requirements: [sklearn]
    versions: [{{name: v1, run: churn-abc123}}]
    default: v1
"""
MARKET = """\
apiVersion: maestro/v1
kind: Pipeline
metadata: {name: demo, team: quant-research}
spec:
  data: {source: sample, tickers: [AAPL], start: 2005-01-01}
  features: [{kind: returns}]
  training: {resources: {gpus: 1, cpu: "4", memory: 8Gi, shared_memory: 2Gi}}
"""


def compiled(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "project", {"churn": BYO, "demo": MARKET})
    result = maestro(root, "compile")   # validates its output before writing it
    assert result.returncode == 0, result.stderr
    return root


def load(root: Path, env: str, name: str) -> dict:
    (doc,) = yaml.safe_load_all((root / "gitops" / env / f"quant-research-{env}" / name).read_text())
    return doc


def templates(workflow: dict) -> dict[str, dict]:
    return {t["name"]: t for t in workflow["spec"]["templates"]}


def test_the_dag_passes_named_artifacts(tmp_path: Path) -> None:
    spec = load(compiled(tmp_path), "prod", "workflowtemplate-churn.yaml")["spec"]
    tasks = {t["name"]: t for t in templates({"spec": spec})["pipeline"]["dag"]["tasks"]}
    assert list(tasks) == ["extract", "fit", "score", "gate", "publish"]
    assert tasks["score"]["depends"] == "extract && fit"
    assert tasks["score"]["arguments"]["artifacts"] == [
        {"name": "extract-rows", "from": "{{tasks.extract.outputs.artifacts.rows}}"},
        {"name": "fit-model", "from": "{{tasks.fit.outputs.artifacts.model}}"}]
    assert tasks["gate"]["arguments"]["artifacts"] == [
        {"name": "score-metrics", "from": "{{tasks.score.outputs.artifacts.metrics}}"}]
    assert tasks["publish"]["when"] == "{{tasks.gate.outputs.parameters.passed}} == true"
    assert "arguments" not in spec    # no data window: a custom pipeline has no start/end parameters
    fit = templates({"spec": spec})["fit"]
    assert fit["inputs"]["artifacts"] == [{"name": "extract-rows", "path": "/maestro/work/extract/rows"}]
    assert fit["outputs"]["artifacts"] == [{"name": "model", "path": "/maestro/work/fit/model"}]
    assert {"name": "MAESTRO_INPUT_EXTRACT_ROWS", "value": "/maestro/work/extract/rows"} in fit["container"]["env"]
    assert fit["container"]["args"] == ["--epochs", "3"]


def test_the_trainer_is_placed_as_the_builtin_train_step(tmp_path: Path) -> None:
    root = compiled(tmp_path)
    fit = templates(load(root, "prod", "workflowtemplate-churn.yaml"))["fit"]
    train = templates(load(root, "prod", "workflowtemplate-demo.yaml"))["train"]
    for key in ("synchronization", "nodeSelector", "tolerations", "priorityClassName", "volumes", "retryStrategy"):
        assert fit[key] == train[key], key
    assert fit["container"]["resources"] == train["container"]["resources"]
    assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}} in fit["volumes"]
    assert fit["retryStrategy"]["limit"] == 2
    extract = templates(load(root, "prod", "workflowtemplate-churn.yaml"))["extract"]
    assert "synchronization" not in extract and "retryStrategy" not in extract and "nodeSelector" not in extract
    assert extract["container"]["envFrom"] == [{"secretRef": {"name": "warehouse"}}]


def test_the_gate_and_publish_are_maestros_steps(tmp_path: Path) -> None:
    root = compiled(tmp_path)
    steps = templates(load(root, "prod", "workflowtemplate-churn.yaml"))
    image = yaml.safe_load((REPO / "environments" / "prod.yaml").read_text())["spec"]["image"]
    assert steps["gate"]["container"]["command"] == ["maestro", "step", "gate"]
    assert steps["gate"]["container"]["image"] == image
    assert steps["gate"]["inputs"]["artifacts"] == [{"name": "score-metrics", "path": "/maestro/work/score/metrics"}]
    publish = steps["publish"]
    assert publish["container"]["args"][-1] == "--write-back"     # as the built-in publish
    credentials = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in publish["container"]["env"]}
    assert credentials == {"MAESTRO_GIT_USERNAME": "username", "MAESTRO_GIT_PASSWORD": "password"}
    assert {"name": "fit-model", "path": "/maestro/work/fit/model"} in publish["inputs"]["artifacts"]
    model = next(a for a in publish["outputs"]["artifacts"] if a["name"] == "model")
    assert model["s3"] == {"key": "models/quant-research/churn/{{workflow.name}}"} and model["archive"] == {"none": {}}


def test_serving_reads_the_trainers_artifact_with_its_requirements(tmp_path: Path) -> None:
    model = load(compiled(tmp_path), "prod", "model-churn-v1.yaml")
    assert model["spec"]["storageUri"].endswith("/models/quant-research/churn/churn-abc123")
    assert model["spec"]["requirements"] == ["sklearn"]


def test_the_compiled_tree_passes_maestro_validate(tmp_path: Path) -> None:
    root = compiled(tmp_path)
    result = maestro(root, "validate", "gitops")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_spec_configmap_holds_the_custom_spec(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", {"churn": BYO})
    (env,) = [e for e in lower(load_project(root)).environments if e.name == "dev"]
    (plan,) = env.pipelines
    assert plan.template == "custom" and dict(plan.roles) == {"trainer": "fit", "evaluator": "score"}
    spec = json.loads(plan.spec_json)["pipeline"]["spec"]
    assert spec["template"] == "custom" and "training" not in spec   # dev's defaults.training is not its


def test_naming_the_market_data_template_changes_no_byte(tmp_path: Path) -> None:
    """The built-in DAG is the default template; saying so outright compiles to the same tree."""
    implicit = write_project(tmp_path / "implicit", {"demo": MARKET})
    explicit = write_project(tmp_path / "explicit", {"demo": MARKET.replace("spec:\n", "spec:\n  template: market-data\n")})
    for root in (implicit, explicit):
        assert maestro(root, "compile").returncode == 0
    files = {root: {p.relative_to(root / "gitops"): p.read_bytes() for p in sorted((root / "gitops").rglob("*.yaml"))}
             for root in (implicit, explicit)}
    strip = {path: b"\n".join(body.split(b"\n")[1:]) for path, body in files[explicit].items()}   # the header
    assert strip == {path: b"\n".join(body.split(b"\n")[1:]) for path, body in files[implicit].items()}


MULTINODE = BYO.replace('resources: {gpus: 1, cpu: "4", memory: 8Gi, shared_memory: 2Gi}',
                        'resources: {nodes: 2, gpus: 1, cpu: "4", memory: 8Gi, shared_memory: 2Gi}')


def compiled_multinode(tmp_path: Path) -> Path:
    assert MULTINODE != BYO
    root = write_project(tmp_path / "project", {"churn": MULTINODE})
    result = maestro(root, "compile")   # validates its output, the embedded TrainJob included
    assert result.returncode == 0, result.stderr
    return root


def test_a_trainer_spanning_nodes_is_a_trainjob_of_its_own_container(tmp_path: Path) -> None:
    workflow = load(compiled_multinode(tmp_path), "prod", "workflowtemplate-churn.yaml")
    fit = templates(workflow)["fit"]
    assert fit["serviceAccountName"] == "quant-research-trainjob-launcher"
    assert fit["synchronization"]["semaphores"][0]["configMapKeyRef"]["key"]
    assert fit["retryStrategy"]["limit"] == 2
    job = yaml.safe_load(fit["resource"]["manifest"])
    assert job["kind"] == "TrainJob" and job["metadata"]["labels"]["maestro.dev/step"] == "fit"
    trainer = job["spec"]["trainer"]
    assert (trainer["image"], trainer["command"], trainer["args"]) == (IMAGE, ["python", "/app/fit.py"], ["--epochs", "3"])
    assert (trainer["numNodes"], trainer["numProcPerNode"]) == (2, 1)
    assert trainer["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == "1"
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in trainer["env"]}
    assert env["MODE"] == "full"
    assert env["MAESTRO_OUTPUT_MODEL"] == "/maestro/work/fit/model"
    assert env["MAESTRO_INPUT_EXTRACT_ROWS"] == "/maestro/work/extract/rows"
    assert env["MAESTRO_EXCHANGE"].endswith("/artifacts/{{workflow.namespace}}/{{workflow.name}}/exchange")
    assert env["MAESTRO_ARTIFACT_ACCESS_KEY"]["secretKeyRef"]["key"] == "accessKey"
    pod = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"][0]
    volumes = [v["name"] for v in pod["template"]["spec"]["template"]["spec"]["volumes"]]
    assert "spec" not in volumes and "dshm" in volumes     # a custom step does not read spec.json


def test_the_trainers_model_reaches_the_gate_and_publish_through_the_store(tmp_path: Path) -> None:
    root = compiled_multinode(tmp_path)
    workflow = load(root, "prod", "workflowtemplate-churn.yaml")
    by_name = templates(workflow)
    prefix = "artifacts/{{workflow.namespace}}/{{workflow.name}}/exchange"
    # What the trainer reads is uploaded to the store, file by file.
    exchange = [a for a in by_name["extract"]["outputs"]["artifacts"] if a["name"] == "exchange"]
    assert exchange == [{"name": "exchange", "path": "/maestro/work/extract", "archive": {"none": {}},
                         "s3": {"key": f"{prefix}/extract"}}]
    # What it wrote is read back from there by the evaluator and by publish.
    for step in ("score", "publish"):
        (model,) = [a for a in by_name[step]["inputs"]["artifacts"] if a["name"] == "fit-model"]
        assert model["s3"] == {"key": f"{prefix}/fit/model"}, step
    tasks = {t["name"]: t for t in by_name["pipeline"]["dag"]["tasks"]}
    assert "fit" not in json.dumps(tasks["publish"].get("arguments", {}))
    assert tasks["fit"].get("arguments") is None
    launcher = root / "gitops/prod/quant-research-prod/serviceaccount-quant-research-trainjob-launcher.yaml"
    rendezvous = root / "gitops/prod/quant-research-prod/networkpolicy-maestro-allow-rendezvous-churn.yaml"
    assert launcher.is_file() and "maestro.dev/step: fit" in rendezvous.read_text()
    result = maestro(root, "validate", "gitops")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_trainer_is_held_to_the_nodes_policy(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", {"churn": MULTINODE.replace("nodes: 2", "nodes: 5")})
    result = maestro(root, "compile")
    assert result.returncode == 1
    assert ("pipelines/churn.yaml:16:26: error: spec.steps[1].resources.nodes: 5 exceeds prod's "
            "policy.max_nodes_per_step 4 (environments/prod.yaml:53:5)") in result.stderr.splitlines(), result.stderr
    assert not (root / "gitops").exists()
