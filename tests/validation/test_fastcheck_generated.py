"""The generated checks agree with jsonschema on random schemas and random instances.

The generator inlines leaf subschemas, guards typed keywords with statements or
expressions, specialises member loops by `additionalProperties` and resolves `$ref`
chains; seeded random schemas reach each of those shapes in both drafts, and any
disagreement (in either direction) is a bug: these schemas use no keyword the fast
path leaves to jsonschema.
"""

from __future__ import annotations

import random

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from maestro.validation.fastcheck import compile_check
from maestro.validation.formats import FORMAT_CHECKS, format_checker

NAMES = ["a", "b", "x-1", "name"]
TYPES = ["object", "array", "string", "integer", "number", "boolean", "null"]
SCALARS = [0, 1, 2, -3, 1.5, 2.0, True, False, None, "", "a", "ab", "abc", "x-1", "5m", "2024-01-01T00:00:00Z",
           "2024-02-30T00:00:00Z"]


def _schema(rng: random.Random, draft4: bool, depth: int, refs: list[str]) -> object:
    if depth > 3 or rng.random() < 0.15:
        leaf = rng.choice([True, False, {}, {"type": rng.choice(TYPES)}, {"type": "string", "pattern": "^a"}])
        if draft4 and isinstance(leaf, bool):  # draft-04 has no boolean schemas
            leaf = {} if leaf else {"not": {}}
        return leaf
    schema: dict = {}
    for _ in range(rng.randint(1, 4)):
        pick = rng.random()
        sub = lambda: _schema(rng, draft4, depth + 1, refs)  # noqa: E731
        if pick < 0.2:
            schema["type"] = rng.choice(TYPES) if rng.random() < 0.7 else rng.sample(TYPES, 2)
        elif pick < 0.25:
            schema["enum"] = rng.sample(SCALARS, 3) if rng.random() < 0.5 else ["a", "ab"]
        elif pick < 0.28 and not draft4:
            schema["const"] = rng.choice(SCALARS)
        elif pick < 0.36:
            word = rng.choice(["anyOf", "oneOf", "allOf"])
            schema[word] = [sub() for _ in range(rng.randint(1, 3))]
        elif pick < 0.39:
            schema["not"] = sub()
        elif pick < 0.55:
            schema["properties"] = {n: sub() for n in rng.sample(NAMES, rng.randint(1, 3))}
            if rng.random() < 0.5:
                schema["required"] = rng.sample(NAMES, rng.randint(1, 2))
            if rng.random() < 0.6:
                schema["additionalProperties"] = rng.choice([False, True, sub()])
        elif pick < 0.6:
            schema["patternProperties"] = {"^x-": sub()}
            schema["additionalProperties"] = rng.choice([False, sub()])
        elif pick < 0.64:
            schema["additionalProperties"] = sub()
            schema[rng.choice(["minProperties", "maxProperties"])] = rng.randint(0, 2)
        elif pick < 0.74:
            schema["items"] = sub()
            if rng.random() < 0.4:
                schema[rng.choice(["minItems", "maxItems"])] = rng.randint(0, 2)
            if rng.random() < 0.2:
                schema["uniqueItems"] = True
        elif pick < 0.82:
            schema[rng.choice(["minLength", "maxLength"])] = rng.randint(1, 2)
            schema.update(rng.choice([{}, {"pattern": "b"}, {"format": "date-time"}, {"format": "duration"},
                                      {"format": "int32"}]))
        elif pick < 0.9:
            schema[rng.choice(["minimum", "maximum"])] = rng.choice([0, 1, 1.5])
            if draft4 and rng.random() < 0.5:
                schema[rng.choice(["exclusiveMinimum", "exclusiveMaximum"])] = True
            elif not draft4 and rng.random() < 0.5:
                schema[rng.choice(["exclusiveMinimum", "exclusiveMaximum"])] = rng.choice([0, 2])
            if rng.random() < 0.3:
                schema["multipleOf"] = rng.choice([2, 0.5])
        elif pick < 0.96 and refs:
            schema["$ref"] = rng.choice(refs)
        else:
            schema["x-kubernetes-int-or-string"] = True
    return schema


def _instance(rng: random.Random, depth: int = 0) -> object:
    pick = rng.random()
    if depth > 3 or pick < 0.5:
        return rng.choice(SCALARS)
    if pick < 0.8:
        return {n: _instance(rng, depth + 1) for n in rng.sample(NAMES + ["zz"], rng.randint(0, 3))}
    return [_instance(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def _document(rng: random.Random, draft4: bool) -> dict:
    defs_word = "definitions" if draft4 else "$defs"
    refs = [f"#/{defs_word}/d0", f"#/{defs_word}/d1", f"#/{defs_word}/d2"]
    # each definition refers only to earlier ones: a `$ref` loop is left to jsonschema, so not compared here
    defs = {"d0": _object(_schema(rng, draft4, 1, [])), "d1": _object(_schema(rng, draft4, 1, refs[:1])),
            "d2": {"$ref": refs[1]}}
    return {**_object(_schema(rng, draft4, 0, refs)), defs_word: defs}


def _object(schema: object) -> dict:
    return schema if isinstance(schema, dict) else {"allOf": [schema]}


@pytest.mark.parametrize("draft4", [True, False], ids=["draft4", "2020-12"])
def test_random_schemas_agree_with_jsonschema(draft4):
    rng = random.Random(20261203 + draft4)
    cls = Draft4Validator if draft4 else Draft202012Validator
    checked = valid = 0
    for _ in range(600):
        schema = _document(rng, draft4)
        oracle = cls(schema, format_checker=format_checker())
        fast = compile_check(schema, draft4, FORMAT_CHECKS)
        for _ in range(15):
            instance = _instance(rng)
            expected = oracle.is_valid(instance)
            assert fast(instance) == expected, (schema, instance)
            checked += 1
            valid += expected
    assert checked == 9000 and 0.1 * checked < valid < 0.9 * checked  # both answers are exercised
