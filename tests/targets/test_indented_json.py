"""indented_json writes what `json.dumps(value, indent=2, sort_keys=True)` writes, whatever the value."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict

import pytest

from maestro import indented_json


class Colour(str, enum.Enum):
    RED = "red"


VALUES = [
    {},
    [],
    (),
    "plain",
    "quote \" backslash \\ newline \n tab \t unicode é € 𝄞 control \x01",
    0, -7, 10**30, True, False, None,
    1.0, -0.0, 1e-7, 1e22, 0.1 + 0.2, float("nan"), float("inf"), float("-inf"),
    {"b": 1, "a": [1, 2.5, "x", None, True], "c": {}},
    {"nested": {"deeper": {"deepest": [{"k": []}, {}, [[], [1]], ()]}}, "z": (1, (2, 3))},
    [{"b": "2", "a": "1"}, [["x"]], [], {"list": [{"in": "list"}]}],
    {"mixed": [1, {"a": 1}, [2], "s"], "flat": {"x": 1, "y": {}, "z": []}},
    {"with\nnewline": "v", "é": "ü", "": ""},
    {"2": "two", "10": "ten"},
    {1: "a", 2: {"nested": True}},                 # keys json.dumps converts
    {True: 1, 2: 2, 1.5: 3},
    OrderedDict([("b", 1), ("a", {"c": [1]})]),     # a dict subclass
    {"enum": Colour.RED, "deep": {"enum": [Colour.RED]}},
    ["a", ("tuple", "inside"), {"t": ()}],
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_dumps_writes_what_the_standard_library_writes(value) -> None:
    assert indented_json.dumps(value) == json.dumps(value, indent=2, sort_keys=True)


def test_what_json_cannot_hold_raises_as_the_standard_library_does() -> None:
    for value in ({"a": {"b": object()}}, [object()], {"set": {1, 2}}):
        with pytest.raises(TypeError):
            json.dumps(value, indent=2, sort_keys=True)
        with pytest.raises(TypeError):
            indented_json.dumps(value)


def test_a_spec_sized_document_matches(project) -> None:
    for environment in project.environments.values():
        value = environment.model_dump(mode="json")
        assert indented_json.dumps(value) == json.dumps(value, indent=2, sort_keys=True)
    for effective in project.effective.values():
        value = effective.pipeline.model_dump(mode="json")
        assert indented_json.dumps(value) == json.dumps(value, indent=2, sort_keys=True)


def test_remembered_sections_write_what_the_standard_library_writes() -> None:
    memo: dict = {}
    documents = [{"spec": {"a": value, "b": [value, {"c": value}]}, "top": value} for value in VALUES
                 if not isinstance(value, OrderedDict)]
    for _ in range(2):   # the second time from the memo
        for document in documents:
            assert indented_json.dumps_remembering(document, memo) == json.dumps(document, indent=2, sort_keys=True)
    assert memo


def test_a_section_remembered_at_one_depth_is_written_at_another_with_its_own_indent() -> None:
    memo: dict = {}
    section = {"x": [1, 2], "y": {"z": True}}
    for document in ({"spec": {"s": section}}, {"s": section}, {"a": {"b": {"c": section}}}, section):
        assert indented_json.dumps_remembering(document, memo) == json.dumps(document, indent=2, sort_keys=True)


def test_an_equal_looking_section_of_other_types_is_not_mistaken_for_a_remembered_one() -> None:
    memo: dict = {}
    for document in ({"s": {"v": [1, 2]}}, {"s": {"v": [1.0, 2]}}, {"s": {"v": [True, 2]}}, {"s": {"v": ["1", 2]}},
                     {"s": {"v": (1, 2)}}):
        assert indented_json.dumps_remembering(document, memo) == json.dumps(document, indent=2, sort_keys=True)


def test_remembered_text_nests_at_the_indent_asked_for() -> None:
    memo: dict = {}
    for value in VALUES[:8] + [{"spec": {"a": {"b": [1, {"c": 2}]}}}]:
        nested = json.dumps(value, indent=2, sort_keys=True).replace("\n", "\n    ")
        assert indented_json.dumps_remembering(value, memo, indent="    ") == nested
