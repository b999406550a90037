"""Step `evaluate`: walk-forward evaluation of the model against naive baselines on the same folds.

In: `features/` (the table), `train/` (model.pt and model.json) and `spec.evaluation`, `spec.model`,
`spec.training`, `spec.target`. Each fold trains a fresh model exactly as `train` does, on its
training dates only, and scores the next test block. The exported model itself (what is served)
is then scored on the held-out final block, which train left out. Out: `evaluate/metrics.json`
(overall and per-fold scores of the model and of the baselines, the one-sided test of the model's
hit rate against the best baseline's, and the served model's scores) and `evaluate/predictions.csv`
(every scored row of the folds).

The trading simulation is long/flat: hold the stock for the next bar when a rise is predicted,
otherwise stay in cash; every change of position pays `transaction_cost_bps`. Baselines:
`majority` (the training block's more frequent direction, always), `previous_bar` (the latest bar's
direction continues) and `buy_and_hold` (always long).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import metrics as m
from .context import StepContext, read_json, write_json, write_manifest
from .reporting import phase

BASELINES = ("majority", "previous_bar", "buy_and_hold")
STRATEGY = ("long for the next bar when a rise is predicted, otherwise in cash (no shorting); "
            "each change of position pays the transaction cost; tickers are equally weighted")
TEST = ("one-sided sign-flip (cluster McNemar) test of the model's hits against the best baseline's: rows where "
        "exactly one of the two is right are netted per date (tickers of a date move together), dates are summed "
        "in blocks of {block} ({why}), and p = P(the blocks' net advantage is at least the observed one when each "
        "block's sign is a fair coin); {computation}")


@dataclass
class Block:
    """One fold's test rows, with each caller's up/down calls and the model's raw outputs."""

    fold: dict
    samples: object           # learning.Samples of the test rows
    score: np.ndarray         # P(up) or predicted return
    calls: dict               # caller name -> bool array (True = predicted rise)
    returns: dict             # caller name -> per-date portfolio returns


def run(ctx: StepContext) -> None:
    from .export import load_torchscript
    from .features import read_table
    from .learning import make_samples
    from .splits import walk_forward

    table, meta = read_table(ctx.upstream("features"))
    samples = make_samples(table, meta["columns"], ctx.spec.model.sequence_length)
    dates = np.unique(samples.dates)
    ev = ctx.spec.evaluation
    folds = walk_forward(len(dates), ev.folds, ev.test_size, ev.gap, ctx.spec.target.horizon)
    blocks = []
    for number, fold in enumerate(folds, start=1):
        with phase(f"fold {number}/{len(folds)}"):
            blocks.append(evaluate_fold(fold, samples, dates, ctx.spec, ctx.torch_threads))
    trained = read_json(ctx.upstream("train") / "model.json")
    served = score_block(load_torchscript(ctx.upstream("train") / "model.pt"), folds[-1], samples, dates, ctx.spec,
                         {"best_epoch": trained["training"]["best_epoch"]})
    out = ctx.fresh("evaluate")
    write_json(out / "metrics.json", report(blocks, ctx.spec, trained, served))
    write_predictions(blocks, out / "predictions.csv")
    write_manifest(ctx, "evaluate")


def evaluate_fold(fold, samples, dates, spec, threads: Optional[int] = None) -> Block:
    from .learning import fit

    train = samples.take(np.flatnonzero(np.isin(samples.dates, dates[fold.train])))
    result = fit(train, spec, spec.training.seed, threads)
    return score_block(result.model, fold, samples, dates, spec, {"best_epoch": result.best_epoch})


def score_block(model, fold, samples, dates, spec, info: dict) -> Block:
    """The model's and the baselines' calls and returns on the fold's test dates."""
    from .learning import predict

    train = samples.take(np.flatnonzero(np.isin(samples.dates, dates[fold.train])))
    test = samples.take(np.flatnonzero(np.isin(samples.dates, dates[fold.test])))
    score = predict(model, test.x)
    calls = {"model": score > (0.5 if spec.target.kind == "direction" else 0.0), **baseline_calls(train, test)}
    cost = spec.evaluation.transaction_cost_bps
    returns = {name: m.portfolio(m.strategy_returns(up, test.next_return, test.tickers, cost), test.dates)
               for name, up in calls.items()}
    info = {"fold": fold.number, "embargo": fold.dropped, **info, "train": _span(train), "test": _span(test)}
    return Block(info, test, score, calls, returns)


def baseline_calls(train, test) -> dict:
    rises = np.mean(train.fwd_return > 0) >= 0.5
    return {
        "majority": np.full(len(test), rises),
        "previous_bar": test.prev_return > 0,
        "buy_and_hold": np.ones(len(test), dtype=bool),
    }


def _span(s) -> dict:
    return {"first": str(s.dates.min())[:10], "last": str(s.dates.max())[:10], "rows": len(s)}


