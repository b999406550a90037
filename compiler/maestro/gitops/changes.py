"""What a compiled tree changes in gitops/: the files to write, the generated files to prune, the
files maestro did not generate, and the drift `compile --check` reports.

In: a `Tree` and the gitops folder. Out: writes and prunes (for the journal), or `Drift`s and their
summary; nothing is changed here. Only files maestro generated (they start with its header) are
pruned, and only within the tree's scope.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import UnsafePath, UsageError
from ..render import is_generated
from ..tree import Tree, in_scope
from .files import read_if_present
from .paths import MANUAL_FOLDER, confined, is_manual, is_readme


_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class Drift:
    path: str
    status: str      # missing | stale | extra | foreign
    diff: str = ""


def generated_files(gitops: Path) -> dict[str, bytes]:
    """Every file under `gitops` that maestro wrote, by relative path (never under a manual/ folder)."""
    return {relative: data for relative, data in _files(gitops).items()
            if is_generated(data) and not is_manual(relative)}


def _files(gitops: Path) -> dict[str, bytes]:
    if not gitops.is_dir():
        return {}
    folder = os.fspath(gitops) + os.sep
    # read once: plan_changes compares these very bytes
    return {relative: _read(folder + relative) for relative in _regular_files(gitops)}


def _read(path: str) -> bytes:
    """A regular file's bytes, never through a link; with os.read, as the tree's 15,000 files are read
    in a compile's critical path and open()'s file objects cost as much as the reading."""
    fd = os.open(path, _READ_FLAGS)
    try:
        chunks = [os.read(fd, os.fstat(fd).st_size + 1)]
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks)
    finally:
        os.close(fd)


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
    writes = {p: data for p, data in tree.files.items() if (current[p] if p in current else read_if_present(gitops / p)) != data}
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
    found = []
    for path in _regular_files(gitops):
        if path in tree.files or not in_scope(path, tree.scope) or is_readme(path):
            continue
        parts = path.split("/")
        if is_manual(path) and (parts[0], parts[1]) in tree.team_namespaces:
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


def _drift(gitops: Path, path: str, data: bytes) -> Drift:
    old = read_if_present(gitops / path)
    if old is None:
        return Drift(path, "missing")
    lines = difflib.unified_diff(old.decode(errors="replace").splitlines(), data.decode().splitlines(),
                                 f"gitops/{path} (on disk)", f"gitops/{path} (compiled)", n=1, lineterm="")
    return Drift(path, "stale", "\n".join(list(lines)[:40]))


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
