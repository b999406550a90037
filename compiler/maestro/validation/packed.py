"""The shipped schemas in one pre-parsed file: every schema of the bundle, identical parts stored once.

In (`pack`, run by scripts/build_schema_bundle.py): bundle-relative path -> parsed schema. Out: the
text of `packed.json.gz`, a table of the distinct objects and arrays of all the schemas, children
before parents, and each file's root in it. In (`bundled`): a schema file's path. Out: that schema,
built from the table, or None when the file is not one of the bundle's.

Why: the CRD schemas inline the same definitions over and over (Argo's Template in every workflow
kind, Kubernetes' PodSpec in every pod-bearing kind): 3.8 MB of JSON are 0.1 MB of distinct parts.
Reading the table costs a few milliseconds, where parsing the JSON of the schemas a small
`maestro validate` needs cost tens, on every run. Identical parts come back as one shared object;
nothing reads a schema but to check against it, and the checks never change a schema.
A value in a stored object or array is a child's index (an int) or a scalar wrapped in a one-item
list, so the two never mix up; the table is JSON, so reading it runs no code.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path
from typing import Any

from .locations import BUNDLE_DIR

FORMAT = "maestro.packed-schemas/v1"
FILE = "packed.json.gz"
_unpacked: dict[str, Any] | None = None


def pack(schemas: dict[str, Any]) -> bytes:
    nodes: list[list] = []
    index: dict[str, int] = {}

    def node(value: Any) -> Any:
        if isinstance(value, dict):
            entry = ["d", [part for key, child in value.items() for part in (key, node(child))]]
        elif isinstance(value, list):
            entry = ["l", [node(child) for child in value]]
        else:
            return [value]
        key = json.dumps(entry, separators=(",", ":"))
        if key not in index:
            index[key] = len(nodes)
            nodes.append(entry)
        return index[key]

    files = {name: node(schema) for name, schema in sorted(schemas.items())}
    document = {"format": FORMAT, "nodes": nodes, "files": files}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def unpack(data: bytes) -> dict[str, Any]:
    document = json.loads(data)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} document")
    built: list[Any] = []
    for kind, parts in document["nodes"]:
        values = [built[p] if isinstance(p, int) else p[0] for p in (parts[1::2] if kind == "d" else parts)]
        built.append(dict(zip(parts[0::2], values)) if kind == "d" else values)
    return {name: built[root] if isinstance(root, int) else root[0] for name, root in document["files"].items()}


def bundled(path: str) -> Any | None:
    """The schema stored at `path` if that is a file of the shipped bundle, from the packed table."""
    try:
        relative = Path(os.path.abspath(path)).relative_to(BUNDLE_DIR).as_posix()
    except ValueError:
        return None
    schemas = _table()
    return schemas.get(relative) if schemas is not None else None


def _table() -> dict[str, Any] | None:
    global _unpacked
    if _unpacked is None:
        try:
            _unpacked = unpack(gzip.decompress((BUNDLE_DIR / FILE).read_bytes()))
        except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError, IndexError):
            _unpacked = {}   # a damaged or missing table: every schema is read from its own file
    return _unpacked
