"""Stage 1a, reading: command-line paths to manifest texts, then to documents.

In: paths (files, directories, or `-` for stdin) and an optional stdin stream.
Out: `Document`s and error `Result`s, in a stable order: the paths in the order
given, each directory walked in sorted order (files ending .yaml, .yml or .json;
hidden entries skipped), each file's documents in file order. Maestro's own ConfigMap patch files
come back as the ConfigMap they patch (`patches`).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Iterator, Sequence, TextIO

from ..validation.model import Document, Result
from ..validation.patches import as_patched_objects
from .manifests import MAX_FILE_BYTES, error_result, parse_json, parse_yaml

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


def load_documents(paths: Sequence[str], stdin: TextIO | None = None,
                   ignore: Sequence[str] = ()) -> list[Document | Result]:
    """Every manifest under `paths`; `-` reads `stdin` (default: sys.stdin).

    Files whose path matches one of the regular expressions `ignore` are not read.
    """
    out: list[Document | Result] = []
    for source in manifest_files(paths, ignore):
        out.extend(load_source(source, stdin))
    return out


def manifest_files(paths: Sequence[str], ignore: Sequence[str] = ()) -> Iterator[str]:
    """The files to read: explicit files as given, directories walked in sorted order."""
    patterns = [re.compile(p) for p in ignore]
    for path in paths:
        found = _walk(Path(path)) if path != STDIN and os.path.isdir(path) else [path]
        yield from (f for f in found if f == STDIN or not any(p.search(f) for p in patterns))


def _walk(root: Path) -> Iterator[str]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                yield str(Path(directory) / name)


def load_source(source: str, stdin: TextIO | None = None) -> list[Document | Result]:
    """The manifests of one file, or of stdin when `source` is `-`."""
    try:
        text = _read(source, stdin)
    except (OSError, UnicodeDecodeError) as exc:
        return [error_result(source, 0, 0, f"cannot read: {_reason(exc)}")]
    except _TooLarge as exc:
        return [error_result(source, 0, 1, f"the file is {exc.size // (1024 * 1024)} MiB or more; manifest files "
                                           f"are limited to {MAX_FILE_BYTES // (1024 * 1024)} MiB")]
    if source.endswith(".json"):
        return parse_json(text, source)
    return as_patched_objects(text, parse_yaml(text, source))


def load_text(text: str, source: str = STDIN) -> list[Document | Result]:
    """The manifests of YAML (or JSON) text given in memory."""
    return parse_yaml(text, source)


class _TooLarge(Exception):
    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


def _read(source: str, stdin: TextIO | None) -> str:
    """The text, read no further than MAX_FILE_BYTES (a 10 GB file or /dev/zero is refused, not read)."""
    if source == STDIN:
        text = (stdin if stdin is not None else sys.stdin).read(MAX_FILE_BYTES + 1)
        if len(text) > MAX_FILE_BYTES:
            raise _TooLarge(len(text))
        return text
    with open(source, "rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise _TooLarge(max(len(raw), os.stat(source).st_size))
    return raw.decode("utf-8-sig")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)