def scores_of(blocks: list[Block], name: str, spec) -> dict:
    """The scores of one caller over the given blocks, pooled."""
    actual = np.concatenate([b.samples.fwd_return for b in blocks]) > 0
    up = np.concatenate([b.calls[name] for b in blocks])
    returns = np.concatenate([b.returns[name] for b in blocks])
    hits = up == actual
    ppy = m.PERIODS_PER_YEAR[spec.data.interval]
    scores = {"accuracy": m.accuracy(hits), "rows": int(len(hits)), "sharpe": m.sharpe(returns, ppy),
              "max_drawdown": m.max_drawdown(returns), "total_return": m.total_return(returns)}
    if spec.target.kind == "direction":
        scores["balanced_accuracy"] = m.balanced_accuracy(actual, up)
    if name == "model":
        scores.update(model_scores(blocks, actual, spec.target.kind))
    return scores


def model_scores(blocks: list[Block], actual: np.ndarray, kind: str) -> dict:
    predicted = np.concatenate([b.score for b in blocks])
    if kind == "direction":
        return {"auc": m.auc(actual, predicted)}
    truth = np.concatenate([b.samples.y for b in blocks]).astype(float)
    up = np.concatenate([b.calls["model"] for b in blocks])
    return {"rmse": m.rmse(truth, predicted), "mae": m.mae(truth, predicted),
            "directional_accuracy": m.accuracy(up == actual)}


def block_dates(horizon: int) -> int:
    """Dates per block of the significance test. A label looks `horizon` bars ahead, so with h > 1
    neighbouring dates share most of their outcome; blocks of 2h dates leave only a small
    correlation between neighbouring blocks (about 0.1; blocks of h leave about 0.25, which lets
    ~8% of no-skill models reach p <= 0.05 at h = 20)."""
    return 1 if horizon == 1 else 2 * horizon


def significance(blocks: list[Block], baselines: dict, horizon: int) -> dict:
    best = max(BASELINES, key=lambda name: (baselines[name]["accuracy"], -BASELINES.index(name)))
    actual = np.concatenate([b.samples.fwd_return for b in blocks]) > 0
    hits = {name: np.concatenate([b.calls[name] for b in blocks]) == actual for name in ("model", best)}
    dates = np.concatenate([b.samples.dates for b in blocks])
    size = block_dates(horizon)
    test = m.paired_block_test(hits["model"], hits[best], dates, size)
    why = ("one date: the one-bar labels do not overlap" if size == 1
           else f"twice the {horizon}-bar horizon: overlapping labels stay inside a block")
    computation = ("computed exactly" if test["computation"] == "exact" else
                   f"by the normal approximation (more than {m.EXACT_LIMIT:,} steps for the exact distribution)")
    method = TEST.format(block=f"{size} date{'s' if size > 1 else ''}", why=why, computation=computation)
    return {"against": best, "method": method, **test}


def served_report(served: Block, last_fold: Block, spec) -> dict:
    """The exported model (train/model.pt, as it is served) scored on the held-out final block, the
    last fold's test dates, which its training excluded. It learned from the same dates as the last
    fold's model, so on the same device their scores agree; `agrees_with_last_fold` checks it."""
    gap = float(np.max(np.abs(served.score - last_fold.score))) if len(served.score) else 0.0
    return {"model": "train/model.pt (TorchScript, the file that is published and served)",
            "trained_on": served.fold["train"], "holdout": served.fold["test"], "embargo": served.fold["embargo"],
            "metrics": scores_of([served], "model", spec),
            "baselines": {name: scores_of([served], name, spec) for name in BASELINES},
            "largest_difference_from_last_fold": gap, "agrees_with_last_fold": gap <= 1e-4}


def report(blocks: list[Block], spec, trained: dict, served: Block) -> dict:
    baselines = {name: scores_of(blocks, name, spec) for name in BASELINES}
    test = significance(blocks, baselines, spec.target.horizon)
    overall = {**scores_of(blocks, "model", spec), "p_value": test["p_value"]}
    folds = [{**b.fold, "metrics": scores_of([b], "model", spec),
              "baselines": {name: scores_of([b], name, spec) for name in BASELINES}} for b in blocks]
    final = trained["training"]
    return {"target": spec.target.model_dump(mode="json"), "interval": spec.data.interval,
            "transaction_cost_bps": spec.evaluation.transaction_cost_bps, "strategy": STRATEGY,
            "metrics": overall, "baselines": baselines, "best_baseline": test["against"],
            "significance": test, "folds": folds,
            "final_model": {"samples": final["samples"], "best_epoch": final["best_epoch"],
                            "device": final.get("device", "cpu")},
            "served_model": served_report(served, blocks[-1], spec)}


def write_predictions(blocks: list[Block], path) -> None:
    import pandas as pd

    frames = [pd.DataFrame({"Date": [str(d)[:10] for d in b.samples.dates], "Ticker": b.samples.tickers,
                            "fold": b.fold["fold"], "target": b.samples.y, "fwd_return": b.samples.fwd_return,
                            "score": b.score, **{f"{k}_up": v.astype(int) for k, v in b.calls.items()}})
              for b in blocks]
    pd.concat(frames).to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
