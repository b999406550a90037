"""Validate, continued: hints for model errors that only the document itself can complete.

In: a `Located` pipeline document and the diagnostics of its model validation. Out: the same
diagnostics, those without a hint given one where the document says what would be accepted: a
serving version reference gets the version names that pipeline declares in `serving.versions`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import Diagnostic
from ..loading.positions import Located

VERSION_REFERENCES = (("spec", "serving", "default"), ("spec", "serving", "experiment", "candidate"))


def with_hints(doc: Located, problems: list[Diagnostic]) -> list[Diagnostic]:
    return [_hinted(doc.data, problem) if not problem.hint else problem for problem in problems]


def _hinted(data: Any, problem: Diagnostic) -> Diagnostic:
    if problem.path in VERSION_REFERENCES:
        names = declared_versions(data)
        if _value_at(data, problem.path) in names:   # a declared name that is wrong in itself: no list helps
            return problem
        return replace(problem, hint="a version name, " + (f"one of {', '.join(names)}" if names
                                                           else "listed in serving.versions first"))
    return problem


def declared_versions(data: Any) -> list[str]:
    """The names in the document's `spec.serving.versions`, as far as they are readable."""
    node = data
    for key in ("spec", "serving", "versions"):
        node = node.get(key) if isinstance(node, dict) else None
    return [v["name"] for v in node or () if isinstance(v, dict) and isinstance(v.get("name"), str)] \
        if isinstance(node, list) else []


def _value_at(data: Any, path: tuple) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data
