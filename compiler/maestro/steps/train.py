"""Step `train`: the served model, exported as TorchScript.

In: `features/features.csv` and `.json`, `spec.model`, `spec.training`, `spec.target` and the
walk-forward settings of `spec.evaluation`. The model learns from every scorable date except the
held-out final block (the last fold's test dates) and the embargo before it, so that evaluate can
score the very file that is served out of sample. Out: `train/model.pt` (TorchScript: raw feature
windows in; P(up) or a return out) and `train/model.json` (network, tensors, scaler, training
history, data window, the held-out block).

Started by torchrun (a TrainJob spanning nodes: `launch`), every rank trains its share and rank 0
alone writes; with `exchange`, `features/` comes from the artifact store (each node fetches its own)
and `train/` goes back there (docs/multinode.md).
"""

from __future__ import annotations

from typing import Optional

from ..contract import READS
from .context import StepContext, write_json, write_manifest
from .exchange import Exchange
from .launch import Launch


def run(ctx: StepContext, cpu_workers: Optional[int] = None, launch: Optional[Launch] = None,
        exchange: Optional[Exchange] = None) -> None:
    """`cpu_workers` forces that many CPU worker processes (gloo); by default one per GPU (see distributed)."""
    artifacts = ctx.environment.spec.artifacts

    def fetch() -> None:
        if exchange is not None:
            exchange.fetch(artifacts, ctx.workdir, READS["train"])

    if launch is not None and launch.size > 1:
        from .distributed import fit_launched, joined

        with joined(launch, fetch) as world:
            data = _training_data(ctx)
            result = fit_launched(data[0], ctx.spec, ctx.spec.training.seed, world, launch, threads=ctx.torch_threads)
        if result is None:
            return   # rank 0 alone writes
    else:
        fetch()
        data = _training_data(ctx)
        result = _fit_here(ctx, data[0], cpu_workers)
    _write(ctx, result, *data)
    if exchange is not None:
        exchange.store(artifacts, ctx.workdir, "train")


def _training_data(ctx: StepContext) -> tuple:
    """The training windows, the held-out block, the final fold and the feature table's meta."""
    import numpy as np

    from .features import read_table
    from .learning import make_samples
    from .splits import walk_forward

    table, meta = read_table(ctx.upstream("features"))
    every = make_samples(table, meta["columns"], ctx.spec.model.sequence_length)
    dates = np.unique(every.dates)
    ev = ctx.spec.evaluation
    final = walk_forward(len(dates), ev.folds, ev.test_size, ev.gap, ctx.spec.target.horizon)[-1]
    samples = every.take(np.flatnonzero(np.isin(every.dates, dates[final.train])))
    held_out = every.take(np.flatnonzero(np.isin(every.dates, dates[final.test])))
    return samples, held_out, final, meta


def _fit_here(ctx: StepContext, samples, cpu_workers: Optional[int]):
    from .distributed import fit_distributed, plan_world
    from .learning import fit

    world = plan_world(ctx.spec.training.resources.gpus, cpu_workers)
    if world.size == 1:
        return fit(samples, ctx.spec, ctx.spec.training.seed, ctx.torch_threads)
    return fit_distributed(samples, ctx.spec, ctx.spec.training.seed, world, threads=ctx.torch_threads)


def _write(ctx: StepContext, result, samples, held_out, final, meta) -> None:
    import torch

    from .export import save_torchscript, tensor_spec

    length = ctx.spec.model.sequence_length
    out = ctx.fresh("train")
    save_torchscript(result.model, out / "model.pt")
    write_json(out / "model.json", {
        "model": ctx.spec.model.model_dump(mode="json"),
        "target": ctx.spec.target.model_dump(mode="json"),
        "features": meta["columns"],
        "tensors": tensor_spec(length, len(meta["columns"])),
        "output_meaning": "probability that the close rises over the horizon" if ctx.spec.target.kind == "direction"
                          else "expected return over the horizon",
        "scaler": {"mean": result.model.mean.tolist(), "std": result.model.std.tolist()},
        "training": {"samples": len(samples), "best_epoch": result.best_epoch, "history": result.history,
                     "device": result.device, "seed": ctx.spec.training.seed, "torch": torch.__version__,
                     **({"world_size": result.world_size} if result.world_size > 1 else {})},
        "data": {"first_date": str(samples.dates.min())[:10], "last_date": str(samples.dates.max())[:10],
                 "tickers": sorted(set(samples.tickers.tolist()))},
        "holdout": {"first_date": str(held_out.dates.min())[:10], "last_date": str(held_out.dates.max())[:10],
                    "rows": len(held_out), "embargo": final.dropped},
    })
    write_manifest(ctx, "train")
