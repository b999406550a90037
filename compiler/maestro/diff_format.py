"""Format a semantic diff as text, markdown (a pull-request comment, optionally with the Mermaid graph
of each changed pipeline) or JSON (`maestro.diff/v1`, docs/output.md)."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any, Sequence

from .diff import ResourceChange

MAX_FIELDS = 25
MAX_GRAPHS = 10   # a pull-request comment holds at most 65,536 characters; each graph takes about 2,000


def as_text(changes: Sequence[ResourceChange]) -> str:
    if not changes:
        return "no changes"
    lines = []
    for change in changes:
        if change.change != "changed":
            lines.append(f"{change.title}: {change.change}")
            lines += [f"{change.title}: {f.path} {_value(_shown(f))}" for f in change.fields]
        else:
            lines += [f"{change.title}: {f.path} {_value(f.old)} → {_value(f.new)}" for f in change.fields]
    return "\n".join(lines)


def as_markdown(changes: Sequence[ResourceChange], graphs: Sequence[tuple[str, str | None]] = ()) -> str:
    """`graphs`: (title, Mermaid source) of the changed pipelines; a None source is named, not drawn."""
    if not changes:
        return "### maestro diff\n\nNo change to the compiled manifests.\n"
    counts = {c: sum(1 for x in changes if x.change == c) for c in ("added", "changed", "removed")}
    lines = ["### maestro diff", "",
             f"{counts['added']} added, {counts['changed']} changed, {counts['removed']} removed.", ""]
    for env, group in groupby(changes, key=lambda c: c.env):
        lines += [f"#### {env}", "", "| resource | change | details |", "| --- | --- | --- |"]
        lines += [f"| `{c.qualified_name}` {c.kind} | {c.change} | {_details(c)} |" for c in group]
        lines.append("")
    return "\n".join(lines + _graphs(graphs))


def _graphs(graphs: Sequence[tuple[str, str | None]]) -> list[str]:
    if not graphs:
        return []
    lines = ["#### Changed pipelines", ""]
    for title, source in graphs:
        if source is not None:   # folded: GitHub draws a ```mermaid block inside <details> too
            lines += [f"<details><summary>{title}</summary>", "", "```mermaid", source.rstrip("\n"), "```", "",
                      "</details>", ""]
    undrawn = [title for title, source in graphs if source is None]
    if undrawn:
        lines += [f"Not drawn (more than {MAX_GRAPHS}): {', '.join(undrawn)}; `maestro graph PIPELINE --env ENV` "
                  "draws each.", ""]
    return lines


def records(changes: Sequence[ResourceChange]) -> list[dict]:
    return [{"env": c.env, "namespace": c.namespace, "kind": c.kind, "name": c.name, "pipeline": c.pipeline,
             "change": c.change,
             "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in c.fields]} for c in changes]


def as_json(changes: Sequence[ResourceChange]) -> str:
    """`maestro.diff/v1`: the changes, with a count of each kind of change."""
    counts = {c: sum(1 for x in changes if x.change == c) for c in ("added", "changed", "removed")}
    document = {"schema": "maestro.diff/v1", "counts": counts, "changes": records(changes)}
    return json.dumps(document, indent=2, sort_keys=True, default=str)


def _details(change: ResourceChange) -> str:
    if change.change != "changed":
        shown = [f"`{f.path}` {_cell(_shown(f))}" for f in change.fields[:MAX_FIELDS]]
    else:
        shown = [f"`{f.path}` {_cell(f.old)} → {_cell(f.new)}" for f in change.fields[:MAX_FIELDS]]
    if len(change.fields) > MAX_FIELDS:
        shown.append(f"and {len(change.fields) - MAX_FIELDS} more")
    return "<br>".join(shown)


def _shown(key_field: Any) -> Any:
    """An added or removed resource's key field: its value, whichever side has it."""
    return key_field.new if key_field.old is None else key_field.old


def _cell(value: Any) -> str:
    return _value(value).replace("|", "\\|").replace("\n", " ")


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, sort_keys=True, default=str) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
