"""The loader, `maestro.loading.positions.load_bytes`, on arbitrary input: documents or a located refusal, never
another exception and never a hang. Its fast path (libyaml, `maestro.loading.yaml12`) must agree with the
full path (ruamel.yaml) on every text it accepts: the same values at the same lines and columns."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maestro.loading import positions as source, yaml12
from maestro.errors import MaestroError

FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
# Plain scalars that YAML 1.1 and 1.2 read differently, or that look like structure.
TRICKY = ["yes", "No", "on", "OFF", "y", "true", "False", "null", "~", "", "0o17", "017", "0x1F", "0b11", "1_000",
          "+1", "-.5", ".5", "1e3", "1.5e-3", ".inf", "-.Inf", ".NaN", "2001-12-14", "2001-12-14 21:59:43.10 -5",
          "1:20", "=", "<<", "a: b", "- x", "#c", "a #c", "'q'", '"d"', "x\ty", "é", "\u2028", "@", "`", "!t x",
          "!!str 1", "!!int x", "? k", "[a, b]", "{k: v}", "&a v", "*a", "|", ">", "%x", "---", "..."]
KEYS = st.sampled_from(["a", "b", "name", "spec", "<<", "1", "true", "~", "k k", "x:y"])


def load(raw: bytes) -> list | MaestroError:
    try:
        return source.load_bytes(raw, "spec.yaml")
    except MaestroError as exc:
        return exc


def assert_located(result: list | MaestroError) -> None:
    if isinstance(result, MaestroError):
        assert result.diagnostics
        for d in result.diagnostics:
            assert d.file == "spec.yaml" and d.line >= 1 and d.col >= 1, d.format()


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_load_or_are_refused_at_a_location(raw: bytes) -> None:
    assert_located(load(raw))


def node(depth: int):
    scalar = st.sampled_from(TRICKY) | st.text(max_size=6)
    if depth == 0:
        return scalar
    child = node(depth - 1)
    return scalar | st.lists(child, max_size=3) | st.dictionaries(KEYS, child, max_size=3)


@st.composite
def texts(draw) -> str:
    """Block and flow YAML written by hand (unquoted), with anchors, aliases and merge keys."""
    value, flow = draw(node(3)), draw(st.booleans())
    text = emit_flow(value) if flow else emit_block(value, 0, draw)
    return "---\n" * draw(st.integers(0, 1)) + text + draw(st.sampled_from(["", "\n", "\n---\na: 1\n", "\n...\n"]))


def emit_block(value, indent: int, draw) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        return "".join(f"{pad}{k}:{emit_child(v, indent, draw)}" for k, v in value.items()) or pad + "{}\n"
    if isinstance(value, list):
        return "".join(f"{pad}-{emit_child(v, indent, draw)}" for v in value) or pad + "[]\n"
    return f"{pad}{value}\n"


def emit_child(value, indent: int, draw) -> str:
    anchor = draw(st.sampled_from(["", "", "&a ", "&b "]))
    if isinstance(value, (dict, list)) and value:
        return f" {anchor}\n" + emit_block(value, indent + 2, draw)
    alias = draw(st.sampled_from([None, None, None, "*a", "*b"]))
    return f" {alias}\n" if alias else f" {anchor}{emit_flow(value)}\n"


def emit_flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {emit_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(emit_flow(v) for v in value) + "]"
    return str(value)


@FUZZ
@given(texts())
def test_yaml_like_text_loads_or_is_refused_at_a_location(text: str) -> None:
    assert_located(load(text.encode()))


def full(text: str) -> list | MaestroError:
    try:
        return [located(source._build(n, "f")) for n in source._compose_full(text, "f") if n is not None]
    except MaestroError as exc:
        return exc


def located(doc: source.Located) -> tuple:
    return repr(doc.data), doc.values, doc.keys   # repr: NaN != NaN, and 1 == True == 1.0


@FUZZ
@given(texts())
def test_the_fast_loader_agrees_with_the_full_one(text: str) -> None:
    nodes = yaml12.compose_all(text, source.MAX_DEPTH)
    expected = full(text)
    if nodes is None:   # declined: the loader must then give exactly the full loader's answer
        assert public(text) == (str(expected) if isinstance(expected, MaestroError) else expected)
        return
    try:
        fast = [located(source._build(n, "f")) for n in nodes if n is not None]
    except MaestroError as exc:
        fast = exc
    if isinstance(expected, MaestroError) or isinstance(fast, MaestroError):
        assert str(fast) == str(expected)
    else:
        assert fast == expected


def public(text: str) -> list | str:
    """What `source.load_bytes` (the loader the compiler uses) makes of the text."""
    try:
        return [located(d) for d in source.load_bytes(text.encode(), "f")]
    except MaestroError as exc:
        return str(exc)


PLAIN = st.sampled_from(["a", "b1", "name", "true", "1", "-2.5", "null", "x y", "0x1F", "é", "2001-12-14", "'q'"])
PLAIN_KEYS = st.sampled_from(["a", "b", "name", "spec", "k1", "x y"])


def plain(depth: int):
    if depth == 0:
        return PLAIN
    child = plain(depth - 1)
    return PLAIN | st.lists(child, min_size=1, max_size=3) | st.dictionaries(PLAIN_KEYS, child, min_size=1, max_size=3)


@FUZZ
@given(plain(3), st.booleans())
def test_the_fast_loader_takes_plain_yaml_itself(value, flow: bool) -> None:
    """So the agreement test above compares the two loaders, not just the full one with itself:
    plain block and flow YAML (nothing the fast path declines by design) is composed by libyaml."""
    text = emit_flow(value) + "\n" if flow else emit_block(value, 0, lambda strategy: "")
    if yaml12.CParser is None:
        pytest.skip("PyYAML without libyaml: every file takes the full loader")
    nodes = yaml12.compose_all(text, source.MAX_DEPTH)
    assert nodes is not None, text
    assert [located(source._build(n, "f")) for n in nodes if n is not None] == full(text)


def test_the_fast_loader_reads_every_example_spec() -> None:
    from .conftest import REPO

    for path in sorted((REPO / "pipelines").glob("*.yaml")) + sorted((REPO / "environments").glob("*.yaml")):
        text = path.read_text()
        assert yaml12.compose_all(text, source.MAX_DEPTH) is not None, path
        assert [located(source._build(n, "f")) for n in yaml12.compose_all(text, source.MAX_DEPTH)] == full(text)
