"""Stage 3b, schema checking: a parsed schema to a reusable validator, a body to findings.

In: a schema (dict) with the candidate it came from, and document bodies.
Out: `CompiledSchema` (built once per schema file, lazily, kept in-process: a
compiled yes/no check from `fastcheck` plus a jsonschema validator) and
`schema_findings` (the problems of one body, as `Diagnostic`s not located yet).
Valid bodies are answered by the compiled check; jsonschema checks the others and
explains them, remembered per schema and body digest, so an identical invalid
document is explained once per process.

Drafts: a schema's `$schema` picks the class; none means draft-04, as kubeconform
does. Formats are asserted for draft-04/06/07 (CRD files) and not for 2019-09 or
2020-12 (the built-in files), again as kubeconform does.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from ..errors import Diagnostic
from .fastcheck import Check, compile_check
from .fetch import fetch_schema
from .formats import FORMAT_CHECKS, format_checker
from .locations import Candidate

MAX_MESSAGE = 240
_MAX_REMEMBERED = 100_000
_compiled: dict[tuple, "CompiledSchema"] = {}
_remembered: dict[tuple, tuple] = {}
_ASSERTING_DRAFTS = ("Draft4Validator", "Draft6Validator", "Draft7Validator")


class CompiledSchema:
    """One schema, ready to check bodies: the compiled yes/no now, jsonschema when first needed."""

    def __init__(self, key: tuple, schema: dict, documents: dict[str, dict]):
        self.key, self.schema, self.documents = key, schema, documents
        self.fast = _fast_check(schema, documents)
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        meta = props.get("metadata")
        # `metadata` is only `type: object` (CRD-style): it is checked separately
        self.open_metadata = isinstance(meta, dict) and "properties" not in meta and "$ref" not in meta
        self.api_versions, self.kinds = _enum(props, "apiVersion"), _enum(props, "kind")
        self._validator: Any = None

    @property
    def validator(self) -> Any:
        """The jsonschema validator: the authority, and the source of messages (imports jsonschema)."""
        if self._validator is None:
            self._validator = _jsonschema_validator(self.schema, self.documents)
        return self._validator

    def accepts(self, api_version: str, kind: str) -> bool:
        """False when the schema's own apiVersion/kind enums name another type."""
        return (self.api_versions is None or api_version in self.api_versions) and (
            self.kinds is None or kind in self.kinds
        )


def compiled_schema(candidate: Candidate, schema: dict, cache_dir: str | None = None) -> CompiledSchema:
    key = (candidate.ref, id(schema))
    if key not in _compiled:
        _compiled[key] = CompiledSchema(key, schema, _referenced_documents(candidate, cache_dir))
    return _compiled[key]


def _fast_check(schema: dict, documents: dict[str, dict]) -> Check:
    """The compiled check, for the two drafts it knows (draft-04, the default, and 2020-12)."""
    uri = schema.get("$schema")
    if uri is None or (isinstance(uri, str) and "draft-04" in uri):
        return compile_check(schema, True, FORMAT_CHECKS, documents)
    if isinstance(uri, str) and "draft/2020-12" in uri:
        return compile_check(schema, False, {}, documents)
    return lambda body: False  # another draft: jsonschema decides every time


def _jsonschema_validator(schema: dict, documents: dict[str, dict]) -> Any:
    from jsonschema import Draft4Validator
    from jsonschema.validators import validator_for

    cls = validator_for(schema, default=Draft4Validator)
    checker = format_checker() if cls.__name__ in _ASSERTING_DRAFTS else None
    return cls(schema, format_checker=checker, registry=_registry(documents))


def _referenced_documents(candidate: Candidate, cache_dir: str | None) -> dict[str, dict]:
    """URL -> contents of the documents a bundled schema's `$ref`s point into."""
    if not candidate.definitions:
        return {}
    definitions = fetch_schema(Candidate(candidate.definitions), cache_dir) or {}
    return {definitions.get("$id", ""): definitions}


def _registry(documents: dict[str, dict]) -> Any:
    from referencing import Registry, Resource

    return Registry().with_resources((url, Resource.from_contents(doc)) for url, doc in documents.items())


def _enum(props: dict, name: str) -> tuple | None:
    enum = props.get(name, {}).get("enum") if isinstance(props.get(name), dict) else None
    return tuple(enum) if isinstance(enum, list) else None


def schema_findings(compiled: CompiledSchema, body: dict) -> tuple[Diagnostic, ...]:
    """Sorted, unique findings about `body`, by path and message.

    The compiled check answers valid bodies; the rest go to jsonschema, whose answer
    is remembered by the body's digest, so an identical document costs it once.
    """
    if compiled.fast(body):
        return ()
    digest = _digest(body)
    if digest is None:
        return _check(compiled, body)
    key = (compiled.key, digest)
    if key not in _remembered:
        if len(_remembered) >= _MAX_REMEMBERED:
            _remembered.clear()
        _remembered[key] = _check(compiled, body)
    return _remembered[key]


def _digest(body: dict) -> str | None:
    try:
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return None  # not plain JSON data: check it every time
    import hashlib   # only an invalid body is digested

    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


class BrokenSchema(Exception):
    """A schema that jsonschema cannot apply (unknown type, bad regex, dangling $ref)."""


def _check(compiled: CompiledSchema, body: dict) -> tuple[Diagnostic, ...]:
    try:
        errors = list(compiled.validator.iter_errors(body))
    except Exception as exc:  # on plain data, any failure here is the schema's, not the document's
        raise BrokenSchema(f"schema {compiled.key[0]} cannot be used: {type(exc).__name__}: {shorten(str(exc))}") from exc
    found = {finding for error in errors for finding in describe(error)}
    return tuple(sorted(found, key=lambda finding: (_sortable(finding.path), finding.message)))


def _sortable(parts: tuple) -> tuple:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in parts)


def describe(error: Any) -> Iterator[Diagnostic]:
    """One jsonschema error as findings about its paths, in kubectl's words where that helps."""
    path = tuple(error.absolute_path)
    keyword, value, schema = error.validator, error.instance, error.schema
    if keyword == "additionalProperties" and isinstance(value, dict) and schema.get("additionalProperties") is False:
        for name in _extra_properties(value, schema):
            yield Diagnostic.about(path + (name,), f'unknown field "{name}"')
    elif keyword == "required" and isinstance(error.validator_value, list) and isinstance(value, dict):
        for name in error.validator_value:
            if name not in value:
                yield Diagnostic.about(path + (name,), f'missing required field "{name}"')
    elif keyword == "type":
        yield Diagnostic.about(path, f"expected {_types(error.validator_value)}, got {json_type(value)}")
    elif keyword in ("anyOf", "oneOf") and _only_types(error.validator_value):
        yield Diagnostic.about(path, f"expected {_types([s['type'] for s in error.validator_value])}, got {json_type(value)}")
    else:
        yield Diagnostic.about(path, shorten(error.message))


def _extra_properties(value: dict, schema: dict) -> list[str]:
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    return [k for k in value if k not in known and not any(re.search(p, k) for p in patterns)]


def _only_types(subschemas: Any) -> bool:
    return isinstance(subschemas, list) and all(isinstance(s, dict) and set(s) == {"type"} for s in subschemas)


def _types(types: Any) -> str:
    flat: list[str] = []
    for item in types if isinstance(types, list) else [types]:
        flat.extend(item if isinstance(item, list) else [item])
    names = [t for t in dict.fromkeys(flat) if t != "null"] or ["null"]
    return " or ".join(names)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    names = {float: "number", str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def shorten(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."
