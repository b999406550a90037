"""Steps `gate` and `publish` of a custom (bring-your-own) pipeline.

gate. In: the evaluator's `<evaluator>/metrics/metrics.json`, `{"metrics": {"<name>": <number>, ...}}`
(other keys are kept, not read) and `spec.gate` (`min`/`max` bounds by metric name). Out: what the
built-in gate writes, so Argo, `maestro run` and the write-back read it the same way: `gate/passed`
(exactly `true` or `false`) and `gate/gate.json` with `passed`, one reason per bound and `checks`;
the reasons are the built-in gate's own (`bounds.at_least`, `bounds.at_most`). A bound on a metric the
file does not hold is missed, with a reason saying so. Without a gate (`gate: null`) it passes.

publish. In: `gate/gate.json` (it runs only after a yes) and the trainer's `<trainer>/model/`. Out:
`publish/model/`, the model folder as the trainer wrote it (uploaded as-is to the model key: the
Seldon storageUri), and `publish/publish.json` with the format and requirements serving declares.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from ..language.workflow import (EVALUATOR, METRICS_ARTIFACT, METRICS_FILE, MODEL_ARTIFACT, TRAINER, MetricsGate,
                                 step_roles)
from .bounds import at_least, at_most
from .card import storage_uri
from .context import StepContext, StepError, read_json, write_json, write_manifest


def run_gate(ctx: StepContext) -> None:
    evaluator = step_roles(ctx.spec)[EVALUATOR]
    metrics = read_metrics(_artifact(ctx, evaluator, METRICS_ARTIFACT) / METRICS_FILE, evaluator)
    passed, reasons, met = decide(metrics, ctx.spec.gate)
    out = ctx.fresh("gate")
    (out / "passed").write_text("true" if passed else "false", encoding="utf-8")
    checks = [{"reason": reason, "met": ok} for reason, ok in zip(reasons, met)]
    write_json(out / "gate.json", {"passed": passed, "reasons": reasons, "checks": checks, "metrics": metrics})
    write_manifest(ctx, "gate", upstreams=(evaluator,))


def read_metrics(path: Path, evaluator: str) -> dict[str, float]:
    """The evaluator's figures: a JSON object whose `metrics` maps names to finite numbers."""
    where = f"the evaluator '{evaluator}' wrote {path.name}"
    if path.is_symlink() or not path.is_file():
        raise StepError(f"the evaluator '{evaluator}' wrote no {METRICS_ARTIFACT}/{METRICS_FILE} "
                        f"(expected at {path}; format: {{\"metrics\": {{\"name\": number}}}})")
    try:
        document = read_json(path)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StepError(f"{where}, which is not JSON: {exc}") from None
    metrics = document.get("metrics") if isinstance(document, dict) else None
    if not isinstance(metrics, dict):
        raise StepError(f"{where} without a \"metrics\" object (format: {{\"metrics\": {{\"name\": number}}}})")
    bad = sorted(k for k, v in metrics.items() if isinstance(v, bool) or not isinstance(v, (int, float))
                 or not math.isfinite(v))
    if bad:
        raise StepError(f"{where}, whose metrics {', '.join(bad)} are not finite numbers")
    return dict(metrics)


def decide(metrics: dict[str, float], gate: MetricsGate | None) -> tuple[bool, list[str], list[bool]]:
    if gate is None:
        return True, ["no promotion gate is configured (gate is null), so the model passes unchecked"], [True]
    checks = [_bound(at_least, name, metrics, bound, f"gate.min.{name}") for name, bound in sorted(gate.min.items())]
    checks += [_bound(at_most, name, metrics, bound, f"gate.max.{name}") for name, bound in sorted(gate.max.items())]
    if not checks:
        checks = [(True, "the gate bounds no metric, so the model passes unchecked")]
    return all(ok for ok, _ in checks), [reason for _, reason in checks], [ok for ok, _ in checks]


def _bound(check, name: str, metrics: dict, bound: float, field: str) -> tuple[bool, str]:
    if name not in metrics:
        known = ", ".join(sorted(metrics)) or "none"
        return False, f"{name} is not among the evaluator's metrics (it wrote: {known}) ({field})"
    return check(name, metrics[name], bound, field)


def run_publish(ctx: StepContext, propose=None) -> None:
    """Store the trainer's `model` as it wrote it; with `propose` (publish's --write-back,
    `publish.propose_version`), push the run as the next version of this environment's serving and
    record it in promotions/<pipeline>/<env>.yaml, as the built-in publish does."""
    gate = read_json(ctx.upstream("gate") / "gate.json")
    if not gate["passed"]:
        raise StepError("the gate refused this model, so it is not published; see gate/gate.json")
    trainer = step_roles(ctx.spec)[TRAINER]
    model = _artifact(ctx, trainer, MODEL_ARTIFACT)
    out = ctx.fresh("publish")
    shutil.copytree(model, out / "model")
    serving = ctx.spec.serving
    record = {
        "pipeline": ctx.pipeline.metadata.name,
        "environment": ctx.environment.metadata.name,   # where the gate passed: `promotion.from` evidence
        "run_id": ctx.run_id, "trainer": trainer,
        "served": serving is not None, "runtime": serving.runtime if serving else None,
        "format": serving.format if serving else None,
        "seldon_requirements": list(serving.requirements) if serving else [],
        "model_path": "publish/model", "storage_uri": storage_uri(ctx),
        "metrics": gate.get("metrics", {}), "gate": {k: gate[k] for k in ("passed", "reasons")},
    }
    record["promotion"] = propose(record) if propose else {"status": "not-requested"}
    write_json(out / "publish.json", record)
    write_manifest(ctx, "publish", upstreams=("gate", trainer))


def _artifact(ctx: StepContext, step: str, output: str) -> Path:
    """An upstream step's declared folder; never through a link (a step could point it anywhere)."""
    folder = ctx.workdir / step / output
    for path in (ctx.workdir / step, folder, *(folder.rglob("*") if folder.is_dir() else ())):
        if path.is_symlink():
            raise StepError(f"{path} is a symbolic link; a step's output must be a folder it wrote")
    if not folder.is_dir():
        raise StepError(f"the output '{output}' of step '{step}' is missing at {folder}; run '{step}' first")
    return folder
