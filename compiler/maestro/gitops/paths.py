"""What maestro may touch: a checkout's gitops/ and .maestro/ checked before any command uses them,
and the paths of a tree or a journal, each a plain relative path inside gitops/.

In: the project root, or one gitops-relative path. Out: nothing, or `UnsafePath` naming the link, the
committed state or the path refused. Also which files under gitops/ are kept by hand (`manual/`
folders, README files): maestro never writes, prunes or reports those.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import UnsafePath

STATE_DIR = ".maestro"
# The one folder of a team namespace that Maestro never writes, prunes or reports: manifests kept by
# hand, which the ApplicationSet syncs with the rest of the namespace folder (gitops/README.md).
MANUAL_FOLDER = "manual"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")   # what a directory-type Argo CD Application reads


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
        raise link_error(name)
    if not stat.S_ISDIR(mode):
        return   # a file where a folder belongs: reported where it is used
    pending = [(name, str(top))]
    while pending:
        relative, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_symlink():
                    raise link_error(f"{relative}/{entry.name}")
                if entry.is_dir(follow_symlinks=False):
                    pending.append((f"{relative}/{entry.name}", entry.path))


def link_error(relative: str) -> UnsafePath:
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
