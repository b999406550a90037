"""Compile cache: content-addressed records of earlier compiles, under `.maestro/cache/`.

In: keys (SHA-256 over everything a result depends on) and results. Out: the result stored for a key,
or None. A record is JSON plus raw bytes, never a pickle, so a planted cache file cannot run code;
a record that cannot be read is a miss. Writes go to a temporary file renamed into place, and are
best effort: a cache that cannot be written costs speed, never a compile. `incremental` keys and
reads these records for the compile; whether a compile uses them at all is its caller's choice.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

STATE_DIR = ".maestro"
CACHE_DIR = "cache"
INDEX = "index.json"
PACKAGE = Path(__file__).resolve().parent
LIBRARIES = ("yaml", "_yaml", "pydantic", "pydantic_core", "ruamel.yaml", "jsonschema", "referencing")
MAX_SCHEMA_FILES = 20_000


def digest(*parts: str | bytes) -> str:
    """SHA-256 of the parts, each length-prefixed so that no two lists of parts collide."""
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "little") + data)
    return sha.hexdigest()


@functools.lru_cache(maxsize=None)
def code_identity() -> str:
    """Every file of the maestro package and the versions of the libraries that parse, check and
    render: a change to any of them is a new cache."""
    files = sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    parts = [f"{p.relative_to(PACKAGE).as_posix()}\0".encode() + p.read_bytes() for p in files]
    return digest(sys.version, *(_installed(name) for name in LIBRARIES), *parts)


def _installed(module: str) -> str:
    """Which copy of a library: its file, size and modification time (installing another version
    rewrites it). importlib.metadata would say the version, at 30 times the cost on every compile."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        return f"{module}: none"
    stat = os.stat(spec.origin)
    return f"{module}: {spec.origin} {stat.st_size} {stat.st_mtime_ns}"


def schema_identity(validate: bool, locations: Sequence[str]) -> str:
    """What output validation was checked against: a changed schema file means validating again."""
    if not validate:
        return "unvalidated"
    return digest("validated", _version("kubernetes-validate"), *(f"{loc}\0{_listing(loc)}" for loc in locations))


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "none"


def _listing(location: str) -> str:
    """The files of a local schema location (a folder, a file, or the fixed part of a template) with
    their sizes and modification times; an http(s) template as it is. A location too large to list
    gets a new identity every time: validation is then never taken from the cache."""
    if location.startswith(("http://", "https://")):
        return ""
    path = Path(location.split("{{")[0] or ".")
    path = path if path.exists() else path.parent
    files = [path] if path.is_file() else _files(path)
    if files is None:
        return os.urandom(16).hex()
    return "\n".join(f"{p}\0{p.stat().st_size}\0{p.stat().st_mtime_ns}" for p in files)


def _files(folder: Path) -> list[Path] | None:
    found = []
    for path in folder.rglob("*"):
        if len(found) >= MAX_SCHEMA_FILES:
            return None
        if path.is_file():
            found.append(path)
    return sorted(found)


def object_digest(code: str, body: dict, sources: Sequence[str]) -> str:
    """Identifies what `render` makes of an object. `repr` of plain data tells 1 from "1", True and 1.0
    (JSON would not, in keys); two orders of the same keys only cost a miss."""
    return digest(code, repr(body), repr(tuple(sources)))


@dataclass(frozen=True)
class Unit:
    """The compiled files of one team namespace of one environment, and what validation made of them."""

    files: dict[str, bytes]
    kinds: dict[str, str]       # path -> kind, for the tree's README
    skipped: dict[str, str]     # path -> kind of the objects no schema checked
    digests: dict[str, str]     # path -> `object_digest` of what was rendered there


class Store:
    """The cache folder of one project."""

    def __init__(self, root: Path):
        self.folder = root / STATE_DIR / CACHE_DIR

    def read_index(self) -> dict[str, dict]:
        """{"pipelines": {file key: [name, team]}, "places": {"<env>/<namespace>": unit key}}, or {}."""
        record = self._read(INDEX)
        body, _, check = (record or b"").rpartition(b"\n")
        try:
            if hashlib.sha256(body).hexdigest().encode() != check:
                return {}   # missing or damaged: a bit flipped in a team name must not misplace a pipeline
            index = json.loads(body)
        except ValueError:
            return {}
        valid = isinstance(index, dict) and all(isinstance(index.get(k), dict) for k in ("pipelines", "places"))
        return index if valid else {}

    def write_index(self, index: dict[str, dict]) -> None:
        body = json.dumps(index, sort_keys=True).encode()
        self._write(INDEX, body + b"\n" + hashlib.sha256(body).hexdigest().encode())

    def read_unit(self, key: str) -> Unit | None:
        record = self._read(f"{key}.unit")
        try:
            return _decode_unit(record) if record is not None else None
        except (ValueError, KeyError, TypeError):
            return None

    def write_unit(self, key: str, unit: Unit) -> None:
        self._write(f"{key}.unit", _encode_unit(unit))

    def prune(self, keep: Iterable[str]) -> None:
        """Remove every record but `keep` (unit keys) and the index, and any temporary file left behind."""
        wanted = {f"{key}.unit" for key in keep} | {INDEX}
        for entry in self._entries():
            if entry.name not in wanted:
                entry.unlink(missing_ok=True)

    def _entries(self) -> list[Path]:
        try:
            return [p for p in self.folder.iterdir() if p.is_file()]
        except OSError:
            return []

    def _read(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes()
        except OSError:
            return None

    def _write(self, name: str, data: bytes) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _ignore_state(self.folder.parent)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.", suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, self.folder / name)
        except OSError:
            return   # a read-only or full disk: the next compile recomputes


def _ignore_state(state: Path) -> None:
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


def _encode_unit(unit: Unit) -> bytes:
    paths = sorted(unit.files)
    body = b"".join(unit.files[p] for p in paths)
    header = {"paths": paths, "sizes": [len(unit.files[p]) for p in paths], "sha256": hashlib.sha256(body).hexdigest(),
              "kinds": unit.kinds, "skipped": unit.skipped, "digests": unit.digests}
    return json.dumps(header, sort_keys=True).encode() + b"\n" + body


def _decode_unit(record: bytes) -> Unit:
    head, _, body = record.partition(b"\n")
    header = json.loads(head)
    if hashlib.sha256(body).hexdigest() != header["sha256"]:
        raise ValueError("a damaged record")   # e.g. a crash while the disk still held it in part
    files, offset = {}, 0
    for path, size in zip(header["paths"], header["sizes"]):
        files[path], offset = body[offset:offset + size], offset + size
    if offset != len(body):
        raise ValueError("a record whose sizes do not add up")
    return Unit(files, dict(header["kinds"]), dict(header["skipped"]), dict(header["digests"]))
