"""Write, check and recover the gitops folder.

In: a compiled `Tree` and the folder. Out: files on disk (write), or a list of `Drift`s (check).
A write stages every changed file and fsyncs it, commits a journal, then moves files into place
and prunes what maestro generated earlier and no longer produces. A run interrupted at any point
is completed (journal committed) or undone (journal absent) by the next write's `recover`. A file
lock serializes compiles; the kernel drops it when its holder dies, so a killed compile leaves no
stale lock behind.

CI runs this on untrusted pull requests, so nothing in the checkout is trusted (docs/security.md#untrusted-checkouts-in-ci):
- `preflight` refuses a symbolic link anywhere under gitops/ or .maestro/, and a .maestro/ that git
  tracks, before any command reads or writes either;
- every path (of the tree, of a journal) must be a plain relative path inside gitops/;
- files are moved and removed through directory descriptors opened with O_NOFOLLOW, so a link
  swapped in later is still never followed;
- a journal is acted on only when a record in this user's private state folder, outside the
  checkout, holds its SHA-256. The journal carries a random nonce and the digest of every staged
  file, so a journal or staged file that came from the checkout can never match;
- read-only commands (`compile --check`, `diff`) never recover.
"""

from __future__ import annotations

import difflib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from .compile import Tree, in_scope
from .errors import UnsafePath, UsageError
from .render import is_generated

STATE_DIR = ".maestro"
JOURNAL, STAGING = "journal.json", "staging"
LOCK_WAIT_SECONDS = 60.0
STATE_VARIABLE = "MAESTRO_STATE_DIR"   # where this user's journal records live; default below
# The one folder of a team namespace that Maestro never writes, prunes or reports: manifests kept by
# hand, which the ApplicationSet syncs with the rest of the namespace folder (gitops/README.md).
MANUAL_FOLDER = "manual"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")   # what a directory-type Argo CD Application reads
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class Drift:
    path: str
    status: str      # missing | stale | extra | foreign
    diff: str = ""


# --- what may be touched ---------------------------------------------------------------------

def preflight(root: Path) -> None:
    """Refuse a checkout whose gitops/ or .maestro/ could make maestro touch files elsewhere."""
    _refuse_committed_state(root)
    for name in (STATE_DIR, "gitops"):
        _refuse_links(root, name)


def _refuse_committed_state(root: Path) -> None:
    import subprocess

    try:
        # safe.directory: a checkout owned by another user (CI containers) is still checked; fsmonitor
        # off: no command configured in the repository runs.
        listed = subprocess.run(["git", "-c", "safe.directory=*", "-c", "core.fsmonitor=false", "-C", str(root),
                                 "ls-files", "-z", "--", STATE_DIR],
                                capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return   # no git here: nothing can have come from a commit
    if listed.returncode == 0 and listed.stdout.strip(b"\0"):
        first = listed.stdout.split(b"\0")[0].decode(errors="replace")
        raise UnsafePath(f"{first} is committed to git; {STATE_DIR}/ holds this machine's compile state and "
                         f"is never taken from a checkout: `git rm -r --cached {STATE_DIR}` and add it to .gitignore")


def _refuse_links(root: Path, name: str) -> None:
    top = root / name
    try:
        mode = os.lstat(top).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise _link_error(name)
    if not stat.S_ISDIR(mode):
        return   # a file where a folder belongs: reported where it is used
    pending = [(name, str(top))]
    while pending:
        relative, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_symlink():
                    raise _link_error(f"{relative}/{entry.name}")
                if entry.is_dir(follow_symlinks=False):
                    pending.append((f"{relative}/{entry.name}", entry.path))


def _link_error(relative: str) -> UnsafePath:
    return UnsafePath(f"{relative} is a symbolic link; maestro never writes, reads or deletes through links "
                      f"under gitops/ or {STATE_DIR}/: replace it with a real file or folder")


def confined(path: object) -> str:
    """`path` if it is a plain relative path inside gitops/ (no '..', '.', empty or absolute part)."""
    if not isinstance(path, str) or not path or "\\" in path or "\0" in path or path.startswith("/") \
            or any(part in ("", ".", "..") for part in path.split("/")):
        raise UnsafePath(f"refusing the path {path!r}: every path maestro writes or removes must stay inside gitops/")
    return path


def is_manual(path: str) -> bool:
    """A file under `<env>/<namespace>/manual/`: kept by hand, never written, pruned or reported."""
    parts = path.split("/")
    return len(parts) > 3 and parts[2] == MANUAL_FOLDER


def is_readme(path: str) -> bool:
    """README, README.md and the like; not README.yaml, which Argo CD would read as a manifest."""
    name = path.rsplit("/", 1)[-1]
    return name.upper().startswith("README") and not name.lower().endswith(MANIFEST_SUFFIXES)


# --- the lock and the state folders --------------------------------------------------------------

def state_dir(root: Path) -> Path:
    path = root / STATE_DIR
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        if os.path.islink(path):
            raise _link_error(STATE_DIR)
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
            raise _link_error(f"{STATE_DIR}/lock") from None
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


def _record_path(root: Path) -> Path:
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:32]
    return private_state() / f"journal-{key}.json"


