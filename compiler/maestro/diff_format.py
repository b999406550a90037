"""Format a semantic diff as text, markdown (a pull-request comment) or JSON."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any, Sequence

from .diff import ResourceChange

MAX_FIELDS = 25


def as_text(changes: Sequence[ResourceChange]) -> str:
    if not changes:
        return "no changes"
    lines = []
    for change in changes:
        if change.change != "changed":
            lines.append(f"{change.title}: {change.change}")
        lines += [f"{change.title}: {f.path} {_value(f.old)} → {_value(f.new)}" for f in change.fields]
    return "\n".join(lines)


def as_markdown(changes: Sequence[ResourceChange]) -> str:
    if not changes:
        return "### maestro diff\n\nNo change to the compiled manifests.\n"
    counts = {c: sum(1 for x in changes if x.change == c) for c in ("added", "changed", "removed")}
    lines = ["### maestro diff", "",
             f"{counts['added']} added, {counts['changed']} changed, {counts['removed']} removed.", ""]
    for env, group in groupby(changes, key=lambda c: c.env):
        lines += [f"#### {env}", "", "| resource | change | details |", "| --- | --- | --- |"]
        lines += [f"| `{c.name}` {c.kind} | {c.change} | {_details(c)} |" for c in group]
        lines.append("")
    return "\n".join(lines)


def as_json(changes: Sequence[ResourceChange]) -> str:
    records = [{"env": c.env, "kind": c.kind, "name": c.name, "change": c.change,
                "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in c.fields]} for c in changes]
    return json.dumps(records, indent=2, sort_keys=True, default=str)


def _details(change: ResourceChange) -> str:
    shown = [f"`{f.path}` {_cell(f.old)} → {_cell(f.new)}" for f in change.fields[:MAX_FIELDS]]
    if len(change.fields) > MAX_FIELDS:
        shown.append(f"and {len(change.fields) - MAX_FIELDS} more")
    return "<br>".join(shown)


def _cell(value: Any) -> str:
    return _value(value).replace("|", "\\|").replace("\n", " ")


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, sort_keys=True, default=str) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
