"""The direct YAML writer against PyYAML's dumper: the same bytes for every object, and a libyaml load
of those bytes gives the object back.

The golden trees give the objects Maestro really writes (each must take the direct path, not the
fallback); hypothesis gives adversarial ones: strings the resolver reads as something else, YAML
indicators, leading and trailing blanks, breaks, control and non-BMP characters, long lines.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from maestro.compile import compile_project
from maestro.render import FIRST_KEYS, TOP_KEYS, manifest_text, pyyaml_text, render
from maestro.validation.embedded import resource_manifests
from maestro.yamlwriter import Unsupported, document_text, shared_subtrees

from tests.support import REPO

EDGE = Path(__file__).parent / "fixtures" / "edge"
GOLDEN_FOLDERS = (REPO / "gitops", Path(__file__).parent / "golden")

pytestmark = pytest.mark.skipif(not hasattr(yaml, "CSafeDumper"), reason="the writer matches libyaml's emitter")


def direct(body: dict) -> str:
    return document_text(body, TOP_KEYS, FIRST_KEYS)


def _compiled_bodies() -> list[tuple[str, dict]]:
    bodies = []
    for root in (REPO, EDGE):
        for output in compile_project(root, validate=False).tree.outputs:
            bodies.append((f"{root.name}:{output.path}", output.body))
            bodies += [(f"{root.name}:{output.path}:manifest", m) for _, m in resource_manifests(output.body)]
    return bodies


def _golden_bodies() -> list[tuple[str, dict]]:
    bodies = []
    for folder in GOLDEN_FOLDERS:
        for path in sorted(folder.rglob("*.yaml")):
            for i, body in enumerate(yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)):
                if isinstance(body, dict):
                    bodies.append((f"{path.relative_to(REPO).as_posix()}#{i}", body))
    return bodies


def test_every_compiled_object_takes_the_direct_path_to_pyyamls_bytes() -> None:
    bodies = _compiled_bodies()
    assert len(bodies) > 150 and any(name.endswith(":manifest") for name, _ in bodies)
    assert [name for name, body in bodies if direct(body) != pyyaml_text(body)] == []


def test_every_golden_file_object_takes_the_direct_path_to_pyyamls_bytes() -> None:
    bodies = _golden_bodies()
    assert len(bodies) > 150
    assert [name for name, body in bodies if direct(body) != pyyaml_text(body)] == []


def test_render_writes_the_committed_bytes() -> None:
    output = next(o for o in compile_project(REPO, validate=False).tree.outputs if o.path.endswith(".yaml"))
    assert render(output.body, output.sources) == (REPO / "gitops" / output.path).read_bytes()


# --- hypothesis: adversarial objects ---------------------------------------------------------------

TRICKY = [
    "", " ", "  ", "yes", "no", "on", "off", "Yes", "NO", "y", "n", "true", "False", "~", "null", "Null",
    "0x1F", "0o17", "017", "1e3", "1.0e+3", "1_000", "+1", "-1", "1:20", "190:20:30", ".5", "1.", ".inf",
    "-.Inf", ".NaN", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "=", "<<",
    "-", "--", "---", "--- a", "...", "..", "- a", "-a", "? a", "?", ":", ": ", "a:", "a: b", "a:b", "#",
    "#a", "a #b", "a#b", ",", "[", "]", "{}", "[]", "&a", "*a", "!a", "|", ">", "'", '"', "%", "@", "`",
    "it's", 'say "hi"', "back\\slash", "a\tb", "\t", "a\n", "\n", "\n\n", "a\n\n", "\na", " a\nb",
    "a \nb", "a\n b", "a\nb ", "a\r\nb", "\r", "a\x85b", "\x00", "\x07\x1b", "\ufeff", "\ufffe", "\xa0",
    "é", "日本語", "\U0001f600", "a\u2028b", "x" * 130, "word " * 900, "x" * 5000, "a\n" * 50,
    "{{inputs.parameters.x}}", "s3://bucket/key", "http://x:8080/a#b", "python -c 'print(1)'",
]
FIRST_OR_TOP = list(TOP_KEYS + FIRST_KEYS)

strings = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12),
                    st.text(alphabet=st.sampled_from(list(" \n\t:#-'\"a1.")), max_size=8))
KEY_BREAKS = "\n\r\x85\u2028\u2029"   # a key holding one is a complex key: PyYAML's path (tested above)
simple_keys = [t for t in TRICKY if len(t) <= 128 and not set(t) & set(KEY_BREAKS)]
keys = st.one_of(st.sampled_from(FIRST_OR_TOP), st.sampled_from(simple_keys),
                 st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=KEY_BREAKS), max_size=12))
scalars = st.one_of(strings, st.integers(), st.booleans(), st.none(),
                    st.floats(allow_nan=False), st.sampled_from([1e20, 1e-7, -0.0, 1e16, float("nan")]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(keys, inner, max_size=4)), max_leaves=20)
bodies = st.dictionaries(keys, values, max_size=6)
FUZZ = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def plain(value):
    """`value` as a libyaml load gives it back: tuples are lists, NaN is a marker (it equals nothing)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return "<nan>" if isinstance(value, float) and math.isnan(value) else value


