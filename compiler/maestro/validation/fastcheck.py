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

from .memo import passed

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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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


def _any_equal(value: Any, options: list) -> bool:
    return any(json_equal(value, o) for o in options)


# A subschema that is nothing but one of these types is checked by the type's own C-level isinstance test
_PLAIN_TYPES = {"string": str, "boolean": bool, "object": dict, "array": list}
# The keywords the generator acts on; any other key (x-kubernetes-*, description, default...) is an annotation
_ACTIVE = frozenset({
    "$ref", "type", "enum", "const", "anyOf", "oneOf", "allOf", "not", "required", "minProperties", "maxProperties",
    "properties", "patternProperties", "additionalProperties", "items", "minItems", "maxItems", "uniqueItems",
    "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf",
})
_GUARDS = {"object": "isinstance({v}, dict)", "array": "isinstance({v}, list)", "string": "isinstance({v}, str)",
           "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))"}
_MAX_ALIASES = 64


class Expr(str):
    """A condition that must hold, as a Python expression."""


class Block(list):
    """Statements (lines) that `return False` when the value is invalid."""


class Compiler:
    """Generates one Python function per schema node on first use; leaf subschemas are inlined as expressions.

    Each node's function is a global `c<N>` of one shared namespace; until the node is first
    reached, the global is a stub that generates, execs and rebinds it. So a schema part no
    document reaches is never generated, and a reached one costs a single call per value
    instead of a chain of closures.
    """

    def __init__(self, root: dict, draft4: bool, formats: dict[str, Check], documents: dict[str, dict]):
        self.root, self.draft4, self.formats, self.documents = root, draft4, formats, documents
        self.ns: dict[str, Any] = {"_json_equal": json_equal, "_any_equal": _any_equal, "_unique": _unique,
                                   "_members": _members_with_patterns, "_passed": passed}
        self.names: dict[int, str] = {}
        self.memo_keys: dict[str, object] = {}   # node -> its key in `memo`, unique to this compiler

    # -- naming and laziness

    def function(self, schema: Any, base: str) -> Check:
        """The generated check for `schema`, generated now if not yet."""
        return self._realise(self.name_for(schema, base))

    def name_for(self, schema: Any, base: str) -> str:
        """The global the check of `schema` is bound to (a stub until first called)."""
        schema, base = self._resolve(schema, base)
        key = id(schema)
        name = self.names.get(key)
        if name is None:
            name = self.names[key] = f"c{len(self.names)}"
            pending = (schema, base)

            def stub(value: Any) -> bool:
                return self._realise(name)(value)

            stub.pending = pending  # type: ignore[attr-defined]
            self.ns[name] = stub
        return name

    def _realise(self, name: str) -> Check:
        check = self.ns[name]
        pending = getattr(check, "pending", None)
        if pending is None:
            return check
        source = self._source(name, *pending)
        exec(compile(source, f"<schema check {name}>", "exec"), self.ns)
        return self.ns[name]

    def _deferred(self, table: dict, key: Any, schema: Any, base: str) -> Check:
        """A property check that generates `schema` on first use and puts the result in `table[key]`."""
        def first_use(value: Any) -> bool:
            table[key] = self.function(schema, base)
            return table[key](value)

        return first_use

    def _const(self, value: Any) -> str:
        name = f"k{len(self.ns)}"
        self.ns[name] = value
        return name

    def _resolve(self, schema: Any, base: str) -> tuple[Any, str]:
        """Draft-04 ignores a `$ref`'s siblings: the node is its target."""
        for _ in range(_MAX_ALIASES):
            if not (self.draft4 and isinstance(schema, dict) and "$ref" in schema):
                return schema, base
            base = urljoin(base, schema["$id"]) if isinstance(schema.get("$id"), str) else base
            schema, base = self._target(schema["$ref"], base)
        raise Unsupported("$ref loop")

    def _target(self, ref: str, base: str) -> tuple[Any, str]:
        url, fragment = urldefrag(urljoin(base, ref))
        document = self.documents.get(url, self.root if url in ("", urldefrag(base)[0]) else None)
        if document is None:
            raise Unsupported(f"$ref {ref}")
        target = document
        for part in (p.replace("~1", "/").replace("~0", "~") for p in fragment.split("/")[1:]):
            target = target[int(part)] if isinstance(target, list) else target[part]
        return target, url

    # -- source

    def _source(self, name: str, schema: Any, base: str) -> str:
        lines = [f"def {name}(v):"]
        for part in self.parts(schema, base, "v"):
            if isinstance(part, Block):
                lines += ["    " + line for line in part]
            else:
                lines.append(f"    if not {part}: return False")
        lines.append("    return True")
        return "\n".join(lines) + "\n"

    def leaf(self, schema: Any, base: str, var: str) -> str | None:
        """`schema` as one expression on `var`, when it needs no statements (no loops)."""
        schema, base = self._resolve(schema, base)
        if _needs_loops(schema):
            return None  # not generated here: its own function will be, when first called
        parts = self.parts(schema, base, var)
        if any(isinstance(p, Block) for p in parts):
            return None
        return _conjunction(parts)

    def sub(self, schema: Any, base: str, var: str) -> str:
        """An expression checking `var` against a subschema: inlined when a leaf, else a call."""
        expr = self.leaf(schema, base, var)
        return expr if expr is not None else f"{self.name_for(schema, base)}({var})"

    def plain(self, schema: Any, base: str) -> Check | None:
        """A ready check for a subschema that costs nothing to build: always, never, or a bare type test."""
        schema, base = self._resolve(schema, base)
        if schema is True or schema == {}:
            return _always
        if schema is False:
            return _never
        if isinstance(schema, dict) and self._active(schema) == {"type"} and not UNSUPPORTED.intersection(schema):
            kind = _PLAIN_TYPES.get(schema["type"]) if isinstance(schema["type"], str) else None
            return kind.__instancecheck__ if kind is not None else None
        return None

    def _active(self, schema: dict) -> set[str]:
        active = set(_ACTIVE.intersection(schema))
        if schema.get("format") not in self.formats:
            active.discard("format")
        if self.draft4:
            active.discard("const")
        return active

    def parts(self, schema: Any, base: str, v: str) -> list[str]:
        if schema is True or schema == {}:
            return []
        if schema is False:
            return [Expr("False")]
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        if UNSUPPORTED.intersection(schema):
            raise Unsupported(sorted(UNSUPPORTED.intersection(schema))[0])
        if isinstance(schema.get("items"), list):
            raise Unsupported("items")
        base = urljoin(base, schema["$id"]) if isinstance(schema.get("$id"), str) else base
        parts: list[str] = []
        if "$ref" in schema:  # not draft-04 (resolved before): the target applies besides the siblings
            target, url = self._target(schema["$ref"], base)
            parts.append(Expr(self.sub(target, url, v)))
        kind = None
        if "type" in schema:
            expr, kind = self._type(schema["type"], v)
            parts.append(expr)
        if "enum" in schema:
            parts.append(self._enum(list(schema["enum"]), v, kind))
        if "const" in schema and not self.draft4:  # `const` came with draft-06
            parts.append(Expr(f"_json_equal({v}, {self._const(schema['const'])})"))
        parts += self._combinators(schema, base, v)
        for name, build in (("object", self._object), ("array", self._array), ("string", self._string),
                            ("number", self._number)):
            if kind is not None and kind != name:
                continue  # the type test already excluded this kind
            typed = build(schema, base, v)
            if typed:
                parts += typed if kind == name else _guarded(_GUARDS[name].format(v=v), typed)
        return parts

    def _type(self, names: Any, v: str) -> tuple[Expr, str | None]:
        tests = []
        for n in names if isinstance(names, list) else [names]:
            if n in ("object", "array", "string", "number"):
                tests.append(_GUARDS[n].format(v=v))
            elif n == "boolean":
                tests.append(f"isinstance({v}, bool)")
            elif n == "null":
                tests.append(f"{v} is None")
            elif n == "integer":
                test = f"(isinstance({v}, int) and not isinstance({v}, bool))"
                tests.append(test if self.draft4 else f"({test} or (isinstance({v}, float) and {v}.is_integer()))")
            else:
                tests.append("False")
        kinds = {"integer": "number", "boolean": "boolean", "null": "null"}
        single = names if isinstance(names, str) else names[0] if isinstance(names, list) and len(names) == 1 else None
        kind = kinds.get(single, single) if isinstance(single, str) and single in _TYPE_NAMES else None
        return Expr("(" + " or ".join(tests) + ")" if tests else "False"), kind

    def _enum(self, options: list, v: str, kind: str | None) -> Expr:
        if all(isinstance(o, str) for o in options):
            allowed = self._const(frozenset(options))
            return Expr(f"({v} in {allowed})" if kind == "string" else f"(isinstance({v}, str) and {v} in {allowed})")
        return Expr(f"_any_equal({v}, {self._const(options)})")

    def _combinators(self, schema: dict, base: str, v: str) -> list[str]:
        parts: list[str] = []
        for word in ("anyOf", "oneOf", "allOf"):
            if word in schema:
                subs = [self.sub(s, base, v) for s in schema[word]]
                if not subs:
                    parts.append(Expr("False") if word != "allOf" else Expr("True"))
                elif word == "anyOf":
                    parts.append(Expr("(" + " or ".join(subs) + ")"))
                elif word == "allOf":
                    parts.append(Expr("(" + " and ".join(subs) + ")"))
                else:
                    parts.append(Expr("((" + ") + (".join(f"1 if {s} else 0" for s in subs) + ") == 1)"))
        if "not" in schema:
            parts.append(Expr(f"(not {self.sub(schema['not'], base, v)})"))
        return parts

    def _object(self, schema: dict, base: str, v: str) -> list[str]:
        parts: list[str] = []
        if "required" in schema:
            parts.append(Expr(f"({v}.keys() >= {self._const(frozenset(schema['required']))})"))
        if "minProperties" in schema:
            parts.append(Expr(f"(len({v}) >= {self._const(schema['minProperties'])})"))
        if "maxProperties" in schema:
            parts.append(Expr(f"(len({v}) <= {self._const(schema['maxProperties'])})"))
        if any(k in schema for k in ("properties", "patternProperties", "additionalProperties")):
            parts += self._members(schema, base, v)
        return parts

    def _members(self, schema: dict, base: str, v: str) -> list[str]:
        props: dict[str, Check] = {}
        for name, sub in schema.get("properties", {}).items():
            props[name] = self.plain(sub, base) or self._deferred(props, name, sub, base)
        extra = schema.get("additionalProperties", True)
        table = self._const(props)
        if schema.get("patternProperties"):
            patterns = [(re.compile(p), self.name_for(sub, base)) for p, sub in schema["patternProperties"].items()]
            extra_name = None if extra is True or extra == {} else self.name_for(extra, base)
            return [Expr(f"_members({v}, {table}, {self._const(patterns)}, {self._const(extra_name)}, {self._const(self.ns)})")]
        checked = any(c is not _always for c in props.values())
        if extra is False:
            # every key must be known, so the loop can index the table directly
            parts: list[str] = [Expr(f"({v}.keys() <= {self._const(frozenset(props))})")]
            if checked:
                parts.append(Block([f"for k, x in {v}.items():", f"    if not {table}[k](x): return False"]))
            return parts
        extra_expr = None if extra is True or extra == {} else self.sub(extra, base, "x")
        if extra_expr is None:
            if not checked:
                return []
            return [Block([f"g = {table}.get", f"for k, x in {v}.items():", "    c = g(k)",
                           "    if c is not None and not c(x): return False"])]
        if not props:
            return [Block([f"for x in {v}.values():", f"    if not {extra_expr}: return False"])]
        return [Block([f"g = {table}.get", f"for k, x in {v}.items():", "    c = g(k)",
                       "    if c is None:", f"        if not {extra_expr}: return False",
                       "    elif not c(x): return False"])]

    def _array(self, schema: dict, base: str, v: str) -> list[str]:
        parts: list[str] = []
        items = schema.get("items", True)
        if isinstance(items, (dict, bool)) and not (items is True or items == {}):
            parts.append(self._items(items, base, v))
        if "minItems" in schema:
            parts.append(Expr(f"(len({v}) >= {self._const(schema['minItems'])})"))
        if "maxItems" in schema:
            parts.append(Expr(f"(len({v}) <= {self._const(schema['maxItems'])})"))
        if schema.get("uniqueItems") is True:
            parts.append(Expr(f"_unique({v})"))
        return parts

    def _items(self, items: Any, base: str, v: str) -> Block:
        """The loop over an array's items; where an item is an object with members to walk, it skips
        the items that passed this node before in a `memo` scope (shared subtrees, such as the Argo
        step templates one dict of which many WorkflowTemplates hold). Leaves get no memo: it would
        cost more than they do."""
        expr = self.leaf(items, base, "x")
        if expr is not None or not self._walks_members(items, base):
            return Block([f"for x in {v}:", f"    if not {expr or self.sub(items, base, 'x')}: return False"])
        name = self.name_for(items, base)
        key = self._const(self.memo_keys.setdefault(name, object()))
        return Block([f"p = _passed({key})",
                      "if p is None:",
                      f"    for x in {v}:",
                      f"        if not {name}(x): return False",
                      "else:",
                      f"    for x in {v}:",
                      "        if id(x) not in p:",
                      f"            if not {name}(x): return False",
                      "            p[id(x)] = x"])

    def _walks_members(self, schema: Any, base: str) -> bool:
        """Whether `schema` (or the target of its `$ref`) checks an object's members one by one."""
        schema, base = self._resolve(schema, base)
        if isinstance(schema, dict) and "$ref" in schema and not (schema.get("properties") or schema.get("patternProperties")):
            schema, base = self._resolve(*self._target(schema["$ref"], base))
        return isinstance(schema, dict) and bool(schema.get("properties") or schema.get("patternProperties"))

    def _string(self, schema: dict, base: str, v: str) -> list[str]:
        parts: list[str] = []
        if "minLength" in schema:
            parts.append(Expr(f"(len({v}) >= {self._const(schema['minLength'])})"))
        if "maxLength" in schema:
            parts.append(Expr(f"(len({v}) <= {self._const(schema['maxLength'])})"))
        if "pattern" in schema:
            parts.append(Expr(f"({self._const(re.compile(schema['pattern']).search)}({v}) is not None)"))
        if schema.get("format") in self.formats:
            parts.append(Expr(f"{self._const(self.formats[schema['format']])}({v})"))
        return parts

    def _number(self, schema: dict, base: str, v: str) -> list[str]:
        parts: list[str] = [Expr(f"({v} {op} {self._const(limit)})") for op, limit in _bounds(schema, self.draft4)]
        if "multipleOf" in schema:
            parts.append(Expr(f"{self._const(_multiple_of(schema['multipleOf']))}({v})"))
        return parts


