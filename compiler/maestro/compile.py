"""Compile, the one entry point: the specs on disk to the whole gitops tree in memory, validated.

In: the project root, the environments to compile (none: all, with the files of the whole tree),
whether and against which schema locations to validate the output, and a reuse hook or None. Out: a
`Compiled` (the `Tree`, warning lines, what was compiled), or one `MaestroError` naming every problem
of the specs or of the output. Environment variables are the caller's to read: everything comes in as
a value. Nothing here touches gitops/; `gitops` writes or checks the tree, `diff` compares it.

load -> lower -> emit -> render -> validate output, by team namespace of one environment,
`gitops/<env>/<namespace>/`: its objects come from that environment and the pipelines whose team
lives there, and the controllers' rules resolve references within it. Objects outside namespace
folders (Argo CD's, the bootstrap Applications, the README) depend on the environments and on which
pipeline is in which team only, so they are emitted on every compile from a plan of the teams without
their pipelines. That is what lets a reuse hook (`incremental.NamespaceCache`) supply the namespaces
whose inputs did not change, and the team of each unchanged pipeline, while the rest is built exactly
as without it: the same bytes either way (tests/robustness/test_cache.py).

With worker processes (`jobs`, for a repository large enough to gain), this process loads no
pipeline: it places each one by the name and team its file's metadata shows (`survey_pipelines`),
and the worker that builds a namespace loads its pipelines and confirms where they were placed.
Whatever the survey cannot place, or a worker cannot build, sends the compile to the full load
here, so the bytes and the errors are the serial compile's (tests/compile/test_workers_load.py).
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Protocol, Sequence

from . import names
from .cache import Unit, digest
from .errors import Diagnostic, MaestroError
from .fanout import apportioned, available_cpus, can_fork, fan_out, tapering
from .ir import EnvironmentPlan, Plan
from .lower import environment_plan, lower, ownership, team_plans
from .project import (Project, complete_effective, load_pipelines, load_project, spec_files, survey_pipelines,
                      teams_file)
from .render import carried_manifests, header, render
from .yamlwriter import shared_subtrees
from .targets import Output, emit_all
from .targets.argocd_health import GITOPS_PATH as HEALTH_PATCH_PATH, seldon_health_patch
from .targets.codeowners import codeowners
from .targets.readme import readme
from .tree import Tree, scope_of

UnitId = tuple[str, str]   # (environment, namespace)
# Below this many pipeline-environments to build, forking costs more than the second core gives
# (benchmarks/: about 3 ms of work per pipeline-environment, some 30 ms to start the workers).
PARALLEL_MEMBERS = 100
SHARD_ROUNDS = 4   # shards per worker, ever smaller, so that the workers finish together


@dataclass(frozen=True)
class Compiled:
    tree: Tree
    warnings: tuple[str, ...]   # lines for the user, e.g. kinds no schema checked
    pipelines: int
    environments: int


class Member(NamedTuple):
    """A pipeline in one environment: what grouping it into its team's namespace reads of it."""

    name: str
    team: str
    env: str
    namespace: str
    sources: tuple[str, ...]
    file: str


class ReuseSession(Protocol):
    """What one compile may take from earlier ones, and what it leaves for the next."""

    def placed(self) -> dict[str, tuple[str, str]]:
        """(name, team) of each pipeline file known unchanged: it need not be loaded to be placed."""

    def reused(self, members: Sequence[Member]) -> dict[UnitId, Unit]:
        """The namespaces none of whose inputs changed, as they were compiled and validated."""

    def rendered(self, rebuilt: set[UnitId]) -> Callable[[Output], bytes | None]:
        """The bytes rendered earlier for an unchanged object of a rebuilt namespace, else None."""

    def fingerprint(self, output: Output) -> str | None:
        """What identifies an object's rendered bytes to this store; None: nothing is kept by it."""

    def keep(self, members: Sequence[Member], built: dict[UnitId, Unit]) -> None:
        """Record the namespaces rebuilt, once they compiled and validated."""


