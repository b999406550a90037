"""A gitops/ that cannot be written gets a clear message, without a traceback, and no half-done tree.

Tests run as root here, and root ignores permission bits; so a read-only gitops/ is made two ways:
the compile runs as `nobody` (setpriv) over folders without write permission, which the compile
notices before staging anything; and, as root, folders or files are made immutable (chattr +i). An
immutable file is noticed only by the move into place, after the journal is committed; the next
command then finishes the write once the file may change. A gitops that is a file is the last case.
(test_untrusted_checkout.py: links and planted state.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from maestro.compile import compile_project

from .conftest import REPO, WATCHDOG, assert_clean_refusal, files_under, maestro

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def open_project():
    """The example, compiled, in a folder every user may enter and write (pytest's are root-only)."""
    base = Path(tempfile.mkdtemp(prefix="maestro-fs-"))
    os.chmod(base, 0o777)
    root = base / "project"
    for folder in ("pipelines", "environments"):
        shutil.copytree(REPO / folder, root / folder)
    assert maestro(root, "compile", "--no-validate").returncode == 0
    (root / "pipelines/aapl-direction.yaml").write_text(
        (root / "pipelines/aapl-direction.yaml").read_text().replace("epochs: 30", "epochs: 31"))
    yield root
    subprocess.run(["chattr", "-R", "-i", str(root / "gitops")], capture_output=True)   # or rmtree cannot
    shutil.rmtree(base, ignore_errors=True)


def as_nobody(root: Path) -> subprocess.CompletedProcess:
    for path in [root, *root.rglob("*")]:
        if path.is_relative_to(root / "gitops"):
            path.chmod(0o555 if path.is_dir() else 0o444)
        else:
            path.chmod(0o777 if path.is_dir() else 0o666)
    command = [*NOBODY] if os.geteuid() == 0 else []
    return subprocess.run([*command, sys.executable, "-m", "maestro", "compile", "--no-validate"], cwd=root,
                          capture_output=True, text=True, timeout=WATCHDOG)


def test_a_read_only_gitops_is_refused_before_anything_is_staged(open_project: Path) -> None:
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv (util-linux) is missing: cannot run the compile as another user")
    before = files_under(open_project / "gitops")
    result = as_nobody(open_project)
    assert_clean_refusal(result.returncode, result.stderr)
    assert "read-only" in result.stderr and "gitops" in result.stderr, result.stderr
    assert files_under(open_project / "gitops") == before
    assert not (open_project / ".maestro/journal.json").exists()


def make_immutable(paths: list[Path]) -> bool:
    return all(subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode == 0 for p in paths)


def needs_chattr(root: Path, paths: list[Path]) -> None:
    if os.geteuid() != 0 or shutil.which("chattr") is None or not make_immutable(paths):
        pytest.skip("needs root and a file system with the immutable attribute (chattr +i)")


def test_immutable_gitops_folders_are_refused_before_anything_is_staged(open_project: Path) -> None:
    gitops = open_project / "gitops"
    before = files_under(gitops)
    needs_chattr(open_project, [gitops, *(p for p in gitops.rglob("*") if p.is_dir())])
    result = maestro(open_project, "compile", "--no-validate")
    assert_clean_refusal(result.returncode, result.stderr)
    assert "read-only" in result.stderr and "gitops" in result.stderr, result.stderr
    assert files_under(gitops) == before


def test_an_immutable_file_stops_the_move_and_the_next_compile_finishes(open_project: Path) -> None:
    """The folders are writable, so the write is staged and committed; replacing the one immutable
    file fails. Once it may change again, the next command completes the committed write."""
    stale = open_project / "gitops/prod/quant-research-prod/configmap-aapl-direction-spec.yaml"
    needs_chattr(open_project, [stale])
    result = maestro(open_project, "compile", "--no-validate")
    assert_clean_refusal(result.returncode, result.stderr)
    assert "cannot put the compiled file in place" in result.stderr and stale.name in result.stderr, result.stderr
    subprocess.run(["chattr", "-i", str(stale)], check=True)
    check = maestro(open_project, "compile", "--no-validate", "--check")
    assert check.returncode == 1 and "pending" in check.stderr, check.stderr   # a check never recovers
    assert maestro(open_project, "compile", "--no-validate").returncode == 0   # a compile recovers first
    assert files_under(open_project / "gitops") == compile_project(open_project, validate=False).tree.files


@pytest.mark.parametrize("args", [(), ("--check",)], ids=["compile", "check"])
def test_a_gitops_that_is_a_file_is_refused(example: Path, args: tuple[str, ...]) -> None:
    (example / "gitops").write_text("not a folder\n")
    result = maestro(example, "compile", "--no-validate", *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "is a file, not a folder" in result.stderr
    assert (example / "gitops").read_text() == "not a folder\n"
