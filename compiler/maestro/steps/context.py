"""What every step shares: the parsed spec, the work dir layout, deterministic files, the manifest.

In: `spec.json` (`{"pipeline": ..., "environment": ...}`), a work dir and a run id. Out: helpers that
steps use to find their upstream folders, write JSON and CSV deterministically, and end with
`<workdir>/<step>/manifest.json` listing sha256 of every input and output file and of the spec
section the step depends on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..errors import Failure
from ..language.environment import Environment
from ..language.pipeline import Pipeline
from ..contract import READS

MANIFEST = "manifest.json"


class StepError(Failure):
    """A step cannot go on; the message says why in plain words (no traceback is shown)."""


@dataclass(frozen=True)
class StepContext:
    pipeline: Pipeline
    environment: Environment
    workdir: Path
    run_id: str
    start: Optional[dt.date] = None      # ingest only: overrides spec.data.start (backfills)
    end: Optional[dt.date] = None        # ingest only: overrides spec.data.end
    root: Path = field(default_factory=Path.cwd)   # where a relative `data.path` is found
    # Read from the environment by the command (`commands.options.step_settings`), never here:
    templates: Optional[Path] = None      # $MAESTRO_TEMPLATES: tried first for the model card template
    torch_threads: Optional[int] = None   # $MAESTRO_TORCH_THREADS; None: half the CPUs (learning.torch_threads)

    @property
    def spec(self):
        return self.pipeline.spec

    def upstream(self, step: str) -> Path:
        folder = self.workdir / step
        if not (folder / MANIFEST).is_file():
            raise StepError(f"the output of step '{step}' is missing at {folder}; run '{step}' first")
        return folder

    def fresh(self, step: str) -> Path:
        """The step's own folder, emptied: a step's outputs are exactly what this run wrote."""
        folder = self.workdir / step
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return folder


def load_spec(path: Path) -> tuple[Pipeline, Environment]:
    return parse_spec(Path(path).read_text(encoding="utf-8"))


def parse_spec(text: str) -> tuple[Pipeline, Environment]:
    """spec.json (built by the compiler's lowering, `lower.spec_json`) as the models the steps read."""
    from ..language.workflow import pipeline_model

    data = json.loads(text)
    model = pipeline_model(data["pipeline"])   # the market-data template, or a custom (bring-your-own) one
    return model.model_validate(data["pipeline"]), Environment.model_validate(data["environment"])


# ---- deterministic files -------------------------------------------------------------------

def clean(value: Any, digits: int = 6) -> Any:
    """JSON-ready: numpy scalars to Python, NaN/inf to None, floats to `digits` significant digits."""
    if isinstance(value, dict):
        return {str(k): clean(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v, digits) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if math.isfinite(value) else None
    return value


def dumps(value: Any) -> str:
    return json.dumps(clean(value), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_json(path: Path, value: Any) -> None:
    path.write_text(dumps(value), encoding="utf-8")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_json(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


# ---- the manifest ---------------------------------------------------------------------------

def file_hashes(workdir: Path, step: str) -> dict[str, str]:
    """relpath (from the work dir) -> sha256 of every file a step wrote, its manifest excepted."""
    folder = workdir / step
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST)
    return {p.relative_to(workdir).as_posix(): sha256_file(p) for p in files}


def input_hashes(workdir: Path, step: str, upstreams: Optional[tuple[str, ...]] = None) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for upstream in READS[step] if upstreams is None else upstreams:
        hashes.update(file_hashes(workdir, upstream))
    return hashes


def write_manifest(ctx: StepContext, step: str, extra_inputs: Optional[dict[str, str]] = None,
                   upstreams: Optional[tuple[str, ...]] = None) -> dict:
    """`upstreams`: the folders the step read, when they are not the built-in DAG's (`READS`)."""
    manifest = {
        "step": step,
        "run_id": ctx.run_id,
        "inputs": {**input_hashes(ctx.workdir, step, upstreams), **(extra_inputs or {})},
        "outputs": file_hashes(ctx.workdir, step),
        "spec_hash": spec_hash(ctx, step),
    }
    write_json(ctx.workdir / step / MANIFEST, manifest)
    return manifest


# ---- which part of the spec each step depends on ---------------------------------------------

_SECTIONS = {
    "validate": ("quality",),
    "features": ("features", "target"),
    "train": ("features", "target", "model", "training", "evaluation"),   # evaluation: the held-out block
    "evaluate": ("features", "target", "model", "training", "evaluation"),
    # gate and publish: the model card quotes most of the spec, the metadata and the storage URI.
    "gate": ("data", "quality", "features", "target", "model", "training", "evaluation", "serving"),
    "publish": ("data", "features", "target", "model", "training", "evaluation", "serving"),
}


def spec_section(ctx: StepContext, step: str) -> dict:
    from ..language.workflow import is_custom

    spec = ctx.pipeline.spec.model_dump(mode="json")
    if is_custom(ctx.pipeline):   # a custom pipeline's gate and publish read the gate, roles and serving
        return {"spec": {k: v for k, v in spec.items() if k != "overrides"},
                "metadata": ctx.pipeline.metadata.model_dump(mode="json"),
                "bucket": ctx.environment.spec.artifacts.bucket}
    if step == "ingest":
        return {"data": spec["data"], "window": [str(d) for d in ingest_window(ctx)], "csv": csv_digest(ctx)}
    section = {key: spec[key] for key in _SECTIONS[step]}
    if step in ("train", "evaluate"):
        section["evaluation"] = {k: v for k, v in section["evaluation"].items() if k != "gate"}
    if step == "gate":
        policy = ctx.environment.spec.policy.multiple_testing
        section["multiple_testing"] = policy.model_dump(mode="json") if policy else None
    if step in ("gate", "publish"):
        section["metadata"] = ctx.pipeline.metadata.model_dump(mode="json")
        section["bucket"] = ctx.environment.spec.artifacts.bucket
    return section


def spec_hash(ctx: StepContext, step: str) -> str:
    return sha256_json(spec_section(ctx, step))


def ingest_window(ctx: StepContext) -> tuple[dt.date, dt.date]:
    """First and last day of history, both inclusive; without an end, the day of the run (UTC)."""
    data = ctx.spec.data
    start = ctx.start or data.start
    end = ctx.end or data.end or dt.datetime.now(dt.timezone.utc).date()
    if end < start:
        raise StepError(f"the data window is empty: end {end} is before start {start}")
    return start, end


def csv_path(ctx: StepContext) -> Optional[Path]:
    data = ctx.spec.data
    if data.source != "csv":
        return None
    if not data.path:
        raise StepError("data.source is csv but data.path is not set; give the CSV file's path")
    path = Path(os.path.expandvars(data.path))
    return path if path.is_absolute() else ctx.root / path


def csv_digest(ctx: StepContext) -> Optional[str]:
    path = csv_path(ctx)
    return sha256_file(path) if path is not None and path.is_file() else None
