"""Stage 2d, schema retrieval: a candidate file or URL to a parsed JSON Schema.

In: a `Candidate` (path or http(s) URL) and an optional cache directory.
Out: the schema as a dict, None when it does not exist there (a missing file,
HTTP 404), or `SchemaFetchError` for any other failure (unreadable file, bad
JSON, network error), as kubeconform distinguishes "not found, try the next
location" from a real failure.

The shipped schemas come from their pre-parsed table (`packed`). Parsed schemas are kept in-process, keyed by path plus modification time and size
(files) or URL. Files ending `.gz` (Maestro's bundle) are decompressed. Downloads are also written to `cache_dir`, one file per URL named
by the SHA-256 of the URL, as kubeconform's `-cache` does; a cached download is
used without touching the network.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import zlib
from pathlib import Path

from .locations import Candidate
from .packed import bundled

TIMEOUT_SECONDS = 30
_parsed: dict[tuple, dict] = {}


class SchemaFetchError(Exception):
    """A schema location that exists but cannot be used."""


def fetch_schema(candidate: Candidate, cache_dir: str | None = None) -> dict | None:
    if candidate.is_url:
        return _fetch_url(candidate.ref, cache_dir)
    return _read_file(candidate.ref)


def _read_file(path: str) -> dict | None:
    try:
        stat = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise SchemaFetchError(f"cannot read schema {path}: {exc.strerror}") from exc
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _parsed:
        shipped = bundled(path)
        _parsed[key] = shipped if isinstance(shipped, dict) else _parse(_read_bytes(path), path)
    return _parsed[key]


def _read_bytes(path: str) -> bytes:
    try:
        data = Path(path).read_bytes()
        return gzip.decompress(data) if path.endswith(".gz") else data
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise SchemaFetchError(f"schema {path} is not a readable gzip file: {exc}") from exc
    except IsADirectoryError:
        raise SchemaFetchError(f"schema location {path} is a directory, not a JSON file") from None
    except OSError as exc:
        raise SchemaFetchError(f"cannot read schema {path}: {exc.strerror}") from exc


def _parse(data: bytes, origin: str) -> dict:
    try:
        schema = json.loads(data)
    except ValueError as exc:
        raise SchemaFetchError(f"schema {origin} is not valid JSON: {exc}") from exc
    if not isinstance(schema, dict):
        raise SchemaFetchError(f"schema {origin} is not a JSON object")
    return schema


def _fetch_url(url: str, cache_dir: str | None) -> dict | None:
    key = (url,)
    if key in _parsed:
        return _parsed[key]
    data = _from_cache(url, cache_dir)
    if data is None:
        data = _download(url)
        if data is None:
            return None
        _to_cache(url, cache_dir, data)
    _parsed[key] = _parse(data, url)
    return _parsed[key]


def _download(url: str) -> bytes | None:
    import urllib.error   # here: urllib brings http.client and email (~25 ms), which only a download needs
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (http(s) only)
            return response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise SchemaFetchError(f"cannot download schema {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SchemaFetchError(f"cannot download schema {url}: {reason}") from exc


def cache_file(url: str, cache_dir: str) -> Path:
    import hashlib   # only downloads are named by digest

    return Path(cache_dir) / hashlib.sha256(url.encode()).hexdigest()


def _from_cache(url: str, cache_dir: str | None) -> bytes | None:
    if not cache_dir:
        return None
    try:
        return cache_file(url, cache_dir).read_bytes()
    except OSError:
        return None


def _to_cache(url: str, cache_dir: str | None, data: bytes) -> None:
    if not cache_dir:
        return
    target = cache_file(url, cache_dir)
    try:  # best effort: a cache that cannot be written only costs a download next time
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, target)
    except OSError:
        return
