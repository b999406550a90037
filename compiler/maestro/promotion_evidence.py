"""Evidence for a promotion: did a run pass the gate where it must have passed?

In: the artifact store (`s3`: each environment's own S3 store, `s3_store`; or a folder laid out as
buckets of keys, `file:///path` or a path; None: only the committed records), the project, and the runs an edit newly serves per environment. Out: `Evidence`
values saying which record proved what, or one located `MaestroError` saying what is missing.

Where a run's publish record is: Argo uploads the publish step's folder (its `out` artifact) under
the store's key format, `artifacts/<namespace>/<run>/<pod>/out.tgz`, the pod named `<run>-publish-*`;
`publish/publish.json` inside names the pipeline, the environment, the run and the gate's verdict.
When the bucket of the environment is not reachable, the committed `promotions/<pipeline>/<env>.yaml`
(kind PromotionRecord, appended by the write-back) is read instead.

Neither source is trusted blindly: no symbolic link is followed (in the repository or the store),
sizes are bounded, the shape is checked strictly, and a record of another pipeline, environment or
run is refused, never read as evidence.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import names
from .errors import Diagnostic, MaestroError, UsageError
from .promote import read_real, refuse_symlinks
from .publish_archive import ARCHIVE, MAX_ARCHIVE_BYTES, record_in_archive

RECORDS = "promotions"                  # promotions/<pipeline>/<environment>.yaml


@dataclass(frozen=True)
class Evidence:
    check: str          # from: passed the gate of the `from` environment | run: the run's own publish record
    environment: str    # the environment whose serving the edit changes
    checked_in: str     # the environment whose record was read
    run: str
    version: str
    source: str         # artifact-store | promotion-record
    record: str         # the store key, or the record's path in the repository

    def as_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Served:
    """A version an edit makes `environment` serve that it did not serve before."""

    environment: str
    version: str
    run: str


# ---- the artifact store ------------------------------------------------------------------------

class FileStore:
    """A folder laid out as the S3 store: `<root>/<bucket>/<key>`."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    def __str__(self) -> str:
        return f"file://{self.root}"

    def location(self, artifacts, key: str) -> str:
        return f"{self}/{artifacts.bucket}/{key}"

    def reachable(self, artifacts) -> bool:
        folder = self.root / artifacts.bucket
        return folder.is_dir() and not folder.is_symlink()

    def publish_record(self, artifacts, namespace: str, run: str) -> Optional[tuple[str, object]]:
        """(key, parsed record) of `run`'s publish step, None when the store has none."""
        bucket, prefix = artifacts.bucket, f"artifacts/{namespace}/{run}"
        folder = self.root / bucket / prefix
        refuse_symlinks(self.root, folder)
        if not folder.is_dir():
            return None
        for pod in sorted(p for p in folder.iterdir() if p.name.startswith(f"{run}-publish")):
            archive = pod / ARCHIVE
            refuse_symlinks(self.root, archive)
            if _regular(archive):
                return f"s3://{bucket}/{prefix}/{pod.name}/{ARCHIVE}", _record_in(archive)
        return None


def open_store(location: Optional[str]):
    """`s3`: each environment's own store, as its spec names it; `file:///path` or a path: a folder."""
    if not location:
        return None
    if location == "s3":
        from .s3_store import S3Store

        return S3Store()
    if location.startswith("file://"):
        return FileStore(Path(location[len("file://"):]))
    if "://" in location:
        raise UsageError(f"artifact store '{location}': give `s3` (each environment's store, as its spec names it), "
                         "file:///path or a folder; or leave it out to check against the committed promotions/ records")
    return FileStore(Path(location))


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _record_in(archive: Path) -> object:
    if os.lstat(archive).st_size > MAX_ARCHIVE_BYTES:
        raise UsageError(f"{archive} is larger than {MAX_ARCHIVE_BYTES // 2**20} MiB; not read as a publish record")
    return record_in_archive(read_real(archive))


def store_verdict(record: object, pipeline: str, environment: str, run: str) -> Optional[str]:
    """None when `record` is a publish record of `run` of `pipeline` in `environment` whose gate
    passed; otherwise what is wrong with it."""
    if not isinstance(record, dict) or not isinstance(record.get("gate"), dict):
        return "has no readable publish record (publish/publish.json with a gate)"
    for key, expected in (("pipeline", pipeline), ("run_id", run), ("environment", environment)):
        if record.get(key) != expected:
            return f"has a publish record whose {key} is {record.get(key)!r}, not '{expected}'"
    if record["gate"].get("passed") is not True:
        return "failed the gate (its publish record says passed: false)"
    return None


# ---- the committed record ----------------------------------------------------------------------

