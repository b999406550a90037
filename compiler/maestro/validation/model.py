"""Data types shared by every validation stage.

In: nothing (pure data).
Out: `Document` (one parsed manifest), `Result` (the verdict for one document, its
problems as `maestro.errors.Diagnostic`s: the path parts, the message, the line when known)
and `json_path` (path parts to text).
Kept free of heavy imports: `maestro validate --help` imports this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import Diagnostic

VALID = "valid"
INVALID = "invalid"
ERROR = "error"
SKIPPED = "skipped"
STATUSES = (VALID, INVALID, ERROR, SKIPPED)

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Document:
    """One parsed manifest: where it came from and its body.

    `index` is the 0-based position of its YAML document in `source` (items of a
    `kind: List` share the List's index); `line` is the 1-based line it starts on
    (0 when the body was built in memory). `lines` maps path tuples to lines and
    `duplicate_keys` lists repeated mapping keys; both are empty for in-memory bodies.
    """

    source: str
    index: int
    line: int
    body: dict
    lines: Mapping[tuple, int] = field(default_factory=dict, compare=False, repr=False)
    duplicate_keys: tuple[Diagnostic, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Result:
    """The verdict for one document: 'valid', 'invalid', 'error' or 'skipped'."""

    source: str
    index: int
    line: int
    kind: str
    name: str
    status: str
    errors: list[Diagnostic] = field(default_factory=list)
    api_version: str = ""
    namespace: str = ""

    @property
    def failed(self) -> bool:
        return self.status in (INVALID, ERROR)

    def sort_key(self) -> tuple:
        return (self.source == "-", self.source, self.index, self.line)


def json_path(parts: Iterable[Any]) -> str:
    """`("spec", "tasks", 0, "a.b")` as `$.spec.tasks[0]['a.b']`."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            text += f".{part}"
        else:
            escaped = str(part).replace("\\", "\\\\").replace("'", "\\'")
            text += f"['{escaped}']"
    return text


def display_name(body: Mapping) -> str:
    """`metadata.name`, or `generateName` followed by `*`, or an empty string."""
    meta = body.get("metadata") if isinstance(body, Mapping) else None
    if not isinstance(meta, Mapping):
        return ""
    if isinstance(meta.get("name"), str) and meta["name"]:
        return meta["name"]
    if isinstance(meta.get("generateName"), str) and meta["generateName"]:
        return meta["generateName"] + "*"
    return ""
