"""Hostile spec files are refused through the real command, at a location, before they can cost
time or memory: a 10 MB spec, deep nesting (block and flow), alias bombs, binary garbage. Each case
is one file among the valid examples; the compile exits 1, every line of its report is located, the
file is named, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import assert_clean_refusal, maestro

SPEC = "pipelines/hostile.yaml"


def ten_megabytes() -> bytes:
    line = b"# " + b"padding " * 12 + b"\n"
    return b"apiVersion: maestro/v1\nkind: Pipeline\n" + line * (10 * 1024 * 1024 // len(line))


def deep_block(levels: int = 400) -> bytes:
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(levels)).encode() + b"  " * levels + b"v: 1\n"


def deep_flow(levels: int = 100_000) -> bytes:
    return b"spec: " + b"[" * levels + b"]" * levels + b"\n"


def billion_laughs(levels: int = 12) -> bytes:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return ("\n".join(lines) + "\n").encode()


def merge_bomb(levels: int = 30) -> bytes:
    """Merge keys (<<) doubling a mapping at every level: 2**30 keys if expanded naively."""
    lines = ["m0: &m0 {x: 1, y: 2}"]
    lines += [f"m{i}: &m{i} {{<<: [*m{i - 1}], k{i}: *m{i - 1}, j{i}: *m{i - 1}}}" for i in range(1, levels)]
    return ("\n".join(lines) + "\n").encode()


def recursive_alias() -> bytes:
    return b"a: &a [*a, *a]\n"


def binary_garbage() -> bytes:
    import random

    return bytes(random.Random(7).randrange(256) for _ in range(64 * 1024))


def nul_bytes() -> bytes:
    return b"apiVersion: maestro/v1\nkind: Pipe\x00line\n"


CASES = [
    pytest.param(ten_megabytes, "KiB", id="10-MB"),
    pytest.param(deep_block, "nesting", id="deep-block-nesting"),
    pytest.param(deep_flow, "nesting", id="deep-flow-nesting"),
    pytest.param(billion_laughs, "aliases", id="billion-laughs"),
    pytest.param(merge_bomb, "nodes", id="merge-key-bomb"),
    pytest.param(recursive_alias, "nesting", id="recursive-alias"),
    pytest.param(binary_garbage, "UTF-8", id="binary-garbage"),
    pytest.param(nul_bytes, "U+0000", id="nul-bytes"),
]


@pytest.mark.parametrize(("content", "mentions"), CASES)
def test_hostile_spec_is_refused_at_a_location(example: Path, content, mentions: str) -> None:
    (example / SPEC).write_bytes(content())
    result = maestro(example, "compile", "--no-validate")
    assert_clean_refusal(result.returncode, result.stderr)
    assert result.returncode == 1
    assert f"{SPEC}:" in result.stderr and mentions in result.stderr, result.stderr
    assert not (example / "gitops").exists()


@pytest.mark.parametrize(("content", "mentions"), CASES)
def test_hostile_environment_is_refused_at_a_location(example: Path, content, mentions: str) -> None:
    (example / "environments/prod.yaml").write_bytes(content())
    result = maestro(example, "compile", "--no-validate")
    assert_clean_refusal(result.returncode, result.stderr)
    assert "environments/prod.yaml:" in result.stderr and mentions in result.stderr, result.stderr
