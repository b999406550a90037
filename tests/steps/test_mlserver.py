"""A published `mlserver` layout served for real: MLServer with its MLflow runtime (the `serve-test`
extra) starts on 127.0.0.1 on the published folder of a passing run, and a V2 /infer request with
real feature windows returns exactly what the TorchScript model gives.

MLServer brings ~100 packages (mlflow among them), so it lives in its own environment: `make
serve-venv` builds `.venv-serve`, which this test finds by itself; `MAESTRO_MLSERVER` names another
`mlserver` executable. Without either the test is skipped, saying so."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from maestro.steps.export import load_torchscript

from .conftest import REPO, make_project, run_cli

pytestmark = [pytest.mark.mlserver, pytest.mark.slow]

START_TIMEOUT = 240     # seconds: importing mlflow on two busy cores is slow


def mlserver_executable() -> Path:
    explicit = os.environ.get("MAESTRO_MLSERVER")
    if explicit:
        if not Path(explicit).is_file():
            pytest.fail(f"MAESTRO_MLSERVER={explicit} is not a file; point it at the mlserver executable "
                        "of an environment with the serve-test extra (make serve-venv)")
        return Path(explicit)
    for candidate in (REPO / ".venv-serve" / "bin" / "mlserver", Path(sys.executable).parent / "mlserver"):
        if candidate.is_file():
            return candidate
    pytest.skip("MLServer is not installed: run `make serve-venv` (the serve-test extra in .venv-serve) "
                "or set MAESTRO_MLSERVER to an mlserver executable")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read() or b"null")


def post(url: str, body: dict):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    executable = mlserver_executable()
    root = make_project(tmp_path_factory.mktemp("mlserver"), "rule", runtime="mlserver")
    result = run_cli("syn", "--root", str(root), "--output-dir", str(root / "out"))
    assert result.exit_code == 0 and "gate PASSED" in result.output, result.output
    return executable, root / "out" / "work"


@pytest.fixture(scope="module")
def server(published, tmp_path_factory):
    executable, work = published
    http, grpc, metrics = free_ports(3)
    cwd = tmp_path_factory.mktemp("mlserver-cwd")     # MLServer reads a settings.json from its working dir
    env = {**os.environ, "MLSERVER_HOST": "127.0.0.1", "MLSERVER_HTTP_PORT": str(http),
           "MLSERVER_GRPC_PORT": str(grpc), "MLSERVER_METRICS_PORT": str(metrics),
           "MLSERVER_PARALLEL_WORKERS": "0", "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}
    log = open(cwd / "mlserver.log", "w")
    process = subprocess.Popen([str(executable), "start", str(work / "publish" / "model")], cwd=cwd, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{http}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"mlserver exited with {process.returncode}:\n{(cwd / 'mlserver.log').read_text()[-3000:]}")
            try:
                if get(f"{base}/v2/models/syn/ready")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlserver did not load the model in {START_TIMEOUT}s:\n"
                            f"{(cwd / 'mlserver.log').read_text()[-3000:]}")
            time.sleep(1)
        yield base, work
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def feature_windows(work: Path, count: int) -> np.ndarray:
    from maestro.steps.features import read_table
    from maestro.steps.learning import make_samples

    table, meta = read_table(work / "features")
    model = json.loads((work / "train" / "model.json").read_text())
    assert meta["columns"] == model["features"]
    return make_samples(table, meta["columns"], model["tensors"]["input"]["shape"][1]).x[-count:]


def test_mlserver_serves_the_published_folder_and_answers_as_torchscript_does(server):
    base, work = server
    x = feature_windows(work, 16)
    body = {"inputs": [{"name": "INPUT__0", "datatype": "FP32", "shape": list(x.shape), "data": x.ravel().tolist()}]}
    answer = post(f"{base}/v2/models/syn/infer", body)
    [output] = answer["outputs"]
    assert output["datatype"] == "FP32" and output["shape"] == [16, 1]
    with torch.no_grad():
        expected = load_torchscript(work / "train" / "model.pt")(torch.from_numpy(x)).numpy()
    served = np.asarray(output["data"], dtype=np.float32).reshape(16, 1)
    np.testing.assert_allclose(served, expected, rtol=1e-6, atol=1e-7)
    assert len(np.unique(expected.round(4))) > 1      # real windows, not one repeated answer


def test_mlserver_advertises_the_tensor_shapes(server):
    base, work = server
    status, metadata = get(f"{base}/v2/models/syn")
    tensors = json.loads((work / "train" / "model.json").read_text())["tensors"]
    assert status == 200 and metadata["name"] == "syn"
    assert [(t["datatype"], t["shape"]) for t in metadata["inputs"]] == [("FP32", tensors["input"]["shape"])]
    assert [(t["datatype"], t["shape"]) for t in metadata["outputs"]] == [("FP32", tensors["output"]["shape"])]
