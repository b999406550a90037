"""The lock and the state folders: the project's `.maestro/` (the lock, the journal and its staged
files, the cache) and this user's private folder of journal records, outside every checkout.

In: the project root. Out: the folders, created as needed and refused when they are links, not
folders, or writable by others; a held lock (`locked`), which the kernel drops when its holder dies.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import UnsafePath, UsageError
from .paths import STATE_DIR, link_error

LOCK_WAIT_SECONDS = 60.0
STATE_VARIABLE = "MAESTRO_STATE_DIR"   # where this user's journal records live; default below


def state_dir(root: Path) -> Path:
    path = root / STATE_DIR
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        if os.path.islink(path):
            raise link_error(STATE_DIR)
        raise UnsafePath(f"{STATE_DIR} is not a folder; move it away")
    try:
        fd = os.open(path / ".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as handle:
        handle.write("*\n")
    return path


@contextmanager
def locked(root: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the project's compile lock; waits up to `wait` seconds for another holder."""
    try:
        fd = os.open(state_dir(root) / "lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise link_error(f"{STATE_DIR}/lock") from None
        raise
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UsageError(f"another maestro command holds {root / STATE_DIR / 'lock'}; try again")
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def private_state() -> Path:
    """This user's folder for journal records, outside every checkout: $MAESTRO_STATE_DIR, else
    $XDG_STATE_HOME/maestro, else ~/.local/state/maestro, else a folder of this user in the temp dir.
    It must be a real folder owned by this user that nobody else may write."""
    chosen = os.environ.get(STATE_VARIABLE)
    if chosen:
        return _private_folder(Path(chosen))
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    try:
        return _private_folder(Path(base) / "maestro")
    except OSError:
        import tempfile

    return _private_folder(Path(tempfile.gettempdir()) / f"maestro-state-{os.geteuid()}")


def _private_folder(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = os.lstat(path)
    except OSError as exc:
        raise UnsafePath(f"cannot use {path} for maestro's journal records ({exc.strerror}); "
                         f"set {STATE_VARIABLE} to a private folder") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise UnsafePath(f"{path} must be a folder of this user that others cannot write (it holds maestro's "
                         f"journal records); fix it or set {STATE_VARIABLE} to a private folder")
    return path


def record_path(root: Path) -> Path:
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:32]
    return private_state() / f"journal-{key}.json"
