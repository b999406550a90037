"""The model card: one Markdown page that tells a reviewer what was measured and what was decided.

In: the step context, `train/model.json`, `evaluate/metrics.json` and the gate's record. Out: the
rendered `templates/model_card.md.j2`. The gate step writes it for every run, refused ones included
(a refused model is the one a reviewer most needs explained); publish ships the same page beside the
model. Deterministic: no timestamps, no tool versions beyond the recorded ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .. import names
from .context import StepContext, StepError
from .serving import FORMATS, SELDON_REQUIREMENTS

TEMPLATE = "model_card.md.j2"
CARD = "model_card.md"
LIMITATIONS = [
    "Past performance on the test blocks does not guarantee future results; markets change regime.",
    "The trading simulation is long/flat on the next bar with a flat cost per trade; it ignores slippage, "
    "market impact, borrowing, taxes and the time needed to act on a prediction.",
    "Prices are adjusted for splits and dividends; a bad print that passed the quality checks can still "
    "mislead the model.",
    "The p-value compares hit rates only; runs of other pipelines, and runs outside the trial registry, "
    "are not corrected for.",
]


def template_dirs(root: Path, first: Optional[Path] = None) -> list[Path]:
    """`first` ($MAESTRO_TEMPLATES, as the command read it), then the project's (or the pod's working
    dir's) templates/, then the templates/ of the source checkout this package runs from, then the
    copy an installed wheel carries."""
    found = [first] if first else []
    found += [root / "templates", Path(__file__).resolve().parents[3] / "templates", *installed_templates()]
    return [d for d in found if (d / TEMPLATE).is_file()]


def installed_templates() -> list[Path]:
    """The folder where pip put the wheel's copy of templates/ (its data files, share/maestro/templates),
    found from the installed files' record, so a venv, `pip install --user` and pipx alike find it."""
    from importlib.metadata import PackageNotFoundError, distribution

    from .. import DISTRIBUTION

    try:
        installed = distribution(DISTRIBUTION).files or []
    except PackageNotFoundError:    # running from a checkout that was never installed
        return []
    return [Path(str(f.locate())).resolve().parent for f in installed if f.name == TEMPLATE and "share" in f.parts]


def storage_uri(ctx: StepContext) -> str:
    bucket = ctx.environment.spec.artifacts.bucket
    meta = ctx.pipeline.metadata
    return f"s3://{bucket}/{names.model_key(meta.team, meta.name, ctx.run_id)}/"


def runtime(ctx: StepContext) -> str:
    return ctx.spec.serving.runtime if ctx.spec.serving else "triton"


def render(ctx: StepContext, trained: dict, evaluation: dict, gate: dict) -> str:
    import jinja2

    dirs = template_dirs(ctx.root, ctx.templates)
    if not dirs:
        raise StepError(f"no {TEMPLATE} found; set MAESTRO_TEMPLATES to the folder that holds it")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(dirs[0])), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["num"] = number
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{v:.1%}"
    env.filters["sig"] = lambda v: "n/a" if v is None else f"{v:.3g}"
    return env.get_template(TEMPLATE).render(context(ctx, trained, evaluation, gate))


def number(value: Optional[float], digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def context(ctx: StepContext, trained: dict, evaluation: dict, gate: dict) -> dict:
    served = runtime(ctx)
    return {
        "pipeline": ctx.pipeline.metadata, "spec": ctx.spec, "run_id": ctx.run_id, "data": trained["data"],
        "trained": trained, "evaluation": evaluation, "gate": gate,
        "serving": {"runtime": served, "format": FORMATS[served], "seldon_requirements": SELDON_REQUIREMENTS[served],
                    "storage_uri": storage_uri(ctx)},
        "features": [f.model_dump(mode="json") for f in ctx.spec.features],
        "baseline_names": list(evaluation["baselines"]), "limitations": LIMITATIONS,
    }
