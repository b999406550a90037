"""Stage 3b (fast path): a JSON Schema compiled into Python closures that answer "valid?" only.

In: a schema (draft-04 or 2020-12), its `$ref` targets, the format checks to assert.
Out: `compile_check(...)`, a function body -> bool. True means valid; False means
"invalid, or a keyword only jsonschema implements was met": ask jsonschema.

Why: jsonschema re-interprets the schema on every call, which costs ~1 ms per
Argo Workflow against a 3 MB CRD schema. Most documents are valid, so a compiled
yes/no answers them; only a "no" goes to jsonschema for the messages and paths
(and jsonschema has the last word if the two ever disagreed). The keywords here
are the ones these schemas use; a keyword jsonschema knows and this does not
makes the check answer False, and keywords neither knows are ignored by both.
Subschemas compile lazily, on first use, once.
"""

from __future__ import annotations

import re
from typing import Any, Callable
from urllib.parse import urldefrag, urljoin

Check = Callable[[Any], bool]

UNSUPPORTED = frozenset({
    "dependencies", "dependentRequired", "dependentSchemas", "if", "then", "else", "contains", "prefixItems",
    "unevaluatedItems", "unevaluatedProperties", "propertyNames", "$dynamicRef", "$recursiveRef", "additionalItems",
    "minContains", "maxContains", "extends", "disallow", "divisibleBy", "$anchor", "$dynamicAnchor",
})


