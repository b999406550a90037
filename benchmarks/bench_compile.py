"""Compile benchmarks: generated repositories of N pipelines x 3 environments, through the real CLI.

In: a workspace folder, the sizes and the repeat count. Out: one row per size with, for the default
fail-closed validation and for `--no-validate`: the median wall time of a whole compile (a new
process; the cache off, so every pipeline is loaded, lowered, emitted, rendered and validated, and
the tree compared with gitops/), per pipeline-environment, and the peak RSS; the floor (libyaml's
CSafeDumper serializing the same documents in this process, collector off) and the ratio to it; and
an incremental compile after editing one pipeline against a full compile after the same edit.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import yaml

from .generate import make_project
from .measure import MAESTRO, SHARED, median_wall, repeat, run, timed

ENVIRONMENTS = 3
SCHEMAS = {"MAESTRO_SCHEMA_LOCATION": str(SHARED / "schemas")}
NO_CACHE = {**SCHEMAS, "MAESTRO_NO_CACHE": "1"}
_edits = itertools.count(1)


def compile_rows(workspace: Path, sizes: tuple[int, ...], times: int) -> list[dict]:
    return [compile_row(workspace / f"p{size}", size, times) for size in sizes]


def compile_row(root: Path, size: int, times: int) -> dict:
    prepare(root, size)
    validated = repeat(lambda: _compile(root, "--check", env=NO_CACHE), times)
    unvalidated = repeat(lambda: _compile(root, "--check", "--no-validate", env=NO_CACHE), times)
    floor = floor_seconds(root, times)
    incremental, full = incremental_pair(root, times)
    per = size * ENVIRONMENTS
    return {
        "pipelines": size, "pipeline_envs": per, "documents": _documents(root), "floor_s": floor,
        "validated": _summary(validated, per, floor), "unvalidated": _summary(unvalidated, per, floor),
        "incremental_s": incremental, "full_s": full, "incremental_ratio": incremental / full,
    }


def prepare(root: Path, size: int) -> None:
    """A generated project with its tree written (that first write is not measured)."""
    if not (root / "gitops").is_dir():
        make_project(root, size)
    _compile(root, env=SCHEMAS)


def _compile(root: Path, *args: str, env: dict):
    sample = run([MAESTRO, "compile", *args], cwd=root, env=env)
    if sample.code != 0:
        raise RuntimeError(f"maestro compile {' '.join(args)} failed in {root}:\n{sample.stderr[-2000:]}")
    return sample


def _summary(samples: list, per: int, floor: float) -> dict:
    wall = median_wall(samples)
    return {"wall_s": wall, "ms_per_pipeline_env": 1000 * wall / per, "peak_rss_mib": max(s.rss_mib for s in samples),
            "ratio_to_floor": wall / floor}


def floor_seconds(root: Path, times: int) -> float:
    """libyaml serializing the documents this compile emits (bodies built here, outside the timing)."""
    from maestro.compile import compile_project, paused_gc

    bodies = [o.body for o in compile_project(root, validate=False).tree.outputs]
    with paused_gc():   # the compile runs with the collector off too; a fair floor does the same
        return timed(lambda: [yaml.dump(b, Dumper=yaml.CSafeDumper) for b in bodies], times)


def incremental_pair(root: Path, times: int) -> tuple[float, float]:
    """Median of: edit one pipeline, compile with the cache; and the same with the cache off."""
    specs = sorted((root / "pipelines").glob("*.yaml"))
    target = specs[len(specs) // 2]
    incremental, full = [], []
    for _ in range(times):
        _edit(target)
        incremental.append(_compile(root, env=SCHEMAS))
        _edit(target)
        full.append(_compile(root, env=NO_CACHE))
    return median_wall(incremental), median_wall(full)


def _edit(spec: Path) -> None:
    """A real change to the pipeline: a new number of epochs (the cache key is the file's bytes)."""
    text = spec.read_text()
    spec.write_text(re.sub(r"epochs: \d+", f"epochs: {100 + next(_edits) % 400}", text, count=1))


def _documents(root: Path) -> int:
    return sum(1 for _ in (root / "gitops").rglob("*.yaml"))


def table(rows: list[dict]) -> list[list[str]]:
    lines = [["pipelines", "docs", "validated ms/pe", "s", "RSS MiB", "x floor", "no-validate ms/pe", "x floor",
              "floor s", "incr s", "full s", "incr/full"]]
    for r in rows:
        v, u = r["validated"], r["unvalidated"]
        lines.append([str(r["pipelines"]), str(r["documents"]), f"{v['ms_per_pipeline_env']:.2f}", f"{v['wall_s']:.2f}",
                      f"{v['peak_rss_mib']:.0f}", f"{v['ratio_to_floor']:.2f}", f"{u['ms_per_pipeline_env']:.2f}",
                      f"{u['ratio_to_floor']:.2f}", f"{r['floor_s']:.2f}", f"{r['incremental_s']:.2f}",
                      f"{r['full_s']:.2f}", f"{r['incremental_ratio']:.3f}"])
    return lines
