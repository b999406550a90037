"""gitops/ read before the lock is held (a snapshot, while a compile's workers run): under the lock
only the files that are still the very files it read are taken from it, so `compile --check` sees
what a read under the lock sees, whatever changed in between."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.generate import make_project
from maestro.compile import PARALLEL_MEMBERS, compile_project
from maestro.gitops import Snapshot, check
from maestro.gitops.reading import read_tree
from tests.support import maestro


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def test_a_file_changed_replaced_added_or_removed_after_the_snapshot_is_read_again(tmp_path: Path) -> None:
    gitops = tmp_path / "gitops"
    (gitops / "a").mkdir(parents=True)
    for name in ("same", "edited", "resized", "replaced", "removed"):
        (gitops / "a" / name).write_bytes(b"before\n")
    snapshot = Snapshot(gitops)
    snapshot.take()
    assert set(snapshot.read) == {f"a/{n}" for n in ("same", "edited", "resized", "replaced", "removed")}
    os.utime(gitops / "a" / "edited", ns=(1, 1))                      # same size, other times
    (gitops / "a" / "edited").write_bytes(b"AFTER!\n")
    (gitops / "a" / "resized").write_bytes(b"after, longer\n")
    staged = tmp_path / "staged"
    staged.write_bytes(b"renamed\n")
    os.replace(staged, gitops / "a" / "replaced")                     # as maestro writes: a new inode
    (gitops / "a" / "removed").unlink()
    (gitops / "a" / "added").write_bytes(b"new\n")
    assert read_tree(gitops, snapshot) == _tree(gitops) == read_tree(gitops)
    assert read_tree(gitops, snapshot)["a/same"] is snapshot.read["a/same"][1]   # taken, not read again


def test_a_file_turned_into_a_link_after_the_snapshot_is_never_followed(tmp_path: Path) -> None:
    gitops, outside = tmp_path / "gitops", tmp_path / "secret"
    gitops.mkdir()
    outside.write_bytes(b"not for the check\n")
    (gitops / "f.yaml").write_bytes(b"kept\n")
    snapshot = Snapshot(gitops)
    snapshot.take()
    (gitops / "f.yaml").unlink()
    (gitops / "f.yaml").symlink_to(outside)
    assert read_tree(gitops, snapshot) == {}     # a link is not a regular file of the tree
    assert b"not for the check" not in b"".join(read_tree(gitops, snapshot).values())


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Path:
    root = make_project(tmp_path_factory.mktemp("snapshot") / "large", PARALLEL_MEMBERS // 3 + 4, seed=3, teams=5)
    assert maestro(root, "compile", "--jobs", "1").returncode == 0
    return root


def test_check_with_workers_reports_the_drift_a_serial_check_reports(large: Path) -> None:
    target = sorted((large / "gitops").rglob("workflowtemplate-*.yaml"))[0]
    original = target.read_bytes()
    try:
        target.write_bytes(original.replace(b"entrypoint: pipeline", b"entrypoint: other"))
        (large / "gitops" / "dev" / "stray.yaml").write_bytes(b"kind: ConfigMap\n")
        serial, fanned = (maestro(large, "compile", "--check", "--jobs", str(j)) for j in (1, 2))
        assert serial.returncode == fanned.returncode == 1
        assert fanned.stdout == serial.stdout and "stale: gitops/" in serial.stdout and "stray.yaml" in serial.stdout
    finally:
        target.write_bytes(original)
        (large / "gitops" / "dev" / "stray.yaml").unlink()
    assert maestro(large, "compile", "--check", "--jobs", "2").returncode == 0


def test_a_snapshot_taken_during_the_compile_is_the_one_the_check_uses(large: Path) -> None:
    taken = []
    snapshot = Snapshot(large / "gitops")
    compiled = compile_project(large, jobs=2, meanwhile=lambda: (taken.append(True), snapshot.take()))
    assert taken == [True] and len(snapshot.read) == len(compiled.tree.files)
    assert check(large / "gitops", compiled.tree, snapshot) == check(large / "gitops", compiled.tree) == []