class Unsupported(Exception):
    """The schema uses a keyword the fast path does not implement."""


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _is_integer_draft4(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return _is_integer_draft4(value) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_tests(draft4: bool) -> dict[str, Check]:
    return {
        "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None, "number": _is_number,
        "integer": _is_integer_draft4 if draft4 else _is_integer,
    }


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema means it: `true` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    return lambda v: all(check(v) for check in checks)


class Compiler:
    """Compiles one root schema (plus referenced documents) into checks, lazily and once per subschema."""

    def __init__(self, root: dict, draft4: bool, formats: dict[str, Check], documents: dict[str, dict]):
        self.root, self.draft4, self.formats, self.documents = root, draft4, formats, documents
        self.types = _type_tests(draft4)
        self.memo: dict[int, Check] = {}

    def check_for(self, schema: Any, base: str) -> Check:
        """The check for an inline subschema, built now, once."""
        key = id(schema)
        if key not in self.memo:
            self._scan(schema)
            self.memo[key] = self.build(schema, base)
        return self.memo[key]

    def _deferred(self, table: Any, key: Any, schema: Any, base: str) -> Check:
        """A check that builds `schema` on first use and puts the result in `table[key]`, in its own place.

        Most of a CRD schema (status, rarely used fields) is never reached: it is never built.
        """
        def first_use(value: Any) -> bool:
            table[key] = self.check_for(schema, base)
            return table[key](value)

        return first_use

    def lazy_check_for(self, schema: Any, base: str) -> Check:
        """The check for a `$ref` target, built on first use (refs may recurse; definitions are huge)."""
        key = id(schema)
        if key in self.memo:
            return self.memo[key]
        state: list[Check] = []

        def lazy(value: Any) -> bool:
            if not state:
                self._scan(schema)
                state.append(self.build(schema, base))
                self.memo[key] = state[0]
            return state[0](value)

        self.memo[key] = lazy
        return lazy

    def _scan(self, schema: Any) -> None:
        if isinstance(schema, dict) and UNSUPPORTED.intersection(schema):
            raise Unsupported(sorted(UNSUPPORTED.intersection(schema))[0])
        if isinstance(schema, dict) and isinstance(schema.get("items"), list):
            raise Unsupported("items")

    def build(self, schema: Any, base: str) -> Check:
        if schema is True or schema == {}:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        base = urljoin(base, schema["$id"]) if isinstance(schema.get("$id"), str) else base
        if "$ref" in schema and self.draft4:
            return self._ref(schema["$ref"], base)
        checks = [self._ref(schema["$ref"], base)] if "$ref" in schema else []
        checks += self._generic(schema, base) + self._typed(schema, base)
        return _all(checks)

    def _ref(self, ref: str, base: str) -> Check:
        url, fragment = urldefrag(urljoin(base, ref))
        document = self.documents.get(url, self.root if url in ("", urldefrag(base)[0]) else None)
        if document is None:
            raise Unsupported(f"$ref {ref}")
        target = document
        for part in (p.replace("~1", "/").replace("~0", "~") for p in fragment.split("/")[1:]):
            target = target[int(part)] if isinstance(target, list) else target[part]
        return self.lazy_check_for(target, url)

    def _generic(self, schema: dict, base: str) -> list[Check]:
        checks: list[Check] = []
        if "type" in schema:
            checks.append(self._type(schema["type"]))
        if "enum" in schema:
            checks.append(_enum(list(schema["enum"])))
        if "const" in schema and not self.draft4:  # `const` came with draft-06
            const = schema["const"]
            checks.append(lambda v: json_equal(v, const))
        checks += self._combinators(schema, base)
        return checks

    def _type(self, names: Any) -> Check:
        tests = [self.types.get(n, _never) for n in (names if isinstance(names, list) else [names])]
        return tests[0] if len(tests) == 1 else (lambda v: any(t(v) for t in tests))

    def _combinators(self, schema: dict, base: str) -> list[Check]:
        checks: list[Check] = []
        for word in ("anyOf", "oneOf", "allOf"):
            if word in schema:
                subs = [self.check_for(s, base) for s in schema[word]]
                checks.append(_combine(word, subs))
        if "not" in schema:
            negated = self.check_for(schema["not"], base)
            checks.append(lambda v: not negated(v))
        return checks

    def _typed(self, schema: dict, base: str) -> list[Check]:
        checks = []
        for guard, part in ((dict, self._object(schema, base)), (list, self._array(schema, base)),
                            (str, self._string(schema)), ((int, float), self._number(schema))):
            if part is not None:
                checks.append(_guarded(guard, part))
        return checks

    def _object(self, schema: dict, base: str) -> Check | None:
        checks: list[Check] = []
        if "required" in schema:
            required = frozenset(schema["required"])
            checks.append(lambda v: v.keys() >= required)
        if "minProperties" in schema:
            low = schema["minProperties"]
            checks.append(lambda v: len(v) >= low)
        if "maxProperties" in schema:
            high = schema["maxProperties"]
            checks.append(lambda v: len(v) <= high)
        if any(k in schema for k in ("properties", "patternProperties", "additionalProperties")):
            checks.append(self._members(schema, base))
        return _all(checks) if checks else None

    def _members(self, schema: dict, base: str) -> Check:
        props: dict[str, Check] = {}
        for name, sub in schema.get("properties", {}).items():
            props[name] = self._deferred(props, name, sub, base)
        patterns = [(re.compile(p), self.check_for(sub, base)) for p, sub in schema.get("patternProperties", {}).items()]
        extra = schema.get("additionalProperties", True)
        extra_check = None if extra is True else self.check_for(extra, base)

        if not patterns:   # the common case, and the compile's hottest loop: no per-key pattern scan
            def plain_members(value: dict) -> bool:
                for key, item in value.items():
                    check = props.get(key)
                    if check is None:
                        if extra_check is not None and not extra_check(item):
                            return False
                    elif not check(item):
                        return False
                return True

            return plain_members

        def members(value: dict) -> bool:
            for key, item in value.items():
                check = props.get(key)
                matched = [c for rx, c in patterns if rx.search(key)] if patterns else ()
                if (check is not None and not check(item)) or not all(c(item) for c in matched):
                    return False
                if check is None and not matched and extra_check is not None and not extra_check(item):
                    return False
            return True

        return members

    def _array(self, schema: dict, base: str) -> Check | None:
        checks: list[Check] = []
        if isinstance(schema.get("items"), (dict, bool)):
            cell: list[Check] = []
            cell.append(self._deferred(cell, 0, schema["items"], base))
            checks.append(lambda v: all(cell[0](x) for x in v))
        if "minItems" in schema:
            low = schema["minItems"]
            checks.append(lambda v: len(v) >= low)
        if "maxItems" in schema:
            high = schema["maxItems"]
            checks.append(lambda v: len(v) <= high)
        if schema.get("uniqueItems") is True:
            checks.append(_unique)
        return _all(checks) if checks else None

    def _string(self, schema: dict) -> Check | None:
        checks: list[Check] = []
        if "minLength" in schema:
            low = schema["minLength"]
            checks.append(lambda v: len(v) >= low)
        if "maxLength" in schema:
            high = schema["maxLength"]
            checks.append(lambda v: len(v) <= high)
        if "pattern" in schema:
            pattern = re.compile(schema["pattern"])
            checks.append(lambda v: pattern.search(v) is not None)
        if schema.get("format") in self.formats:
            checks.append(self.formats[schema["format"]])
        return _all(checks) if checks else None

    def _number(self, schema: dict) -> Check | None:
        checks = [_bound(schema, word, self.draft4) for word in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")]
        checks = [c for c in checks if c is not None]
        if "multipleOf" in schema:
            checks.append(_multiple_of(schema["multipleOf"]))
        if not checks:
            return None
        inner = _all(checks)
        return lambda v: isinstance(v, bool) or inner(v)


def _enum(options: list) -> Check:
    if all(isinstance(o, str) for o in options):
        allowed = frozenset(options)
        return lambda v: isinstance(v, str) and v in allowed
    return lambda v: any(json_equal(v, o) for o in options)


def _guarded(kind: Any, check: Check) -> Check:
    return lambda v: not isinstance(v, kind) or check(v)


def _combine(word: str, subs: list[Check]) -> Check:
    if word == "anyOf":
        return lambda v: any(s(v) for s in subs)
    if word == "allOf":
        return lambda v: all(s(v) for s in subs)
    return lambda v: sum(1 for s in subs if s(v)) == 1


def _unique(value: list) -> bool:
    return all(not json_equal(a, b) for i, a in enumerate(value) for b in value[i + 1:])


def _bound(schema: dict, word: str, draft4: bool) -> Check | None:
    if word not in schema:
        return None
    limit = schema[word]
    if draft4 and word.startswith("exclusive"):
        return None  # a flag on minimum/maximum in draft-04
    lower = word in ("minimum", "exclusiveMinimum")
    exclusive = word.startswith("exclusive") or (draft4 and schema.get("exclusive" + word.capitalize()) is True)
    if lower:
        return (lambda v: v > limit) if exclusive else (lambda v: v >= limit)
    return (lambda v: v < limit) if exclusive else (lambda v: v <= limit)


def _multiple_of(divisor: Any) -> Check:
    def check(value: Any) -> bool:
        if isinstance(divisor, float):
            try:
                quotient = value / divisor
                return int(quotient) == quotient
            except (OverflowError, ValueError):
                return False
        return value % divisor == 0 if isinstance(value, int) else (value / divisor).is_integer()

    return check


def compile_check(schema: dict, draft4: bool, formats: dict[str, Check], documents: dict[str, dict] | None = None) -> Check:
    """A yes/no check for `schema`; `documents` maps the URLs its `$ref`s reach to their contents."""
    compiler = Compiler(schema, draft4, formats, documents or {})
    try:
        root = compiler.check_for(schema, schema.get("$id", "") if isinstance(schema.get("$id"), str) else "")
    except (Unsupported, KeyError, IndexError, TypeError, re.error, RecursionError):
        return _never  # jsonschema checks every document against this schema

    def check(value: Any) -> bool:
        try:
            return root(value)
        except (Unsupported, KeyError, IndexError, TypeError, re.error, RecursionError):
            return False  # let jsonschema decide and explain

    return check
