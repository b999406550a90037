"""Compile on mutated specs, through the real entry point, after a compile that filled the cache:
never a traceback, exit 0, 1 or 2, and a refusal is located. When a mutation leaves the specs valid,
the incremental compile writes exactly what a compile without the cache gives.

Unlike tests/language/test_fuzz.py (edits line by line, one fresh project each), the mutations here are
at the byte level and at the level of meaning (another team, another number, another environment
name), and they hit a project whose cache and gitops/ already hold the previous state.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from maestro.cli import run
from maestro.compile import compile_project

from .conftest import REPO, assert_clean_refusal, files_under

FILES = sorted(p.relative_to(REPO).as_posix() for folder in ("pipelines", "environments")
               for p in (REPO / folder).glob("*.yaml"))
WORDS = ["quant-research", "risk-lab", "team-x", "dev", "prod", "staging", "lstm", "gru", "mlp", "transformer",
         "ab", "shadow", "null", "true", "[]", "{}", "&x", "*x", "<<"]


def flip(data: bytes, draw) -> bytes:
    i = draw(st.integers(0, len(data) - 1))
    return data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1:]


def cut(data: bytes, draw) -> bytes:
    i = draw(st.integers(0, len(data)))
    return data[:i] + data[i + draw(st.integers(1, 40)):]


def insert(data: bytes, draw) -> bytes:
    i = draw(st.integers(0, len(data)))
    return data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]


def renumber(data: bytes, draw) -> bytes:
    """Another value for one number: usually still a valid spec, so the cache has work to do."""
    numbers = list(re.finditer(rb"(?<![\w.])\d+(?![\w.])", data))
    if not numbers:
        return data
    m = draw(st.sampled_from(numbers))
    return data[:m.start()] + str(draw(st.integers(0, 120))).encode() + data[m.end():]


def reword(data: bytes, draw) -> bytes:
    """One known word for another: a pipeline changes team, a model kind, an override's environment."""
    present = [w for w in WORDS if w.encode() in data]
    if not present:
        return data
    old, new = draw(st.sampled_from(present)), draw(st.sampled_from(WORDS))
    return data.replace(old.encode(), new.encode(), 1)


MUTATIONS = (flip, cut, insert, renumber, reword, renumber, reword)


@st.composite
def mutations(draw) -> tuple[str, bytes]:
    path = draw(st.sampled_from(FILES))
    data = (REPO / path).read_bytes()
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(MUTATIONS))(data, draw) or data
    return path, data


def compiled_project(tmp: Path) -> Path:
    root = tmp / "warm"
    for folder in ("pipelines", "environments"):
        shutil.copytree(REPO / folder, root / folder)
    assert run(["compile", "--root", str(root), "--no-validate"]) == 0
    return root


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutation=mutations())
def test_mutated_specs_compile_or_are_refused_cleanly(mutation: tuple[str, bytes], tmp_path: Path, capsys) -> None:
    warm = tmp_path / "warm" if (tmp_path / "warm").exists() else compiled_project(tmp_path)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(warm, root)
        (root / mutation[0]).write_bytes(mutation[1])
        capsys.readouterr()
        code = run(["compile", "--root", str(root), "--no-validate"])
        err = capsys.readouterr().err
        event(f"exit {code}")
        if code == 0:
            assert files_under(root / "gitops") == compile_project(root, validate=False).tree.files
        else:
            assert_clean_refusal(code, err)
