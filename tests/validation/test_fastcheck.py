"""The compiled yes/no check agrees with jsonschema, which stays the authority.

A disagreement where the fast check says "valid" would hide an invalid document,
so the check is compared with jsonschema on small schemas keyword by keyword, and
on the corpus and on thousands of seeded random mutations of it.
"""

from __future__ import annotations

import copy
import random

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from maestro.validation import Document, load_documents
from maestro.validation.engine import SchemaLookup, make_settings
from maestro.validation.fastcheck import compile_check
from maestro.validation.formats import FORMAT_CHECKS, format_checker

from .conftest import CORPUS, FIXTURES, SCHEMAS

KEYWORD_CASES = [
    # id, schema, instances
    ("types", {"type": ["integer", "null"]}, [1, 1.0, 1.5, None, True, "1"]),
    ("number", {"type": "number"}, [1, 1.5, True, "1"]),
    ("enum", {"enum": ["a", 1, True, None, [1], {"k": 1}]}, ["a", 1, True, False, 1.0, None, [1], [True], {"k": 1}, "b"]),
    ("const", {"const": 0}, [0, False, 0.0, "0"]),
    ("min-max", {"minimum": 1, "maximum": 3}, [0, 1, 3, 4, 2.5, "x", True]),
    ("exclusive-draft4", {"minimum": 1, "exclusiveMinimum": True, "maximum": 3, "exclusiveMaximum": True}, [1, 2, 3]),
    ("exclusive-2020", {"exclusiveMinimum": 1, "exclusiveMaximum": 3}, [1, 2, 3]),
    ("multiple-of", {"multipleOf": 0.5}, [1, 1.5, 1.25, 2]),
    ("multiple-of-int", {"multipleOf": 3}, [9, 10, 4.5, 9.0]),
    ("strings", {"minLength": 2, "maxLength": 3, "pattern": "^a"}, ["a", "ab", "abcd", "ba", 5]),
    ("formats", {"properties": {"t": {"format": "date-time"}, "d": {"format": "duration"}}},
     [{"t": "2024-01-01T00:00:00Z", "d": "5m"}, {"t": "2024-01-01"}, {"d": "5 min"}, {"d": 5}]),
    ("object", {"required": ["a"], "minProperties": 1, "maxProperties": 2, "properties": {"a": {"type": "string"}},
                "patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": False},
     [{"a": "1"}, {"a": 1}, {}, {"a": "1", "x-n": 1}, {"a": "1", "x-n": "1"}, {"a": "1", "b": 1}, {"a": "", "x-1": 1, "x-2": 2}, []]),
    ("additional-schema", {"properties": {"a": {}}, "additionalProperties": {"type": "boolean"}}, [{"a": 1, "b": True}, {"b": 1}]),
    ("arrays", {"items": {"type": "integer"}, "minItems": 1, "maxItems": 2, "uniqueItems": True},
     [[1], [], [1, 2, 3], [1, 1], [1, True], ["a"], {"a": 1}]),
    ("combinators", {"anyOf": [{"type": "integer"}, {"type": "string"}], "not": {"const": "no"}}, [1, "a", "no", 1.5]),
    ("one-of", {"oneOf": [{"minimum": 0}, {"maximum": 10}]}, [-1, 5, 11]),
    ("all-of", {"allOf": [{"minimum": 0}, {"maximum": 10}]}, [-1, 5, 11]),
    ("ref-recursion", {"$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}},
                                          "additionalProperties": False}}, "$ref": "#/$defs/node"},
     [{"next": {"next": {}}}, {"next": {"next": {"x": 1}}}, {"next": 1}]),
    ("boolean-schemas", {"properties": {"yes": True, "no": False}}, [{"yes": 1}, {"no": 1}, {}]),
    ("unknown-keywords-ignored", {"x-kubernetes-int-or-string": True, "nullable": True, "type": "string"}, ["a", None]),
    ("unsupported-keyword-defers", {"if": {"type": "string"}, "then": {"minLength": 2}}, ["a", "ab", 1]),
]


@pytest.mark.parametrize("draft", ["draft4", "2020-12"])
@pytest.mark.parametrize("schema, instances", [c[1:] for c in KEYWORD_CASES], ids=[c[0] for c in KEYWORD_CASES])
def test_keywords_agree_with_jsonschema(draft, schema, instances):
    cls = Draft4Validator if draft == "draft4" else Draft202012Validator
    if draft == "draft4" and "$defs" in schema:
        schema = copy.deepcopy({"definitions": schema["$defs"], "$ref": "#/definitions/node"})
        schema["definitions"]["node"]["properties"]["next"]["$ref"] = "#/definitions/node"
    oracle = cls(schema, format_checker=format_checker())
    fast = compile_check(schema, draft == "draft4", FORMAT_CHECKS)
    for instance in instances:
        if "unsupported" in str(schema) or "if" in schema:
            assert not fast(instance) or oracle.is_valid(instance)  # may defer, never wrongly pass
        else:
            assert fast(instance) == oracle.is_valid(instance), instance


def _corpus_bodies() -> list[dict]:
    loaded = load_documents([str(CORPUS), str(FIXTURES)])
    return [d.body for d in loaded if isinstance(d, Document)]


def _nodes(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nodes(child, path + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _nodes(child, path + (i,))


REPLACEMENTS = [0, 7, -1, 1.5, "", "x", "2024-13-01T00:00:00Z", "5m", True, None, [], [1], {}, {"unknown": 1}]


def _mutate(body: dict, rng: random.Random) -> dict:
    body = copy.deepcopy(body)
    path, _ = rng.choice([n for n in _nodes(body) if n[0]])
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    action = rng.random()
    if action < 0.2 and isinstance(parent, dict):
        del parent[path[-1]]
    elif action < 0.35 and isinstance(parent, dict):
        parent["zz" + str(path[-1])] = rng.choice(REPLACEMENTS)
    else:
        parent[path[-1]] = copy.deepcopy(rng.choice(REPLACEMENTS))
    return body


@pytest.mark.corpus
def test_corpus_and_random_mutations_agree_with_jsonschema():
    lookup = SchemaLookup(make_settings([str(SCHEMAS)]))
    rng = random.Random(20260517)
    checked = disagreements = 0
    for body in _corpus_bodies():
        compiled = lookup.find(body["apiVersion"], body["kind"])
        if compiled is None:
            continue
        for candidate in [body] + [_mutate(body, rng) for _ in range(12)]:
            fast, slow = compiled.fast(candidate), compiled.validator.is_valid(candidate)
            assert not (fast and not slow), candidate  # never pass what jsonschema rejects
            disagreements += fast != slow
            checked += 1
    assert checked > 2500 and disagreements == 0
