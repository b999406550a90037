"""Where the code of each built-in step lives (`maestro.contract` has their order and inputs).

Used by the local executor and the `maestro step` command. Imports nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import Callable

from ..contract import BUILTIN_STEPS

_MODULES = {name: f"maestro.steps.{name}" for name in BUILTIN_STEPS}
_MODULES["validate"] = "maestro.steps.quality"


def step_function(name: str) -> Callable:
    """The `run(ctx)` entry point of a built-in step, imported on demand (it may import torch)."""
    return importlib.import_module(_MODULES[name]).run
