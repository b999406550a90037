"""Write gitops/ through a journal: stage every changed file, commit a journal, then move the files
into place and prune; an interrupted write is completed (journal committed) or undone (journal
absent) by the next write's `recover`.

In: the project root, the gitops folder and a compiled `Tree`. Out: the files written and pruned. A
journal is acted on only when this user's private record (`state.record_path`) holds its SHA-256,
so a journal or staged file taken from a checkout is never trusted.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..errors import UnsafePath
from ..tree import Tree
from .changes import plan_changes
from .files import (Folder, check_writable, discard, fsync_dir, read_no_follow, replace_synced, sha,
                    unlink_quietly, write_new)
from .paths import STATE_DIR, confined, preflight
from .state import record_path, state_dir

JOURNAL, STAGING = "journal.json", "staging"


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
    check_writable(gitops, [*writes, *prunes])
    record = record_path(root)   # refused before anything is staged if there is no private folder
    state = state_dir(root)
    staging = state / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    for path, data in writes.items():
        write_new(staging / path, data)
    journal = json.dumps({"nonce": os.urandom(16).hex(), "prunes": sorted(prunes),
                          "writes": {p: sha(writes[p]) for p in sorted(writes)}}).encode()
    replace_synced(record, json.dumps({"root": str(root.resolve()), "journal": sha(journal)}).encode())
    replace_synced(state / JOURNAL, journal)   # the commit point
    return sorted(writes), sorted(prunes)


def pending(root: Path) -> bool:
    """Whether an interrupted write waits for the next compile (read-only commands only say so)."""
    return os.path.lexists(root / STATE_DIR / JOURNAL)


def recover(root: Path, gitops: Path) -> str:
    """Finish a committed write of this machine, or discard an uncommitted one or one that this
    machine did not write. Idempotent. Returns a warning to show, or ''. Write commands only, after
    `preflight`."""
    state = root / STATE_DIR
    if not os.path.lexists(state):
        return ""
    journal_path, staging = state / JOURNAL, state / STAGING
    try:
        record: Path | None = record_path(root)
    except UnsafePath:   # no private folder: no journal can be trusted, and none was recorded
        record = None
    warning = ""
    if os.path.lexists(journal_path):
        raw = read_no_follow(journal_path)
        journal = _trusted(raw, record, root)
        if journal is None:
            warning = (f"warning: ignored {STATE_DIR}/{JOURNAL}: no compile on this machine wrote it, so none of "
                       "it was acted on")
        else:
            _finish(gitops, staging, journal)
        discard(journal_path)
        fsync_dir(state)
    if record is not None:
        unlink_quietly(record)
    shutil.rmtree(staging, ignore_errors=True)   # rmtree never follows links
    for name in ("journal.tmp", f".{JOURNAL}.tmp"):
        unlink_quietly(state / name)
    return warning


def _trusted(raw: bytes | None, record: Path | None, root: Path) -> dict | None:
    """The journal, if this machine's record holds its digest and it is well formed; else None."""
    if record is None:
        return None
    try:
        kept = json.loads(read_no_follow(record) or b"null")
        journal = json.loads(raw or b"null")
    except ValueError:
        return None
    if not isinstance(kept, dict) or kept.get("journal") != sha(raw or b"") or kept.get("root") != str(root.resolve()):
        return None
    if not isinstance(journal, dict) or not isinstance(journal.get("writes"), dict) \
            or not isinstance(journal.get("prunes"), list):
        return None
    for path in [*journal["writes"], *journal["prunes"]]:
        confined(path)
    return journal


def _finish(gitops: Path, staging: Path, journal: dict) -> None:
    with Folder(gitops) as folder:
        for path, digest in journal["writes"].items():
            staged = staging / path
            if read_no_follow(staged) is not None and sha(read_no_follow(staged)) == digest:
                folder.replace(staged, path)
        for path in journal["prunes"]:
            folder.remove(path)
        folder.sync()
