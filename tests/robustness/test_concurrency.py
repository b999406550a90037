"""Compiles at the same time, for real: both succeed and the tree they leave is the compiled one, and
a compile that read the specs before an edit cannot overwrite the tree of one that read them after.
(tests/compile/test_lock.py covers waiting for a held lock and a lock left by a killed process.)"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from maestro.compile import build_tree

from .conftest import MAESTRO, WATCHDOG, files_under, maestro


def start(root: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    import os

    return subprocess.Popen([*MAESTRO, "compile", *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


def finish(process: subprocess.Popen) -> tuple[int, str]:
    _, err = process.communicate(timeout=WATCHDOG)
    return process.returncode, err


def test_two_compiles_at_once_both_succeed(generated) -> None:
    root = generated(80)
    first, second = start(root), start(root)
    assert finish(first)[0] == 0 and finish(second)[0] == 0
    assert files_under(root / "gitops") == build_tree(root).files
    assert not (root / ".maestro/staging").exists() and not (root / ".maestro/journal.json").exists()


def test_a_check_during_a_compile_sees_the_old_tree_or_the_new(generated) -> None:
    root = generated(80)
    assert maestro(root, "compile").returncode == 0
    spec = sorted((root / "pipelines").glob("*.yaml"))[0]
    spec.write_text(re.sub(r"epochs: \d+", "epochs: 99", spec.read_text(), count=1))
    compiling, checking = start(root), start(root, "--check")
    code, err = finish(checking)
    assert finish(compiling)[0] == 0
    assert code in (0, 1) and "Traceback" not in err   # 1: it ran first and saw the edit not yet compiled
    assert maestro(root, "compile", "--check").returncode == 0


def test_a_compile_of_older_specs_does_not_overwrite_a_newer_tree(generated) -> None:
    """A slow compile (no cache) reads the specs; a pipeline is edited; a fast compile (cached) reads
    the edit and finishes first. The tree must end up compiled from the edited specs."""
    root = generated(200)
    assert maestro(root, "compile").returncode == 0
    slow = start(root, env={"MAESTRO_NO_CACHE": "1"})
    time.sleep(0.5)   # the slow compile has read every spec file by now
    spec = sorted((root / "pipelines").glob("*.yaml"))[-1]
    spec.write_text(re.sub(r"epochs: \d+", "epochs: 98", spec.read_text(), count=1))
    fast = start(root)
    assert finish(fast)[0] == 0 and finish(slow)[0] == 0
    assert files_under(root / "gitops") == build_tree(root).files
