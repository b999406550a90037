"""Step `publish`: the serving layout per runtime, what each server would load, and the model card."""

from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pytest
import torch
import yaml

from maestro.errors import MaestroError, UsageError
from maestro.steps.context import StepError
from maestro.steps.export import load_torchscript
from maestro.steps.serving import lay_out

from .conftest import read_summary, step_context

pytestmark = pytest.mark.slow


def trained(learnable_run):
    root, result = learnable_run
    assert result.exit_code == 0, result.output
    work = root / "out" / "work"
    return work, json.loads((work / "train" / "model.json").read_text())


def test_triton_layout_is_one_model_repository_entry(learnable_run):
    work, model = trained(learnable_run)
    folder = work / "publish" / "model"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == ["1/model.pt", "config.pbtxt"]
    config = (folder / "config.pbtxt").read_text()
    assert 'platform: "pytorch_libtorch"' in config and "max_batch_size: 256" in config
    assert 'name: "INPUT__0"' in config and "dims: [ 3, 2 ]" in config and "dims: [ 1 ]" in config
    assert (folder / "1" / "model.pt").read_bytes() == (work / "train" / "model.pt").read_bytes()
    record = json.loads((work / "publish" / "publish.json").read_text())
    assert record["seldon_requirements"] == ["pytorch"]
    assert record["storage_uri"] == f"s3://acme-ml-dev/models/quant-research/syn/{record['run_id']}/"


def test_mlserver_layout_is_an_mlflow_pytorch_model_that_loads_as_mlflow_does(learnable_run, tmp_path):
    work, model = trained(learnable_run)
    lay_out("mlserver", work / "train" / "model.pt", model["tensors"], "syn", tmp_path / "model")
    settings = json.loads((tmp_path / "model" / "model-settings.json").read_text())
    assert settings == {"name": "syn", "implementation": "mlserver_mlflow.MLflowRuntime",
                        "inputs": [{"name": "INPUT__0", "datatype": "FP32", "shape": [-1, 3, 2]}],
                        "outputs": [{"name": "OUTPUT__0", "datatype": "FP32", "shape": [-1, 1]}],
                        "parameters": {"uri": "./"}}
    mlmodel = yaml.safe_load((tmp_path / "model" / "MLmodel").read_text())
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.pytorch"
    assert mlmodel["flavors"]["pytorch"]["model_data"] == "data"
    assert json.loads(mlmodel["signature"]["inputs"])[0]["tensor-spec"] == {"dtype": "float32", "shape": [-1, 3, 2]}
    # mlflow.pytorch._load_model: torch.load with the recorded pickle module and weights_only=False,
    # which hands a TorchScript archive to torch.jit.load.
    data = tmp_path / "model" / "data"
    assert (data / "pickle_module_info.txt").read_text() == "mlflow.pytorch.pickle_module"
    with pytest.warns(UserWarning, match="TorchScript archive"):
        loaded = torch.load(data / "model.pth", weights_only=False, pickle_module=pickle)
    x = torch.randn(4, 3, 2)
    with torch.no_grad():
        np.testing.assert_allclose(loaded(x).numpy(), load_torchscript(work / "train" / "model.pt")(x).numpy())


def test_model_card_says_what_a_reader_needs_without_timestamps(learnable_run):
    work, _ = trained(learnable_run)
    card = (work / "publish" / "model_card.md").read_text()
    for words in ("## Data", "SYN", "## Features", "returns: periods [1, 2]", "## Model", "mlp",
                  "| 1 |", "| all |", "previous_bar", "## Gate decision", "The gate passed", "## Limitations"):
        assert words in card
    assert "202" not in card.replace("2001", "").replace("2002", "").replace("2003", "").replace("2004", "") \
        .replace("2005", "").replace("2006", "").replace("2007", "")        # no run date


def test_outputs_are_deterministic_across_runs(learnable_run, tmp_path):
    from .conftest import run_cli

    root, _ = learnable_run
    result = run_cli("syn", "--root", str(root), "--output-dir", str(tmp_path / "again"), "--no-cache")
    assert result.exit_code == 0, result.output
    for step in ("ingest", "validate", "features", "train", "evaluate", "gate", "publish"):
        ours = json.loads((tmp_path / "again" / "work" / step / "manifest.json").read_text())
        theirs = json.loads((root / "out" / "work" / step / "manifest.json").read_text())
        assert ours == theirs, step
    assert read_summary(tmp_path / "again")["metrics"] == read_summary(root / "out")["metrics"]


from tests.support import git as _git, maestro, seed_bare_repository


