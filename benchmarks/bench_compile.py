"""Compile benchmarks: generated repositories of N pipelines x 3 environments, through the real CLI.

In: a workspace folder, the sizes and the repeat count. Out: one row per size with, for the default
fail-closed validation and for `--no-validate`: the median wall time of a whole compile (a new
process; the cache off, so every pipeline is loaded, lowered, emitted, rendered and validated, and
the tree compared with gitops/), per pipeline-environment, and the peak RSS; two floors and the
ratios to them; and an incremental compile after editing one pipeline against a full compile after
the same edit.

Single-process figures are `--jobs 1`; a fifth measurement per repetition, `--jobs 2`, gives the
speed-up of two worker processes over one (the median of the per-repetition ratios). Peak memory,
summed over the process tree (PSS, sampled), comes from one more run of each, not timed.

The floors: libyaml's CSafeDumper serializing the same documents (what the renderer competes with),
and the physical floor, libyaml parsing the input specs plus writing the output bytes to disk (what
any compiler of these inputs to this output must do). Each repetition runs the physical floor, the
compile, `--jobs 2`, the dumper floor and the no-validate compile in turn, each after the disk has
taken the writes before it, so drift of a shared machine hits each pair alike; every ratio is the
median of the per-repetition ratios, reported with its spread.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
from pathlib import Path

import yaml

from .generate import make_project
from .measure import MAESTRO, checked, median, median_wall, once, spread

ENVIRONMENTS = 3
NO_CACHE = {"MAESTRO_NO_CACHE": "1"}
_edits = itertools.count(1)


def compile_rows(workspace: Path, sizes: tuple[int, ...], times: int) -> list[dict]:
    return [compile_row(workspace / f"p{size}", size, times) for size in sizes]


def compile_row(root: Path, size: int, times: int) -> dict:
    prepare(root, size)
    dumper_floor, physical_floor = floors(root)
    validated, unvalidated, dumped, physical, two = [], [], [], [], []
    # Interleaved, each measurement beside the ones it is compared with (the physical floor and --jobs 2
    # on either side of the compile, the dumper floor between it and the no-validate compile), and
    # each begins with no writeback pending: this machine's speed drifts by tens of percent in a minute.
    for _ in range(times):
        physical.append(settled(physical_floor))
        validated.append(settled(_compile, root, "--check", "--jobs", "1", env=NO_CACHE))
        two.append(settled(_compile, root, "--check", "--jobs", "2", env=NO_CACHE))
        dumped.append(settled(once, dumper_floor))
        unvalidated.append(settled(_compile, root, "--check", "--no-validate", "--jobs", "1", env=NO_CACHE))
    memory = {jobs: settled(_compile, root, "--check", "--jobs", jobs, env=NO_CACHE, memory=True) for jobs in ("1", "2")}
    incremental, full = incremental_pair(root, times)
    per = size * ENVIRONMENTS
    return {
        "pipelines": size, "pipeline_envs": per, "documents": _documents(root),
        "floor_s": median(dumped), "floor_spread_s": spread(dumped),
        "physical_floor_s": median(physical), "physical_floor_spread_s": spread(physical),
        "validated": _summary(validated, per, dumped, physical, memory["1"]),
        "unvalidated": _summary(unvalidated, per, dumped, physical, None),
        "jobs2": {"wall_s": median_wall(two), "wall_spread_s": spread([s.wall for s in two]),
                  "peak_pss_mib": memory["2"].pss_mib,
                  "speedup": median([one.wall / s.wall for one, s in zip(validated, two)]),
                  "speedup_spread": spread([one.wall / s.wall for one, s in zip(validated, two)])},
        "incremental_s": incremental, "full_s": full, "incremental_ratio": incremental / full,
    }


def settled(measure, *args, **kwargs):
    """`measure(...)` once the disk has taken every write so far: the physical floor writes 90 MB and
    removes them, whose writeback otherwise runs on into whatever is timed next (the kernel's flusher
    threads on the same 2 cores, and writers throttled behind them)."""
    os.sync()
    return measure(*args, **kwargs)


def prepare(root: Path, size: int) -> None:
    """A generated project with its tree written (that first write is not measured)."""
    if not (root / "gitops").is_dir():
        make_project(root, size)
    _compile(root, env={})


def _compile(root: Path, *args: str, env: dict, memory: bool = False):
    return checked([MAESTRO, "compile", *args], cwd=root, env=env, memory=memory)


def _summary(samples: list, per: int, dumped: list[float], physical: list[float], memory) -> dict:
    """`memory`: the run that sampled the process tree's memory (not timed), or None."""
    wall = median_wall(samples)
    to_dumper = [s.wall / f for s, f in zip(samples, dumped)]
    to_physical = [s.wall / f for s, f in zip(samples, physical)]
    return {"wall_s": wall, "wall_spread_s": spread([s.wall for s in samples]), "ms_per_pipeline_env": 1000 * wall / per,
            "peak_rss_mib": max(s.rss_mib for s in samples),
            "peak_pss_mib": memory.pss_mib if memory is not None else None,
            "ratio_to_floor": median(to_dumper), "ratio_to_floor_spread": spread(to_dumper),
            "ratio_to_physical_floor": median(to_physical), "ratio_to_physical_floor_spread": spread(to_physical)}


