"""Incremental compile: the reuse hook `compile.compile_project` takes, backed by `.maestro/cache/`.

In: the project's environments, the environments one compile covers and its output-validation
settings. Out, for that compile: the team of each pipeline file known unchanged (it need not be
loaded), the team namespaces none of whose inputs changed, as they were compiled and validated, and
the bytes rendered earlier for unchanged objects of the namespaces rebuilt; afterwards it records the
rebuilt namespaces. It never builds anything itself: the compile does, the same way with or without it.

A namespace's key hashes the maestro code, the schemas validated against, the environment file and
the file of each member pipeline, so any change to an input is a new key; a record read back damaged
is a miss (cache.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from .cache import Store, Unit, code_identity, digest, object_digest, schema_identity
from .compile import Member, UnitId
from .project import Project, spec_files, teams_file
from .targets import Output

NO_CACHE_VARIABLE = "MAESTRO_NO_CACHE"   # set (to anything but 0): compile everything, read and write no cache


def cache_disabled(value: str | None) -> bool:
    """Whether the value of $MAESTRO_NO_CACHE switches the cache off."""
    return (value or "") not in ("", "0")


class NamespaceCache:
    """Earlier compiles of one project, by team namespace."""

    def __init__(self, root: Path):
        self.store = Store(root)

    def begin(self, base: Project, selected: Sequence[str], whole: bool, validate: bool,
              locations: Sequence[str]) -> _Session:
        return _Session(self.store, base, selected, whole, schema_identity(validate, locations))


class _Session:
    """What one compile reads from the cache and writes back."""

    def __init__(self, store: Store, base: Project, selected: Sequence[str], whole: bool, schemas: str):
        root = base.root
        self.store, self.whole, self.schemas, self.code = store, whole, schemas, code_identity()
        self.index = store.read_index() or {"pipelines": {}, "places": {}}
        files = {p.relative_to(root).as_posix(): p.read_bytes() for p in spec_files(root, "pipelines")}
        # teams.yaml decides whether a pipeline is accepted at all, so it is part of every pipeline's key.
        teams = b"".join(p.read_bytes() for p in teams_file(root))
        self.keys = {path: digest(self.code, path, data, teams, *sorted(base.environments))
                     for path, data in files.items()}
        self.env_bytes = {e: (root / base.files[f"environment/{e}"]).read_bytes() for e in selected}

    def placed(self) -> dict[str, tuple[str, str]]:
        if not _unique_stems(self.keys):
            return {}   # two files of one name: a full load reports it
        known = self.index["pipelines"]
        return {path: tuple(known[key]) for path, key in self.keys.items() if key in known}

    def reused(self, members: Sequence[Member]) -> dict[UnitId, Unit]:
        found = {uid: self.store.read_unit(key) for uid, key in self._unit_keys(members).items()}
        return {uid: unit for uid, unit in found.items() if unit is not None}

    def rendered(self, rebuilt: set[UnitId]) -> Callable[[Output], bytes | None]:
        """What the last compile rendered in a namespace now rebuilt, for the objects that did not change."""
        places = self.index["places"]
        earlier = [self.store.read_unit(places[f"{env}/{ns}"]) for env, ns in rebuilt if f"{env}/{ns}" in places]
        known = {unit.digests[p]: data for unit in earlier if unit for p, data in unit.files.items() if p in unit.digests}
        return lambda output: known.get(self.fingerprint(output)) if known else None

    def fingerprint(self, output: Output) -> str:
        return object_digest(self.code, output.body, output.sources)

    def keep(self, members: Sequence[Member], built: dict[UnitId, Unit]) -> None:
        keys = self._unit_keys(members)
        for uid, unit in built.items():
            self.store.write_unit(keys[uid], unit)
        pipelines = {self.keys[m.file]: [m.name, m.team] for m in members}
        places = {**self.index["places"], **{f"{env}/{ns}": key for (env, ns), key in keys.items()}}
        if {"pipelines": pipelines, "places": places} != self.index:
            self.store.write_index({"pipelines": pipelines, "places": places})
        if self.whole:
            self.store.prune(keys.values())

    def _unit_keys(self, members: Sequence[Member]) -> dict[UnitId, str]:
        grouped: dict[UnitId, list[str]] = {}
        for m in members:
            grouped.setdefault((m.env, m.namespace), []).append(self.keys[m.file])
        return {(env, ns): digest(self.schemas, env, ns, self.env_bytes[env], *sorted(keys))
                for (env, ns), keys in grouped.items()}


def _unique_stems(files: dict[str, str]) -> bool:
    stems = [Path(path).stem for path in files]
    return len(stems) == len(set(stems))