# --- reading and checking ----------------------------------------------------------------------

def generated_files(gitops: Path) -> dict[str, bytes]:
    """Every file under `gitops` that maestro wrote, by relative path (never under a manual/ folder)."""
    return {relative: data for relative, data in _files(gitops).items()
            if is_generated(data) and not is_manual(relative)}


def _files(gitops: Path) -> dict[str, bytes]:
    found = {}
    if not gitops.is_dir():
        return found
    for relative in _regular_files(gitops):
        with open(gitops / relative, "rb") as handle:
            found[relative] = handle.read()   # read once: plan_changes compares these very bytes
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
    for path in tree.files:
        confined(path)
        if is_manual(path):
            raise UnsafePath(f"gitops/{path}: maestro never writes under a {MANUAL_FOLDER}/ folder")
    current = generated_files(gitops)
    writes = {p: data for p, data in tree.files.items() if (current[p] if p in current else _read(gitops / p)) != data}
    foreign = sorted(p for p in writes if p not in current and os.path.lexists(gitops / p))
    if foreign:
        raise UsageError(f"gitops/{foreign[0]} exists and was not written by maestro; move it away "
                         f"or rename the object ({len(foreign)} such file(s))")
    prunes = [p for p in current if p not in tree.files and in_scope(p, tree.scope)]
    return writes, prunes


def unaccounted(gitops: Path, tree: Tree) -> list[str]:
    """Files in the tree's scope that maestro did not generate and that are not kept on purpose
    (README files, `<env>/<namespace>/manual/` of a team namespace): Argo CD would sync them unseen."""
    if not gitops.is_dir():
        return []
    teams = {(env.name, t.namespace) for env in tree.plan.environments for t in env.teams}
    found = []
    for path in _regular_files(gitops):
        if path in tree.files or not in_scope(path, tree.scope) or is_readme(path):
            continue
        parts = path.split("/")
        if is_manual(path) and (parts[0], parts[1]) in teams:
            continue
        with open(gitops / path, "rb") as handle:
            if not is_generated(handle.readline()):
                found.append(path)
    return found


def check(gitops: Path, tree: Tree) -> list[Drift]:
    writes, prunes = plan_changes(gitops, tree)
    drifts = [_drift(gitops, path, data) for path, data in writes.items()]
    drifts += [Drift(p, "extra") for p in prunes] + [Drift(p, "foreign") for p in unaccounted(gitops, tree)]
    return sorted(drifts, key=lambda d: d.path)


def pending(root: Path) -> bool:
    """Whether an interrupted write waits for the next compile (read-only commands only say so)."""
    return os.path.lexists(root / STATE_DIR / JOURNAL)


def _drift(gitops: Path, path: str, data: bytes) -> Drift:
    old = _read(gitops / path)
    if old is None:
        return Drift(path, "missing")
    lines = difflib.unified_diff(old.decode(errors="replace").splitlines(), data.decode().splitlines(),
                                 f"gitops/{path} (on disk)", f"gitops/{path} (compiled)", n=1, lineterm="")
    return Drift(path, "stale", "\n".join(list(lines)[:40]))


# --- writing -------------------------------------------------------------------------------------

def write(root: Path, gitops: Path, tree: Tree) -> tuple[list[str], list[str]]:
    """Bring `gitops` to `tree`; returns (written, pruned). Call with the lock held."""
    preflight(root)
    recover(root, gitops)
    writes, prunes = commit(root, gitops, tree)
    recover(root, gitops)
    return writes, prunes


def commit(root: Path, gitops: Path, tree: Tree) -> tuple[list[str], list[str]]:
    """Stage the changed files and commit the journal, changing nothing in gitops/ yet: a write
    that stops here (a crash) is completed by the next write's `recover`."""
    writes, prunes = plan_changes(gitops, tree)
    if not writes and not prunes:
        return [], []
    _check_writable(gitops, [*writes, *prunes])
    record = _record_path(root)   # refused before anything is staged if there is no private folder
    state = state_dir(root)
    staging = state / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    for path, data in writes.items():
        _write_new(staging / path, data)
    journal = json.dumps({"nonce": os.urandom(16).hex(), "prunes": sorted(prunes),
                          "writes": {p: _sha(writes[p]) for p in sorted(writes)}}).encode()
    _replace_synced(record, json.dumps({"root": str(root.resolve()), "journal": _sha(journal)}).encode())
    _replace_synced(state / JOURNAL, journal)   # the commit point
    return sorted(writes), sorted(prunes)


