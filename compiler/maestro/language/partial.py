"""Validate, continued: a pipeline that failed its model still gets the checks its valid sections allow.

In: the raw data of a pipeline document and the diagnostics its model validation gave. Out: a
`Pipeline` built (without validation of the whole) from the spec sections that validate on their own,
the names of the sections that did not, and a way to run a table of checks on it: each check declares
the sections it reads (`reads`), and runs only when every one of them is valid. A check that cannot
run is counted, so the caller can say how many were skipped and why.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Callable, Iterable

from pydantic import TypeAdapter, ValidationError

from ..errors import Diagnostic
from ..loading.positions import Position
from .pipeline import Metadata, Pipeline, PipelineSpec

SECTIONS = tuple(name for name in PipelineSpec.model_fields if name != "template")   # template: read before


def reads(*sections: str) -> Callable:
    """Declare the spec sections a check reads: it runs on a partly valid pipeline only if they are valid."""
    unknown = set(sections) - set(SECTIONS)
    assert not unknown, unknown

    def mark(check: Callable) -> Callable:
        check.reads = sections
        return check
    return mark


def bad_sections(problems: Iterable[Diagnostic]) -> set[str]:
    """The spec sections named by `problems`; every section when the spec itself is wrong or missing."""
    bad: set[str] = set()
    for problem in problems:
        if problem.path[:1] == ("spec",):
            bad |= {problem.path[1]} & set(SECTIONS) if len(problem.path) > 1 else set(SECTIONS)
    return bad


def partial_pipeline(data: Any, bad: set[str]) -> tuple[Pipeline, set[str]]:
    """The pipeline of `data` with only its valid sections (an absent one takes its default), and the
    sections found bad: `bad` and any that does not validate on its own."""
    spec = data.get("spec") if isinstance(data, dict) else None
    raw = spec if isinstance(spec, dict) else {}
    sections, bad = {}, set(bad)
    for name in sorted(set(SECTIONS) - bad):
        field = PipelineSpec.model_fields[name]
        if raw.get(name) is None:
            if name in raw and type(None) in typing.get_args(field.annotation):
                sections[name] = None       # an explicit "none" (no schedule, no gate)
            continue                        # absent, or null: the default applies
        try:
            sections[name] = TypeAdapter(Annotated[field.annotation, field]).validate_python(raw[name])
        except ValidationError:
            bad.add(name)
    spec = PipelineSpec.model_construct(**sections)
    return Pipeline.model_construct(metadata=_metadata(data.get("metadata") if isinstance(data, dict) else None),
                                    spec=spec), bad


def _metadata(raw: Any) -> Metadata | None:
    try:
        return Metadata.model_validate(raw)
    except ValidationError:
        return None


def skipped_note(at: Position, not_run: dict[str, tuple]) -> list[Diagnostic]:
    """One note, at the spec of a file (`at`), naming the checks not run on it and the sections with
    errors that stopped them."""
    if not not_run:
        return []
    sections = sorted({section for blocking in not_run.values() for section in blocking})
    message = (f"{len(not_run)} check(s) were not run ({', '.join(sorted(not_run))}): they read "
               f"{', '.join(f'spec.{s}' for s in sections)}, which {'has' if len(sections) == 1 else 'have'} "
               "errors in this file")
    return [Diagnostic(at.file, at.line, at.col, (), message, severity="note")]


def check_name(check: Callable) -> str:
    return check.__name__.removeprefix("check_").replace("_", " ")


def run_checks(checks: Iterable[Callable], args: tuple, bad: set[str]) -> tuple[list[Diagnostic], dict[str, tuple]]:
    """The findings of the checks whose sections are all valid; the others: {name: the bad sections it reads}."""
    findings, skipped = [], {}
    for check in checks:
        blocking = tuple(s for s in getattr(check, "reads", SECTIONS) if s in bad)
        if blocking:
            skipped[check_name(check)] = blocking
        else:
            findings.extend(check(*args))
    return findings, skipped
