"""Incremental compile: the tree `build_tree` gives, validated as `check_outputs` does, reusing the
work of earlier compiles for every team namespace whose inputs did not change.

In: the project root, the environments to compile and the output-validation settings. Out: a
`Compiled` (the tree, validation warnings, the pipeline count), or the `MaestroError` a full
compile raises.

The unit of reuse is one team namespace of one environment, `gitops/<env>/<namespace>/`: its objects
are built from that environment and the pipelines whose team lives there, and the controllers' rules
resolve references within it. Its key hashes the maestro code, the schemas validated against, the
environment file and the file of each member pipeline, so any change to an input is a new key. A
cached namespace is taken as it was; the others are loaded, lowered, emitted, rendered and validated
as in a full compile. Objects outside namespace folders (Argo CD's, the bootstrap Applications, the
README) depend on the environments and on which pipeline is in which team only: they are emitted on
every compile from a plan of the teams without their pipelines. Tests compile edited repositories
with and without the cache and require the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

from . import cache, names
from .cache import Store, Unit, digest, object_digest
from .compile import Tree, paused_gc, render_outputs, scope_of, tree_files
from .errors import MaestroError
from .ir import EnvironmentPlan, Plan
from .lower import environment_plan, lower, ownership, team_plans
from .output_check import resolve_locations, unchecked_warning, validate_outputs
from .project import Project, load_project, spec_files, teams_file
from .targets import Output, emit_all

UnitId = tuple[str, str]   # (environment, namespace)


@dataclass(frozen=True)
class Compiled:
    tree: Tree
    warnings: list[str]
    pipelines: int
    inputs: str     # `inputs_digest` of the spec files, taken before any was read


class Member(NamedTuple):
    """A pipeline in one environment: what grouping into teams reads of it, and its file's key."""

    name: str
    team: str
    env: str
    namespace: str
    sources: tuple[str, ...]
    file: str
    key: str


def compile_tree(root: Path, envs: Sequence[str] = (), validate: bool = True,
                 schema_locations: Sequence[str] = ()) -> Compiled:
    inputs = inputs_digest(root)
    with paused_gc():
        return replace(_Compile(root, tuple(envs), validate, schema_locations).run(), inputs=inputs)


def inputs_digest(root: Path) -> str:
    """Every spec file's name and bytes: whether the specs changed since a compile read them."""
    files = [*spec_files(root, "environments"), *spec_files(root, "pipelines"), *teams_file(root)]
    return digest(*(f"{p.relative_to(root).as_posix()}\0".encode() + p.read_bytes() for p in files))


