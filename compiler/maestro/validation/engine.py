"""Stage 5, the verdicts: documents to one `Result` each.

In: `Document`s (and error `Result`s passed through), the schema locations and
the options of `maestro validate` / `validate_documents`.
Out: `Result`s sorted by source, document index and line. Per document, in
kubeconform's order: duplicate keys (strict), missing kind or apiVersion, --skip,
--reject, schema lookup (missing schema: error, or skipped with
--ignore-missing-schemas), schema and metadata checks; then the controller rules
over all documents together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Collection, Sequence

from ..errors import Diagnostic, UsageError
from . import builtin
from .compiled import BrokenSchema, CompiledSchema, compiled_schema, schema_findings, shorten
from .fetch import SchemaFetchError, fetch_schema
from .locations import Location, build_locations
from .memo import unchanging_bodies
from .metadata import metadata_problems, object_meta_problems
from .model import ERROR, INVALID, SKIPPED, VALID, Document, Result, display_name
from .rules import run_rules
from .templates import TemplateError


@dataclass(frozen=True)
class Settings:
    locations: tuple[Location, ...]
    skip: frozenset[str]
    reject: frozenset[str]
    strict: bool
    ignore_missing_schemas: bool
    cache_dir: str | None
    object_meta: str  # bundled _definitions.json holding ObjectMeta


def make_settings(
    schema_locations: Sequence[str] = (),
    kubernetes_version: str = builtin.DEFAULT_KUBERNETES_VERSION,
    ignore_missing_schemas: bool = False,
    skip: Collection[str] = (),
    reject: Collection[str] = (),
    strict: bool = True,
    cache_dir: str | None = None,
) -> Settings:
    """Check every option once, before any document: raises UsageError on a bad one."""
    version = builtin.check_version(kubernetes_version)
    try:
        locations = tuple(build_locations(schema_locations, version, strict))
    except TemplateError as exc:
        raise UsageError(str(exc)) from None
    meta = str(builtin.schema_dir(version, strict) / builtin.DEFINITIONS)
    return Settings(locations, split_kinds(skip), split_kinds(reject), strict, ignore_missing_schemas, cache_dir, meta)


def split_kinds(values: Collection[str] | str) -> frozenset[str]:
    """Kinds or apiVersion/Kind names, from values that may each be comma-separated."""
    values = [values] if isinstance(values, str) else values
    return frozenset(part.strip() for value in values for part in value.split(",") if part.strip())


class SchemaLookup:
    """Finds and compiles the schema for each apiVersion/kind, once per run."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.memo: dict[tuple[str, str], CompiledSchema | None] = {}
        self.tried: dict[tuple[str, str], list[str]] = {}

    def find(self, api_version: str, kind: str) -> CompiledSchema | None:
        key = (api_version, kind)
        if key not in self.memo:
            self.memo[key] = self._search(api_version, kind)
        return self.memo[key]

    def _search(self, api_version: str, kind: str) -> CompiledSchema | None:
        tried = self.tried.setdefault((api_version, kind), [])
        for location in self.settings.locations:
            for candidate in location.candidates(api_version, kind):
                tried.append(candidate.ref)
                schema = fetch_schema(candidate, self.settings.cache_dir)
                compiled = compiled_schema(candidate, schema, self.settings.cache_dir) if schema is not None else None
                if compiled is not None and compiled.accepts(api_version, kind):
                    return compiled
        return None


def validate_documents(documents: Sequence[Document | Result], settings: Settings, unchanging: bool = False) -> list[Result]:
    """One Result per document (Results given are kept as they are), sorted. `unchanging`: no body
    changes meanwhile, so what passed a check is remembered by identity until this returns (`memo`)."""
    if unchanging:
        with unchanging_bodies():
            return validate_documents(documents, settings)
    lookup = SchemaLookup(settings)
    checked = [(doc, False) if isinstance(doc, Result) else check_document(doc, lookup, settings) for doc in documents]
    results = _apply_rules(documents, checked)
    return sorted(results, key=Result.sort_key)


def check_document(doc: Document, lookup: SchemaLookup, settings: Settings) -> tuple[Result, bool]:
    """The document's verdict before the rules, and whether the rules apply to it."""
    body = doc.body if isinstance(doc.body, dict) else {}
    kind, api_version = body.get("kind"), body.get("apiVersion")
    verdict = _early_verdict(doc, kind, api_version, settings)
    if verdict is not None:
        return verdict, False
    try:
        compiled = lookup.find(api_version, kind)
        if compiled is None:
            return _missing_schema(doc, lookup, settings)
        findings = _findings(doc, _problems(doc, compiled, settings))
    except (SchemaFetchError, BrokenSchema) as exc:
        return _result(doc, ERROR, [_whole(doc, str(exc))]), False
    return _result(doc, INVALID if findings else VALID, findings), True


