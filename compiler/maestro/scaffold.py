"""`maestro init`: the first files of a new repository, never over an existing one.

In: the target folder. Out: environments/dev.yaml and one example pipeline (both with the editor
modeline naming the spec JSON Schemas), those schemas under docs/schemas/ (`maestro schema`), a
.pre-commit-config.yaml with Maestro's hooks, and a .gitignore for its local state (only where
there is none); the paths written. Every file is checked before any is written: one that exists, or
a symbolic link on the way to one, refuses the whole scaffold with one diagnostic each. Files and
folders are created relative to descriptors opened with O_NOFOLLOW and O_EXCL, so a link planted
meanwhile is never followed out of the folder and nothing is ever overwritten.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path, PurePosixPath

from .errors import Diagnostic, MaestroError

# path in the new repository -> its content: a file of resources/init/, or `schema:<kind>`
FILES = {
    "environments/dev.yaml": "environments/dev.yaml",
    "pipelines/ibm-direction.yaml": "pipelines/ibm-direction.yaml",
    "docs/schemas/pipeline.schema.json": "schema:pipeline",
    "docs/schemas/environment.schema.json": "schema:environment",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
}
OPTIONAL = {".gitignore": "gitignore"}   # written only where there is none yet
HINT = "maestro init writes only new files: run it in an empty repository, or move this file away"


def scaffold(root: Path) -> tuple[str, ...]:
    """Write the scaffold into `root` (created if missing); the relative paths written, sorted."""
    root.mkdir(parents=True, exist_ok=True)
    wanted = {**FILES, **{p: s for p, s in OPTIONAL.items() if not os.path.lexists(root / p)}}
    problems = [problem for path in sorted(wanted) for problem in _obstacles(root, path)]
    if problems:
        raise MaestroError(problems)
    for path, source in sorted(wanted.items()):
        _create(root, PurePosixPath(path), _content(source))
    return tuple(sorted(wanted))


def _obstacles(root: Path, path: str) -> list[Diagnostic]:
    """Why `path` cannot be created under `root`: a symbolic link or a file on its way, or itself existing."""
    current = root
    for part in PurePosixPath(path).parts[:-1]:
        current = current / part
        if current.is_symlink():
            return [_refusal(current, root, "is a symbolic link; maestro init writes only inside the folder itself")]
        if current.exists() and not current.is_dir():
            return [_refusal(current, root, "exists and is not a folder")]
    if os.path.lexists(root / path):
        return [_refusal(root / path, root, "already exists")]
    return []


def _refusal(path: Path, root: Path, message: str) -> Diagnostic:
    return Diagnostic(path.relative_to(root).as_posix(), None, None, (), message, HINT)


def _content(source: str) -> bytes:
    if source.startswith("schema:"):
        from .language.jsonschema import schema_text

        return schema_text(source.removeprefix("schema:")).encode("utf-8")
    return files("maestro").joinpath("resources", "init", source).read_bytes()


def _create(root: Path, path: PurePosixPath, data: bytes) -> None:
    """`data` as the new file `root/path`: each folder opened without following a link, the file
    created exclusively (an existing one, or a link put there meanwhile, fails instead of being written)."""
    nofollow = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in path.parts[:-1]:
            try:
                os.mkdir(part, dir_fd=folder)
            except FileExistsError:
                pass
            inner = os.open(part, nofollow, dir_fd=folder)
            os.close(folder)
            folder = inner
        fd = os.open(path.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    finally:
        os.close(folder)
