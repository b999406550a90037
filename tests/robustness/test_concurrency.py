"""Compiles at the same time, for real: both succeed and the tree they leave is the compiled one, and
a compile that read the specs before an edit cannot overwrite the tree of one that read them after.
Each test makes its race happen rather than hoping for it: the test holds the compile lock until the
compiles are waiting for it, seen from the lock file open among their file descriptors (a compile
opens it only after it has read and compiled every spec). (tests/compile/test_lock.py covers waiting
for a held lock and a lock left by a killed process.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from maestro import gitops
from maestro.compile import compile_project

from tests.support import wait_at_the_lock

from .conftest import MAESTRO, WATCHDOG, files_under, maestro

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see a waiting compile")


def start(root: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([*MAESTRO, "compile", *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


def finish(process: subprocess.Popen) -> tuple[int, str]:
    _, err = process.communicate(timeout=WATCHDOG)
    return process.returncode, err


def test_two_compiles_at_once_both_succeed(generated) -> None:
    root = generated(80)
    with gitops.locked(root):
        first, second = start(root), start(root)
        wait_at_the_lock(root, first, second)   # both compiled, both contend for the lock now
    assert finish(first)[0] == 0 and finish(second)[0] == 0
    assert files_under(root / "gitops") == compile_project(root, validate=False).tree.files
    assert not (root / ".maestro/staging").exists() and not (root / ".maestro/journal.json").exists()


def test_a_check_during_a_compile_sees_the_old_tree_or_the_new(generated) -> None:
    root = generated(80)
    assert maestro(root, "compile").returncode == 0
    spec = sorted((root / "pipelines").glob("*.yaml"))[0]
    spec.write_text(re.sub(r"epochs: \d+", "epochs: 99", spec.read_text(), count=1))
    with gitops.locked(root):
        compiling, checking = start(root), start(root, "--check")
        wait_at_the_lock(root, compiling, checking)
    code, err = finish(checking)
    assert finish(compiling)[0] == 0
    assert code in (0, 1) and "Traceback" not in err, err   # 1: it ran first and saw the edit not yet compiled
    assert maestro(root, "compile", "--check").returncode == 0


def test_a_compile_of_older_specs_does_not_overwrite_a_newer_tree(generated) -> None:
    """A compile reads and compiles the specs, then waits for the lock (held here) and is paused; a
    pipeline is edited; a second compile reads the edit and writes its tree first. When the first
    goes on, holding a tree of the old specs, the tree must stay the one compiled from the edit."""
    root = generated(200)
    assert maestro(root, "compile").returncode == 0
    with gitops.locked(root):
        old = start(root, env={"MAESTRO_NO_CACHE": "1"})
        wait_at_the_lock(root, old)   # it holds a tree compiled from the specs as they are now
        old.send_signal(signal.SIGSTOP)
    try:
        spec = sorted((root / "pipelines").glob("*.yaml"))[-1]
        spec.write_text(re.sub(r"epochs: \d+", "epochs: 98", spec.read_text(), count=1))
        new = compile_project(root, validate=False).tree.files
        assert new != files_under(root / "gitops")   # the race is real: the two trees differ
        assert maestro(root, "compile").returncode == 0   # the newer compile writes first
        assert files_under(root / "gitops") == new
    finally:
        old.send_signal(signal.SIGCONT)
    assert finish(old)[0] == 0
    assert files_under(root / "gitops") == new
