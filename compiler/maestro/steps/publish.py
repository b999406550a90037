"""Step `publish`: the serving layout of the trained model, its model card and a publish record.

In: `train/` (model.pt, model.json), `evaluate/metrics.json`, `gate/` and the spec. Out:
`publish/model/` (uploaded as-is to `s3://<bucket>/models/<team>/<pipeline>/<run-id>/`, the Seldon
`storageUri`; see `serving`), `publish/model_card.md` (the gate's card, copied: see `card`)
and `publish/publish.json`. Runs only after a passing gate. With `write_back` (the pods' `--write-back`),
it then proposes the run as the pipeline's next serving version in this environment only, in the
GitOps repository (`maestro.steps.writeback`: a pull-request branch, or a direct push in a development
environment with `gitops.promotion: direct`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from ..errors import MaestroError, UsageError
from .card import CARD, runtime, storage_uri
from .context import StepContext, StepError, read_json, write_json, write_manifest
from .serving import FORMATS, SELDON_REQUIREMENTS, lay_out

# How a write-back fails without a bug: git or the remote refusing (UsageError), the specs or the tree
# they compile to refused (MaestroError), the disk or a link it will not follow (OSError, UnsafePath).
# Anything else is a bug: it is not turned into a step error, so its traceback shows under --debug.
PROPOSAL_FAILURES = (UsageError, MaestroError, OSError, subprocess.SubprocessError)


def run(ctx: StepContext, write_back: bool = False, schema_locations: tuple[str, ...] = ()) -> None:
    from ..language.workflow import is_custom

    if is_custom(ctx.pipeline):   # a bring-your-own pipeline: the trainer's model folder as it wrote it
        from .metrics_gate import run_publish
        # The same write-back as the built-in's, handed in: metrics_gate does not import this module.
        return run_publish(ctx, (lambda record: propose_version(record, ctx, schema_locations)) if write_back else None)
    gate = read_json(ctx.upstream("gate") / "gate.json")
    if not gate["passed"]:
        raise StepError("the gate refused this model, so it is not published; see gate/gate.json")
    trained = read_json(ctx.upstream("train") / "model.json")
    evaluation = read_json(ctx.upstream("evaluate") / "metrics.json")
    out = ctx.fresh("publish")
    served = runtime(ctx)
    model_file = lay_out(served, ctx.upstream("train") / "model.pt", trained["tensors"],
                         ctx.pipeline.metadata.name, out / "model")
    record = publish_record(ctx, served, model_file, evaluation, gate)
    shutil.copyfile(ctx.upstream("gate") / CARD, out / CARD)
    record["promotion"] = propose_version(record, ctx, schema_locations) if write_back else {"status": "not-requested"}
    write_json(out / "publish.json", record)
    write_manifest(ctx, "publish")


def publish_record(ctx: StepContext, served: str, model_file: str, evaluation: dict, gate: dict) -> dict:
    keep = ("accuracy", "balanced_accuracy", "auc", "rmse", "mae", "sharpe", "max_drawdown", "p_value")
    return {
        "pipeline": ctx.pipeline.metadata.name,
        "environment": ctx.environment.metadata.name,   # where the gate passed: `promotion.from` evidence
        "run_id": ctx.run_id,
        "runtime": served,
        "served": ctx.spec.serving is not None,
        "format": FORMATS[served],
        "seldon_requirements": SELDON_REQUIREMENTS[served],
        "model_path": f"publish/model/{model_file}",
        "storage_uri": storage_uri(ctx),
        "metrics": {k: v for k, v in evaluation["metrics"].items() if k in keep},
        "baselines": {name: b["accuracy"] for name, b in evaluation["baselines"].items()},
        "gate": gate,
    }


def propose_version(record: dict, ctx: StepContext, schema_locations: tuple[str, ...] = ()) -> dict:
    """Push the run as the next version of this environment's serving (candidate when it serves a default)."""
    from .writeback import WriteBack, write_back

    gitops = ctx.environment.spec.gitops
    figures = {k: record["metrics"].get(k) for k in ("accuracy", "sharpe", "p_value")}
    request = WriteBack(gitops.repo_url, gitops.revision, gitops.path, gitops.promotion,
                        ctx.environment.metadata.name, ctx.pipeline.metadata.name, ctx.run_id, figures,
                        tuple(schema_locations))
    try:
        pushed = write_back(request)
    except PROPOSAL_FAILURES as exc:  # git, credentials, a spec that no longer compiles: say which and stop
        raise StepError(f"the model is stored, but proposing it in {gitops.repo_url} failed: {exc}") from None
    for note in pushed.notes:
        print(f"publish: {note}", file=sys.stderr)
    return {"status": "pushed", "version": pushed.version, "ref": pushed.ref, "commit": pushed.commit,
            "via": pushed.via, "environment": request.environment, "files": list(pushed.files),
            "notes": list(pushed.notes)}