class _Compile:
    """One compile: which namespaces are cached, and the work for the rest."""

    def __init__(self, root: Path, envs: tuple[str, ...], validate: bool, schema_locations: Sequence[str]):
        self.root, self.envs, self.validate = root, envs, validate
        self.locations = resolve_locations(schema_locations) if validate else []
        self.store = Store(root) if cache.enabled() else None
        self.index = (self.store.read_index() if self.store else {}) or {"pipelines": {}, "places": {}}
        self.base = self._load(set())      # the environments alone
        self.selected = sorted(envs or self.base.environments)
        self.code = cache.code_identity()
        self.schemas = cache.schema_identity(validate, self.locations)
        files = {p.relative_to(root).as_posix(): p.read_bytes() for p in spec_files(root, "pipelines")}
        # teams.yaml decides whether a pipeline is accepted at all, so it is part of every pipeline's key.
        teams = b"".join(p.read_bytes() for p in teams_file(root))
        self.keys = {path: digest(self.code, path, data, teams, *sorted(self.base.environments))
                     for path, data in files.items()}
        self.env_bytes = {e: (root / self.base.files[f"environment/{e}"]).read_bytes() for e in self.selected}

    def run(self) -> Compiled:
        project, members, units, cached = self._survey()
        dirty = {uid for uid, unit in cached.items() if unit is None}
        needed = {m.file for m in members if (m.env, m.namespace) in dirty} - set(_files_of(project))
        project = _merge(project, self._load(needed)) if needed else project
        fresh, env_level, plans = self._emit(project, members, dirty)
        files = render_outputs(env_level + fresh, self._previous(dirty))
        skipped = validate_outputs(env_level + fresh, self.locations) if self.validate else {}
        new_units = _units(fresh, files, skipped, dirty, self.code)
        tree = self._tree(files, plans, {**cached, **new_units}, env_level + fresh)
        self._save(members, units, new_units)
        warnings = unchecked_warning(_all_skipped(skipped, cached), self.locations) if self.validate else []
        return Compiled(tree, warnings, len({m.name for m in members}), "")

    def _survey(self) -> tuple[Project, list[Member], dict[UnitId, str], dict[UnitId, Unit | None]]:
        """Load the pipelines the index does not know; key every namespace; read the cached ones."""
        indexed = self._indexed()
        misses = set(self.keys) - set(indexed)
        loaded = self._load(misses) if misses else self.base
        members = self._members({**indexed, **_teams_of(loaded)})
        units = self._unit_keys(members)
        return loaded, members, units, {uid: self._read(key) for uid, key in units.items()}

    def _load(self, pipelines: set[str]) -> Project:
        try:
            return load_project(self.root, self.envs, only_pipelines=pipelines)
        except MaestroError:
            load_project(self.root, self.envs)   # raises with every diagnostic of the run, as a full compile does
            raise

    def _read(self, key: str | None) -> Unit | None:
        return self.store.read_unit(key) if self.store and key else None

    def _indexed(self) -> dict[str, tuple[str, str]]:
        """(name, team) of each pipeline file the index knows unchanged."""
        if not _unique_stems(self.keys):
            return {}   # two files of one name: a full load reports it
        known = self.index["pipelines"]
        return {path: tuple(known[key]) for path, key in self.keys.items() if key in known}

    def _members(self, teams: dict[str, tuple[str, str]]) -> list[Member]:
        members = []
        for env_name in self.selected:
            env, env_file = self.base.environments[env_name], self.base.files[f"environment/{env_name}"]
            for path, (name, team) in sorted(teams.items(), key=lambda item: item[1][0]):
                namespace = names.namespace(env.spec.namespace, team, env_name)
                members.append(Member(name, team, env_name, namespace, tuple(sorted({path, env_file})), path,
                                      self.keys[path]))
        return members

    def _unit_keys(self, members: list[Member]) -> dict[UnitId, str]:
        grouped: dict[UnitId, list[str]] = {}
        for m in members:
            grouped.setdefault((m.env, m.namespace), []).append(m.key)
        return {(env, ns): digest(self.schemas, env, ns, self.env_bytes[env], *sorted(keys))
                for (env, ns), keys in grouped.items()}

    def _emit(self, project: Project, members: list[Member], dirty: set[UnitId]) -> tuple[list, list, list]:
        """Objects of the namespaces to rebuild, objects outside namespaces, and the teams-only plans."""
        sub_plan = {e.name: e for e in lower(project).environments} if project.effective else {}
        fresh, env_level, plans = [], [], []
        for env_name in self.selected:
            plan = self._teams_only(env_name, [m for m in members if m.env == env_name])
            spaces = {t.namespace for t in plan.teams}
            env_level += [o for o in emit_all(plan) if _unit_of(o.path, env_name, spaces) is None]
            if env_name in sub_plan:
                fresh += [o for o in emit_all(sub_plan[env_name]) if _unit_of(o.path, env_name, spaces) in dirty]
            plans.append(plan)
        return fresh, env_level, plans

    def _teams_only(self, env_name: str, members: list[Member]) -> EnvironmentPlan:
        source = self.base.files[f"environment/{env_name}"]
        return environment_plan(env_name, self.base.environments[env_name], source, team_plans(members))

    def _previous(self, dirty: set[UnitId]) -> Callable[[Output], bytes | None]:
        """What the last compile rendered in a namespace now rebuilt, for the objects that did not change."""
        places = self.index["places"]
        earlier = [self._read(places.get(f"{env}/{ns}")) for env, ns in dirty]
        known = {unit.digests[p]: data for unit in earlier if unit for p, data in unit.files.items() if p in unit.digests}
        return lambda output: known.get(object_digest(self.code, output.body, output.sources)) if known else None

    def _tree(self, files: dict[str, bytes], plans: list[EnvironmentPlan], units: dict[UnitId, Unit],
              outputs: list[Output]) -> Tree:
        everything = dict(files)
        for unit in units.values():
            everything.update(unit.files)
        plan = Plan(tuple(plans), ownership(self.base.teams))
        if not self.envs:
            stubs = [Output(path, {"kind": kind}, ()) for unit in units.values() for path, kind in unit.kinds.items()
                     if path not in files]
            everything.update(tree_files(plan, outputs + stubs))
        return Tree(dict(sorted(everything.items())), tuple(outputs), scope_of(self.envs), plan)

    def _save(self, members: list[Member], units: dict[UnitId, str], new_units: dict[UnitId, Unit]) -> None:
        if self.store is None:
            return
        for uid, unit in new_units.items():
            self.store.write_unit(units[uid], unit)
        pipelines = {m.key: [m.name, m.team] for m in members}
        places = {**self.index["places"], **{f"{env}/{ns}": key for (env, ns), key in units.items()}}
        if {"pipelines": pipelines, "places": places} != self.index:
            self.store.write_index({"pipelines": pipelines, "places": places})
        if not self.envs:
            self.store.prune(units.values())


def _unit_of(path: str, env_name: str, namespaces: set[str]) -> UnitId | None:
    parts = path.split("/")
    if len(parts) > 2 and parts[0] == env_name and parts[1] in namespaces:
        return env_name, parts[1]
    return None


def _units(outputs: list[Output], files: dict[str, bytes], skipped: dict[str, str], dirty: set[UnitId],
           code: str) -> dict[UnitId, Unit]:
    """The records of the rebuilt namespaces; every output here is inside one of them."""
    units = {uid: Unit({}, {}, {}, {}) for uid in dirty}
    for o in outputs:
        env_name, namespace = o.path.split("/")[:2]
        unit = units[(env_name, namespace)]
        unit.files[o.path], unit.kinds[o.path] = files[o.path], o.body["kind"]
        unit.digests[o.path] = object_digest(code, o.body, o.sources)
        if o.path in skipped:
            unit.skipped[o.path] = skipped[o.path]
    return units


def _teams_of(project: Project) -> dict[str, tuple[str, str]]:
    """File -> (name, team) of every pipeline a load validated."""
    return {project.files[f"pipeline/{name}"]: (name, p.metadata.team) for name, p in project.pipelines.items()}


def _files_of(project: Project) -> list[str]:
    return [project.files[f"pipeline/{name}"] for name in project.pipelines]


def _unique_stems(files: dict[str, str]) -> bool:
    stems = [Path(path).stem for path in files]
    return len(stems) == len(set(stems))


def _merge(first: Project, second: Project) -> Project:
    return replace(first, pipelines={**first.pipelines, **second.pipelines},
                   effective={**first.effective, **second.effective}, files={**first.files, **second.files})


def _all_skipped(fresh: dict[str, str], units: dict[UnitId, Unit | None]) -> dict[str, str]:
    every = dict(fresh)
    for unit in units.values():
        if unit is not None:
            every.update(unit.skipped)
    return every
