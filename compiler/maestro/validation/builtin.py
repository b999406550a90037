"""Stage 2b, built-in schemas: Kubernetes kinds from the `kubernetes-validate` package.

In: a Kubernetes version (`1.37.0`, `1.30`, `v1.29.3`, `master`), strictness and an
object's apiVersion/kind.
Out: the bundled schema file for that kind (the newest bundled version not newer
than the one asked for, as kubernetes-validate picks it) and the directory whose
`_definitions.json` its `$ref`s point to. The package's data files are read
directly; its Python modules are never imported.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

from ..errors import UsageError

DEFAULT_KUBERNETES_VERSION = "1.37.0"
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")
_BUNDLED = re.compile(r"^v(\d+)\.(\d+)\.(\d+)-local$")
DEFINITIONS = "_definitions.json"


@functools.lru_cache(maxsize=None)
def bundle_root() -> Path | None:
    """The package's `kubernetes-json-schema` folder, or None when it is not installed."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0]) / "kubernetes-json-schema"
    return root if root.is_dir() else None


@functools.lru_cache(maxsize=None)
def bundled_versions() -> tuple[tuple[int, int, int], ...]:
    """The Kubernetes versions whose schemas the package ships, oldest first."""
    root = bundle_root()
    if root is None:
        return ()
    found = (_BUNDLED.match(entry.name) for entry in root.iterdir())
    return tuple(sorted(tuple(int(g) for g in m.groups()) for m in found if m))


def check_version(requested: str) -> str:
    """`requested` without a leading `v`; raises UsageError when it is not a version."""
    if requested == "master":
        return requested
    match = _VERSION.match(requested.strip())
    if not match:
        raise UsageError(f"--kubernetes-version {requested!r} is not a version such as {DEFAULT_KUBERNETES_VERSION}")
    major, minor, patch = match.groups()
    return f"{major}.{minor}.{patch or 0}"


def schema_dir(requested: str, strict: bool) -> Path:
    """The bundled folder to use for `requested`; raises UsageError when none fits."""
    version = _pick(requested)
    suffix = "-local-strict" if strict else "-local"
    return bundle_root() / f"v{version[0]}.{version[1]}.{version[2]}{suffix}"  # type: ignore[operator]


def _pick(requested: str) -> tuple[int, int, int]:
    versions = bundled_versions()
    if not versions:
        raise UsageError("built-in Kubernetes schemas need the 'kubernetes-validate' package, which is not installed")
    if requested == "master":
        return versions[-1]
    major, minor = (int(part) for part in check_version(requested).split(".")[:2])
    fitting = [v for v in versions if v[:2] <= (major, minor)]
    if not fitting or (major, minor) > versions[-1][:2]:
        raise UsageError(f"no built-in schemas for Kubernetes {requested}: {supported_range()} are bundled")
    return fitting[-1]


def supported_range() -> str:
    versions = bundled_versions()
    if not versions:
        return "none"
    return f"{versions[0][0]}.{versions[0][1]}-{versions[-1][0]}.{versions[-1][1]}"


def schema_file(directory: Path, api_version: str, kind: str) -> Path:
    """The file for apiVersion/kind, named as kubernetes-validate names it."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return directory / f"{kind.lower()}-{group_version}.json"
