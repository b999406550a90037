"""Step `gate`: the promotion decision, from the evaluation and `spec.evaluation.gate`.

In: `evaluate/metrics.json` and `train/model.json`. Out: `gate/passed` (exactly `true` or `false`;
Argo reads it as an output parameter), `gate/gate.json` with `passed` and one plain-English reason
per criterion, each giving the figure and the threshold, and `gate/model_card.md`, written whatever
the verdict. All criteria must hold, the walk-forward ones and `min_accuracy` for the served model
on the held-out final block too. Without a gate, it passes.
"""

from __future__ import annotations

from typing import Optional

from .card import CARD, render
from .context import StepContext, read_json, write_json, write_manifest


def run(ctx: StepContext) -> None:
    report = read_json(ctx.upstream("evaluate") / "metrics.json")
    trained = read_json(ctx.upstream("train") / "model.json")
    passed, reasons, met = decide_checks(report, ctx.spec.evaluation.gate)
    out = ctx.fresh("gate")
    (out / "passed").write_text("true" if passed else "false", encoding="utf-8")
    checks = [{"reason": reason, "met": ok} for reason, ok in zip(reasons, met)]
    record = {"passed": passed, "reasons": reasons, "checks": checks}
    write_json(out / "gate.json", record)
    (out / CARD).write_text(render(ctx, trained, report, record), encoding="utf-8")
    write_manifest(ctx, "gate")


def decide(report: dict, gate) -> tuple[bool, list[str]]:
    passed, reasons, _ = decide_checks(report, gate)
    return passed, reasons


def decide_checks(report: dict, gate) -> tuple[bool, list[str], list[bool]]:
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
        at_most("p-value against the best baseline", metrics["p_value"], gate.max_p_value, "max_p_value"),
    ]
    if gate.beat_baselines:
        checks.append(beats(metrics["accuracy"], report["baselines"]))
    return all(ok for ok, _ in checks), [reason for _, reason in checks], [ok for ok, _ in checks]


def _fmt(value: Optional[float]) -> str:
    return "undefined" if value is None else f"{value:.4g}"


def at_least(what: str, value: Optional[float], threshold: float, field: str) -> tuple[bool, str]:
    ok = value is not None and value >= threshold
    verdict = "meets" if ok else "misses"
    return ok, f"{what} {_fmt(value)} {verdict} the minimum of {threshold:g} ({field})"


def at_most(what: str, value: Optional[float], threshold: float, field: str) -> tuple[bool, str]:
    ok = value is not None and value <= threshold
    verdict = "is within" if ok else "exceeds"
    return ok, f"{what} {_fmt(value)} {verdict} the maximum of {threshold:g} ({field})"


def beats(accuracy: float, baselines: dict) -> tuple[bool, str]:
    losing = {name: b["accuracy"] for name, b in baselines.items() if not accuracy > b["accuracy"]}
    figures = ", ".join(f"{name} {_fmt(b['accuracy'])}" for name, b in sorted(baselines.items()))
    if losing:
        return False, (f"accuracy {_fmt(accuracy)} does not beat every baseline ({figures}); "
                       f"it must be higher than each (beat_baselines)")
    return True, f"accuracy {_fmt(accuracy)} beats every baseline ({figures}) (beat_baselines)"