class Reuse(Protocol):
    """A store of earlier compiles; `begin` opens it for one compile of `selected` (`whole`: of every
    environment), keyed on what its output is validated against."""

    def begin(self, base: Project, selected: Sequence[str], whole: bool, validate: bool,
              locations: Sequence[str]) -> ReuseSession: ...


class _NoReuse:
    """Every namespace built, nothing recorded."""

    def placed(self) -> dict[str, tuple[str, str]]:
        return {}

    def reused(self, members: Sequence[Member]) -> dict[UnitId, Unit]:
        return {}

    def rendered(self, rebuilt: set[UnitId]) -> Callable[[Output], bytes | None]:
        return lambda output: None

    def fingerprint(self, output: Output) -> str | None:
        return None

    def keep(self, members: Sequence[Member], built: dict[UnitId, Unit]) -> None:
        return None


def compile_project(root: Path, envs: Sequence[str] = (), *, validate: bool = True,
                    schema_locations: Sequence[str] = (), cache: Reuse | None = None,
                    progress: Callable[[str], None] | None = None, jobs: int | None = 1,
                    meanwhile: Callable[[], None] | None = None) -> Compiled:
    """`schema_locations` are searched before the schemas shipped with Maestro; `cache` offers earlier
    compiles' work (None: build everything, record nothing); `progress` hears each stage as it starts.
    `jobs` processes may build team namespaces at once (None: as many as this process has CPUs); the
    tree and any error are the same for every value. With more than one, `Tree.outputs` holds only
    the objects rendered in this process: those of namespaces built in a worker are in `Tree.files`.
    `meanwhile` is work of the caller's that this process does while workers build, if any do."""
    with paused_gc():
        return _Compile(root, tuple(envs), validate, tuple(schema_locations), cache, progress,
                        available_cpus() if jobs is None else jobs, meanwhile).run()


def inputs_digest(root: Path) -> str:
    """Every spec file's name and bytes: whether the specs changed since a compile read them."""
    files = [*spec_files(root, "environments"), *spec_files(root, "pipelines"), *teams_file(root)]
    return digest(*(f"{p.relative_to(root).as_posix()}\0".encode() + p.read_bytes() for p in files))


