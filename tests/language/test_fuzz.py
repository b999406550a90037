"""Random edits to a valid spec never crash the compiler: exit 0 or 1, and every line of a refusal
is located (`file:line:col: error: ...`) or is the closing count line."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maestro.cli import run

from .conftest import BASE, REPO

SPEC = (REPO / "pipelines" / "msft-momentum.yaml").read_text().replace("msft-momentum", "demo")
ORIGINALS = {"pipelines/demo.yaml": SPEC, "environments/prod.yaml": (BASE / "environments" / "prod.yaml").read_text()}
# An empty file has no line to point at: it is named alone, without a made-up 1:1.
LOCATED = re.compile(r"^[^:\n]+:\d+:\d+: (error|note): \S|^[^:\n]+: error: the file holds no document$"
                     r"|^\d+ error\(s\); nothing was written\.$")
TOKENS = [*":-[]{},&*!|>?'\"#%@`~ \t\nabcAZ09.", "\u00e9", "\u2028", "\x00", "\ufeff", "null", "<<", "*a", "&a", "---"]
GARBAGE = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map("".join)


def delete_key(lines: list[str], i: int, data) -> list[str]:
    return lines[:i] + lines[i + 1:]


def change_type(lines: list[str], i: int, data) -> list[str]:
    key, sep, _ = lines[i].partition(":")
    new = data.draw(st.sampled_from(["[]", "{}", "null", "7", "-1.5", "true", '"text"', "[1, x]", "{a: b}"]))
    return lines[:i] + [f"{key}: {new}\n" if sep else f"{key}{new}\n"] + lines[i + 1:]


def rename_key(lines: list[str], i: int, data) -> list[str]:
    indent = len(lines[i]) - len(lines[i].lstrip(" -"))
    name = data.draw(st.sampled_from(["name", "kind", "spec", "tickers", "gpus", "trainig", "x", "after", "default"]))
    key, sep, rest = lines[i][indent:].partition(":")
    return lines[:i] + [f"{lines[i][:indent]}{name}{sep}{rest}" if sep else lines[i]] + lines[i + 1:]


def insert_garbage(lines: list[str], i: int, data) -> list[str]:
    line, at = lines[i], data.draw(st.integers(0, len(lines[i])))
    return lines[:i] + [line[:at] + data.draw(GARBAGE) + line[at:]] + lines[i + 1:]


def duplicate_line(lines: list[str], i: int, data) -> list[str]:
    return lines[:i + 1] + [lines[i]] + lines[i + 1:]


def truncate(lines: list[str], i: int, data) -> list[str]:
    text = "".join(lines)
    return [text[: data.draw(st.integers(0, len(text)))]]


EDITS = (delete_key, change_type, rename_key, insert_garbage, duplicate_line, truncate)


@st.composite
def edited_specs(draw) -> tuple[str, str]:
    """A spec file (mostly the pipeline, sometimes an environment) after one to three edits."""
    path = draw(st.sampled_from(["pipelines/demo.yaml"] * 3 + ["environments/prod.yaml"]))
    lines = ORIGINALS[path].splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        edit = draw(st.sampled_from(EDITS))
        lines = edit(lines, draw(st.integers(0, len(lines) - 1)), draw(st.data()))
    return path, "".join(lines)


def test_the_unedited_spec_compiles(tmp_path: Path) -> None:
    root = project(tmp_path, ("pipelines/demo.yaml", SPEC))
    assert run(["compile", "--root", str(root), "--no-validate"]) == 0


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edited=edited_specs())
def test_random_edits_are_refused_cleanly(edited: tuple[str, str], capsys) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp), edited)
        capsys.readouterr()
        code = run(["compile", "--root", str(root), "--no-validate"])
        err = capsys.readouterr().err
    assert code in (0, 1), err
    if code == 1:
        unlocated = [line for line in err.splitlines() if not LOCATED.match(line)]
        assert unlocated == [], err
        assert err.endswith("error(s); nothing was written.\n"), err


def project(tmp: Path, edited: tuple[str, str]) -> Path:
    """The frozen environments and the example pipeline, with one file replaced by `edited`."""
    root = tmp / "project"
    shutil.copytree(BASE, root)
    (root / "pipelines").mkdir()
    (root / "pipelines" / "demo.yaml").write_text(SPEC, encoding="utf-8")
    (root / edited[0]).write_text(edited[1], encoding="utf-8")
    return root
