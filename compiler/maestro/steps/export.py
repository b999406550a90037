"""TorchScript export of a served model, and the description of its tensors.

In: a `Served` module. Out: a TorchScript file that Triton's `pytorch_libtorch` backend and
MLflow's pytorch flavor both load, taking raw feature windows (batch, sequence_length, features)
as float32 and returning (batch, 1) float32. The same model gives the same bytes in every process.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import torch

INPUT_NAME = "INPUT__0"     # Triton's naming convention for TorchScript inputs and outputs
OUTPUT_NAME = "OUTPUT__0"


def save_torchscript(model: torch.nn.Module, path: Path) -> None:
    # torch.jit is deprecated in favour of torch.export, but TorchScript is what Triton's libtorch
    # backend serves; scripting (not tracing) keeps the batch dimension free for every network.
    with warnings.catch_warnings(), _constants_in_sorted_order():
        warnings.filterwarnings("ignore", message=".*torch.jit.*", category=DeprecationWarning)
        scripted = torch.jit.script(model.eval())
        torch.jit.save(scripted, str(path))


class _SortedIterationSet(set):
    """A set that iterates in sorted order (by repr, so mixed types cannot fail)."""

    def __iter__(self):
        return iter(sorted(super().__iter__(), key=repr))


@contextlib.contextmanager
def _constants_in_sorted_order():
    """torch.jit's module scripting collects each module's constants (e.g. Dropout's `p` and
    `inplace`) in a set of names and writes them in its iteration order, which depends on the
    process's string hash seed: two pods would write different model.pt bytes for the same model.
    While scripting, that module's `set` iterates sorted, so the archive is the same in every process."""
    from torch.jit import _recursive

    _recursive.set = _SortedIterationSet
    try:
        yield
    finally:
        del _recursive.set


def load_torchscript(path: Path) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.jit.*", category=DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu")


def tensor_spec(length: int, features: int) -> dict:
    return {
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": [-1, length, features]},
        "output": {"name": OUTPUT_NAME, "dtype": "float32", "shape": [-1, 1]},
    }