def test_publish_with_write_back_proposes_the_run_in_the_gitops_repo(learnable_run, tmp_path):
    root, _ = learnable_run
    bare = seed_bare_repository(tmp_path, root)
    spec = json.loads((root / "out" / "spec.json").read_text())
    spec["environment"]["spec"]["gitops"]["repo_url"] = str(bare)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    work = tmp_path / "work"
    shutil.copytree(root / "out" / "work", work, ignore=shutil.ignore_patterns("publish"))
    result = maestro(None, "step", "publish", "--spec", str(tmp_path / "spec.json"), "--workdir", str(work),
                            "--run-id", "syn-abc123", "--write-back")
    assert result.exit_code == 0, result.output
    promotion = json.loads((work / "publish" / "publish.json").read_text())["promotion"]
    assert promotion["status"] == "pushed" and promotion["version"] == "v1" and promotion["ref"] == "main"
    assert "propose syn v1 from run syn-abc123" in _git(bare, "log", "-1", "--format=%B", "main")


def test_the_pods_schema_location_reaches_the_write_backs_validation(learnable_run, tmp_path):
    """$MAESTRO_SCHEMA_LOCATION, read by `maestro step`, is what the write-back's recompile validates
    with: a WorkflowTemplate schema there that refuses everything stops the push."""
    root, _ = learnable_run
    bare = seed_bare_repository(tmp_path, root)
    seed = _git(bare, "rev-parse", "main").strip()
    spec = json.loads((root / "out" / "spec.json").read_text())
    spec["environment"]["spec"]["gitops"]["repo_url"] = str(bare)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    work = tmp_path / "work"
    shutil.copytree(root / "out" / "work", work, ignore=shutil.ignore_patterns("publish"))
    refusing = tmp_path / "refusing"
    refusing.mkdir()
    (refusing / "workflowtemplate_v1alpha1.json").write_text('{"not": {}}')
    location = str(refusing) + "/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    result = maestro(None, "step", "publish", "--spec", str(tmp_path / "spec.json"), "--workdir", str(work),
                     "--run-id", "syn-abc123", "--write-back", env={"MAESTRO_SCHEMA_LOCATION": location})
    assert result.exit_code == 1
    assert "proposing it in" in result.stderr and "WorkflowTemplate" in result.stderr
    assert _git(bare, "rev-parse", "main").strip() == seed


def test_model_pt_is_byte_identical_across_processes(learnable_run, tmp_path):
    """Fresh processes (as pods are) train from the same features: the same bytes, whatever their hash seed."""
    import os
    import subprocess
    import sys

    root, _ = learnable_run
    digests = []
    for attempt, hash_seed in (("a", "1"), ("b", "2"), ("c", "3")):     # str hashes, so set orders, differ
        work = tmp_path / attempt / "work"
        shutil.copytree(root / "out" / "work" / "features", work / "features")
        env = {**os.environ, "MAESTRO_TORCH_THREADS": "1", "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-m", "maestro", "step", "train", "--spec", str(root / "out" / "spec.json"),
                               "--workdir", str(work), "--run-id", "syn-same"], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        digests.append((work / "train" / "model.pt").read_bytes())
    # Only processes started alike are compared: the fixture's model was trained inside the test process,
    # whose torch thread count other tests may have changed, and threads change float sums.
    assert digests[0] == digests[1] == digests[2]


@pytest.mark.parametrize("raised, reported", [
    pytest.param(UsageError("git push failed: rejected"), StepError, id="refused-push-is-a-step-error"),
    pytest.param(MaestroError([]), StepError, id="refused-tree-is-a-step-error"),
    pytest.param(KeyError("version"), KeyError, id="bug-stays-a-bug"),
])
def test_only_a_failed_proposal_becomes_a_step_error(tmp_path, monkeypatch, raised, reported):
    """A write-back that git, the remote or the specs refuse is the step's plain error; a bug is not
    dressed up as one, so `maestro --debug step publish` shows its traceback."""
    from maestro.steps import publish, writeback

    def write_back(request):
        raise raised

    monkeypatch.setattr(writeback, "write_back", write_back)
    ctx = step_context(tmp_path, {"source": "sample", "tickers": ["AAPL"], "start": "2010-01-04", "end": "2011-12-30"})
    with pytest.raises(reported) as caught:
        publish.propose_version({"metrics": {"accuracy": 0.6}}, ctx)
    if reported is StepError:
        assert str(caught.value).startswith("the model is stored, but proposing it in https://x/y.git failed: ")
    else:
        assert caught.value is raised