def floors(root: Path):
    """The dumper floor as a callable to time, and the physical floor as one that times itself. Their
    inputs are prepared here, outside the timing: the bodies of the documents this compile emits (for
    the dumper), the spec files' bytes and the output files' bytes (for parse + write). Both run with
    the collector off, as the compile does."""
    from maestro.compile import compile_project, paused_gc

    tree = compile_project(root, validate=False).tree
    bodies = [o.body for o in tree.outputs]
    specs = [p.read_bytes() for folder in ("environments", "pipelines") for p in sorted((root / folder).glob("*.yaml"))]
    files = sorted(tree.files.items())

    def dumper() -> None:
        with paused_gc():
            for body in bodies:
                yaml.dump(body, Dumper=yaml.CSafeDumper)

    def parse_and_write(target: Path) -> None:
        with paused_gc():
            for text in specs:
                yaml.load(text, Loader=yaml.CSafeLoader)
            for path, data in files:
                (target / path).parent.mkdir(parents=True, exist_ok=True)
                (target / path).write_bytes(data)

    def physical() -> float:
        """Seconds of one parse + write into a new folder; removing the folder is not timed: a
        compiler need not delete anything."""
        target = Path(tempfile.mkdtemp(prefix="maestro-floor-"))
        try:
            return once(lambda: parse_and_write(target))
        finally:
            shutil.rmtree(target)

    return dumper, physical


def incremental_pair(root: Path, times: int) -> tuple[float, float]:
    """Median of: edit one pipeline, compile with the cache; and the same with the cache off."""
    specs = sorted((root / "pipelines").glob("*.yaml"))
    target = specs[len(specs) // 2]
    incremental, full = [], []
    for _ in range(times):
        _edit(target)
        incremental.append(settled(_compile, root, env={}))
        _edit(target)
        full.append(settled(_compile, root, env=NO_CACHE))
    return median_wall(incremental), median_wall(full)


def _edit(spec: Path) -> None:
    """A real change to the pipeline: a new number of epochs (the cache key is the file's bytes)."""
    text = spec.read_text()
    spec.write_text(re.sub(r"epochs: \d+", f"epochs: {100 + next(_edits) % 400}", text, count=1))


def _documents(root: Path) -> int:
    return sum(1 for _ in (root / "gitops").rglob("*.yaml"))


def table(rows: list[dict]) -> list[list[str]]:
    lines = [["pipelines", "docs", "validated ms/pe", "s", "PSS MiB", "x dumper floor", "x parse+write floor",
              "no-validate ms/pe", "x dumper floor", "dumper floor s", "parse+write floor s", "--jobs 2 s",
              "speed-up", "--jobs 2 PSS MiB", "incr s", "full s", "incr/full"]]
    for r in rows:
        v, u = r["validated"], r["unvalidated"]
        lines.append([str(r["pipelines"]), str(r["documents"]), f"{v['ms_per_pipeline_env']:.2f}", f"{v['wall_s']:.2f}",
                      f"{v['peak_pss_mib']:.0f}", _ratio(v, "ratio_to_floor"), _ratio(v, "ratio_to_physical_floor"),
                      f"{u['ms_per_pipeline_env']:.2f}", _ratio(u, "ratio_to_floor"), f"{r['floor_s']:.2f}",
                      f"{r['physical_floor_s']:.2f}", f"{r['jobs2']['wall_s']:.2f}", _ratio(r["jobs2"], "speedup"),
                      f"{r['jobs2']['peak_pss_mib']:.0f}", f"{r['incremental_s']:.2f}", f"{r['full_s']:.2f}",
                      f"{r['incremental_ratio']:.3f}"])
    return lines


def _ratio(summary: dict, key: str) -> str:
    low, high = summary[f"{key}_spread"]["min"], summary[f"{key}_spread"]["max"]
    return f"{summary[key]:.2f} ({low:.2f}-{high:.2f})"
