"""The built-in steps: their order, which upstream folders each reads, and where the code lives.

A flat table shared by the local executor, the `maestro step` command and (when it wants it) the
Argo emitter, so that the cluster and `maestro run` agree on which artifacts each step receives.
Imports nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import Callable

# The DAG of SPEC-v1: each built-in step runs after the one before it.
ORDER = ("ingest", "validate", "features", "train", "evaluate", "gate", "publish")

# The upstream folders a step reads (Argo mounts each at /maestro/work/<upstream>).
READS: dict[str, tuple[str, ...]] = {
    "ingest": (),
    "validate": ("ingest",),
    "features": ("ingest",),
    "train": ("features",),
    "evaluate": ("features", "train"),
    "gate": ("train", "evaluate"),     # train: the model card describes the served model
    "publish": ("train", "evaluate", "gate"),
}

# The step that must finish before each one (the chain of ORDER).
AFTER: dict[str, tuple[str, ...]] = {name: ORDER[i - 1:i] for i, name in enumerate(ORDER)}

_MODULES = {name: f"maestro.steps.{name}" for name in ORDER}
_MODULES["validate"] = "maestro.steps.quality"


def step_function(name: str) -> Callable:
    """The `run(ctx)` entry point of a built-in step, imported on demand (it may import torch)."""
    return importlib.import_module(_MODULES[name]).run
