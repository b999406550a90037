"""Write-back: after a gate passes in the cluster, propose the new model version through git.

In: the environment's gitops settings and name, the run id, its metrics, and git credentials in
the process environment. Out: a pushed commit that adds the version to that environment's serving
and updates that environment's compiled files, on a branch for a pull request or, in a development
environment with `gitops.promotion: direct`, straight to the revision.

What keeps a run in one environment from changing another, or another team's files:
- the spec edit goes to `spec.overrides.<env>.serving` only (`promote.promote_text(..., env)`);
- the spec is recompiled before and after the edit, the output validated as `maestro compile` does
  (fail closed), and only the files the edit changes are written and staged, by name, so drift that
  others left uncompiled is never swept in;
- every changed file must be the pipeline's spec, a file of that pipeline in that environment, a
  shared file of its team namespace there, or the tree's README; anything else refuses the push;
- outside a development environment nothing is pushed to the revision: a branch is pushed instead.
The commit also appends the run to promotions/<pipeline>/<env>.yaml (kind PromotionRecord): the
evidence that it passed the gate here, which `maestro promote` reads for an environment with
`promotion.from: <env>` when the artifact store is out of reach.
A push refused as not fast-forward (the revision moved meanwhile) is redone once on a fresh clone,
then the write-back fails with a clear error. Credentials reach git only through GIT_ASKPASS, so
they appear in no URL, log line or commit.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Sequence

from ..contract import PASSWORD_VARIABLE, USERNAME_VARIABLE
from ..errors import UsageError
from ..promotion_evidence import RECORDS

AUTHOR = ("maestro", "maestro@users.noreply.local")
ASKPASS = f"""#!/bin/sh
case "$1" in
  Username*) printf '%s' "${USERNAME_VARIABLE}" ;;
  *) printf '%s' "${PASSWORD_VARIABLE}" ;;