_TYPE_NAMES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


def _needs_loops(schema: Any) -> bool:
    """Whether the node surely has members or items to loop over (so is not worth trying to inline)."""
    if not isinstance(schema, dict):
        return False
    items, extra = schema.get("items", True), schema.get("additionalProperties", True)
    return bool(schema.get("properties") or schema.get("patternProperties")) or not (
        items is True or items == {}) or not (extra is True or extra is False or extra == {})


def _conjunction(parts: list[str]) -> str:
    if not parts:
        return "True"
    return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"


def _guarded(guard: str, parts: list[str]) -> list[str]:
    """`parts` apply only to values of one kind (the guard); others pass."""
    if not any(isinstance(p, Block) for p in parts):
        return [Expr(f"(not {guard} or {_conjunction(parts)})")]
    lines = [f"if {guard}:"]
    for part in parts:
        lines += ["    " + line for line in part] if isinstance(part, Block) else [f"    if not {part}: return False"]
    return [Block(lines)]


def _members_with_patterns(value: dict, props: dict, patterns: list, extra: str | None, ns: dict) -> bool:
    """Members of an object whose schema has patternProperties (rare: the generic loop)."""
    for key, item in value.items():
        check = props.get(key)
        matched = [name for rx, name in patterns if rx.search(key)]
        if check is not None and not check(item):
            return False
        if not all(ns[name](item) for name in matched):
            return False
        if check is None and not matched and extra is not None and not ns[extra](item):
            return False
    return True


def _unique(value: list) -> bool:
    return all(not json_equal(a, b) for i, a in enumerate(value) for b in value[i + 1:])


def _bounds(schema: dict, draft4: bool) -> list[tuple[str, Any]]:
    """(operator, limit) pairs of the numeric bounds; in draft-04 `exclusive*` are flags on minimum/maximum."""
    bounds = []
    for word in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if word not in schema or (draft4 and word.startswith("exclusive")):
            continue
        exclusive = word.startswith("exclusive") or (draft4 and schema.get("exclusive" + word.capitalize()) is True)
        lower = word in ("minimum", "exclusiveMinimum")
        bounds.append(((">" if exclusive else ">=") if lower else ("<" if exclusive else "<="), schema[word]))
    return bounds


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
        root = compiler.function(schema, schema.get("$id", "") if isinstance(schema.get("$id"), str) else "")
    except (Unsupported, KeyError, IndexError, TypeError, re.error, RecursionError):
        return _never  # jsonschema checks every document against this schema

    def check(value: Any) -> bool:
        try:
            return root(value)
        except (Unsupported, KeyError, IndexError, TypeError, re.error, RecursionError):
            return False  # let jsonschema decide and explain

    return check
