"""Validate output: every compiled object against its JSON Schema and the controllers' rules,
before anything is written (fail closed).

In: a compiled `Tree` and schema locations. Out: warning lines for the user, or a `MaestroError`
naming each invalid object. The schemas shipped with Maestro (maestro/schemas/) cover every kind it
emits and are always searched after the given locations, so a kind without a schema is an error:
nothing is written unchecked.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Sequence

from .compile import Tree
from .targets import Output
from .errors import Diagnostic, MaestroError


def check_outputs(tree: Tree, schema_locations: Sequence[str] = ()) -> list[str]:
    locations = resolve_locations(schema_locations)
    return unchecked_warning(validate_outputs(tree.outputs, locations), locations)


def resolve_locations(schema_locations: Sequence[str] = ()) -> list[str]:
    from .validation import schema_locations_from_env

    return list(schema_locations) or schema_locations_from_env()


def validate_outputs(outputs: Iterable[Output], locations: Sequence[str]) -> dict[str, str]:
    """Validate `outputs` together; raise on any failure. Out: the kind of each unchecked (skipped) path."""
    from .validation import Document, validate_documents

    documents = [Document(f"gitops/{o.path}", 0, 0, o.body) for o in outputs]   # in memory: no lines
    results = validate_documents(documents, schema_locations=locations)
    failures = [r for r in results if r.status in ("invalid", "error")]
    if failures:
        raise MaestroError(_diagnostic(r, f) for r in failures for f in (r.errors or [None]))
    return {r.source.removeprefix("gitops/"): r.kind for r in results if r.status == "skipped"}


def unchecked_warning(skipped: dict[str, str], locations: Sequence[str]) -> list[str]:
    """A line naming the kinds no schema checked; none are, now that a missing schema is an error."""
    unchecked = sorted(set(skipped.values()))
    return [f"warning: unchecked kinds: {', '.join(unchecked)}"] if unchecked else []


def _diagnostic(result, finding) -> Diagnostic:
    finding = finding or Diagnostic(result.source, None, None, (), result.status)
    return replace(finding, message=f"{result.kind} {result.name}: {finding.message}",
                   hint="the compiler produced an invalid manifest; please report it")
