"""Diff: a semantic, per-resource comparison of two gitops trees.

In: two mappings of gitops-relative path to bytes (old, new). Out: `ResourceChange`s with field
paths and old → new values. Lists whose items all carry a `name` are matched by name, so a
change reads `spec.candidates[msft-momentum-v12].weight 20 → 15`. Resources are paired by what
Argo CD pairs them by, (API group, kind, namespace, name), never by file: a renamed object (an
Experiment `-w20` → `-w25`, a Model v4 → v5) is one removed and one added resource, as Argo CD
prunes and creates them. An added or removed resource carries its kind's key fields (KEY_FIELDS).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

from .errors import UsageError

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PIPELINE_LABEL = "maestro.dev/pipeline"
# What a reviewer needs to see of a resource that appears or goes away, by kind: dotted paths.
KEY_FIELDS = {
    "Model": ("spec.storageUri", "spec.requirements"),
    "Experiment": ("spec.default", "spec.candidates", "spec.mirror"),
    "WorkflowTemplate": ("spec.entrypoint",),
    "CronWorkflow": ("spec.schedules", "spec.timezone", "spec.suspend"),
    "Server": ("spec.serverConfig", "spec.replicas"),
    "NetworkPolicy": ("spec.podSelector", "spec.policyTypes"),
}
Identity = tuple[str, str, str, str, str]   # env, kind, namespace, name, API group


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ResourceChange:
    env: str
    kind: str
    name: str
    change: str                     # added | removed | changed
    fields: tuple[FieldChange, ...] = field(default_factory=tuple)   # added/removed: the key fields
    pipeline: str = ""              # the pipeline it belongs to (its maestro.dev/pipeline label), if any
    namespace: str = ""             # metadata.namespace; empty for a cluster-scoped resource

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def title(self) -> str:
        return f"{self.env}/{self.qualified_name} {self.kind}"


def diff_trees(old: dict[str, bytes], new: dict[str, bytes]) -> list[ResourceChange]:
    before, after = _resources(old), _resources(new)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        env, kind, namespace, name, _ = key
        old, new = before.get(key), after.get(key)
        pipeline = _pipeline_of(new or old)
        if old is None or new is None:
            change = "added" if old is None else "removed"
            fields = tuple(_key_fields(new or old, added=old is None))
        else:
            change, fields = "changed", tuple(_field_changes(old, new, ""))
            if not fields:
                continue
        changes.append(ResourceChange(env, kind, name, change, fields, pipeline, namespace))
    return changes


def _key_fields(body: dict, added: bool) -> Iterator[FieldChange]:
    for path in KEY_FIELDS.get(body["kind"], ()):
        value = _at(body, path)
        if value is not None:
            yield FieldChange(path, None, value) if added else FieldChange(path, value, None)


def _at(body: dict, path: str) -> Any:
    value: Any = body
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _resources(tree: dict[str, bytes]) -> dict[Identity, dict]:
    resources = {}
    for path, data in tree.items():
        if not path.endswith((".yaml", ".yml")):
            continue
        for body in yaml.load_all(data, Loader=Loader):
            if isinstance(body, dict) and "kind" in body:
                resources[_identity(path, body)] = body
    return resources


def _pipeline_of(body: dict) -> str:
    labels = (body.get("metadata") or {}).get("labels") or {}
    return str(labels.get(PIPELINE_LABEL, ""))


def _identity(path: str, body: dict) -> Identity:
    """The environment (the tree's first folder) and the object's identity as Argo CD sees it."""
    metadata = body.get("metadata") or {}
    env = path.split("/")[1].removesuffix(".yaml") if path.startswith("bootstrap/") else path.split("/")[0]
    # Argo CD pairs by group, not version: a new apiVersion of the same object is a change.
    group = str(body.get("apiVersion", "")).rpartition("/")[0]
    return env, body["kind"], str(metadata.get("namespace") or ""), str(metadata.get("name", "")), group


def _field_changes(old: Any, new: Any, path: str) -> Iterator[FieldChange]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys(), key=str):
            sub = f"{path}.{key}" if path else str(key)
            yield from _field_changes(old.get(key), new.get(key), sub)
    elif _named_list(old) and _named_list(new):
        yield from _field_changes(_by_name(old), _by_name(new), path)
    elif _json_text(old) is not None and _json_text(new) is not None:
        yield from _field_changes(_json_text(old), _json_text(new), path)
    elif old != new:
        yield FieldChange(path, old, new)


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "name" in i for i in value) \
        and len({i["name"] for i in value}) == len(value)


def _json_text(value: Any) -> Any:
    """The parsed value of a string holding a JSON object (the spec ConfigMap), else None."""
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _by_name(items: list[dict]) -> dict:
    return {f"[{item['name']}]": item for item in items}


def tree_at_ref(root: Path, ref: str, folder: str = "gitops") -> dict[str, bytes]:
    """The generated files under `folder` at git revision `ref`."""
    listing = _git(root, "ls-tree", "-r", "--name-only", ref, "--", folder)
    files = {}
    for path in listing.decode().splitlines():
        data = _git(root, "show", f"{ref}:{path}")
        files[path[len(folder) + 1:]] = data
    return files


def _git(root: Path, *args: str) -> bytes:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed; --against needs it")
    if result.returncode:
        raise UsageError(f"git {' '.join(args[:2])}: {result.stderr.decode().strip()}")
    return result.stdout