esac
"""
# Environments whose write-back may push straight to the revision (with `gitops.promotion: direct`).
# By name, so that an environment not listed, whatever its settings, always gets a reviewed branch.
DIRECT_PUSH_ENVIRONMENTS = frozenset({"dev"})
PIPELINE_LABEL = "maestro.dev/pipeline"
TREE_README = "README.md"
ATTEMPTS = 2          # the first push, and one redo on a fresh clone after a non-fast-forward


@dataclass(frozen=True)
class WriteBack:
    repo_url: str
    revision: str
    gitops_path: str
    promotion: str           # pull-request | direct
    environment: str
    pipeline: str
    run_id: str
    metrics: dict
    schema_locations: tuple[str, ...] = ()   # where else to look for schemas (the pod's $MAESTRO_SCHEMA_LOCATION)


@dataclass(frozen=True)
class Proposal:
    version: str
    role: str                             # candidate | default
    files: tuple[str, ...]                # repository-relative paths written or removed
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pushed:
    version: str
    ref: str
    commit: str
    message: str
    via: str = "pull-request"             # direct | pull-request: what was really done
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def write_back(request: WriteBack, scratch: Path | None = None) -> Pushed:
    """The pod-side entry: git reads its credentials from the process environment (through askpass);
    everything else comes in `request`."""
    direct = pushes_directly(request)
    ref = request.revision if direct else f"maestro/{request.pipeline}-{request.run_id}"
    notes = () if direct or request.promotion != "direct" else (
        f"gitops.promotion is direct, but {request.environment} is not a development environment "
        f"({', '.join(sorted(DIRECT_PUSH_ENVIRONMENTS))}): pushed the branch {ref} for review instead of {request.revision}",)
    with tempfile.TemporaryDirectory() as temporary:
        env = _git_environment(Path(temporary))
        base = Path(scratch or temporary).resolve()
        for attempt in range(1, ATTEMPTS + 1):
            work = base / f"repo-{attempt}"
            _git(env, None, "clone", "--quiet", "--no-tags", "--single-branch", "--branch", request.revision,
                 request.repo_url, str(work))
            cloned = _git(env, work, "rev-parse", "HEAD").strip()
            proposal = propose(project_root(work, request.gitops_path), request, work, request.schema_locations)
            message = commit_message(request, proposal.version)
            _commit(env, work, proposal.files, message)
            _refuse_foreign_changes(env, work, cloned, set(proposal.files))
            rejected = _push(env, work, ref)
            if rejected is None:
                commit = _git(env, work, "rev-parse", "HEAD").strip()
                return Pushed(proposal.version, ref, commit, message, "direct" if direct else "pull-request",
                              proposal.files, notes + proposal.warnings)
            if attempt == ATTEMPTS:
                raise UsageError(f"git push to {ref} was refused twice ({rejected}): {ref} moved while the proposal "
                                 f"was made, then again after it was redone on the new {ref}; nothing was pushed. "
                                 "The model is stored; run the publish step again, or promote the run with "
                                 "`maestro promote` in a pull request")
            shutil.rmtree(work)


def pushes_directly(request: WriteBack) -> bool:
    """Only a development environment with `promotion: direct` pushes to the revision itself."""
    return request.promotion == "direct" and request.environment in DIRECT_PUSH_ENVIRONMENTS


def project_root(work: Path, gitops_path: str) -> Path:
    """The folder of the clone holding pipelines/, environments/ and gitops/: the parent of
    `gitops.path`, which must stay inside the clone."""
    path = PurePosixPath(gitops_path)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise UsageError(f"gitops.path '{gitops_path}' must be a relative path inside the repository, without '..'")
    return work.joinpath(*path.parent.parts)


def propose(root: Path, request: WriteBack, work: Path | None = None, schema_locations: Sequence[str] = ()) -> Proposal:
    """Add the run as the next version of `request.environment`'s serving (the candidate when that
    environment serves a default, else the default), recompile, and write the files that change. The
    recompile is `maestro compile`'s, validated against `schema_locations` and the shipped schemas."""
    from ..compile import compile_project
    from ..promote import Promotion, effective_serving, next_version, promote_text, read_real, refuse_symlinks, replace_file

    work = work or root
    if os.path.lexists(work / ".maestro") or os.path.lexists(root / ".maestro"):
        raise UsageError(".maestro/ is committed in the gitops repository; it is maestro's local state and never "
                         "belongs in git (remove it there); nothing was pushed")
    spec = root / "pipelines" / f"{request.pipeline}.yaml"
    refuse_symlinks(work, spec)
    file = spec.relative_to(root).as_posix()
    if not spec.is_file():
        raise UsageError(f"the gitops repository has no {file}; nothing was pushed")
    text = read_real(spec).decode("utf-8")
    version = next_version(text, file)
    served = effective_serving(text, file, request.environment)
    role = "candidate" if served and served.get("default") is not None else "default"
    edited = promote_text(text, file, Promotion(version, role, request.run_id), request.environment)
    before = compile_project(root, validate=False).tree.files
    replace_file(spec, edited.encode("utf-8"))
    # Validated as `maestro compile` validates: an invalid tree raises here, and nothing is pushed.
    compiled = compile_project(root, schema_locations=schema_locations)
    after = compiled.tree.files
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    outside = [p for p in changed if not _belongs(p, request, before, after)]
    if outside:
        shown = ", ".join(f"gitops/{p}" for p in outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
        raise UsageError(f"the proposal for {request.pipeline} in {request.environment} would also change {shown}; "
                         f"a write-back may change only {file} and {request.environment}'s files of "
                         f"{request.pipeline}; nothing was pushed (make this change in a reviewed pull request)")
    gitops = root / "gitops"
    for path in changed:
        target = gitops / path
        refuse_symlinks(work, target)
        if path in after:
            target.parent.mkdir(parents=True, exist_ok=True)
            replace_file(target, after[path])
        elif os.path.lexists(target):
            os.unlink(target)
    record = append_passed(root, request.pipeline, request.environment, request.run_id, version, work)
    files = (spec, *(gitops / p for p in changed), record)
    return Proposal(version, role, tuple(p.relative_to(work).as_posix() for p in files), tuple(compiled.warnings))


def append_passed(root: Path, pipeline: str, environment: str, run: str, version: str, work: Path) -> Path:
    """Add `run` to promotions/<pipeline>/<environment>.yaml (a PromotionRecord), the evidence an
    environment with `promotion.from: <environment>` checks when the artifact store is out of reach.
    An existing record is read as `maestro promote` reads it (strictly, never through a link); one
    of the wrong shape refuses the write-back rather than being overwritten."""
    from ..promote import refuse_symlinks, replace_file
    from ..promotion_evidence import committed_runs

    path = root / RECORDS / pipeline / f"{environment}.yaml"
    refuse_symlinks(work, path)
    found = committed_runs(root, pipeline, environment)
    runs = dict(found[1]) if found else {}
    runs.setdefault(run, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    refuse_symlinks(work, path)      # mkdir made no link, but the folder may have existed as one
    replace_file(path, record_text(pipeline, environment, runs).encode("utf-8"))
    return path


def record_text(pipeline: str, environment: str, runs: dict[str, str]) -> str:
    """The record's YAML; names and run ids are validated names, so they need no quoting."""
    lines = [f"# Runs of {pipeline} that passed the gate in {environment}; appended by the write-back.",
             "apiVersion: maestro/v1", "kind: PromotionRecord",
             "metadata:", f"  pipeline: {pipeline}", f"  environment: {environment}"]
    lines += ["passed:", *(f"  - {{run: {r}, version: {v}}}" for r, v in runs.items())] if runs else ["passed: []"]
    return "\n".join(lines) + "\n"


def _belongs(path: str, request: WriteBack, before: dict[str, bytes], after: dict[str, bytes]) -> bool:
    """May the write-back of `request.pipeline` in `request.environment` change gitops/`path`?
    Yes for the tree's README (a summary no cluster applies), for that environment's objects of the
    pipeline, and for the objects of no pipeline in the pipeline's own namespace folder there (its
    team's Seldon runtime, which appears with the first served model)."""
    if path == TREE_README:
        return True
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != request.environment:
        return False
    owner = _pipeline_of(after.get(path) if path in after else before[path])
    if owner is not None:
        return owner == request.pipeline
    folder = posixpath.dirname(path)
    return any(posixpath.dirname(p) == folder and request.pipeline in posixpath.basename(p)
               and _pipeline_of(after[p]) == request.pipeline for p in after)


def _pipeline_of(data: bytes) -> str | None:
    import yaml

    body = yaml.safe_load(data)
    labels = ((body or {}).get("metadata") or {}).get("labels") or {} if isinstance(body, dict) else {}
    return labels.get(PIPELINE_LABEL)


def commit_message(request: WriteBack, version: str) -> str:
    figures = ", ".join(f"{k} {_figure(v)}" for k, v in sorted(request.metrics.items()) if v is not None)
    return (f"maestro: propose {request.pipeline} {version} from run {request.run_id} in {request.environment}\n\n"
            f"The run passed its promotion gate ({figures}).\n"
            f"Only {request.environment} changes: spec.overrides.{request.environment}.serving and its compiled files,\n"
            f"compiled and validated as `maestro compile` does; {RECORDS}/{request.pipeline}/{request.environment}.yaml\n"
            f"records that the run passed here.\n")


def _figure(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# ---- git ------------------------------------------------------------------------------------

def _commit(env: dict, work: Path, files: tuple[str, ...], message: str) -> None:
    """Stage exactly `files` (never `git add -A`) and commit them."""
    present = [f for f in files if os.path.lexists(work / f)]
    removed = [f for f in files if f not in present]
    if present:
        _git(env, work, "add", "--", *present)
    if removed:
        _git(env, work, "rm", "--quiet", "--cached", "--ignore-unmatch", "--", *removed)
    _git(env, work, "-c", f"user.name={AUTHOR[0]}", "-c", f"user.email={AUTHOR[1]}", "commit", "--quiet",
         "-m", message)


def _refuse_foreign_changes(env: dict, work: Path, cloned: str, allowed: set[str]) -> None:
    """The last check before pushing: the commit changes only the files the proposal names."""
    changed = [p for p in _git(env, work, "diff", "--name-only", "--no-renames", "-z", cloned, "HEAD").split("\0") if p]
    foreign = sorted(set(changed) - allowed)
    if foreign:
        raise UsageError(f"the commit would change {', '.join(foreign[:5])}, which the proposal does not own; nothing was pushed")
    if not changed:
        raise UsageError("the proposal changes no file; nothing was pushed")


def _push(env: dict, work: Path, ref: str) -> str | None:
    """None when pushed; the reason when the remote refused a non-fast-forward; raises otherwise."""
    result = _run(env, work, "push", "--porcelain", "origin", f"HEAD:refs/heads/{ref}")
    if result.returncode == 0:
        return None
    for line in result.stdout.splitlines():      # --porcelain: "!<TAB>HEAD:refs/heads/x<TAB>[rejected] (fetch first)"
        if line.startswith("!") and "[rejected]" in line:
            return line.split("[rejected]", 1)[1].strip(" ()") or "rejected"
    raise UsageError(f"git push failed: {_redact(result.stderr.strip() or result.stdout.strip(), env)}")


def _git_environment(folder: Path) -> dict:
    askpass = folder / "askpass.sh"
    askpass.write_text(ASKPASS)
    askpass.chmod(stat.S_IRWXU)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_ASKPASS": str(askpass), "GIT_TERMINAL_PROMPT": "0"})
    return env


def _run(env: dict, cwd: Path | None, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)


def _git(env: dict, cwd: Path | None, *args: str) -> str:
    result = _run(env, cwd, *args)
    if result.returncode:
        raise UsageError(f"git {args[0] if args[0] != '-c' else 'commit'} failed: {_redact(result.stderr.strip(), env)}")
    return result.stdout


def _redact(text: str, env: dict) -> str:
    for variable in (USERNAME_VARIABLE, PASSWORD_VARIABLE):
        secret = env.get(variable)
        if secret:
            text = text.replace(secret, "***")
    return text
