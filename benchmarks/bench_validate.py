"""Validation throughput: `maestro validate` on compiled trees and on the Argo Workflows examples.

In: the folders to validate and the repeat count. Out: per folder the documents, the median wall
time of a new `maestro validate -o json` process (start-up and schema compilation included), and
documents per second. Schemas are the ones shipped with maestro (no --schema-location): nothing is
downloaded. Each run is followed by the floor process, a plain `python` loading the same files with
libyaml (A B A B ...): the ratio is what validating costs beyond reading the files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .measure import MAESTRO, SHARED, checked, median, median_wall, spread

CORPUS = SHARED / "corpora" / "argo-workflows-examples"
FLOOR = ("import pathlib, sys, yaml\n"
         "for path in sorted(p for p in pathlib.Path(sys.argv[1]).rglob('*') if p.suffix in ('.yaml', '.yml', '.json')):\n"
         "    list(yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader))\n")


def validate_rows(targets: dict[str, Path], times: int) -> list[dict]:
    return [validate_row(name, path, times) for name, path in targets.items() if path.exists()]


def validate_row(name: str, path: Path, times: int) -> dict:
    command = [MAESTRO, "validate", "-o", "json", "--summary", str(path)]   # the counts come with --summary
    samples, floors = [], []
    for _ in range(times):
        samples.append(checked(command))   # every document valid: exit 0
        floors.append(checked([sys.executable, "-c", FLOOR, str(path)]))
    summary = json.loads(samples[0].stdout)["summary"]
    documents = sum(summary.values())
    wall = median_wall(samples)
    ratios = [s.wall / f.wall for s, f in zip(samples, floors)]
    return {"target": name, "documents": documents, "wall_s": wall, "docs_per_s": documents / wall,
            "summary": summary, "floor_s": median_wall(floors), "ratio_to_floor": median(ratios),
            "ratio_to_floor_spread": spread(ratios)}


def table(rows: list[dict]) -> list[list[str]]:
    lines = [["validate", "documents", "median s", "docs/s", "python+libyaml load s", "x load",
              "valid/invalid/errors/skipped"]]
    for r in rows:
        s, spread_ = r["summary"], r["ratio_to_floor_spread"]
        lines.append([r["target"], str(r["documents"]), f"{r['wall_s']:.2f}", f"{r['docs_per_s']:.0f}",
                      f"{r['floor_s']:.2f}", f"{r['ratio_to_floor']:.2f} ({spread_['min']:.2f}-{spread_['max']:.2f})",
                      f"{s['valid']}/{s['invalid']}/{s['errors']}/{s['skipped']}"])
    return lines