class _Compile:
    """One compile: which namespaces to build, and the building."""

    def __init__(self, root: Path, envs: tuple[str, ...], validate: bool, locations: tuple[str, ...],
                 cache: Reuse | None, progress: Callable[[str], None] | None = None, jobs: int = 1,
                 meanwhile: Callable[[], None] | None = None):
        self.root, self.envs, self.validate, self.locations, self.jobs = root, envs, validate, locations, jobs
        self.meanwhile = meanwhile
        self.stage = progress or (lambda text: None)
        self.stage("reading the specs")
        self.base = self._load(set())      # the environments alone
        self.selected = sorted(envs or self.base.environments)
        self.reuse = cache.begin(self.base, self.selected, not envs, validate, locations) if cache else _NoReuse()
        self._asked: tuple[list[Member], dict[UnitId, Unit]] | None = None   # see `_reused`

    def run(self) -> Compiled:
        placed = self._surveyed()
        if placed is not None:
            compiled = self._built(self.base, self._members(placed), loaded_in_workers=True)
            if compiled is not None:
                return compiled
        return self._built(*self._loaded())

    def _built(self, project: Project, members: list[Member], loaded_in_workers: bool = False) -> Compiled | None:
        """The compile of `members`; with `loaded_in_workers`, by workers that load the pipelines
        they build, or None where they did not build it all (the caller then loads them here)."""
        reused = self._reused(members)
        rebuilt = {(m.env, m.namespace) for m in members} - set(reused)
        if loaded_in_workers and not self._worth_fanning(_weights(members, rebuilt)):
            return None
        needed = {m.file for m in members if (m.env, m.namespace) in rebuilt} - set(_files_of(project))
        if needed and not loaded_in_workers:
            project = _merge(project, self._load(needed))
        self.stage(f"lowering {len(rebuilt)} of {len(rebuilt) + len(reused)} namespaces")
        plans = [self._teams_only(env_name, [m for m in members if m.env == env_name]) for env_name in self.selected]
        env_level = [o for plan in plans for o in emit_all(plan) if _unit_of(o.path, plan.name, _spaces(plan)) is None]
        build = _Namespaces(project, self.envs, members, {plan.name: _spaces(plan) for plan in plans},
                            self.validate, self.locations, self.reuse.rendered(rebuilt), self.reuse.fingerprint,
                            loaded_in_workers)
        built = self._fanned_out(build, env_level, rebuilt)
        if built is None and loaded_in_workers:
            return None
        built = built or self._serial(build, env_level, rebuilt)
        tree = self._tree(built, plans, reused)
        self.reuse.keep(members, built.units)
        warnings = unchecked_warning(_all_skipped(built.skipped, [*reused.values(), *built.units.values()])) \
            if self.validate else ()
        return Compiled(tree, warnings, len({m.name for m in members}), len(self.selected))

    def _serial(self, build: _Namespaces, env_level: list[Output], rebuilt: set[UnitId]) -> _Built:
        complete_effective(build.project, self.envs)   # what the workers left, or all: its errors come first
        with carried_manifests() as carried:
            fresh = build.emit(rebuilt)
            self.stage(f"rendering {len(env_level) + len(fresh)} objects")
            files = render_outputs(env_level + fresh, build.rendered)
            if self.validate:
                self.stage(f"validating {len(env_level) + len(fresh)} objects")
            skipped = validate_outputs(env_level + fresh, self.locations, carried) if self.validate else {}
        outside = {o.path for o in env_level}
        return _Built(env_level + fresh, {p: files[p] for p in outside},
                      {p: kind for p, kind in skipped.items() if p in outside},
                      unit_records(fresh, files, skipped, rebuilt, build.fingerprint))

    def _fanned_out(self, build: _Namespaces, env_level: list[Output], rebuilt: set[UnitId]) -> _Built | None:
        """The namespaces built by `jobs` worker processes, the rest here; None when that is not worth
        it, or when anything failed: the serial build then reports every problem, in its order."""
        weights = _weights(build.members, rebuilt)
        if not self._worth_fanning(weights):
            return None
        shards = _shards(build.members, weights, tapering(self.jobs, SHARD_ROUNDS))
        self.stage(f"building {len(rebuilt)} namespaces in {min(self.jobs, len(shards))} processes")
        in_shards = {(m.name, m.env) for m in build.members if (m.env, m.namespace) in rebuilt}
        try:
            complete_effective(build.project, self.envs, set(build.project.pending) - in_shards)
            files = render_outputs(env_level, build.rendered)
            skipped = validate_outputs(env_level, self.locations) if self.validate else {}
        except MaestroError:
            return None
        results = fan_out(build.namespaces, shards, min(self.jobs, len(shards)), self.meanwhile)
        if results is None:
            return None
        return _Built(env_level, files, skipped, {uid: unit for units in results for uid, unit in units.items()})

    def _reused(self, members: list[Member]) -> dict[UnitId, Unit]:
        """The reuse hook's namespaces for `members`, read from its store once per compile: a
        surveyed compile that stays in this process asks again with the same members."""
        if self._asked is None or self._asked[0] != members:
            self._asked = (members, self.reuse.reused(members))
        return self._asked[1]

    def _worth_fanning(self, weights: Counter) -> bool:
        return self.jobs > 1 and len(weights) > 1 and sum(weights.values()) >= PARALLEL_MEMBERS and can_fork()

    def _surveyed(self) -> dict[str, tuple[str, str]] | None:
        """File -> (name, team) of every pipeline, without loading one, where workers may build the
        namespaces and load their pipelines themselves: the reuse hook places the files it knows,
        their metadata the others (`survey_pipelines`). None: the pipelines are loaded here."""
        if self.jobs < 2 or not can_fork():
            return None
        placed = self.reuse.placed()
        surveyed = survey_pipelines(self.root, skip=set(placed))
        return None if surveyed is None else {**placed, **surveyed}

    def _loaded(self) -> tuple[Project, list[Member]]:
        """Load the pipelines the reuse hook cannot place, and place every pipeline in its namespaces."""
        placed = self.reuse.placed()
        misses = {p.relative_to(self.root).as_posix() for p in spec_files(self.root, "pipelines")} - set(placed)
        loaded = self._load(misses if placed else None) if misses else self.base
        return loaded, self._members({**placed, **_teams_of(loaded)})

    def _load(self, pipelines: set[str] | None) -> Project:
        """The environments and `pipelines` (files; None: all). A partial load that fails is redone in
        full, so that the error names every problem of the run, as a full compile does. With workers,
        the effective specs are left to them (`_Namespaces.emit`): they are a third of the load."""
        try:
            return load_project(self.root, self.envs, only_pipelines=pipelines, defer_effective=self.jobs > 1)
        except MaestroError:
            if pipelines is not None:
                load_project(self.root, self.envs)   # raises with every diagnostic of the run
            raise

    def _members(self, teams: dict[str, tuple[str, str]]) -> list[Member]:
        members = []
        for env_name in self.selected:
            env, env_file = self.base.environments[env_name], self.base.files[f"environment/{env_name}"]
            for path, (name, team) in sorted(teams.items(), key=lambda item: item[1][0]):
                namespace = names.namespace(env.spec.namespace, team, env_name)
                members.append(Member(name, team, env_name, namespace, tuple(sorted({path, env_file})), path))
        return members

    def _teams_only(self, env_name: str, members: list[Member]) -> EnvironmentPlan:
        source = self.base.files[f"environment/{env_name}"]
        return environment_plan(env_name, self.base.environments[env_name], source, team_plans(members))

    def _tree(self, built: _Built, plans: list[EnvironmentPlan], reused: dict[UnitId, Unit]) -> Tree:
        units = [*reused.values(), *built.units.values()]
        everything = dict(built.files)
        for unit in units:
            everything.update(unit.files)
        if not self.envs:
            # The README counts the kinds of every object, in namespaces built elsewhere or reused too.
            stubs = [Output(path, {"kind": kind}, ()) for unit in units for path, kind in unit.kinds.items()]
            outside = [o for o in built.outputs if o.path in built.files]
            everything.update(tree_files(Plan(tuple(plans), ownership(self.base.teams)), outside + stubs))
        namespaces = frozenset((plan.name, team.namespace) for plan in plans for team in plan.teams)
        return Tree(dict(sorted(everything.items())), tuple(built.outputs), scope_of(self.envs), namespaces)


