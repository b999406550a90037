"""Validation throughput: `maestro validate` on compiled trees and on the Argo Workflows examples.

In: the folders to validate and the repeat count. Out: per folder the documents, the median wall
time of a new `maestro validate -o json` process (start-up and schema compilation included), and
documents per second. Schemas are the ones shipped with maestro (no --schema-location): nothing is
downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

from .measure import MAESTRO, SHARED, checked, median_wall

CORPUS = SHARED / "corpora" / "argo-workflows-examples"


def validate_rows(targets: dict[str, Path], times: int) -> list[dict]:
    return [validate_row(name, path, times) for name, path in targets.items() if path.exists()]


def validate_row(name: str, path: Path, times: int) -> dict:
    command = [MAESTRO, "validate", "-o", "json", "--summary", str(path)]   # the counts come with --summary
    samples = [checked(command) for _ in range(times)]   # every document valid: exit 0
    summary = json.loads(samples[0].stdout)["summary"]
    documents = sum(summary.values())
    wall = median_wall(samples)
    return {"target": name, "documents": documents, "wall_s": wall, "docs_per_s": documents / wall,
            "summary": summary}


def table(rows: list[dict]) -> list[list[str]]:
    lines = [["validate", "documents", "median s", "docs/s", "valid/invalid/errors/skipped"]]
    for r in rows:
        s = r["summary"]
        lines.append([r["target"], str(r["documents"]), f"{r['wall_s']:.2f}", f"{r['docs_per_s']:.0f}",
                      f"{s['valid']}/{s['invalid']}/{s['errors']}/{s['skipped']}"])
    return lines
