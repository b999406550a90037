"""The values-only loader, `maestro.loading.plain_values`: where it reads a text at all, it must give exactly the
values the located loader gives, and the located loader must then succeed (its positions are worked out later,
from the same text, only if a diagnostic needs them). Everything else it declines, so the located loader words it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.errors import MaestroError
from maestro.loading import positions as source, yaml12
from maestro.loading.plain_values import plain_document

from .test_loader import FUZZ, emit_block, emit_flow, plain, texts


def values_only(text: str) -> list | None:
    return plain_document(text, source.MAX_DEPTH, source.MAX_NODES, source._plain_scalar)


def located_values(text: str) -> list | MaestroError:
    try:
        return [repr(source._build(n, "f").data) for n in source._compose(text, "f") if n is not None]
    except MaestroError as exc:
        return exc


@FUZZ
@given(texts())
def test_what_it_reads_is_what_the_located_loader_reads(text: str) -> None:
    values = values_only(text)
    if values is not None:
        assert [repr(v) for v in values] == located_values(text)   # repr: NaN != NaN, and 1 == True == 1.0


@FUZZ
@given(plain(3), st.booleans())
def test_it_reads_plain_yaml_itself(value, flow: bool) -> None:
    """So the test above compares two loaders: plain block and flow YAML is read by this path."""
    if yaml12.CParser is None:
        pytest.skip("PyYAML without libyaml: every file takes the full loader")
    text = emit_flow(value) + "\n" if flow else emit_block(value, 0, lambda strategy: "")
    values = values_only(text)
    assert values is not None, text
    assert [repr(v) for v in values] == located_values(text)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",              # anchors and aliases: the located loader counts what they expand to
    "a: 1\na: 2\n",                  # a duplicate key: refused, at the second
    "<<: {a: 1}\nb: 2\n",            # a merge key
    "1: a\n",                        # a key that is no plain string
    "? [a]\n: b\n",                  # a collection as a key
    "a: !!str 1\n",                  # an explicit tag
    "a: =\n",                        # a value the located loader refuses
    "a:\n",                          # an empty value
    "a: 1\n---\nb: 2\n",             # a second document
    "a: [1, 2\n",                    # malformed
])
def test_it_declines_what_the_located_loader_treats_specially(text: str) -> None:
    assert values_only(text) is None


def test_it_declines_more_nodes_than_the_bound() -> None:
    text = "[" + ", ".join("a" for _ in range(source.MAX_NODES)) + "]\n"   # the list itself is one more
    assert values_only(text) is None
    assert values_only(text.replace("[a, ", "[", 1)) is not None


def test_a_loaded_document_reports_the_positions_of_its_text() -> None:
    text = b"apiVersion: maestro/v1\nspec:\n  data: {source: sample}\n  tickers: [A, B]\n"
    (doc,) = source.load_bytes(text, "p.yaml")
    assert doc.data == {"apiVersion": "maestro/v1", "spec": {"data": {"source": "sample"}, "tickers": ["A", "B"]}}
    assert doc.at(("spec", "data", "source")) == source.Position("p.yaml", 3, 18)
    assert doc.key_at(("spec", "tickers")) == source.Position("p.yaml", 4, 3)
    assert doc.at(("spec", "tickers", 1)) == source.Position("p.yaml", 4, 16)


def test_a_loaded_document_equals_and_pickles_as_the_located_one() -> None:
    import pickle

    text = "a: [1, {b: x}]\nc: 2.5\n"
    (doc,) = source.load_bytes(text.encode(), "f")
    located = source._build(source._compose_full(text, "f")[0], "f")
    assert type(doc) is not source.Located and doc == located and located == doc
    copy = pickle.loads(pickle.dumps(doc))
    assert type(copy) is source.Located and copy == located
