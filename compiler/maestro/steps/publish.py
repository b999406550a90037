"""Step `publish`: the serving layout of the trained model, its model card and a publish record.

In: `train/` (model.pt, model.json), `evaluate/metrics.json`, `gate/` and the spec. Out:
`publish/model/` (uploaded as-is to `s3://<bucket>/models/<pipeline>/<run-id>/`, the Seldon
`storageUri`; see `serving`), `publish/model_card.md` (rendered from templates/model_card.md.j2)
and `publish/publish.json`. Runs only after a passing gate. With `write_back` (the pods' `--write-back`),
it then proposes the run as the pipeline's next serving version in this environment only, in the
GitOps repository (`maestro.writeback`: a pull-request branch, or a direct push in a development
environment with `gitops.promotion: direct`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

from .context import StepContext, StepError, read_json, write_json, write_manifest
from .serving import FORMATS, SELDON_REQUIREMENTS, lay_out

TEMPLATE = "model_card.md.j2"
LIMITATIONS = [
    "Past performance on the test blocks does not guarantee future results; markets change regime.",
    "The trading simulation is long/flat on the next bar with a flat cost per trade; it ignores slippage, "
    "market impact, borrowing, taxes and the time needed to act on a prediction.",
    "Prices are adjusted for splits and dividends; a bad print that passed the quality checks can still "
    "mislead the model.",
    "The p-value compares hit rates only; it does not account for trying many pipelines or settings.",
]


def run(ctx: StepContext, write_back: bool = False) -> None:
    gate = read_json(ctx.upstream("gate") / "gate.json")
    if not gate["passed"]:
        raise StepError("the gate refused this model, so it is not published; see gate/gate.json")
    trained = read_json(ctx.upstream("train") / "model.json")
    evaluation = read_json(ctx.upstream("evaluate") / "metrics.json")
    out = ctx.fresh("publish")
    runtime = ctx.spec.serving.runtime if ctx.spec.serving else "triton"
    model_file = lay_out(runtime, ctx.upstream("train") / "model.pt", trained["tensors"],
                         ctx.pipeline.metadata.name, out / "model")
    record = publish_record(ctx, runtime, model_file, evaluation, gate)
    (out / "model_card.md").write_text(render_card(ctx, trained, evaluation, gate, record), encoding="utf-8")
    record["promotion"] = propose_version(record, ctx) if write_back else {"status": "not-requested"}
    write_json(out / "publish.json", record)
    write_manifest(ctx, "publish")


def storage_uri(ctx: StepContext) -> str:
    bucket = ctx.environment.spec.artifacts.bucket
    return f"s3://{bucket}/models/{ctx.pipeline.metadata.name}/{ctx.run_id}/"


def publish_record(ctx: StepContext, runtime: str, model_file: str, evaluation: dict, gate: dict) -> dict:
    keep = ("accuracy", "balanced_accuracy", "auc", "rmse", "mae", "sharpe", "max_drawdown", "p_value")
    return {
        "pipeline": ctx.pipeline.metadata.name,
        "run_id": ctx.run_id,
        "runtime": runtime,
        "served": ctx.spec.serving is not None,
        "format": FORMATS[runtime],
        "seldon_requirements": SELDON_REQUIREMENTS[runtime],
        "model_path": f"publish/model/{model_file}",
        "storage_uri": storage_uri(ctx),
        "metrics": {k: v for k, v in evaluation["metrics"].items() if k in keep},
        "baselines": {name: b["accuracy"] for name, b in evaluation["baselines"].items()},
        "gate": gate,
    }


def propose_version(record: dict, ctx: StepContext) -> dict:
    """Push the run as the next version of this environment's serving (candidate when it serves a default)."""
    from ..writeback import WriteBack, write_back

    gitops = ctx.environment.spec.gitops
    figures = {k: record["metrics"].get(k) for k in ("accuracy", "sharpe", "p_value")}
    request = WriteBack(gitops.repo_url, gitops.revision, gitops.path, gitops.promotion,
                        ctx.environment.metadata.name, ctx.pipeline.metadata.name, ctx.run_id, figures)
    try:
        pushed = write_back(request)
    except Exception as exc:  # git, credentials, a spec that no longer compiles: say which and stop
        raise StepError(f"the model is stored, but proposing it in {gitops.repo_url} failed: {exc}") from None
    for note in pushed.notes:
        print(f"publish: {note}", file=sys.stderr)
    return {"status": "pushed", "version": pushed.version, "ref": pushed.ref, "commit": pushed.commit,
            "via": pushed.via, "environment": request.environment, "files": list(pushed.files),
            "notes": list(pushed.notes)}


# ---- the model card -----------------------------------------------------------------------

def template_dirs(root: Path) -> list[Path]:
    """$MAESTRO_TEMPLATES, then the project's (or the pod's working dir's) templates/, then the
    templates/ of the source checkout this package runs from."""
    found = [Path(os.environ["MAESTRO_TEMPLATES"])] if os.environ.get("MAESTRO_TEMPLATES") else []
    found += [root / "templates", Path(__file__).resolve().parents[3] / "templates",
              Path(sys.prefix) / "share" / "maestro" / "templates"]
    return [d for d in found if (d / TEMPLATE).is_file()]


def render_card(ctx: StepContext, trained: dict, evaluation: dict, gate: dict, record: dict) -> str:
    import jinja2

    dirs = template_dirs(ctx.root)
    if not dirs:
        raise StepError(f"no {TEMPLATE} found; set MAESTRO_TEMPLATES to the folder that holds it")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(dirs[0])), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["num"] = number
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{v:.1%}"
    env.filters["sig"] = lambda v: "n/a" if v is None else f"{v:.3g}"
    return env.get_template(TEMPLATE).render(card_context(ctx, trained, evaluation, gate, record))


def number(value: Optional[float], digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def card_context(ctx: StepContext, trained: dict, evaluation: dict, gate: dict, record: dict) -> dict:
    return {
        "pipeline": ctx.pipeline.metadata, "spec": ctx.spec, "run_id": ctx.run_id, "data": trained["data"],
        "trained": trained, "evaluation": evaluation, "gate": gate, "record": record,
        "features": [f.model_dump(mode="json") for f in ctx.spec.features],
        "baseline_names": list(evaluation["baselines"]), "limitations": LIMITATIONS,
    }