@dataclass(frozen=True)
class _Built:
    """What one compile built: the objects rendered in this process, the files and unchecked kinds
    outside team namespaces, and each team namespace built, as a `Unit`."""

    outputs: list[Output]
    files: dict[str, bytes]
    skipped: dict[str, str]
    units: dict[UnitId, Unit]


@dataclass(frozen=True)
class _Namespaces:
    """How to build some of a compile's team namespaces: lower, emit, render and validate them. In a
    worker process as in the compile's own, so both make the same bytes."""

    project: Project
    envs: tuple[str, ...]                # as the project was loaded
    members: list[Member]
    spaces: dict[str, set[str]]          # environment -> its team namespaces
    validate: bool
    locations: tuple[str, ...]
    rendered: Callable[[Output], bytes | None]
    fingerprint: Callable[[Output], str | None]
    loading: bool = False                # the members were surveyed: `emit` loads their pipelines

    def emit(self, units: set[UnitId]) -> list[Output]:
        """The objects of `units`: only their pipelines are lowered."""
        chosen = [m for m in self.members if (m.env, m.namespace) in units]
        if self.loading:
            load_pipelines(self.project, {m.file for m in chosen}, self.envs)
            _confirm_places(self.project, chosen)
        wanted = {(m.name, m.env) for m in chosen}
        complete_effective(self.project, self.envs, wanted)
        part = replace(self.project, effective={key: e for key, e in self.project.effective.items() if key in wanted})
        plans = lower(part).environments if part.effective else ()
        return [o for plan in plans for o in emit_all(plan) if _unit_of(o.path, plan.name, self.spaces[plan.name]) in units]

    def namespaces(self, units: Sequence[UnitId]) -> dict[UnitId, Unit]:
        with carried_manifests() as carried:
            fresh = self.emit(set(units))
            files = render_outputs(fresh, self.rendered)
            skipped = validate_outputs(fresh, self.locations, carried) if self.validate else {}
        return unit_records(fresh, files, skipped, set(units), self.fingerprint)


