"""Load, validate and merge a whole repository of specs, collecting every diagnostic.

In: a root with `environments/` and `pipelines/`. Out: a `Project` holding each environment, each
pipeline and each pipeline's effective spec per environment, or one `MaestroError` with every
problem found in every file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Collection, Iterable, Sequence

from .errors import Diagnostic, MaestroError, UnsafePath, UsageError, did_you_mean, one_of
from .overlay import deep_merge, graft, subtree, with_positions_of
from .loading.positions import Located, Position, load_file
from .loading.survey import name_and_team
from .language.checks import EFFECTIVE_CHECKS, PIPELINE_CHECKS, check_effective, check_pipeline
from .language.diagnose import validate_model
from .language.hints import with_hints
from .language.partial import bad_sections, check_name, partial_pipeline, run_checks, skipped_note
from .language.environment import Environment
from .language.pipeline import Pipeline
from .language.promotion import check_promotion_sources
from .language.policy import POLICY_CHECKS, check_policy, image_findings
from .language.teams import TEAMS_FILE, Teams, check_team
from .language.types import image_problem
from .language.workflow import (CUSTOM, CustomPipeline, CustomSpec, is_custom, pipeline_model, template_of,
                                template_problem)
from .language.workflow_checks import check_workflow, check_workflow_effective, check_workflow_policy, partial_checks

SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Effective:
    """A pipeline as it runs in one environment: defaults < spec < overrides, with provenance."""

    pipeline: Pipeline | CustomPipeline
    environment: Environment
    doc: Located
    sources: tuple[str, ...]      # the spec files it came from, relative to the root


@dataclass
class Project:
    root: Path
    environments: dict[str, Environment] = field(default_factory=dict)
    pipelines: dict[str, Pipeline] = field(default_factory=dict)
    effective: dict[tuple[str, str], Effective] = field(default_factory=dict)
    teams: Teams | None = None     # teams.yaml; None: no tenancy, every team is accepted
    teams_doc: Located | None = None
    files: dict[str, str] = field(default_factory=dict)   # name -> relative path of its spec
    # (pipeline, environment) -> the documents of an effective spec not built yet (`defer_effective`)
    pending: dict[tuple[str, str], tuple[Located, Located]] = field(default_factory=dict)
    environment_docs: dict[str, Located] = field(default_factory=dict)   # of the valid environments


def find_root(start: Path) -> Path:
    """The nearest directory at or above `start` that holds pipelines/ and environments/."""
    for candidate in (start, *start.parents):
        if (candidate / "pipelines").is_dir() and (candidate / "environments").is_dir():
            return candidate
    raise UsageError(f"no directory with pipelines/ and environments/ at or above {start}; pass --root")


def project_root(root: str | os.PathLike | None) -> Path:
    """`root`, which must hold pipelines/ and environments/, resolved; None: found from the working directory."""
    if root is None:
        return find_root(Path.cwd().resolve())
    root = Path(root)
    if not (root / "pipelines").is_dir() or not (root / "environments").is_dir():
        raise UsageError(f"{root} holds no pipelines/ and environments/")
    return root.resolve()


def load_project(root: Path, only_envs: Sequence[str] = (), only_pipelines: Collection[str] | None = None,
                 defer_effective: bool = False) -> Project:
    """`only_pipelines`: the pipeline files (relative to root) to load; None loads them all.
    `defer_effective`: when every file is valid by itself, leave the effective specs to
    `complete_effective` (a compile's workers build only their own), in `Project.pending`."""
    diagnostics: list[Diagnostic] = []
    project = Project(root)
    _add_teams(project, diagnostics)
    diagnostics += [*outside_links(root, "environments"), *outside_links(root, "pipelines")]
    env_docs = _load_kind(root, "environments", diagnostics)
    pipe_docs = _load_kind(root, "pipelines", diagnostics, only_pipelines)
    for doc in env_docs:
        _add_environment(project, doc, diagnostics)
    _check_env_filter(project, only_envs)
    project.environment_docs = dict(_by_name(env_docs, project.environments))
    declared = {name for name in map(_name, env_docs) if isinstance(name, str)}   # valid or not
    diagnostics += check_promotion_sources(project.environments, project.environment_docs,
                                           declared)
    skipped: dict[str, dict[str, tuple]] = {}   # file of a partly valid pipeline -> {check not run: bad sections it reads}
    mergeable = [doc for doc in pipe_docs if _add_pipeline(project, doc, diagnostics, skipped)]
    defer = defer_effective and not diagnostics and len(mergeable) == len(pipe_docs)
    for doc in mergeable:
        for env_name, env_doc in _by_name(env_docs, project.environments):
            if defer and (not only_envs or env_name in only_envs):
                project.pending[(_name(doc), env_name)] = (doc, env_doc)
            elif not only_envs or env_name in only_envs:
                _add_effective(project, doc, env_doc, diagnostics, skipped)
    by_file = {doc.file: doc for doc in pipe_docs}
    for file, not_run in skipped.items():
        diagnostics += skipped_note(by_file[file].key_at(("spec",)), not_run)
    diagnostics += _failed_environment_notes(env_docs, project, mergeable)
    if diagnostics:
        raise MaestroError(diagnostics)
    return project


def complete_effective(project: Project, only_envs: Sequence[str],
                       keys: Collection[tuple[str, str]] | None = None) -> None:
    """Build the pending effective specs among `keys` (None: all) into `project.effective`. If any
    has a problem, the whole project (`only_envs`, as it was loaded) is loaded again without
    deferring, which raises with every diagnostic of the run in the order a load reports them."""
    wanted = [key for key in project.pending if keys is None or key in keys]
    diagnostics: list[Diagnostic] = []
    skipped: dict[str, dict[str, tuple]] = {}
    for key in wanted:
        _add_effective(project, *project.pending[key], diagnostics, skipped)
    if diagnostics or skipped:
        load_project(project.root, only_envs)
        raise MaestroError([Diagnostic(project.root.name, None, None, (),
                                       "the specs changed while they were being compiled: compile again")])
    for key in wanted:
        del project.pending[key]


def survey_pipelines(root: Path, skip: Collection[str] = ()) -> dict[str, tuple[str, str]] | None:
    """File -> (name, team) of each pipeline file but those in `skip` (relative paths), read from its
    metadata alone (`loading.survey`); None unless every file gives both, as a valid spec does,
    under a name of its own that is its file's stem, and none is a link (a full load judges those).
    A guess until `load_pipelines` confirms it."""
    found = {}
    for path, entry in _listed(root, "pipelines"):
        relative = f"pipelines/{entry.name}"
        if relative in skip:
            continue
        if entry.is_symlink():
            return None
        if not entry.is_file(follow_symlinks=False) or entry.name.startswith("."):
            continue   # not a spec file (`spec_files`)
        placed = name_and_team(path)
        if placed is None or placed[0] != path.stem:
            return None
        found[relative] = placed
    return found if len({name for name, _ in found.values()}) == len(found) else None


def load_pipelines(project: Project, files: Collection[str], only_envs: Sequence[str]) -> None:
    """Load the pipeline `files` (relative paths) not loaded yet into `project`, their effective specs
    for its environments left pending, as a deferring `load_project` would. The cross-file checks
    are the caller's (`survey_pipelines`): any problem here raises, and a serial compile reports it."""
    loaded = {project.files[f"pipeline/{name}"] for name in project.pipelines}
    wanted = {file for file in files if file not in loaded}
    if not wanted:
        return
    diagnostics: list[Diagnostic] = []
    skipped: dict[str, dict[str, tuple]] = {}
    docs = []
    for file in sorted(wanted):   # listed by `survey_pipelines`, then a regular file: never a link now
        path = project.root / file
        if path.is_symlink():
            raise UnsafePath(f"{file} became a symbolic link during the compile")
        try:
            docs.extend(_one_document(load_file(path, file), file, diagnostics))
        except MaestroError as exc:
            diagnostics.extend(exc.diagnostics)
    for doc in docs:
        if _add_pipeline(project, doc, diagnostics, skipped):
            for env_name, env_doc in project.environment_docs.items():
                if not only_envs or env_name in only_envs:
                    project.pending[(_name(doc), env_name)] = (doc, env_doc)
    if diagnostics or skipped or len(docs) != len(wanted):
        raise MaestroError(diagnostics or [Diagnostic(project.root.name, None, None, (), "a pipeline did not load")])


def spec_files(root: Path, folder: str) -> list[Path]:
    """The spec files of `folder`, never one that is (a link to) a file outside the root or in a hidden
    folder of it (.git, .maestro): those are not read at all, and `outside_links` reports them.
    Only a link needs resolving: a file that is none lies in the folder, which `_listed` checked."""
    found = []
    for path, entry in _listed(root, folder):
        if entry.is_symlink():
            if path.is_file() and _inside(root, path):
                found.append(path)
        elif entry.is_file(follow_symlinks=False) and not entry.name.startswith("."):
            found.append(path)
    return found


def outside_links(root: Path, folder: str) -> list[Diagnostic]:
    """A spec file that is a symbolic link leaving the repository is refused, and never read: a pull
    request could otherwise have maestro read (and quote in its errors) any file of the CI runner,
    or the credentials a CI checkout keeps in .git/config."""
    return [Diagnostic(p.relative_to(root).as_posix(), None, None, (),
                       "the file is a symbolic link to a file outside the repository or in a hidden folder of it "
                       "(.git, .maestro); maestro does not read it",
                       "replace the link with the file itself")
            for p, entry in _listed(root, folder) if entry.is_symlink() and not _inside(root, p)]


def _listed(root: Path, folder: str) -> list[tuple[Path, os.DirEntry]]:
    """The folder's entries with a spec suffix, by name. Their types come with the listing
    (`os.scandir`), so a folder of a thousand specs costs no stat per file."""
    base = root / folder
    if not _inside(root, base):
        raise UnsafePath(f"{folder}/ is a symbolic link to a folder outside the repository; maestro does not read "
                         "it: replace the link with the folder itself")
    with os.scandir(base) as entries:
        listed = sorted((entry.name, entry) for entry in entries if os.path.splitext(entry.name)[1] in SPEC_SUFFIXES)
    return [(base / name, entry) for name, entry in listed]


def _inside(root: Path, path: Path) -> bool:
    """Whether `path`, links resolved, is in the root and in none of its hidden folders."""
    real_root, real = root.resolve(), Path(os.path.realpath(path))
    return real.is_relative_to(real_root) and not any(
        part.startswith(".") for part in real.relative_to(real_root).parts)


def _load_kind(root: Path, folder: str, diagnostics: list[Diagnostic],
               only: Collection[str] | None = None) -> list[Located]:
    docs = []
    if only is not None and not only:
        return docs
    for path in spec_files(root, folder):
        display = path.relative_to(root).as_posix()
        if only is not None and display not in only:
            continue
        try:
            loaded = load_file(path, display)
        except MaestroError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        docs.extend(_one_document(loaded, display, diagnostics))
    return docs


def _one_document(loaded: list[Located], display: str, diagnostics: list[Diagnostic]) -> list[Located]:
    if not loaded:
        diagnostics.append(Diagnostic(display, None, None, (), "the file holds no document"))
        return []
    for extra in loaded[1:]:
        pos = extra.at(())
        diagnostics.append(Diagnostic(display, pos.line, pos.col, (), "one spec per file; move this document to its own file"))
    if not isinstance(loaded[0].data, dict):
        pos = loaded[0].at(())
        diagnostics.append(Diagnostic(display, pos.line, pos.col, (),
                                      "the document must be a mapping with apiVersion, kind, metadata and spec"))
        return []
    return loaded[:1]


def teams_file(root: Path) -> list[Path]:
    """teams.yaml, when the repository has one as a regular file."""
    path = root / TEAMS_FILE
    return [path] if path.is_file() and not path.is_symlink() else []


def _add_teams(project: Project, diagnostics: list[Diagnostic]) -> None:
    """The platform's teams.yaml, if the repository has one; never through a symlink."""
    path = project.root / TEAMS_FILE
    if path.is_symlink():
        diagnostics.append(Diagnostic(TEAMS_FILE, None, None, (), "is a symbolic link; teams.yaml must be a file of the repository"))
        return
    if not path.exists():
        return
    try:
        docs = _one_document(load_file(path, TEAMS_FILE), TEAMS_FILE, diagnostics)
    except MaestroError as exc:
        diagnostics.extend(exc.diagnostics)
        return
    if docs:
        teams, problems = validate_model(docs[0], Teams)
        diagnostics.extend(problems)
        project.teams, project.teams_doc = teams, docs[0]
        project.files["teams"] = TEAMS_FILE


def _add_environment(project: Project, doc: Located, diagnostics: list[Diagnostic]) -> None:
    env, problems = validate_model(doc, Environment)
    diagnostics.extend(problems)
    if env is None:
        return
    _check_stem(doc, env.metadata.name, diagnostics)
    _check_unique(project, "environment", env.metadata.name, doc, diagnostics)
    problem = image_problem(env.spec.image)
    if problem:
        diagnostics.append(_located(doc, ("spec", "image"), problem))
    for finding in image_findings(env, env.spec.image):
        diagnostics.append(_locate(doc, replace(finding, path=("spec", "image"), hint=_policy_hint(doc, finding.hint))))
    project.environments[env.metadata.name] = env
    project.files[f"environment/{env.metadata.name}"] = doc.file


def _add_pipeline(project: Project, doc: Located, diagnostics: list[Diagnostic], skipped: dict) -> bool:
    """Whether the pipeline can be merged with the environments: it is valid, or valid in part."""
    unknown = template_problem(doc.data)
    if unknown:   # which model to judge the file by is unknown: say only that
        diagnostics.append(_located(doc, ("spec", "template"), *unknown))
        return False
    pipeline, problems = validate_model(doc, pipeline_model(doc.data))
    diagnostics.extend(with_hints(doc, problems))
    if pipeline is None and template_of(doc.data) == CUSTOM:
        findings, not_run = partial_checks(doc.data, problems)
        diagnostics.extend(_locate(doc, finding) for finding in findings)
        skipped.setdefault(doc.file, {}).update(not_run)
        _check_document(project, doc, partial_custom(doc.data), diagnostics)
        return isinstance(_name(doc), str)
    if pipeline is None:
        partial, bad = partial_pipeline(doc.data, bad_sections(problems))
        _check_partly(doc.file, doc, partial, bad, diagnostics, skipped, [(PIPELINE_CHECKS, (partial,), _same)])
        _check_document(project, doc, partial, diagnostics)
        return isinstance(_name(doc), str)
    _check_document(project, doc, pipeline, diagnostics)
    diagnostics.extend(_locate(doc, finding) for finding in _semantic_checks(pipeline))
    project.pipelines[pipeline.metadata.name] = pipeline
    project.files[f"pipeline/{pipeline.metadata.name}"] = doc.file
    return True


def _semantic_checks(pipeline: Pipeline | CustomPipeline) -> list[Diagnostic]:
    return check_workflow(pipeline) if is_custom(pipeline) else check_pipeline(pipeline)


def partial_custom(data: dict) -> CustomPipeline:
    """What the file checks of a custom pipeline that failed its model read: metadata and overrides.
    The semantic checks need valid steps, so they wait until the model validates."""
    from .language.partial import _metadata

    spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    overrides = spec.get("overrides") if isinstance(spec.get("overrides"), dict) else {}
    return CustomPipeline.model_construct(metadata=_metadata(data.get("metadata")), spec=CustomSpec.model_construct(
        overrides={k: v for k, v in overrides.items() if isinstance(k, str)}))


def _check_document(project: Project, doc: Located, pipeline: Pipeline, diagnostics: list[Diagnostic]) -> None:
    """What the pipeline's file must agree with: its name, its team, the environments it overrides.
    `pipeline` may be partial: its metadata is then None when that did not validate."""
    metadata = getattr(pipeline, "metadata", None)
    if metadata is not None:
        _check_stem(doc, metadata.name, diagnostics)
        _check_unique(project, "pipeline", metadata.name, doc, diagnostics)
        refused = check_team(project.teams, pipeline, doc.file)
        if refused:
            pos = project.teams_doc.key_at(refused[1])
            diagnostics.append(_located(doc, ("metadata", "team"), refused[0], f"{pos.file}:{pos.line}:{pos.col}"))
    for env_name in pipeline.spec.overrides:
        if env_name not in project.environments:
            known = project.environments
            diagnostics.append(_located(doc, ("spec", "overrides", env_name), f"no environment named '{env_name}'",
                                        did_you_mean(env_name, known) or one_of(known), key=True))


def _check_partly(file: str, doc: Located, partial: Pipeline, bad: set[str], found: list[Diagnostic],
                  skipped: dict, tables: list) -> None:
    """The checks a pipeline that failed its model can still have: those whose sections are valid.
    `tables` holds the (checks, arguments, finding -> finding) to run on `doc`; what a check could
    not run for is kept in `skipped[file]`: {check name: the bad sections it reads}."""
    for checks, args, adjust in tables:
        findings, not_run = run_checks(checks, args, bad)
        found.extend(_locate(doc, adjust(finding)) for finding in findings)
        skipped.setdefault(file, {}).update(not_run)


def _failed_environment_notes(env_docs: list[Located], project: Project, pipelines: list[Located]) -> list[Diagnostic]:
    """An environment that failed its model cannot check any pipeline: say so once, at its file."""
    checks = sorted(check_name(c) for c in (*EFFECTIVE_CHECKS, *POLICY_CHECKS))
    message = (f"{len(checks)} check(s) of the pipelines in this environment were not run ({', '.join(checks)}): "
               "the environment has errors")
    return [_note(doc.key_at(("spec",)), message) for doc in env_docs if pipelines and not _valid_name(_name(doc), project.environments)]


def _note(pos: Position, message: str) -> Diagnostic:
    return Diagnostic(pos.file, pos.line, pos.col, (), message, severity="note")


def _valid_name(name: object, valid: dict) -> bool:
    return isinstance(name, str) and name in valid


def _name(doc: Located) -> object:
    metadata = doc.data.get("metadata")
    return metadata.get("name") if isinstance(metadata, dict) else None


def _add_effective(project: Project, doc: Located, env_doc: Located, diagnostics: list[Diagnostic],
                   skipped: dict) -> None:
    env = project.environments[env_doc.data["metadata"]["name"]]
    effective = effective_document(doc, env_doc, env.metadata.name)
    custom = template_of(effective.data) == CUSTOM
    pipeline, found = validate_model(effective, pipeline_model(effective.data))
    found = with_hints(effective, found)
    if pipeline is None and custom:
        pass    # the pipeline's own validation reports what to fix first; its checks wait until then
    elif pipeline is None:
        def policy_hint(finding: Diagnostic) -> Diagnostic:
            return replace(finding, hint=_policy_hint(env_doc, finding.hint))
        partial, bad = partial_pipeline(effective.data, bad_sections(found))
        _check_partly(doc.file, effective, partial, bad, found, skipped, [
            (PIPELINE_CHECKS, (partial,), _same), (EFFECTIVE_CHECKS, (partial, env.metadata.name), _same),
            (POLICY_CHECKS, (env, partial), policy_hint)])
    else:
        found.extend(_locate(effective, finding) for finding in _semantic_checks(pipeline))
        effective_checks = check_workflow_effective if custom else check_effective
        found.extend(_locate(effective, finding) for finding in effective_checks(pipeline, env.metadata.name))
        policy = check_workflow_policy(env, pipeline) if custom else check_policy(env, pipeline)
        found.extend(_locate(effective, replace(finding, hint=_policy_hint(env_doc, finding.hint)))
                     for finding in policy)
        sources = tuple(sorted({doc.file, env_doc.file}))
        project.effective[(pipeline.metadata.name, env.metadata.name)] = Effective(pipeline, env, effective, sources)
    if found:
        override = _override_positions(doc, env.metadata.name)
        diagnostics.extend(_as_written(d, env_doc.file, env.metadata.name, override) for d in found)


def _override_positions(doc: Located, env_name: str) -> set[tuple[int, int]]:
    """Where the pipeline's `overrides.<env>` values and keys stand, to tell which lines they supplied."""
    prefix = ("spec", "overrides", env_name)
    return {(pos.line, pos.col) for positions in (doc.values, doc.keys)
            for path, pos in positions.items() if path[:3] == prefix and len(path) > 3}


def _as_written(diagnostic: Diagnostic, env_file: str, env_name: str, override: set[tuple[int, int]]) -> Diagnostic:
    """A merged value named by its path in the file that supplied it: the environment's defaults or
    the pipeline's overrides for that environment."""
    if diagnostic.path[:1] != ("spec",) or len(diagnostic.path) < 2:
        return diagnostic
    rest = diagnostic.path[1:]
    if diagnostic.file == env_file:
        return replace(diagnostic, path=("spec", "defaults", *rest))
    if (diagnostic.line, diagnostic.col) in override:
        return replace(diagnostic, path=("spec", "overrides", env_name, *rest))
    return diagnostic


def effective_document(doc: Located, env_doc: Located, env_name: str) -> Located:
    """defaults < spec < overrides[env] for one pipeline document in one environment."""
    empty = Located(doc.file, {})
    spec = doc.data.get("spec") if isinstance(doc.data.get("spec"), dict) else {}
    defaults = env_doc.data.get("spec", {}).get("defaults") or {}
    merged = graft(empty, ("spec",), subtree(env_doc, ("spec", "defaults")) if defaults else empty)
    if template_of(doc.data) == CUSTOM:
        merged = _custom_sections(merged)
    own = with_positions_of(doc, doc.file, {**doc.data, "spec": {k: v for k, v in spec.items() if k != "overrides"}})
    merged = deep_merge(merged, own)
    override = (spec.get("overrides") or {}).get(env_name)
    if isinstance(override, dict):
        merged = deep_merge(merged, graft(empty, ("spec",), subtree(doc, ("spec", "overrides", env_name))))
    return merged


def _custom_sections(defaults: Located) -> Located:
    """An environment's defaults for a custom pipeline: only the sections its template has (the
    defaults' `training:` and the like belong to the market-data template)."""
    spec = defaults.data.get("spec") or {}
    kept = {k: v for k, v in spec.items() if k in CustomSpec.model_fields and k != "steps"}
    return with_positions_of(defaults, defaults.file, {"spec": kept} if kept else {})


def _check_stem(doc: Located, name: str, diagnostics: list[Diagnostic]) -> None:
    stem = Path(doc.file).stem
    if stem != name:
        diagnostics.append(_located(doc, ("metadata", "name"), f"'{name}' differs from the file name '{stem}'",
                                    f"rename the file to {name}.yaml or set metadata.name: {stem}"))


def _check_unique(project: Project, kind: str, name: str, doc: Located, diagnostics: list[Diagnostic]) -> None:
    """Two files may share a stem (`a.yaml`, `a.yml`); the second would silently replace the first."""
    first = project.files.get(f"{kind}/{name}")
    if first is not None:
        diagnostics.append(_located(doc, ("metadata", "name"), f"{kind} '{name}' is also defined in {first}",
                                    "keep one of the two files"))


def _policy_hint(env_doc: Located, rule: str) -> str:
    """Where the rule is stated: `rule` is the field's dotted path under spec (e.g. policy.max_gpus_per_step)."""
    pos = env_doc.key_at(("spec", *rule.split(".")))
    return f"{pos.file}:{pos.line}:{pos.col}"


def _same(finding: Diagnostic) -> Diagnostic:
    return finding


def _locate(doc: Located, finding: Diagnostic, key: bool = False) -> Diagnostic:
    """A check's finding, at the value (or with `key`, the key) its path names in `doc`."""
    pos = doc.key_at(finding.path) if key else doc.at(finding.path)
    return finding.located(pos.file, pos.line, pos.col)


def _located(doc: Located, path: tuple, message: str, hint: str = "", key: bool = False) -> Diagnostic:
    return _locate(doc, Diagnostic.about(path, message, hint), key)


def _by_name(docs: Iterable[Located], valid: dict) -> Iterable[tuple[str, Located]]:
    for doc in docs:
        name = (doc.data.get("metadata") or {}).get("name") if isinstance(doc.data.get("metadata"), dict) else None
        if isinstance(name, str) and name in valid:
            yield name, doc


def _check_env_filter(project: Project, only_envs: Sequence[str]) -> None:
    for name in only_envs:
        if name not in project.environments and project.environments:
            hint = did_you_mean(name, project.environments) or one_of(project.environments)
            raise UsageError(f"no environment named '{name}' ({hint})")