@FUZZ
@given(body=bodies)
def test_direct_text_is_pyyamls_and_loads_back_as_the_object(body: dict) -> None:
    reference = pyyaml_text(body)
    assert manifest_text(body) == reference
    try:
        assert direct(body) == reference
    except Unsupported:
        pass   # left to PyYAML, as manifest_text just did
    assert plain(yaml.load(reference, Loader=yaml.CSafeLoader)) == plain(body)


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_each_tricky_string_as_value_item_and_key(text: str) -> None:
    as_value = {"spec": {"value": text, "items": [text, [text]], "nested": [{"name": text}]}}
    as_key = {"spec": {text: text, "next": 1}}
    for body in (as_value, as_key):
        reference = pyyaml_text(body)
        assert manifest_text(body) == reference
        assert yaml.load(reference, Loader=yaml.CSafeLoader) == body
    if "\u2028" not in text and text != "word " * 900:
        assert direct(as_value) == pyyaml_text(as_value)   # the writer covers it itself
    if not any(c in text for c in "\n\r\x85\u2028") and len(text) <= 128:
        assert direct(as_key) == pyyaml_text(as_key)


def test_outside_the_subset_falls_back_to_pyyaml() -> None:
    for body in ({"a": {1: "int key"}}, {"a": ("x",)}, {"k" * 200: 1}, {"a": "line\u2028separator"}):
        assert manifest_text(body) == pyyaml_text(body)
    with pytest.raises(Unsupported):
        direct({"a": {1: "int key"}})


# --- the writer's caches: layouts per key set and place, multi-line text per indent ------------------

def _orders_of(keys: list[str]) -> list[list[str]]:
    return [keys, keys[::-1], keys[1:] + keys[:1]]


@pytest.mark.parametrize("keys", [["name", "b", "a"], ["b", "a", "c"], ["namespace", "x", "name", "generateName"],
                                  ["spec", "kind", "z", "apiVersion", "metadata"]], ids=str)
def test_one_key_set_in_any_insertion_order_and_place_gives_pyyamls_bytes(keys: list[str]) -> None:
    for order in _orders_of(keys) * 2:   # the second round is written from the cached layouts
        inner = {k: i for i, k in enumerate(order)}
        body = dict(inner, nested={"deeper": dict(inner), "items": [dict(inner), [dict(inner)], dict(inner)]})
        body = {k: body[k] for k in order + ["nested"]}
        assert direct(body) == pyyaml_text(body)
        assert direct({"spec": [inner, {"more": [inner]}]}) == pyyaml_text({"spec": [inner, {"more": [inner]}]})


def test_layouts_follow_the_first_keys_each_call_asks_for() -> None:
    body = {"b": {"b": 1, "a": 2}, "a": [{"b": 1, "a": 2}]}
    assert document_text(body, ("b",), ("b",)) == "b:\n  b: 1\n  a: 2\na:\n- b: 1\n  a: 2\n"
    assert document_text(body, (), ()) == "a:\n- a: 2\n  b: 1\nb:\n  a: 2\n  b: 1\n"
    assert document_text(body, ("b",), ("b",)) == "b:\n  b: 1\n  a: 2\na:\n- b: 1\n  a: 2\n"


@pytest.mark.parametrize("text", ["a\nb", "a\nb\n", "a\nb\n\n", "\n", " a\nb\n\n", "a \nb", "\ta\nb\n"], ids=repr)
def test_a_multi_line_string_at_several_indents_and_before_or_after_others(text: str) -> None:
    others = ["x\ny", "x\ny\n\n", "plain"]
    for _ in range(2):   # the second round is written from the cached texts
        for other in others:
            for body in ({"a": text, "b": {"c": text, "d": [text, [text]]}, "e": other},
                         {"a": other, "b": [{"c": [text]}], "e": text},
                         {"a": text, "b": other}):
                assert direct(body) == pyyaml_text(body)


def test_the_caches_emptied_between_documents_change_no_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    import maestro.yamlwriter as writer
    body = {"spec": {"script": "a\nb\n\n", "items": [{"name": "x", "run": "c\nd"}], "n": 1}}
    warm = direct(body)
    monkeypatch.setattr(writer, "_MAX_BLOCK_CHARS", 0)
    assert direct({"other": "e\nf"}) and direct(body) == direct(body) == warm == pyyaml_text(body)
    assert {text for text, _ in writer._blocks} == {"a\nb\n\n", "c\nd"}   # emptied before each document


# --- shared subtrees: one mapping object in many sequences, written once per indent ----------------

def test_a_compiled_environment_shares_step_templates_and_renders_them_as_unshared_ones() -> None:
    outputs = compile_project(REPO, validate=False).tree.outputs
    items = [t for o in outputs if o.body["kind"] == "WorkflowTemplate" for t in o.body["spec"]["templates"]]
    assert len({id(t) for t in items}) < len(items)   # what the scope exists for
    with shared_subtrees():
        shared = [render(o.body, o.sources) for o in outputs]
    assert shared == [render(o.body, o.sources) for o in outputs]


@pytest.mark.parametrize("text", ["a\nb\n\n", "a\nb", "a\nb\n", "plain", "a \nb"], ids=repr)
def test_a_shared_item_at_several_indents_and_with_a_block_ending_the_document(text: str) -> None:
    item = {"name": "x", "script": text, "more": [{"run": text}]}
    documents = [{"a": [item], "b": [item, [item]]},          # the same object at indents 0 and 2
                 {"a": [item], "b": "after"},                  # a later plain value closes the block
                 {"a": [item, {"other": "x\ny"}], "b": [item]},
                 {"b": [item], "z": [item]}]
    with shared_subtrees():
        texts = [direct(body) for body in documents * 2]       # the second round from the kept texts
    assert texts == [pyyaml_text(body) for body in documents * 2]


def test_the_scope_ends_with_its_block_and_a_changed_object_is_written_anew() -> None:
    item = {"name": "x"}
    body = {"items": [item, item]}
    with shared_subtrees():
        assert direct(body) == "items:\n- name: x\n- name: x\n"
    item["name"] = "y"
    assert direct(body) == "items:\n- name: y\n- name: y\n"
    with shared_subtrees():
        assert direct(body) == "items:\n- name: y\n- name: y\n"