def unit_records(outputs: Iterable[Output], files: dict[str, bytes], skipped: dict[str, str], units: set[UnitId],
                 fingerprint: Callable[[Output], str | None]) -> dict[UnitId, Unit]:
    """Each of `units` as a `Unit`, from its objects (`outputs` may hold others, which are left out)."""
    records = {uid: Unit({}, {}, {}, {}) for uid in units}
    for o in outputs:
        unit = records.get(tuple(o.path.split("/")[:2]))
        if unit is None:
            continue
        unit.files[o.path], unit.kinds[o.path] = files[o.path], o.body["kind"]
        if (mark := fingerprint(o)) is not None:
            unit.digests[o.path] = mark
        if o.path in skipped:
            unit.skipped[o.path] = skipped[o.path]
    return records


def render_outputs(outputs: Iterable[Output], rendered: Callable[[Output], bytes | None]) -> dict[str, bytes]:
    """Each output's bytes; `rendered` may know them already (a cache), or answers None."""
    files: dict[str, bytes] = {}
    with shared_subtrees():   # the bodies were just emitted, and nothing changes them
        for output in outputs:
            if output.path in files:
                raise MaestroError([Diagnostic(output.sources[0], None, None, (),
                                               f"two objects would be written to gitops/{output.path}")])
            known = rendered(output)
            files[output.path] = known if known is not None else render(output.body, output.sources)
    return files


def tree_files(plan: Plan, outputs: Sequence[Output]) -> dict[str, bytes]:
    """The files of a whole-tree compile that belong to no single object."""
    return {
        "README.md": readme(plan, tuple(outputs)),
        "CODEOWNERS": codeowners(plan),
        HEALTH_PATCH_PATH: (header(sorted({e.source for e in plan.environments})) + seldon_health_patch()).encode(),
    }


# --- validate output: every object against its JSON Schema and the controllers' rules, fail closed ---

def validate_outputs(outputs: Iterable[Output], locations: Sequence[str],
                     carried: dict[str, dict] | None = None) -> dict[str, str]:
    """Validate `outputs` together; raise on any failure. Out: the kind of each unchecked (skipped) path.
    The schemas shipped with Maestro cover every kind it emits and are searched after `locations`.
    `carried`: the objects of manifest texts emitted with them (`render.carried_manifests`)."""
    from .validation import Document, validate_documents
    from .validation.embedded import resource_manifests

    documents = [Document(f"gitops/{o.path}", 0, 0, o.body) for o in outputs]   # in memory: no lines
    # What a resource template creates (a TrainJob) is checked too, as a document of the same file.
    documents += [Document(doc.source, i, 0, manifest) for doc in list(documents)
                  for i, (_, manifest) in enumerate(resource_manifests(doc.body, carried), start=1)]
    results = validate_documents(documents, schema_locations=locations, unchanging=True)   # just emitted
    failures = [r for r in results if r.status in ("invalid", "error")]
    if failures:
        raise MaestroError(_invalid(r, f) for r in failures for f in (r.errors or [None]))
    return {r.source.removeprefix("gitops/"): r.kind for r in results if r.status == "skipped"}


