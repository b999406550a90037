"""`maestro validate` on hostile files (issue 11, finding 8): the spec loader's alias, size and depth
bounds apply, so each is refused quickly as a located error of its file, never a hang, a traceback
or `internal error: RecursionError`; and the well-formed files beside them are still checked."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from maestro.loading import manifests as yamlload
from tests.support import Outcome, maestro

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\ndata: {a: b}\n"


def validate(*paths: Path) -> tuple[Outcome, float]:
    start = time.monotonic()
    result = maestro(None, "validate", "--verbose", *paths)
    return result, time.monotonic() - start


def bomb_documents(count: int = 8, levels: int = 9) -> str:
    """The issue's fixture: a few KB of alias-bomb documents (9**9 strings each, if expanded)."""
    doc = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    doc += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n---\n".join("\n".join(doc) for _ in range(count)) + "\n"


def assert_refused(result: Outcome, file: Path, mentions: str) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "Traceback" not in out and "internal error" not in out, out
    assert f"{file}:1: document failed validation: $: cannot parse" in out and mentions in out, out


def test_alias_bomb_documents_are_refused_in_well_under_a_second_each(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(bomb_documents())
    assert len(bomb.read_bytes()) < 4096
    fine = tmp_path / "fine.yaml"
    fine.write_text(CONFIGMAP)
    result, seconds = validate(bomb, fine)
    assert_refused(result, bomb, "aliases repeat content")
    assert seconds < 15, seconds   # 85 s before the bound
    assert f"{fine}:1: ConfigMap fine is valid" in result.stdout, result.stdout   # the next file is still checked


def test_a_file_without_aliases_never_reaches_the_alias_bound(tmp_path: Path) -> None:
    """The bound counts beyond what the text holds written out: a large flat list of `{a,b}` passes."""
    values = ", ".join(["{a, b}"] * 60_000)
    big = tmp_path / "big.yaml"
    big.write_text(f"apiVersion: v1\nkind: List\nitems: []\nextra: [{values}]\n")
    result, _ = validate(big)
    assert "aliases" not in result.stdout + result.stderr


def test_deep_json_is_a_located_error_not_a_recursion_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    result, _ = validate(deep)
    assert_refused(result, deep, f"nesting is deeper than {yamlload.MAX_DEPTH} levels")


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_nesting_just_over_the_bound_is_refused_and_just_under_is_validated(tmp_path: Path, suffix: str) -> None:
    def labels(depth: int) -> dict:
        value: object = "x"
        for _ in range(depth - 3):   # the document, metadata and labels are three levels
            value = {"k": value}
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": value}}

    under, over = tmp_path / f"under.{suffix}", tmp_path / f"over.{suffix}"
    under.write_text(json.dumps(labels(yamlload.MAX_DEPTH)))
    over.write_text(json.dumps(labels(yamlload.MAX_DEPTH + 2)))
    result, _ = validate(under)
    assert "ConfigMap x is invalid" in result.stdout and "nesting is deeper" not in result.stdout, result.stdout
    result, _ = validate(over)
    assert result.returncode == 1 and "nesting is deeper than" in result.stdout, result.stdout


def test_deep_block_yaml_is_a_located_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("".join(f"{'  ' * i}k{i}:\n" for i in range(300)) + "  " * 300 + "v: 1\n")
    result, _ = validate(deep)
    out = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in out and "internal error" not in out, out
    assert "nesting is deeper than" in out and f"{deep}:" in out, out


def test_an_oversized_file_is_refused_without_being_read_whole(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as handle:
        handle.truncate(yamlload.MAX_FILE_BYTES + 1)   # sparse: costs no disk
    result, seconds = validate(huge)
    out = result.stdout + result.stderr
    assert result.returncode == 1 and "internal error" not in out, out
    assert f"{huge}:1:" in out and f"limited to {yamlload.MAX_FILE_BYTES // (1024 * 1024)} MiB" in out, out
