"""The serving layouts that `publish` uploads to `s3://<bucket>/models/<team>/<pipeline>/<run-id>/`.

In: the exported TorchScript file and its tensor description. Out: a folder that the Seldon Core v2
server named by `requirements` loads as-is from the Model's `storageUri`:
- triton (requirement `pytorch`): a Triton model repository entry for one model, `config.pbtxt`
  (platform `pytorch_libtorch`) and `1/model.pt`. Seldon's agent rewrites `name` to the Model name.
- mlserver (requirement `mlflow`): an MLflow model with the `pytorch` and `python_function` flavors,
  which MLServer's MLflow runtime opens with `mlflow.pyfunc.load_model`; `data/model.pth` is the
  same TorchScript archive (torch.load hands TorchScript archives to torch.jit.load). Its
  `model-settings.json` names the runtime and the tensors: without it MLServer finds no model in
  the folder and Seldon's agent refuses it.
"""

from __future__ import annotations

import json
import platform
import shutil
from pathlib import Path

SELDON_REQUIREMENTS = {"triton": ["pytorch"], "mlserver": ["mlflow"]}
FORMATS = {"triton": "triton-pytorch_libtorch", "mlserver": "mlflow-pytorch"}
MAX_BATCH_SIZE = 256


def lay_out(runtime: str, torchscript: Path, tensors: dict, name: str, folder: Path) -> str:
    """Write the layout of `runtime` into `folder`; return the model file's path inside it."""
    folder.mkdir(parents=True)
    return (triton if runtime == "triton" else mlflow_model)(torchscript, tensors, name, folder)


def triton(torchscript: Path, tensors: dict, name: str, folder: Path) -> str:
    (folder / "1").mkdir()
    shutil.copyfile(torchscript, folder / "1" / "model.pt")
    (folder / "config.pbtxt").write_text(triton_config(tensors, name), encoding="utf-8")
    return "1/model.pt"


def triton_config(tensors: dict, name: str) -> str:
    """Triton's model configuration; dims leave out the batch dimension that max_batch_size adds."""
    def block(kind: str, spec: dict) -> str:
        dims = ", ".join(str(d) for d in spec["shape"][1:])
        return (f'{kind} [\n  {{\n    name: "{spec["name"]}"\n    data_type: TYPE_FP32\n'
                f"    dims: [ {dims} ]\n  }}\n]\n")
    return (f'name: "{name}"\nplatform: "pytorch_libtorch"\nmax_batch_size: {MAX_BATCH_SIZE}\n'
            + block("input", tensors["input"]) + block("output", tensors["output"]))


def mlflow_model(torchscript: Path, tensors: dict, name: str, folder: Path) -> str:
    import torch

    data = folder / "data"
    data.mkdir()
    shutil.copyfile(torchscript, data / "model.pth")
    # mlflow.pytorch reads the pickle module's name from here before calling torch.load.
    (data / "pickle_module_info.txt").write_text("mlflow.pytorch.pickle_module", encoding="utf-8")
    torch_version = torch.__version__.split("+")[0]
    python = platform.python_version()
    (folder / "MLmodel").write_text(mlmodel(tensors, torch.__version__, python), encoding="utf-8")
    (folder / "model-settings.json").write_text(model_settings(tensors, name), encoding="utf-8")
    (folder / "requirements.txt").write_text(f"mlflow\ncloudpickle\ntorch=={torch_version}\n", encoding="utf-8")
    (folder / "python_env.yaml").write_text(
        f"python: {python}\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n", encoding="utf-8")
    (folder / "conda.yaml").write_text(
        f"name: mlflow-env\nchannels:\n- conda-forge\ndependencies:\n- python={python}\n- pip\n- pip:\n"
        f"  - mlflow\n  - cloudpickle\n  - torch=={torch_version}\n", encoding="utf-8")
    return "data/model.pth"


MLSERVER_IMPLEMENTATION = "mlserver_mlflow.MLflowRuntime"
V2_DATATYPES = {"float32": "FP32"}


def model_settings(tensors: dict, name: str) -> str:
    """MLServer's model-settings.json: the runtime class, the V2 tensor metadata it advertises, and
    the model's folder (`./`, relative to this file). Seldon's agent rewrites `name` to the Model name."""
    def metadata(spec: dict) -> dict:
        return {"name": spec["name"], "datatype": V2_DATATYPES[spec["dtype"]], "shape": list(spec["shape"])}
    settings = {"name": name, "implementation": MLSERVER_IMPLEMENTATION,
                "inputs": [metadata(tensors["input"])], "outputs": [metadata(tensors["output"])],
                "parameters": {"uri": "./"}}
    return json.dumps(settings, indent=2) + "\n"


def mlmodel(tensors: dict, torch_version: str, python: str) -> str:
    """The MLmodel file mlflow.pytorch.save_model writes for a scripted model, without timestamps.
    The tensor signature makes MLServer decode requests as float32 numpy arrays of that shape."""
    def signature(spec: dict) -> str:
        return json.dumps([{"type": "tensor", "tensor-spec": {"dtype": spec["dtype"], "shape": spec["shape"]}}])
    return (
        "artifact_path: model\nflavors:\n  python_function:\n    data: data\n    env:\n"
        "      conda: conda.yaml\n      virtualenv: python_env.yaml\n    loader_module: mlflow.pytorch\n"
        f"    pickle_module_name: mlflow.pytorch.pickle_module\n    python_version: {python}\n"
        f"  pytorch:\n    model_data: data\n    pytorch_version: {torch_version}\n"
        f"signature:\n  inputs: '{signature(tensors['input'])}'\n  outputs: '{signature(tensors['output'])}'\n"
        "  params: null\n")