def recover(root: Path, gitops: Path) -> str:
    """Finish a committed write of this machine, or discard an uncommitted one or one that this
    machine did not write. Idempotent. Returns a warning to show, or ''. Write commands only, after
    `preflight`."""
    state = root / STATE_DIR
    if not os.path.lexists(state):
        return ""
    journal_path, staging = state / JOURNAL, state / STAGING
    try:
        record: Path | None = _record_path(root)
    except UnsafePath:   # no private folder: no journal can be trusted, and none was recorded
        record = None
    warning = ""
    if os.path.lexists(journal_path):
        raw = _read_no_follow(journal_path)
        journal = _trusted(raw, record, root)
        if journal is None:
            warning = (f"warning: ignored {STATE_DIR}/{JOURNAL}: no compile on this machine wrote it, so none of "
                       "it was acted on")
        else:
            _finish(gitops, staging, journal)
        _discard(journal_path)
        _fsync_dir(state)
    if record is not None:
        _unlink_quietly(record)
    shutil.rmtree(staging, ignore_errors=True)   # rmtree never follows links
    for name in ("journal.tmp", f".{JOURNAL}.tmp"):
        _unlink_quietly(state / name)
    return warning


def _trusted(raw: bytes | None, record: Path | None, root: Path) -> dict | None:
    """The journal, if this machine's record holds its digest and it is well formed; else None."""
    if record is None:
        return None
    try:
        kept = json.loads(_read_no_follow(record) or b"null")
        journal = json.loads(raw or b"null")
    except ValueError:
        return None
    if not isinstance(kept, dict) or kept.get("journal") != _sha(raw or b"") or kept.get("root") != str(root.resolve()):
        return None
    if not isinstance(journal, dict) or not isinstance(journal.get("writes"), dict) \
            or not isinstance(journal.get("prunes"), list):
        return None
    for path in [*journal["writes"], *journal["prunes"]]:
        confined(path)
    return journal


def _finish(gitops: Path, staging: Path, journal: dict) -> None:
    with _Folder(gitops) as folder:
        for path, digest in journal["writes"].items():
            staged = staging / path
            if _read_no_follow(staged) is not None and _sha(_read_no_follow(staged)) == digest:
                folder.replace(staged, path)
        for path in journal["prunes"]:
            folder.remove(path)
        folder.sync()


class _Folder:
    """gitops/, changed only through directory descriptors opened with O_NOFOLLOW: a path whose
    folder is (or becomes) a symbolic link fails with ELOOP instead of leaving gitops/."""

    def __init__(self, gitops: Path):
        self.gitops = gitops

    def __enter__(self) -> "_Folder":
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
            raise _link_error(shown) from None
        raise


def _close(fds: Sequence[int]) -> None:
    for fd in fds:
        os.close(fd)


def _check_writable(gitops: Path, paths: Sequence[str]) -> None:
    """Refuse before anything is staged when a folder that must change is read-only. (For root,
    os.access says yes; a move that fails anyway is then reported by `_Folder.replace`, naming the file.)"""
    folders = set()
    for path in paths:
        folder = (gitops / path).parent
        while not folder.exists():
            folder = folder.parent
        folders.add(folder)
    for folder in sorted(folders):
        if not os.access(folder, os.W_OK):
            raise PermissionError(errno.EACCES, "cannot write there (read-only); nothing was changed", str(folder))


def _write_new(path: Path, data: bytes) -> None:
    """A new file, fsynced; O_EXCL and O_NOFOLLOW: never through a link, never over another file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _replace_synced(path: Path, data: bytes) -> None:
    """`path` atomically replaced by `data`, durable when this returns."""
    temporary = path.with_name(f".{path.name}.tmp")
    _unlink_quietly(temporary)
    _write_new(temporary, data)
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def _read_no_follow(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _link_error(str(path)) from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return handle.read()


def _discard(path: Path) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        _unlink_quietly(path)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(path: Path) -> None:
    if path.is_dir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _read(path: Path) -> bytes | None:
    try:
        return _read_no_follow(path)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnsafePath):
        return None
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.EISDIR):
            return None
        raise


def summarize(drifts: Sequence[Drift]) -> str:
    lines = []
    for d in drifts:
        lines.append(f"{d.status}: gitops/{d.path}" + (f"\n{d.diff}" if d.diff else ""))
        if d.status == "foreign":
            parts = d.path.split("/")
            keep = f"gitops/{parts[0]}/{parts[1]}/{MANUAL_FOLDER}/" if len(parts) > 2 and parts[1] != "argocd" \
                else f"gitops/<env>/<team namespace>/{MANUAL_FOLDER}/"
            lines.append(f"  not generated by maestro, yet Argo CD would sync it: delete it, or keep it on purpose "
                         f"in {keep} (see gitops/README.md)")
    return "\n".join(lines)
