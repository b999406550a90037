"""Write, check and recover the gitops folder.

In: a compiled `Tree` and the folder. Out: files on disk (write), or a list of `Drift`s (check).
A write stages every changed file and fsyncs it, commits a journal, then moves files into place
and prunes what maestro generated earlier and no longer produces. A run interrupted at any point
is completed (journal committed) or undone (journal absent) by the next `recover`. A file lock
serializes compiles; the kernel drops it when its holder dies, so a killed compile leaves no
stale lock behind.
"""

from __future__ import annotations

import difflib
import errno
import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from .compile import Tree, in_scope
from .errors import UsageError
from .render import is_generated

STATE_DIR = ".maestro"
LOCK_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class Drift:
    path: str
    status: str      # missing | stale | extra
    diff: str = ""


def state_dir(root: Path) -> Path:
    path = root / STATE_DIR
    path.mkdir(exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return path


@contextmanager
def locked(root: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the project's compile lock; waits up to `wait` seconds for another holder."""
    handle = open(state_dir(root) / "lock", "a+")
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UsageError(f"another maestro command holds {root / STATE_DIR / 'lock'}; try again")
                time.sleep(0.05)
        yield
    finally:
        handle.close()


def generated_files(gitops: Path) -> dict[str, bytes]:
    """Every file under `gitops` that maestro wrote, by relative path."""
    found = {}
    if not gitops.is_dir():
        return found
    for relative in _regular_files(gitops):
        with open(gitops / relative, "rb") as handle:
            data = handle.read()   # read once: plan_changes compares these very bytes
        if is_generated(data):
            found[relative] = data
    return found


def _regular_files(folder: Path) -> list[str]:
    """Relative paths of the regular files under `folder`, sorted, not following symbolic links;
    os.scandir's entries answer is_file/is_symlink without a stat call each, as Path.rglob does not."""
    found, pending = [], [("", str(folder))]
    while pending:
        prefix, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((prefix + entry.name + "/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    found.append(prefix + entry.name)
    return sorted(found)


def plan_changes(gitops: Path, tree: Tree) -> tuple[dict[str, bytes], list[str]]:
    """The files to write and the generated files to prune, within the tree's scope."""
    if gitops.exists() and not gitops.is_dir():
        raise UsageError(f"{gitops} is a file, not a folder; move it away so that maestro can write the tree there")
    current = generated_files(gitops)
    writes = {p: data for p, data in tree.files.items() if (current[p] if p in current else _read(gitops / p)) != data}
    foreign = sorted(p for p in writes if p not in current and (gitops / p).exists())
    if foreign:
        raise UsageError(f"gitops/{foreign[0]} exists and was not written by maestro; move it away "
                         f"or rename the object ({len(foreign)} such file(s))")
    prunes = [p for p in current if p not in tree.files and in_scope(p, tree.scope)]
    return writes, prunes


def check(gitops: Path, tree: Tree) -> list[Drift]:
    writes, prunes = plan_changes(gitops, tree)
    drifts = [_drift(gitops, path, data) for path, data in writes.items()]
    return sorted(drifts + [Drift(p, "extra") for p in prunes], key=lambda d: d.path)


def _drift(gitops: Path, path: str, data: bytes) -> Drift:
    old = _read(gitops / path)
    if old is None:
        return Drift(path, "missing")
    lines = difflib.unified_diff(old.decode(errors="replace").splitlines(), data.decode().splitlines(),
                                 f"gitops/{path} (on disk)", f"gitops/{path} (compiled)", n=1, lineterm="")
    return Drift(path, "stale", "\n".join(list(lines)[:40]))


def write(root: Path, gitops: Path, tree: Tree) -> tuple[list[str], list[str]]:
    """Bring `gitops` to `tree`; returns (written, pruned). Call with the lock held."""
    recover(root, gitops)
    writes, prunes = plan_changes(gitops, tree)
    if not writes and not prunes:
        return [], []
    _check_writable(gitops, [*writes, *prunes])
    staging = state_dir(root) / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    for path, data in writes.items():
        _write_synced(staging / path, data)
    journal = {"writes": sorted(writes), "prunes": sorted(prunes)}
    _write_synced(state_dir(root) / "journal.tmp", json.dumps(journal).encode())
    os.replace(state_dir(root) / "journal.tmp", state_dir(root) / "journal.json")
    _fsync_dir(state_dir(root))
    recover(root, gitops)
    return sorted(writes), sorted(prunes)


def recover(root: Path, gitops: Path) -> None:
    """Finish a committed write, or discard an uncommitted one. Idempotent."""
    state = root / STATE_DIR
    journal_path, staging = state / "journal.json", state / "staging"
    if journal_path.exists():
        journal = json.loads(journal_path.read_text())
        for path in journal["writes"]:
            staged = staging / path
            if staged.exists():
                _move(staged, gitops / path)
        for path in journal["prunes"]:
            _remove(gitops, path)
        _fsync_dir(gitops)
        journal_path.unlink()
    shutil.rmtree(staging, ignore_errors=True)
    (state / "journal.tmp").unlink(missing_ok=True)


def _check_writable(gitops: Path, paths: Sequence[str]) -> None:
    """Refuse before anything is staged when a folder that must change is read-only. (For root,
    os.access says yes; a move that fails anyway is then reported by `_move`, naming the file.)"""
    folders = set()
    for path in paths:
        folder = (gitops / path).parent
        while not folder.exists():
            folder = folder.parent
        folders.add(folder)
    for folder in sorted(folders):
        if not os.access(folder, os.W_OK):
            raise PermissionError(errno.EACCES, "cannot write there (read-only); nothing was changed", str(folder))


def _move(staged: Path, target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
    except OSError as exc:   # name the gitops file, not the staged copy; the next command retries
        raise OSError(exc.errno, f"cannot put the compiled file in place ({exc.strerror}); "
                                 "fix this and run maestro compile again", str(target)) from exc


def _remove(gitops: Path, path: str) -> None:
    target = gitops / path
    target.unlink(missing_ok=True)
    parent = target.parent
    while parent != gitops and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def _write_synced(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    if path.is_dir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def summarize(drifts: Sequence[Drift]) -> str:
    return "\n".join(f"{d.status}: gitops/{d.path}" + (f"\n{d.diff}" if d.diff else "") for d in drifts)
