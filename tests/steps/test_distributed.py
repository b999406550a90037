"""Training in several worker processes (the train step with several GPUs), here on CPU with gloo:
the batch rule makes 2 workers train the model 1 process trains, runs repeat exactly, a failing or
hung worker fails the fit with its own error instead of hanging, and the train step records and logs
the world size."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time

import numpy as np
import pytest

from maestro.language.pipeline import PipelineSpec
from maestro.steps.context import StepError
from maestro.steps.distributed import World, WorkerFailed, describe, fit_distributed, plan_world, worker_count
from maestro.steps.learning import fit, predict, split_validation

from tests.support import maestro

from .conftest import step_context
from .test_train import samples

# 2 workers and 1 process add the same float32 gradients in a different order; after two epochs of
# Adam the figures agree to far better than this (observed: ~2e-7). Stated in docs/runtime.md.
TOLERANCE = 1e-4


def spec(kind: str = "gru", epochs: int = 2, batch_size: int = 64, dropout: float = 0.0) -> PipelineSpec:
    return PipelineSpec.model_validate({
        "data": {"tickers": ["SYN"], "start": "2001-01-01"},
        "features": [{"kind": "returns", "periods": [1, 2]}, {"kind": "rsi", "window": 5}],
        "target": {"kind": "direction", "horizon": 1},
        "model": {"kind": kind, "sequence_length": 8, "hidden_size": 8, "layers": 1, "heads": 2, "dropout": dropout},
        "training": {"epochs": epochs, "batch_size": batch_size, "seed": 3, "early_stopping_patience": 5}})


def uneven_batch_size(training_windows: int) -> int:
    """A batch size whose last batch holds one window: one of 2 workers gets none of it."""
    return next(b for b in range(40, 200) if training_windows % b == 1)


def quiet(text: str) -> None:
    pass


@pytest.fixture(scope="module")
def data():
    return samples(spec())


def test_two_gloo_workers_train_the_model_one_process_trains(data):
    train_idx, _ = split_validation(data.dates, 1)
    s = spec(batch_size=uneven_batch_size(len(train_idx)))
    alone = fit(data, s, seed=3)
    pair = fit_distributed(data, s, 3, World(2, "cpu"), echo=quiet)
    assert pair.world_size == 2 and alone.world_size == 1 and pair.best_epoch == alone.best_epoch
    for ours, theirs in zip(pair.history, alone.history):
        assert ours["epoch"] == theirs["epoch"]
        np.testing.assert_allclose([ours["train_loss"], ours["val_loss"]], [theirs["train_loss"], theirs["val_loss"]],
                                   rtol=TOLERANCE)
    np.testing.assert_allclose(predict(pair.model, data.x), predict(alone.model, data.x), rtol=0, atol=TOLERANCE)
    # ... and the workers did train it: an untrained net predicts something else.
    untrained = fit(data, spec(epochs=1, batch_size=len(train_idx)), seed=4)
    assert np.abs(predict(untrained.model, data.x) - predict(pair.model, data.x)).max() > 100 * TOLERANCE


def test_two_workers_repeat_exactly_for_a_seed_with_dropout(data):
    s = spec("mlp", dropout=0.3)
    first, second = (fit_distributed(data, s, 3, World(2, "cpu"), echo=quiet) for _ in range(2))
    assert first.history == second.history
    np.testing.assert_array_equal(predict(first.model, data.x), predict(second.model, data.x))


def fail_in_rank_1(rank: int, epoch: int) -> None:
    if rank == 1 and epoch == 2:
        raise StepError("injected failure in rank 1")


def crash_in_rank_0(rank: int, epoch: int) -> None:
    if rank == 0:
        raise ZeroDivisionError("injected bug")


def killed_in_rank_1(rank: int, epoch: int) -> None:
    if rank == 1 and epoch == 2:
        os.kill(os.getpid(), signal.SIGKILL)    # what the kernel's OOM killer does


def hang_in_rank_1(rank: int, epoch: int) -> None:
    if rank == 1:
        time.sleep(3600)


def test_a_failing_worker_fails_the_fit_with_its_own_error_and_stops_the_others(data):
    # rank 1's own error, not rank 0's collective timeout (which would name worker 0 and a timeout)
    with pytest.raises(StepError, match=r"^train worker 1 of 2 failed: injected failure in rank 1$"):
        fit_distributed(data, spec("mlp", epochs=3), 3, World(2, "cpu", collective_timeout=60), fail_in_rank_1, quiet)
    assert not multiprocessing.active_children()


def test_a_bug_in_a_worker_is_an_internal_error_carrying_its_traceback(data):
    with pytest.raises(WorkerFailed, match=r"train worker 0 of 2 failed: injected bug \(ZeroDivisionError\)") as caught:
        fit_distributed(data, spec("mlp"), 3, World(2, "cpu", collective_timeout=60), crash_in_rank_0, quiet)
    assert "crash_in_rank_0" in str(caught.value.__cause__)
    assert not multiprocessing.active_children()


def test_a_killed_worker_is_reported_as_killed_not_as_its_peers_broken_connection(data):
    with pytest.raises(WorkerFailed, match=r"^train worker 1 of 2 failed: was killed by signal 9 without reporting"):
        fit_distributed(data, spec("mlp", epochs=3), 3, World(2, "cpu", collective_timeout=60), killed_in_rank_1, quiet)
    assert not multiprocessing.active_children()


def test_a_hung_worker_is_bounded_by_the_collective_timeout(data):
    # what ends it is rank 0 giving up after the 3 s collective timeout, not the hour rank 1 sleeps
    with pytest.raises(WorkerFailed, match=r"train worker 0 of 2 failed: .*[Tt]imed out waiting 3000ms"):
        fit_distributed(data, spec("mlp"), 3, World(2, "cpu", collective_timeout=3), hang_in_rank_1, quiet)
    assert not multiprocessing.active_children()


def test_the_deadline_bounds_the_whole_fit(data):
    with pytest.raises(StepError, match=r"still running after the deadline of 2 s; stopped"):
        fit_distributed(data, spec("mlp"), 3, World(2, "cpu", collective_timeout=600, deadline=2), hang_in_rank_1, quiet)
    assert not multiprocessing.active_children()


def test_one_worker_per_visible_gpu_the_spec_asks_for():
    assert [worker_count(gpus, visible) for gpus, visible in [(0, 0), (2, 0), (0, 4), (1, 4), (2, 4), (8, 4), (4, 1)]] \
        == [1, 1, 1, 1, 2, 4, 1]
    assert plan_world(0, cpu_workers=3) == World(3, "cpu")
    assert World(2, "cpu").backend == "gloo" and World(2, "cuda").backend == "nccl"
    assert describe(World(2, "cpu"), 128) == ("world size 2 (gloo on cpu): global batch 128, 64 windows per worker "
                                              "per step, learning rate unchanged")
    assert "43-44 windows per worker" in describe(World(3, "cuda"), 130)


def test_train_step_with_two_cpu_workers_logs_the_world_size_and_writes_once(tmp_path, monkeypatch):
    from maestro.steps import features, ingest
    from maestro.lower import spec_json

    ctx = step_context(tmp_path, {"source": "sample", "tickers": ["AAPL"], "start": "2010-01-04", "end": "2011-12-30"},
                       model={"kind": "mlp", "sequence_length": 5, "hidden_size": 8, "layers": 1},
                       training={"epochs": 2, "batch_size": 64})
    ingest.run(ctx)
    features.run(ctx)
    (tmp_path / "spec.json").write_text(spec_json(ctx.pipeline, ctx.environment))
    train = ["train", "--spec", str(tmp_path / "spec.json"), "--workdir", str(ctx.workdir), "--run-id", "r-1"]
    monkeypatch.setenv("MAESTRO_TRAIN_CPU_WORKERS", "2")
    result = maestro(None, "step", *train)
    assert result.exit_code == 0, result.output
    assert "train: world size 2 (gloo on cpu): global batch 64, 32 windows per worker" in result.output
    assert sorted(p.name for p in (ctx.workdir / "train").iterdir()) == ["manifest.json", "model.json", "model.pt"]
    training = json.loads((ctx.workdir / "train" / "model.json").read_text())["training"]
    assert training["world_size"] == 2 and len(training["history"]) == 2
    monkeypatch.setenv("MAESTRO_TRAIN_CPU_WORKERS", "two")
    refused = maestro(None, "step", *train)
    assert refused.exit_code == 2 and "MAESTRO_TRAIN_CPU_WORKERS must be a whole number" in refused.output
    monkeypatch.delenv("MAESTRO_TRAIN_CPU_WORKERS")
    alone = maestro(None, "step", *train)
    assert alone.exit_code == 0 and "world size" not in alone.output
    assert "world_size" not in json.loads((ctx.workdir / "train" / "model.json").read_text())["training"]
