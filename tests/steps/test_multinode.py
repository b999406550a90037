"""The train step as a TrainJob's nodes run it: torchrun's RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR make
each process one rank of the world, every node fetches `features/` from the artifact store, rank 0
alone writes `train/` and stores it there, and the model is the one the same world size trains in one
process. Here on CPU (gloo): two torchrun launchers on this machine are two nodes of one process
each, with separate work dirs (separate pods), against an S3 server (moto's) on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from maestro.contract import ACCESS_KEY_VARIABLE, SECRET_KEY_VARIABLE
from maestro.steps.exchange import Exchange
from maestro.steps.launch import Launch, launch_from

from .conftest import step_context

PREFIX = "artifacts/team-dev/run-1/exchange"
BUCKET = "bkt"
TORCHRUN_ENV = {"RANK": "1", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2",
                "MASTER_ADDR": "train-x-abcde-node-0-0.train-x-abcde", "MASTER_PORT": "29500"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def store():
    from moto.server import ThreadedMotoServer
    import boto3

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="ak", aws_secret_access_key="sk")
    client.create_bucket(Bucket=BUCKET)
    yield port, client
    server.stop()


def test_torchruns_variables_make_a_launch():
    launch = launch_from(TORCHRUN_ENV)
    assert launch == Launch(1, 4, 1, 2, "train-x-abcde-node-0-0.train-x-abcde:29500") and launch.nodes == 2
    assert launch_from({"PATH": "/bin"}) is None


@pytest.mark.parametrize(("change", "message"), [
    pytest.param({"LOCAL_RANK": None}, "LOCAL_RANK is not set", id="missing"),
    pytest.param({"RANK": "one"}, "RANK must be a whole number, not 'one'", id="not-a-number"),
    pytest.param({"RANK": "4"}, "expected 0 <= RANK < WORLD_SIZE", id="rank-outside-the-world"),
    pytest.param({"LOCAL_WORLD_SIZE": "3"}, "WORLD_SIZE a multiple of LOCAL_WORLD_SIZE", id="uneven-nodes"),
])
def test_a_partial_or_inconsistent_launch_is_refused_saying_why(change, message):
    environ = {k: v for k, v in {**TORCHRUN_ENV, **change}.items() if v is not None}
    with pytest.raises(ValueError, match=message):
        launch_from(environ)


def _project(tmp_path: Path, port: int):
    from maestro.lower import spec_json
    from maestro.steps import features, ingest

    ctx = step_context(tmp_path, {"source": "sample", "tickers": ["AAPL"], "start": "2010-01-04", "end": "2011-12-30"},
                       model={"kind": "mlp", "sequence_length": 5, "hidden_size": 8, "layers": 1},
                       training={"epochs": 2, "batch_size": 64, "resources": {"nodes": 2, "allow_cpu_nodes": True}})
    env = ctx.environment.model_copy(update={"spec": ctx.environment.spec.model_copy(update={
        "artifacts": ctx.environment.spec.artifacts.model_copy(
            update={"bucket": BUCKET, "endpoint": f"127.0.0.1:{port}", "insecure": True})})})
    ingest.run(ctx)
    features.run(ctx)
    (tmp_path / "spec.json").write_text(spec_json(ctx.pipeline, env))
    return ctx, tmp_path / "spec.json"


def _upload_features(client, workdir: Path) -> None:
    """What Argo's `archive: none` output artifact of the features step leaves: one object per file."""
    for path in sorted((workdir / "features").rglob("*")):
        if path.is_file():
            client.upload_file(str(path), BUCKET, f"{PREFIX}/{path.relative_to(workdir).as_posix()}")


def _node(rank: int, port: int, master_port: int, spec: Path, workdir: Path) -> subprocess.Popen:
    env = {**os.environ, ACCESS_KEY_VARIABLE: "ak", SECRET_KEY_VARIABLE: "sk", "MAESTRO_TORCH_THREADS": "1",
           "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    env.pop("MAESTRO_TRAIN_CPU_WORKERS", None)
    # The Trainer sets PET_NNODES, PET_NPROC_PER_NODE, PET_NODE_RANK, PET_MASTER_ADDR and PET_MASTER_PORT.
    env.update({"PET_NNODES": "2", "PET_NPROC_PER_NODE": "1", "PET_NODE_RANK": str(rank),
                "PET_MASTER_ADDR": "127.0.0.1", "PET_MASTER_PORT": str(master_port)})
    maestro = str(Path(sys.executable).with_name("maestro"))
    command = [sys.executable, "-m", "torch.distributed.run", "--no-python", maestro, "step", "train",
               "--spec", str(spec), "--workdir", str(workdir), "--run-id", "run-1", "--exchange", PREFIX]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_nodes_under_torchrun_train_what_two_workers_train_and_rank_0_alone_stores_it(tmp_path, store):
    from maestro.steps.distributed import World, fit_distributed
    from maestro.steps.train import _training_data

    port, client = store
    ctx, spec = _project(tmp_path / "source", port)
    _upload_features(client, ctx.workdir)
    master = free_port()
    nodes = [_node(rank, port, master, spec, tmp_path / f"node-{rank}") for rank in (0, 1)]
    logs = [node.communicate(timeout=240)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], "\n".join(logs)
    assert "train: world size 2 (2 nodes x 1 processes, gloo on cpu): global batch 64" in logs[0]
    # Every node fetched its inputs; rank 0 alone wrote, and stored what it wrote.
    assert all((tmp_path / f"node-{r}" / "features" / "manifest.json").is_file() for r in (0, 1))
    assert not (tmp_path / "node-1" / "train").exists()
    written = sorted(p.name for p in (tmp_path / "node-0" / "train").iterdir())
    assert written == ["manifest.json", "model.json", "model.pt"]
    stored = sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/train/")["Contents"])
    assert stored == [f"{PREFIX}/train/{name}" for name in written]
    # The same model as two workers of one node train (the batch rule: as one process would).
    trained = json.loads((tmp_path / "node-0" / "train" / "model.json").read_text())["training"]
    pair = fit_distributed(_training_data(ctx)[0], ctx.spec, ctx.spec.training.seed, World(2, "cpu"), echo=print,
                           threads=1)
    assert trained["world_size"] == 2 and trained["best_epoch"] == pair.best_epoch
    np.testing.assert_allclose([[h["train_loss"], h["val_loss"]] for h in trained["history"]],
                               [[h["train_loss"], h["val_loss"]] for h in pair.history], rtol=1e-4)


def test_a_missing_input_in_the_exchange_is_a_step_error_naming_it(tmp_path, store):
    from maestro.language.environment import Artifacts
    from maestro.steps.context import StepError

    port, _ = store
    artifacts = Artifacts(bucket=BUCKET, endpoint=f"127.0.0.1:{port}", insecure=True)
    with pytest.raises(StepError, match=r"output of step 'features' is missing at s3://bkt/nowhere/features/"):
        Exchange("nowhere", "ak", "sk").fetch(artifacts, tmp_path, ["features"])


@pytest.mark.parametrize("key", ["../escape", "features", "features/../../x", "other/file"])
def test_an_exchange_object_outside_the_steps_folder_is_refused(tmp_path, key):
    from maestro.steps.context import StepError
    from maestro.steps.exchange import _inside

    with pytest.raises(StepError, match="not a plain path inside 'features/'"):
        _inside(tmp_path, key, "features")
