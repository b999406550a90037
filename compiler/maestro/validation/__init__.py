"""Offline manifest validation (`maestro validate`): kubeconform's checks plus the controllers' rules.

The library API, for `maestro compile` to fail closed on what it emits:

    docs = load_documents(["out/"])                 # or Document(...) built in memory
    results = validate_documents(docs, schema_locations=locations)
    if any(r.failed for r in results): ...

The locations are the caller's: a command takes its flags, else `schema_locations_from_env(os.environ)`;
nothing below a command reads the environment.

Stages, one module each: maestro.loading.documents/manifests (read and parse), templates/locations/
builtin/fetch (find schemas), formats/compiled/metadata (check one document),
fastcheck (compiled yes/no), rules (check documents together), engine (verdicts),
report (output); the command is maestro.commands.validate.
This module stays light: jsonschema and the schemas load on first use.
"""

from __future__ import annotations

from typing import Collection, Mapping, Sequence, TextIO

from .model import ERROR, INVALID, SKIPPED, VALID, Document, Result

DEFAULT_KUBERNETES_VERSION = "1.37.0"

__all__ = [
    "DEFAULT_KUBERNETES_VERSION",
    "Document",
    "ERROR",
    "INVALID",
    "Result",
    "SKIPPED",
    "VALID",
    "load_documents",
    "schema_locations_from_env",
    "validate_documents",
]


def load_documents(paths: Sequence[str], stdin: TextIO | None = None, *,
                   ignore_filename_patterns: Sequence[str] = ()) -> list[Document | Result]:
    """Every manifest under `paths` (files, directories walked in sorted order, `-` for stdin).

    Documents that cannot be read or parsed come back as error `Result`s. Files whose
    path matches one of the regular expressions `ignore_filename_patterns` are skipped.
    """
    from ..loading.documents import load_documents as load

    return load(paths, stdin, ignore_filename_patterns)


def validate_documents(
    documents: Sequence[Document | Result],
    *,
    schema_locations: Sequence[str] = (),
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    ignore_missing_schemas: bool = False,
    skip: Collection[str] = (),
    reject: Collection[str] = (),
    strict: bool = True,
    cache_dir: str | None = None,
    unchanging: bool = False,
) -> list[Result]:
    """One `Result` per document, sorted by source, index and line.

    Error `Result`s among `documents` (from `load_documents`) are passed through.
    `skip`/`reject` take kinds (`Secret`) or apiVersion/kind (`v1/Secret`), each
    entry possibly comma-separated. Raises `maestro.errors.UsageError` for a bad
    option (a schema location template that does not parse, an unknown
    Kubernetes version) before looking at any document.
    `unchanging=True` promises that no body changes during the call (a compile checking the objects it
    has just emitted): an object that several bodies share (by identity) then passes each check once,
    not once per body. The results are the same either way.
    """
    from .engine import make_settings
    from .engine import validate_documents as run

    settings = make_settings(schema_locations, kubernetes_version, ignore_missing_schemas, skip, reject, strict, cache_dir)
    return run(documents, settings, unchanging)


def schema_locations_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """MAESTRO_SCHEMA_LOCATION of `environ` (default: this process's), split on commas, blanks ignored."""
    from .locations import schema_locations_from_env as from_env

    return from_env(environ)
