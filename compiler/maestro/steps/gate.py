"""Step `gate`: the promotion decision, from the evaluation and `spec.evaluation.gate`.

In: `evaluate/metrics.json`, `train/model.json` and the trial registry (see `trials`). Out: `gate/passed` (exactly `true` or `false`;
Argo reads it as an output parameter), `gate/gate.json` with `passed` and one plain-English reason
per criterion, each giving the figure and the threshold, and `gate/model_card.md`, written whatever
the verdict, and `gate/trials.json`, the registry with this run added. All criteria must hold, the walk-forward ones and `min_accuracy` for the served model
on the held-out final block too. Without a gate, it passes.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Optional

from .bounds import at_least, at_most, figure
from .card import CARD, render
from .context import StepContext, read_json, sha256_file, write_json, write_manifest


def run(ctx: StepContext) -> None:
    from ..language.workflow import is_custom
    from . import trials

    if is_custom(ctx.pipeline):   # a bring-your-own pipeline: bounds on its evaluator's metrics
        from .metrics_gate import run_gate
        return run_gate(ctx)

    report = read_json(ctx.upstream("evaluate") / "metrics.json")
    trained = read_json(ctx.upstream("train") / "model.json")
    registry = ctx.workdir / "trials" / trials.REGISTRY
    data_end = report["served_model"]["holdout"]["last"]
    entries = trials.record(trials.load(registry) if registry.is_file() else [], ctx.run_id, data_end,
                            report["metrics"]["p_value"])
    policy = ctx.environment.spec.policy.multiple_testing
    correction = trials.correct(entries, ctx.run_id, data_end, policy) if policy else None
    passed, reasons, met = decide_checks(report, ctx.spec.evaluation.gate, correction)
    out = ctx.fresh("gate")
    (out / "passed").write_text("true" if passed else "false", encoding="utf-8")
    checks = [{"reason": reason, "met": ok} for reason, ok in zip(reasons, met)]
    figures = power(report, ctx.spec.evaluation.gate, ctx.spec.target.horizon)
    record = {"passed": passed, "reasons": reasons, "checks": checks, "power": figures,
              "warnings": power_warnings(figures, ctx.spec.evaluation.gate),
              "trials": correction or {"method": None, "trials": len(entries),
                                       "note": "no policy.multiple_testing here: the p-value is not corrected"}}
    write_json(out / "gate.json", record)
    write_json(out / trials.REGISTRY, entries)
    (out / CARD).write_text(render(ctx, trained, report, record), encoding="utf-8")
    extra = {f"trials/{trials.REGISTRY}": sha256_file(registry)} if registry.is_file() else None
    write_manifest(ctx, "gate", extra)


def decide(report: dict, gate, correction: Optional[dict] = None) -> tuple[bool, list[str]]:
    passed, reasons, _ = decide_checks(report, gate, correction)
    return passed, reasons


def decide_checks(report: dict, gate, correction: Optional[dict] = None) -> tuple[bool, list[str], list[bool]]:
    """The verdict, one reason per criterion, and whether each criterion was met."""
    if gate is None:
        return True, ["no promotion gate is configured (evaluation.gate is null), so the model passes unchecked"], [True]
    metrics = report["metrics"]
    served = report["served_model"]
    holdout = f"{served['holdout']['first']} to {served['holdout']['last']}"
    checks = [
        at_least("accuracy", metrics["accuracy"], gate.min_accuracy, "min_accuracy"),
        at_least(f"accuracy of the served model on the held-out final block ({holdout})",
                 served["metrics"]["accuracy"], gate.min_accuracy, "min_accuracy"),
        at_least("Sharpe ratio", metrics["sharpe"], gate.min_sharpe, "min_sharpe"),
        p_value_check(metrics["p_value"], gate.max_p_value, correction),
    ]
    if gate.beat_baselines:
        checks.append(beats(metrics["accuracy"], report["baselines"]))
    checks.append(leak_check(metrics, gate.acknowledged_leak))
    return all(ok for ok, _ in checks), [reason for _, reason in checks], [ok for ok, _ in checks]


def beats(accuracy: float, baselines: dict) -> tuple[bool, str]:
    losing = {name: b["accuracy"] for name, b in baselines.items() if not accuracy > b["accuracy"]}
    figures = ", ".join(f"{name} {figure(b['accuracy'])}" for name, b in sorted(baselines.items()))
    if losing:
        return False, (f"accuracy {figure(accuracy)} does not beat every baseline ({figures}); "
                       f"it must be higher than each (beat_baselines)")
    return True, f"accuracy {figure(accuracy)} beats every baseline ({figures}) (beat_baselines)"


def p_value_check(p_value: Optional[float], threshold: float, correction: Optional[dict]) -> tuple[bool, str]:
    if correction is None:
        return at_most("p-value against the best baseline", p_value, threshold, "max_p_value")
    what = (f"{correction['method'].capitalize()}-adjusted p-value against the best baseline (raw {figure(p_value)}; "
            f"{correction['trials']} trial(s) of this pipeline within {correction['window_days']} days, "
            "policy.multiple_testing)")
    return at_most(what, correction["adjusted_p_value"], threshold, "max_p_value")


# Figures no honest model reaches on market data: a hit rate this high, or a p-value this small on a
# few hundred test bars, far more often mean tomorrow leaked into today's inputs than skill.
LEAK_ACCURACY = 0.75
LEAK_P_VALUE = 1e-12


def suspected_leak(metrics: dict) -> list[str]:
    signs = []
    if metrics.get("accuracy") is not None and metrics["accuracy"] > LEAK_ACCURACY:
        signs.append(f"accuracy {figure(metrics['accuracy'])} is above {LEAK_ACCURACY:g}")
    if metrics.get("p_value") is not None and metrics["p_value"] < LEAK_P_VALUE:
        signs.append(f"p-value {figure(metrics['p_value'])} is below {LEAK_P_VALUE:g}")
    return signs


def leak_check(metrics: dict, acknowledged: Optional[str]) -> tuple[bool, str]:
    signs = suspected_leak(metrics)
    if not signs:
        return True, (f"no sign of a leak: accuracy at most {LEAK_ACCURACY:g} and p-value at least "
                      f"{LEAK_P_VALUE:g} (acknowledged_leak)")
    found = " and ".join(signs)
    if acknowledged:
        return True, f"suspected leak acknowledged: {found}; the spec says: {acknowledged} (acknowledged_leak)"
    return False, (f"suspected leak: {found}, implausible on market data (look for a future value in the "
                   "inputs); refused unless evaluation.gate.acknowledged_leak says why it is expected (acknowledged_leak)")


def power(report: dict, gate, horizon: int) -> Optional[dict]:
    """How large an edge this test can see. Approximation: a one-sided z-test of a hit rate against a
    coin (50%) on the effective rows, the test dates divided by the horizon (labels that do not
    overlap; correlated tickers count once per date). Against a baseline that agrees with the model
    on many rows, the detectable edge is larger still, so these figures are optimistic."""
    if gate is None or gate.max_p_value <= 0 or gate.max_p_value >= 1:
        return None
    dates = report["significance"].get("dates", report["metrics"]["rows"])
    rows = max(1, dates // horizon)
    normal = NormalDist()
    z_alpha = normal.inv_cdf(1 - gate.max_p_value)
    at_min = normal.cdf((gate.min_accuracy - 0.5) * 2 * math.sqrt(rows) - z_alpha)
    detectable = 0.5 + (z_alpha + normal.inv_cdf(0.8)) / (2 * math.sqrt(rows))
    return {"effective_rows": rows, "alpha": gate.max_p_value, "at_min_accuracy": at_min,
            "minimum_detectable_accuracy": detectable,
            "method": "one-sided z-test of the hit rate against 50% on test dates / horizon rows, 80% power"}


def power_warnings(figures: Optional[dict], gate) -> list[str]:
    """Warnings that do not refuse: the test is too small to detect the edge the gate asks for."""
    if figures is None or figures["at_min_accuracy"] >= 0.5:
        return []
    return [f"low power: a model with exactly min_accuracy {gate.min_accuracy:g} would reach p <= {gate.max_p_value:g} "
            f"in only {figures['at_min_accuracy']:.0%} of runs this size ({figures['effective_rows']} effective test "
            f"rows); 80% power needs an accuracy of {figures['minimum_detectable_accuracy']:.3f}; "
            "more folds or a larger test_size would help"]