def _early_verdict(doc: Document, kind: object, api_version: object, settings: Settings) -> Result | None:
    if not isinstance(doc.body, dict):
        return Result(doc.source, doc.index, doc.line, "", "", ERROR, [_whole(doc, "a manifest must be a mapping")])
    if settings.strict and doc.duplicate_keys:
        return _result(doc, ERROR, [d.located(doc.source, d.line) for d in doc.duplicate_keys])
    if not isinstance(kind, str) or not kind:
        return _result(doc, ERROR, [_whole(doc, "missing kind: every manifest needs 'kind'", ("kind",))])
    if not isinstance(api_version, str) or not api_version:
        return _result(doc, ERROR, [_whole(doc, "missing apiVersion: every manifest needs 'apiVersion'", ("apiVersion",))])
    names = {kind, f"{api_version}/{kind}"}
    if names & settings.skip:
        return _result(doc, SKIPPED, [])
    if names & settings.reject:
        return _result(doc, ERROR, [_whole(doc, f"prohibited resource kind {kind}", ("kind",))])
    return None


def _missing_schema(doc: Document, lookup: SchemaLookup, settings: Settings) -> tuple[Result, bool]:
    """Error; or, with --ignore-missing-schemas, skipped unless its metadata (or a rule) is wrong."""
    if settings.ignore_missing_schemas:
        findings = _findings(doc, list(metadata_problems(doc.body)) if settings.strict else [])
        return _result(doc, INVALID if findings else SKIPPED, findings), True
    api_version, kind = doc.body["apiVersion"], doc.body["kind"]
    tried = lookup.tried.get((api_version, kind), [])
    hint = f" (looked in: {', '.join(tried)})" if tried else ""
    message = f"no schema for {api_version}/{kind}{hint}; add a --schema-location, or pass --ignore-missing-schemas"
    return _result(doc, ERROR, [_whole(doc, shorten(message) if len(tried) > 6 else message)]), False


def _problems(doc: Document, compiled: CompiledSchema, settings: Settings) -> list[Diagnostic]:
    problems = list(schema_findings(compiled, doc.body))
    if not settings.strict:
        return problems   # as kubeconform without -strict: the schema alone
    problems.extend(metadata_problems(doc.body))
    if compiled.open_metadata and isinstance(doc.body.get("metadata"), dict):
        problems.extend(object_meta_problems(doc.body["metadata"], settings.object_meta))
    return problems


def _whole(doc: Document, message: str, path: tuple = ()) -> Diagnostic:
    """A finding about the document as a whole (or one of its top-level fields), at its first line."""
    return Diagnostic(doc.source, doc.line or None, None, path, message)


def _findings(doc: Document, problems: list[Diagnostic]) -> list[Diagnostic]:
    """The checks' findings, without repeats, located in `doc`: its file and the line of the path."""
    return [problem.located(doc.source, _line(doc, problem.path)) for problem in dict.fromkeys(problems)]


def _line(doc: Document, path: tuple) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one (None in a body built in memory)."""
    for end in range(len(path), 0, -1):
        if path[:end] in doc.lines:
            return doc.lines[path[:end]]
    return doc.line or None


def _result(doc: Document, status: str, findings: list[Diagnostic]) -> Result:
    body = doc.body
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    kind, api_version = (v if isinstance(v, str) else "" for v in (body.get("kind"), body.get("apiVersion")))
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
    return Result(doc.source, doc.index, doc.line, kind, display_name(body), status, findings, api_version, namespace)


def _apply_rules(documents: Sequence[Document | Result], checked: list[tuple[Result, bool]]) -> list[Result]:
    """Add the controller rules' findings to every document they apply to."""
    results = [result for result, _ in checked]
    targets = [(i, doc) for i, (doc, (_, ruled)) in enumerate(zip(documents, checked)) if ruled and isinstance(doc, Document)]
    everything = (doc.body for doc in documents if isinstance(doc, Document) and isinstance(doc.body, dict))
    problems = run_rules([doc.body for _, doc in targets], everything)
    for (i, doc), found in zip(targets, problems):
        if found:
            results[i] = replace(results[i], status=INVALID, errors=results[i].errors + _findings(doc, found))
    return results