def committed_runs(root: Path, pipeline: str, environment: str) -> Optional[tuple[str, dict[str, str]]]:
    """(path, {run: version}) of promotions/<pipeline>/<environment>.yaml; None when there is none."""
    from .language.diagnose import validate_model
    from .language.promotion import PromotionRecord
    from .loading.positions import load_bytes

    path = root / RECORDS / pipeline / f"{environment}.yaml"
    display = path.relative_to(root).as_posix()
    refuse_symlinks(root, path)
    if not os.path.lexists(path):
        return None
    if not _regular(path):
        raise UsageError(f"{display} is not a regular file; it is not read as a promotion record")
    docs = load_bytes(read_real(path), display)
    if len(docs) != 1:
        raise MaestroError([Diagnostic(display, None, None, (), f"expected one PromotionRecord document, found {len(docs)}")])
    record, problems = validate_model(docs[0], PromotionRecord)
    if problems:
        raise MaestroError(problems)
    for key, expected in (("pipeline", pipeline), ("environment", environment)):
        if getattr(record.metadata, key) != expected:
            pos = docs[0].at(("metadata", key))
            raise MaestroError([Diagnostic(display, pos.line, pos.col, ("metadata", key),
                                           f"this record is of {key} '{getattr(record.metadata, key)}', "
                                           f"but it lies where the record of '{expected}' belongs",
                                           f"only the write-back of {pipeline} in {environment} writes this file")])
    return display, {entry.run: entry.version for entry in record.passed}


# ---- the check -----------------------------------------------------------------------------------

def gather(root: Path, project, pipeline: str, served: list[Served], store) -> tuple[Evidence, ...]:
    """The evidence for every newly served version, or one MaestroError listing every refusal."""
    team = project.pipelines[pipeline].metadata.team
    found, refusals = [], []
    for item in served:
        env = project.environments[item.environment]
        if store is not None and store.reachable(env.spec.artifacts):
            evidence, problem = _from_store(store, env, team, pipeline, item, item.environment, "run")
            found += [evidence] if evidence else []
            refusals += [_refusal(root, project, item, "spec.serving", problem, store)] if problem else []
        if env.spec.promotion is not None:
            evidence, problem = _from_source(root, project, team, pipeline, item, store)
            found += [evidence] if evidence else []
            refusals += [_refusal(root, project, item, "promotion", problem, store)] if problem else []
    if refusals:
        raise MaestroError(refusals)
    return tuple(found)


def _from_source(root: Path, project, team: str, pipeline: str, item: Served, store) -> tuple:
    source = project.environments[item.environment].spec.promotion.source
    env = project.environments[source]
    if store is not None and store.reachable(env.spec.artifacts):
        return _from_store(store, env, team, pipeline, item, source, "from")
    committed = committed_runs(root, pipeline, source)
    if committed is None:
        return None, (f"no evidence that run '{item.run}' passed the gate in {source}: the artifact store is not "
                      f"reachable and {RECORDS}/{pipeline}/{source}.yaml does not exist", "")
    path, runs = committed
    if item.run not in runs:
        accepted = ", ".join(f"{v} ({r})" for r, v in runs.items()) or "none yet"
        return None, (f"run '{item.run}' ({item.version}) is not among the runs that passed the gate in {source} "
                      f"({path})", f"accepted: {accepted}")
    return Evidence("from", item.environment, source, item.run, item.version, "promotion-record", path), None


def _from_store(store, env, team: str, pipeline: str, item: Served, where: str, check: str) -> tuple:
    namespace = names.namespace(env.spec.namespace, team, where)
    found = store.publish_record(env.spec.artifacts, namespace, item.run)
    if found is None:
        return None, (f"run '{item.run}' ({item.version}) has no publish record in {where}'s artifact store "
                      f"({store.location(env.spec.artifacts, f'artifacts/{namespace}/{item.run}/')})",
                      f"a run of {pipeline} whose gate passed in {where}")
    key, record = found
    problem = store_verdict(record, pipeline, where, item.run)
    if problem:
        return None, (f"run '{item.run}' ({item.version}) {problem} in {where} ({key})",
                      f"a run of {pipeline} whose gate passed in {where}")
    return Evidence(check, item.environment, where, item.run, item.version, "artifact-store", key), None


def _refusal(root: Path, project, item: Served, about: str, problem: tuple[str, str], store) -> Diagnostic:
    """Located at the environment's `promotion.from` (the rule refused), else at its file's top."""
    from .loading.positions import load_file

    message, hint = problem
    file = project.files[f"environment/{item.environment}"]
    path = ("spec", "promotion", "from") if about == "promotion" else ("spec", "artifacts", "bucket")
    pos = load_file(root / file, file)[0].at(path)
    prefix = (f"{item.environment} serves only versions that passed the gate in "
              f"{project.environments[item.environment].spec.promotion.source}: " if about == "promotion"
              else f"{item.environment} would serve {item.version}: ")
    return Diagnostic(pos.file, pos.line, pos.col, path, prefix + message, hint)
