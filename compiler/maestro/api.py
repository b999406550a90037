"""The Python API: what the `maestro` commands do, as functions that take values and return values.

In: a project root (a folder holding pipelines/ and environments/; None: found upward from the
working directory, as the commands do) or manifest paths, and the options the commands take. Out:
frozen result values. Every problem is raised as one `MaestroError` carrying `Diagnostic`s; its
subclasses `UsageError`, `Failure` and `UnsafePath` say what kind of problem it is. Nothing here
prints or reads an environment variable: the commands (commands/) read those, call these functions
and print what they return. `maestro/__init__.py` exports them lazily; docs/api.md is the reference.
`run_pipeline` is in `runner`: it reaches the step runtime, which the compile path must not import.

The names are not the commands' (`compile`, `diff`, `promote`) because those are the package's own
modules: `maestro.compile` is `maestro/compile.py`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Literal, Sequence, Union

from .errors import UsageError

if TYPE_CHECKING:
    from .compile import Compiled
    from .diff import ResourceChange
    from .gitops import Drift
    from .promotion_evidence import Evidence
    from .validation import Result

PathLike = Union[str, "os.PathLike[str]"]
DiffFormat = Literal["text", "markdown", "json"]


@dataclass(frozen=True)
class CompileResult:
    """What `compile_gitops` did to gitops/ (paths relative to it)."""

    written: tuple[str, ...]
    pruned: tuple[str, ...]
    unchanged: int
    unaccounted: tuple[str, ...]    # files maestro did not generate, left alone (`check_gitops` fails on them)
    warnings: tuple[str, ...]       # lines for the user
    pipelines: int
    environments: int


@dataclass(frozen=True)
class CheckResult:
    """How gitops/ differs from what the specs compile to; `up_to_date` when it does not."""

    drift: tuple[Drift, ...]        # missing | stale | extra | foreign files, each with a short diff
    warnings: tuple[str, ...]
    pending: bool                   # an interrupted compile waits in .maestro/ (only a compile completes it)

    @property
    def up_to_date(self) -> bool:
        return not self.drift


@dataclass(frozen=True)
class DiffResult:
    """The per-resource, per-field changes a compile makes to a tree."""

    changes: tuple[ResourceChange, ...]
    warnings: tuple[str, ...]

    def format(self, fmt: DiffFormat = "text") -> str:
        from . import diff_format

        return {"text": diff_format.as_text, "markdown": diff_format.as_markdown,
                "json": diff_format.as_json}[fmt](self.changes)


@dataclass(frozen=True)
class PromoteResult:
    """The edited spec (relative to the root) and what the edit changes in the compiled tree."""

    spec: str
    changes: tuple[ResourceChange, ...]
    warnings: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()   # the records that proved each newly served run passed where it must
    default: str | None = None            # rollback_default: the version now default ...
    previous_default: str | None = None   # ... and the one it replaced


# --- compile, check, diff --------------------------------------------------------------------------

def compile_gitops(root: PathLike | None = None, envs: Sequence[str] = (), *, validate: bool = True,
                   schema_locations: Sequence[str] = (), cache: bool = True,
                   progress: Callable[[str], None] | None = None, jobs: int | None = None) -> CompileResult:
    """Compile the specs into `root/gitops/`, as `maestro compile` does: every manifest is validated
    first (the shipped schemas, after `schema_locations`), and nothing is written if anything is invalid.
    `progress` hears the name of each stage as it starts (what `maestro compile` shows on a terminal).
    `jobs` processes may build team namespaces at once, in a large repository (None: one per CPU this
    process may use); the files written and any error are the same for every value."""
    from . import gitops

    root = _root(root)
    with _compiled(root, envs, validate, schema_locations, cache, progress, jobs) as compiled:
        (progress or _silent)(f"writing gitops/ ({len(compiled.tree.files)} files)")
        recovered = gitops.recover(root, root / "gitops")
        written, pruned = gitops.write(root, root / "gitops", compiled.tree)
        kept = gitops.unaccounted(root / "gitops", compiled.tree)
    return CompileResult(tuple(written), tuple(pruned), len(compiled.tree.files) - len(written), tuple(kept),
                         (*compiled.warnings, *([recovered] if recovered else [])), compiled.pipelines,
                         compiled.environments)


def check_gitops(root: PathLike | None = None, envs: Sequence[str] = (), *, validate: bool = True,
                 schema_locations: Sequence[str] = (), cache: bool = True,
                 progress: Callable[[str], None] | None = None, jobs: int | None = None) -> CheckResult:
    """Compare gitops/ with what the specs compile to, writing nothing (`maestro compile --check`);
    `jobs` as for `compile_gitops`."""
    from . import gitops

    root = _root(root)
    snapshot = gitops.Snapshot(root / "gitops")   # read while workers compile; trusted under the lock only where unchanged
    with _compiled(root, envs, validate, schema_locations, cache, progress, jobs, snapshot.take) as compiled:
        (progress or _silent)(f"comparing with gitops/ ({len(compiled.tree.files)} files)")
        drift = gitops.check(root / "gitops", compiled.tree, snapshot)
        pending = gitops.pending(root)   # read-only: never recovers, so a checkout's journal is never acted on
    return CheckResult(tuple(drift), compiled.warnings, pending)


def diff_gitops(root: PathLike | None = None, envs: Sequence[str] = (), *, against: str | None = None,
                schema_locations: Sequence[str] = (), cache: bool = True, jobs: int | None = None) -> DiffResult:
    """What compiling the specs changes, per resource and field, against gitops/ on disk or at the
    git revision `against` (`maestro diff`). Validated as a compile is: a tree it refuses is refused."""
    from .compile import compile_project
    from .diff import diff_trees, tree_at_ref
    from .gitops import generated_files, locked, preflight
    from .tree import in_scope

    root = _root(root)
    preflight(root)   # before the cache under .maestro/ is read or written
    compiled = compile_project(root, envs, schema_locations=schema_locations, cache=_cache(root, cache), jobs=jobs)
    with locked(root):   # read-only: never recovers an interrupted write, which only a compile does
        old = tree_at_ref(root, against) if against else generated_files(root / "gitops")
    old = {path: data for path, data in old.items() if in_scope(path, compiled.tree.scope)}
    return DiffResult(tuple(diff_trees(old, compiled.tree.files)), compiled.warnings)


@contextmanager
def _compiled(root: Path, envs: Sequence[str], validate: bool, locations: Sequence[str],
              cache: bool, progress: Callable[[str], None] | None = None,
              jobs: int | None = None, meanwhile: Callable[[], None] | None = None) -> Iterator[Compiled]:
    """The compile of the specs as they are, with the gitops lock held: a refused spec stops before
    the lock is taken; specs edited meanwhile are compiled again, since another compile may have
    written their newer tree, and an older one must never be written or checked over it."""
    from . import gitops
    from .compile import compile_project, inputs_digest

    gitops.preflight(root)   # before the cache under .maestro/ is read or written
    options = dict(envs=envs, validate=validate, schema_locations=locations, cache=_cache(root, cache),
                   progress=progress, jobs=jobs, meanwhile=meanwhile)
    inputs = inputs_digest(root)
    compiled = compile_project(root, **options)
    with gitops.locked(root):
        yield compile_project(root, **options) if inputs_digest(root) != inputs else compiled


def _silent(text: str) -> None:
    return None


def _cache(root: Path, wanted: bool):
    from .incremental import NamespaceCache

    return NamespaceCache(root) if wanted else None


# --- validate --------------------------------------------------------------------------------------

def validate_manifests(paths: Sequence[PathLike], *, schema_locations: Sequence[str] = (),
                       kubernetes_version: str | None = None, strict: bool = False,
                       ignore_missing_schemas: bool = False, skip: Sequence[str] = (), reject: Sequence[str] = (),
                       ignore_filename_patterns: Sequence[str] = (), cache_dir: str | None = None) -> tuple[Result, ...]:
    """One `Result` per manifest under `paths` (files or folders; `-` is stdin), as `maestro validate`
    checks them. Invalid manifests are results (`result.failed`), not errors; a bad option is a UsageError."""
    from .validation import DEFAULT_KUBERNETES_VERSION, load_documents
    from .validation.engine import make_settings, validate_documents

    settings = make_settings(schema_locations, kubernetes_version or DEFAULT_KUBERNETES_VERSION,
                             ignore_missing_schemas, skip, reject, strict, cache_dir)   # options before documents
    documents = load_documents([os.fspath(p) for p in paths], ignore_filename_patterns=ignore_filename_patterns)
    return tuple(validate_documents(documents, settings))


# --- promote ---------------------------------------------------------------------------------------

def promote_version(pipeline: str, version: str, *, role: Literal["candidate", "default"],
                    run: str | None = None, weight: int | None = None, mode: Literal["ab", "shadow"] | None = None,
                    environment: str | None = None, artifact_store: str | None = None,
                    root: PathLike | None = None, schema_locations: Sequence[str] = ()) -> PromoteResult:
    """Edit pipelines/PIPELINE.yaml (comments kept) so `version` becomes the candidate or the default
    (`maestro promote`): in `spec.serving`, or with `environment` in that environment's override only.
    The edited spec is compiled and validated first, and every version it newly serves is checked
    (`promotion.from`, the run's publish record; see promotion_evidence); a refused edit writes nothing.
    `artifact_store`: `s3` (each environment's own store, with the caller's AWS credentials), or a
    local copy (file:///path or a folder); None checks the committed records."""
    from .promote import Promotion, promote_text

    change = Promotion(version, role, run, weight, mode)
    return _edit_spec(pipeline, lambda text, file: (promote_text(text, file, change, environment), None, None),
                      environment, artifact_store, root, schema_locations, verify=True)


def rollback_default(pipeline: str, *, environment: str | None = None, root: PathLike | None = None,
                     schema_locations: Sequence[str] = ()) -> PromoteResult:
    """Swap `default` and `previous_default` of the pipeline's serving (`maestro promote --rollback`),
    in `spec.serving` or in `environment`'s override. A rollback returns to the version that was
    serving before, so no evidence is asked for; the edit is compiled and validated like a promotion."""
    from .promote import rollback_text

    return _edit_spec(pipeline, lambda text, file: rollback_text(text, file, environment),
                      environment, None, root, schema_locations, verify=False)


def _edit_spec(pipeline: str, edit: Callable, environment: str | None, artifact_store: str | None,
               root: PathLike | None, schema_locations: Sequence[str], verify: bool) -> PromoteResult:
    from .compile import compile_project
    from .diff import diff_trees
    from .project import load_project
    from .promote import read_real, refuse_symlinks, replace_file

    root = _root(root)
    spec = root / "pipelines" / f"{pipeline}.yaml"
    refuse_symlinks(root, spec)       # never edit, or echo, a file a link points at
    if not spec.is_file():
        raise UsageError(f"no pipeline spec at {spec.relative_to(root)}")
    project = load_project(root)
    if environment is not None and environment not in project.environments:
        from .errors import did_you_mean, one_of
        hint = did_you_mean(environment, project.environments) or one_of(project.environments)
        raise UsageError(f"no environment named '{environment}' ({hint})")
    relative = spec.relative_to(root).as_posix()
    text = read_real(spec).decode("utf-8")
    edited, default, previous = edit(text, relative)
    before = compile_project(root, validate=False).tree.files
    after = _compile_edited(root, spec, edited, schema_locations)
    evidence = _evidence(root, project, pipeline, relative, text, edited, artifact_store) if verify else ()
    replace_file(spec, edited.encode("utf-8"))
    return PromoteResult(relative, tuple(diff_trees(before, after.tree.files)), after.warnings, evidence,
                         default, previous)


def _evidence(root: Path, project, pipeline: str, file: str, text: str, edited: str, store: str | None) -> tuple:
    """What proves each run the edit newly sends traffic to, in any environment, may take it."""
    from .promote import served_runs
    from .promotion_evidence import Served, gather, open_store

    served = []
    for env in sorted(project.environments):
        known = served_runs(text, file, env)
        served += [Served(env, version, run) for run, version in served_runs(edited, file, env).items()
                   if run not in known]
    return gather(root, project, pipeline, served, open_store(store))


def _compile_edited(root: Path, spec: Path, edited: str, locations: Sequence[str]) -> Compiled:
    """The project compiled with the edited spec, in a scratch copy of the specs, validated as a
    compile is: an edit whose tree a compile would refuse is refused."""
    from .compile import compile_project
    from .project import teams_file

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch)
        for folder in ("pipelines", "environments"):
            shutil.copytree(root / folder, copy / folder)
        for teams in teams_file(root):   # the tenancy the specs are checked against
            shutil.copyfile(teams, copy / teams.name)
        (copy / "pipelines" / spec.name).write_text(edited)
        return compile_project(copy, schema_locations=locations)


# --- init ------------------------------------------------------------------------------------------

def init_project(root: PathLike = ".") -> tuple[str, ...]:
    """Scaffold a new repository in `root` (`maestro init`): environments/dev.yaml, one example
    pipeline, the spec JSON Schemas the editor modelines name, and a pre-commit config. Returns the
    files written, relative to `root`. Refuses (UsageError, nothing written) if any of them exists."""
    from .scaffold import scaffold

    return scaffold(Path(root))


def _root(root: PathLike | None) -> Path:
    from .project import project_root

    return project_root(root)
