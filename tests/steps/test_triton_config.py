"""Triton's config.pbtxt against the exported model itself: the declared input and output dims
(after the batch dimension that max_batch_size adds) are the shapes the TorchScript file really
takes and returns, at batch 1 and at max_batch_size, and a window of another shape is refused."""

from __future__ import annotations

import json
import re

import pytest
import torch

from maestro.steps.export import load_torchscript

pytestmark = pytest.mark.slow


def parse_config(text: str) -> dict:
    """The fields Triton reads for a pytorch_libtorch model, from the text format we write."""
    def tensors(kind: str) -> list[dict]:
        block = re.search(kind + r" \[(.*?)\n\]", text, re.S).group(1)
        return [{"name": name, "data_type": dtype, "dims": [int(d) for d in dims.split(",")]}
                for name, dtype, dims in re.findall(r'name: "([^"]+)"\s+data_type: (\w+)\s+dims: \[([^\]]*)\]', block)]
    return {"platform": re.search(r'platform: "([^"]+)"', text).group(1),
            "max_batch_size": int(re.search(r"max_batch_size: (\d+)", text).group(1)),
            "input": tensors("input"), "output": tensors("output")}


def test_config_pbtxt_declares_the_shapes_the_model_really_has(learnable_run):
    root, result = learnable_run
    assert result.exit_code == 0, result.output
    folder = root / "out" / "work" / "publish" / "model"
    config = parse_config((folder / "config.pbtxt").read_text())
    trained = json.loads((root / "out" / "work" / "train" / "model.json").read_text())
    assert config["platform"] == "pytorch_libtorch"
    [inp], [out] = config["input"], config["output"]
    assert (inp["name"], inp["data_type"], out["name"], out["data_type"]) == ("INPUT__0", "TYPE_FP32", "OUTPUT__0", "TYPE_FP32")
    # The model's own view: sequence_length rows of every feature column in, one number out.
    assert inp["dims"] == [trained["model"]["sequence_length"], len(trained["features"])]
    model = load_torchscript(folder / "1" / "model.pt")
    with torch.no_grad():
        for batch in (1, config["max_batch_size"]):
            x = torch.randn(batch, *inp["dims"])
            y = model(x)
            assert y.dtype == torch.float32 and list(y.shape) == [batch, *out["dims"]]
        with pytest.raises(RuntimeError):
            model(torch.randn(2, inp["dims"][0], inp["dims"][1] + 1))      # one feature too many
