"""Reading gitops/: every regular file's bytes, never through a link, and a snapshot of them taken
before the gitops lock is held.

In: the gitops folder. Out: relative path -> bytes. A `Snapshot` is read while nothing waits for it
(the parent of a compile's worker processes, `compile_project(meanwhile=...)`), and is trusted under
the lock only for the files that are still the very files it read: the same device, inode, size,
modification and change times. Maestro replaces a file by renaming a new one into place (a new
inode), so any file a compile wrote meanwhile is read again; so is every file the snapshot lacks.
"""

from __future__ import annotations

import os
from pathlib import Path

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


def regular_files(folder: Path) -> list[str]:
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


def read_tree(gitops: Path, snapshot: "Snapshot | None" = None) -> dict[str, bytes]:
    """Every regular file under `gitops`, by relative path; those of `snapshot` still unchanged are
    not read again."""
    if not gitops.is_dir():
        return {}
    folder = os.fspath(gitops) + os.sep
    known = snapshot.read if snapshot is not None else {}
    found = {}
    for relative in regular_files(gitops):
        kept = known.get(relative)
        found[relative] = kept[1] if kept is not None and _unchanged(folder + relative, kept[0]) \
            else read_file(folder + relative)
    return found


def read_file(path: str) -> bytes:
    """A regular file's bytes, never through a link; with os.read, as the tree's 15,000 files are read
    in a compile's critical path and open()'s file objects cost as much as the reading."""
    return _read_with_identity(path)[1]


class Snapshot:
    """gitops/'s files as `take` found them, each with its identity then; `read_tree` decides, under
    the lock, which of them still stand."""

    def __init__(self, gitops: Path):
        self.gitops = gitops
        self.read: dict[str, tuple[tuple, bytes]] = {}

    def take(self) -> None:
        """Read every file now (again, if taken before). What cannot be read is left to `read_tree`."""
        folder = os.fspath(self.gitops) + os.sep
        try:
            for relative in regular_files(self.gitops):
                self.read[relative] = _read_with_identity(folder + relative)
        except OSError:
            pass


def _read_with_identity(path: str) -> tuple[tuple, bytes]:
    fd = os.open(path, _READ_FLAGS)
    try:
        identity = _identity(os.fstat(fd))
        chunks = [os.read(fd, identity[2] + 1)]
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 16))
        return identity, b"".join(chunks)
    finally:
        os.close(fd)


def _identity(st: os.stat_result) -> tuple:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _unchanged(path: str, identity: tuple) -> bool:
    try:
        return _identity(os.lstat(path)) == identity
    except OSError:
        return False