def unchecked_warning(skipped: dict[str, str]) -> tuple[str, ...]:
    """A line naming the kinds no schema checked; none are, now that a missing schema is an error."""
    unchecked = sorted(set(skipped.values()))
    return (f"warning: unchecked kinds: {', '.join(unchecked)}",) if unchecked else ()


def _invalid(result, finding) -> Diagnostic:
    finding = finding or Diagnostic(result.source, None, None, (), result.status)
    return replace(finding, message=f"{result.kind} {result.name}: {finding.message}",
                   hint="the compiler produced an invalid manifest; please report it")


# --- the collector ---------------------------------------------------------------------------------

_pauses = 0
_pauses_lock = threading.Lock()
_resume = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """A compile allocates millions of small objects and frees almost none before it ends; the cyclic
    collector's full passes over that growing heap took 40% of a 1,000-pipeline compile. Reference
    counting still frees everything acyclic, and the collector takes the rest once it runs again:
    when the last overlapping pause ends (compiles in two threads), as it was before the first."""
    global _pauses, _resume
    with _pauses_lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()


# --- helpers ---------------------------------------------------------------------------------------

def _shards(members: Sequence[Member], weights: Counter, shares: Sequence[float]) -> list[list[UnitId]]:
    """Shards of the namespaces in `weights`, their weights in about the proportions of `shares`.
    Where there are teams enough, a team's namespaces of every environment share a shard: one
    pipeline's environments repeat most of its spec.json sections and step templates, which a
    worker then writes once."""
    team_of = {(m.env, m.namespace): m.team for m in members}
    by_team: Counter = Counter()
    units_of: dict[str, list[UnitId]] = {}
    for unit, weight in weights.items():
        by_team[team_of[unit]] += weight
        units_of.setdefault(team_of[unit], []).append(unit)
    if len(by_team) < len(shares):
        return apportioned(weights, shares)
    return [sorted(unit for team in group for unit in units_of[team]) for group in apportioned(by_team, shares)]


def _weights(members: Iterable[Member], rebuilt: set[UnitId]) -> Counter:
    """How many pipelines each namespace to build holds: the work of building it, roughly."""
    return Counter((m.env, m.namespace) for m in members if (m.env, m.namespace) in rebuilt)


def _unit_of(path: str, env_name: str, namespaces: set[str]) -> UnitId | None:
    parts = path.split("/")
    if len(parts) > 2 and parts[0] == env_name and parts[1] in namespaces:
        return env_name, parts[1]
    return None


def _confirm_places(project: Project, members: Iterable[Member]) -> None:
    """That the loaded pipelines are the ones the survey placed, under its names and teams."""
    for m in members:
        pipeline = project.pipelines.get(m.name)
        if pipeline is None or pipeline.metadata.team != m.team or project.files[f"pipeline/{m.name}"] != m.file:
            raise MaestroError([Diagnostic(m.file, None, None, (), "the file is not what its metadata said")])


def _teams_of(project: Project) -> dict[str, tuple[str, str]]:
    """File -> (name, team) of every pipeline a load validated."""
    return {project.files[f"pipeline/{name}"]: (name, p.metadata.team) for name, p in project.pipelines.items()}


def _files_of(project: Project) -> list[str]:
    return [project.files[f"pipeline/{name}"] for name in project.pipelines]


def _merge(first: Project, second: Project) -> Project:
    return replace(first, pipelines={**first.pipelines, **second.pipelines},
                   effective={**first.effective, **second.effective}, files={**first.files, **second.files},
                   pending={**first.pending, **second.pending})


def _spaces(plan: EnvironmentPlan) -> set[str]:
    return {t.namespace for t in plan.teams}


def _all_skipped(outside: dict[str, str], units: Iterable[Unit]) -> dict[str, str]:
    every = dict(outside)
    for unit in units:
        every.update(unit.skipped)
    return every
