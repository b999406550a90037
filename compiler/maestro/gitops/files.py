"""File primitives that never follow a symbolic link: gitops/ changed through directory descriptors
opened with O_NOFOLLOW, new files created with O_EXCL and fsynced, files read without following.

In: paths. Out: files on disk, or their bytes; a link met anywhere is an `UnsafePath`, never followed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from pathlib import Path
from typing import Sequence

from ..errors import UnsafePath
from ..render import is_generated
from .paths import link_error

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Folder:
    """gitops/, changed only through directory descriptors opened with O_NOFOLLOW: a path whose
    folder is (or becomes) a symbolic link fails with ELOOP instead of leaving gitops/."""

    def __init__(self, gitops: Path):
        self.gitops = gitops

    def __enter__(self) -> "Folder":
        self.gitops.mkdir(exist_ok=True)
        self.fd = _open_dir(str(self.gitops), "gitops")
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def _parents(self, path: str, create: bool) -> list[int]:
        """Descriptors of gitops/ and each folder on the way to `path` (the caller closes all but the first)."""
        fds = [self.fd]
        try:
            for i, part in enumerate(path.split("/")[:-1]):
                if create:
                    try:
                        os.mkdir(part, 0o755, dir_fd=fds[-1])
                    except FileExistsError:
                        pass
                fds.append(_open_dir(part, "gitops/" + "/".join(path.split("/")[: i + 1]), dir_fd=fds[-1]))
        except BaseException:
            _close(fds[1:])
            raise
        return fds

    def replace(self, staged: Path, path: str) -> None:
        try:
            fds = self._parents(path, create=True)
            try:
                os.replace(staged, path.rsplit("/", 1)[-1], dst_dir_fd=fds[-1])
            finally:
                _close(fds[1:])
        except UnsafePath:
            raise
        except OSError as exc:   # name the gitops file, not the staged copy; the next command retries
            raise OSError(exc.errno, f"cannot put the compiled file in place ({exc.strerror}); "
                                     "fix this and run maestro compile again", str(self.gitops / path)) from exc

    def remove(self, path: str) -> None:
        """Unlink a file maestro generated (a regular file with the header), then empty parent folders."""
        try:
            fds = self._parents(path, create=False)
        except FileNotFoundError:
            return
        try:
            name = path.rsplit("/", 1)[-1]
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=fds[-1])
            except FileNotFoundError:
                fd = None
            if fd is not None:
                try:
                    regular = stat.S_ISREG(os.fstat(fd).st_mode)
                    first = os.read(fd, 256) if regular else b""
                finally:
                    os.close(fd)
                if regular and is_generated(first):
                    os.unlink(name, dir_fd=fds[-1])
            parts = path.split("/")[:-1]
            for depth in range(len(parts), 0, -1):   # the emptied folders, innermost first
                try:
                    os.rmdir(parts[depth - 1], dir_fd=fds[depth - 1])
                except OSError:
                    break
        finally:
            _close(fds[1:])

    def sync(self) -> None:
        os.fsync(self.fd)


def _open_dir(name: str, shown: str, dir_fd: int | None = None) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and stat.S_ISLNK(
                os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):   # O_NOFOLLOW met a link
            raise link_error(shown) from None
        raise


def _close(fds: Sequence[int]) -> None:
    for fd in fds:
        os.close(fd)


def check_writable(gitops: Path, paths: Sequence[str]) -> None:
    """Refuse before anything is staged when a folder that must change is read-only. (For root,
    os.access says yes; a move that fails anyway is then reported by `Folder.replace`, naming the file.)"""
    folders = set()
    for path in paths:
        folder = (gitops / path).parent
        while not folder.exists():
            folder = folder.parent
        folders.add(folder)
    for folder in sorted(folders):
        if not os.access(folder, os.W_OK):
            raise PermissionError(errno.EACCES, "cannot write there (read-only); nothing was changed", str(folder))


def write_new(path: Path, data: bytes) -> None:
    """A new file, fsynced; O_EXCL and O_NOFOLLOW: never through a link, never over another file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def replace_synced(path: Path, data: bytes) -> None:
    """`path` atomically replaced by `data`, durable when this returns."""
    temporary = path.with_name(f".{path.name}.tmp")
    unlink_quietly(temporary)
    write_new(temporary, data)
    os.replace(temporary, path)
    fsync_dir(path.parent)


def read_no_follow(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise link_error(str(path)) from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return handle.read()


def discard(path: Path) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        unlink_quietly(path)


def unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fsync_dir(path: Path) -> None:
    if path.is_dir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_if_present(path: Path) -> bytes | None:
    try:
        return read_no_follow(path)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnsafePath):
        return None
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.EISDIR):
            return None
        raise
