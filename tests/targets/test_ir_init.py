"""The plan classes built in bulk take a quicker `__init__` (ir._quick_init): nothing else may tell."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from maestro.ir import PipelinePlan, StepPlan, _quick_init


def _plain(cls):
    """The same class with the dataclass's own `__init__`."""
    return dataclasses.make_dataclass(cls.__name__, [(f.name, f.type, f) for f in dataclasses.fields(cls)],
                                      frozen=True)


@pytest.mark.parametrize("cls", [StepPlan, PipelinePlan])
def test_the_quick_init_takes_what_the_dataclass_init_takes(cls) -> None:
    def parameters(c):
        return [(p.name, p.kind, p.default) for p in inspect.signature(c).parameters.values()]

    assert parameters(cls) == parameters(_plain(cls))


def test_a_quickly_built_step_is_frozen_equal_hashed_and_copied_as_before() -> None:
    args = ("train", True, "image", ("maestro",), ("--spec",), ("features",), ("features",), "2", "4Gi")
    step = StepPlan(*args, gpus=1, retries=2)
    plain = _plain(StepPlan)(*args, gpus=1, retries=2)
    assert dataclasses.asdict(step) == dataclasses.asdict(plain)
    assert step == StepPlan(*args, gpus=1, retries=2) and hash(step) == hash(StepPlan(*args, gpus=1, retries=2))
    assert step != dataclasses.replace(step, retries=3)
    assert dataclasses.replace(step, retries=3).retries == 3
    assert pickle.loads(pickle.dumps(step)) == step
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.gpus = 2   # type: ignore[misc]
    with pytest.raises(TypeError):
        StepPlan("train")   # type: ignore[call-arg]


def test_a_class_with_a_default_factory_is_refused() -> None:
    @dataclasses.dataclass(frozen=True)
    class WithFactory:
        items: tuple = dataclasses.field(default_factory=tuple)

    with pytest.raises(TypeError):
        _quick_init(WithFactory)
