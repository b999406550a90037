"""The survey of a pipeline file's metadata (`maestro.loading.survey`): a cheap guess of its name and
team, which a large compile places it by before any worker loads it. Where it guesses at all, a
load that succeeds must find the same two strings; a file it cannot read plainly gets no guess."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from maestro.errors import MaestroError
from maestro.loading.positions import MAX_FILE_BYTES, load_bytes
from maestro.loading.survey import name_and_team, name_and_team_of

from .test_loader import FUZZ, TRICKY, emit_block, emit_flow, node

SCALARS = st.sampled_from([*TRICKY, "team-a", "p1", "'team-a'", '"p 1"'])
NAMES = st.sampled_from(["team-a", "p1", "'team-a'", '"p 1"', "x"]) | SCALARS


def loaded_name_and_team(text: str) -> tuple | None:
    """What a full load finds, or None where the load refuses the text or it holds no such strings."""
    try:
        docs = load_bytes(text.encode(), "f.yaml")
    except MaestroError:
        return None
    if len(docs) != 1 or not isinstance(docs[0].data, dict) or not isinstance(docs[0].data.get("metadata"), dict):
        return None
    metadata = docs[0].data["metadata"]
    name, team = metadata.get("name"), metadata.get("team")
    return (name, team) if isinstance(name, str) and isinstance(team, str) else None


@st.composite
def spec_texts(draw) -> str:
    """Spec-shaped documents: metadata among other sections, with tricky scalars, nested values,
    anchors and tags from the loader's own fuzzing strategies, in block or flow style."""
    metadata = {"name": draw(NAMES), "team": draw(NAMES)}
    metadata.update(draw(st.dictionaries(st.sampled_from(["labels", "owner", "name", "team"]), SCALARS | node(2),
                                         max_size=2)))
    metadata = {key: metadata[key] for key in draw(st.permutations(list(metadata)))}
    others = draw(st.lists(st.sampled_from(["apiVersion", "kind", "spec", "extra"]), max_size=4, unique=True))
    sections = draw(st.permutations(["metadata", *others]))
    document = {key: metadata if key == "metadata" else draw(SCALARS | node(2)) for key in sections}
    return emit_flow(document) if draw(st.booleans()) else emit_block(document, 0, draw)


@FUZZ
@given(spec_texts())
def test_a_guess_is_what_a_successful_load_finds(text: str) -> None:
    guess, loaded = name_and_team_of(text), loaded_name_and_team(text)
    if guess is not None and loaded is not None:
        assert guess == loaded


@FUZZ
@given(st.sampled_from(["p-1", "aapl", "x y"]), st.sampled_from(["team-a", "ml"]), st.booleans(), st.booleans())
def test_a_plain_spec_is_guessed(name: str, team: str, flow: bool, metadata_last: bool) -> None:
    """So the test above is not vacuous: an ordinary spec gets its guess, in either style and order."""
    document = {"apiVersion": "maestro/v1", "metadata": {"labels": {"a": "b"}, "team": team, "name": name},
                "spec": {"data": {"tickers": ["AAPL"]}, "metadata": {"name": "not-this", "team": "nor-this"}}}
    if metadata_last:
        document = {key: document[key] for key in ("apiVersion", "spec", "metadata")}
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=flow)
    assert name_and_team_of(text) == loaded_name_and_team(text) == (name, team)


@pytest.mark.parametrize("text", [
    "metadata: {name: x, team: 12}\n",              # a number, not a string
    "metadata: {name: !!str x, team: t}\n",        # a tag: the loader's business
    "metadata: &m {name: x, team: t}\n",           # an anchor
    "metadata: {name: x, team: t, team: u}\n",     # a duplicate key
    "metadata: {name: x}\n",                       # no team
    "- metadata\n- {name: x, team: t}\n",          # not a mapping
    "metadata: {name: x, team: t\n",               # broken
    "metadata:\n  name: x\n  team:\tt\n",          # a tab, which the two loaders read differently
    "metadata: [name, x, team, t]\n",              # metadata no mapping
])
def test_what_is_not_plainly_a_spec_gets_no_guess(text: str) -> None:
    assert name_and_team_of(text) is None


def test_a_file_is_read_within_the_limits_of_a_load_and_never_through_a_link(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text("metadata: {name: p, team: t}\n")
    assert name_and_team(spec) == ("p", "t")
    (tmp_path / "link.yaml").symlink_to(spec)
    assert name_and_team(tmp_path / "link.yaml") is None
    big = tmp_path / "big.yaml"
    big.write_text("metadata: {name: big, team: t}\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    assert os.path.getsize(big) > MAX_FILE_BYTES and name_and_team(big) is None
    (tmp_path / "latin.yaml").write_bytes(b"metadata: {name: p, team: \xe9}\n")
    assert name_and_team(tmp_path / "latin.yaml") is None
    assert name_and_team(tmp_path / "missing.yaml") is None
