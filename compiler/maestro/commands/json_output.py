"""`--output json`: the option, the versioned documents the commands print, and failures as JSON.

In: what a command computed (or the exception it raised). Out: one JSON document on stdout, whose
`schema` names its kind and version (`maestro.compile/v1`, ... `maestro.error/v1`; the JSON Schemas
are in docs/schemas/output/, described in docs/output.md). A failure is printed as a
`maestro.error/v1` document on stdout and then raised on, so the one funnel (`cli.run`) still
prints it on stderr and picks the exit code: the code does not depend on the output format.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable

import click

OUTPUTS = ("text", "json")
VERSION = "v1"

output_option = click.option("-o", "--output", type=click.Choice(OUTPUTS), default="text", show_default=True,
                              help="json: one versioned JSON document on stdout, failures included (docs/output.md).")


def document(kind: str, /, **fields: Any) -> dict:
    return {"schema": f"maestro.{kind}/{VERSION}", **fields}


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def emit(kind: str, /, **fields: Any) -> None:
    click.echo(dumps(document(kind, **fields)))


def errors_as_json(json_wanted: Callable[[dict], bool]) -> Callable:
    """Decorate a command's callback: when `json_wanted(its arguments)`, what it raises is also printed
    as a `maestro.error/v1` document on stdout before it goes on to the funnel."""
    def decorate(callback: Callable) -> Callable:
        @functools.wraps(callback)
        def run(**arguments: Any) -> Any:
            try:
                return callback(**arguments)
            except Exception as exc:
                error = error_document(exc, click.get_current_context().info_name) if json_wanted(arguments) else None
                if error is not None:
                    click.echo(dumps(error))
                raise
        return run
    return decorate


def error_document(exc: Exception, command: str | None) -> dict | None:
    """What went wrong, as data: `kind` is invalid (located diagnostics), usage, failure or internal.
    None for a requested exit (click's Exit and Abort), which is no error."""
    from ..errors import Failure, MaestroError, UnsafePath, UsageError, error_count

    if isinstance(exc, (click.exceptions.Exit, click.exceptions.Abort)):
        return None
    # UsageError, Failure and UnsafePath are MaestroErrors carrying their message as one diagnostic:
    # their kind is asked first, so `invalid` stays the kind of located findings.
    diagnostics: list = []
    if isinstance(exc, (UsageError, click.UsageError)):
        kind, message = "usage", exc.format_message() if isinstance(exc, click.UsageError) else str(exc)
    elif isinstance(exc, Failure):
        kind, message = "failure", str(exc)
    elif isinstance(exc, UnsafePath):
        kind, message = "failure", exc.strerror
    elif isinstance(exc, MaestroError) and exc.diagnostics:
        diagnostics = list(exc.diagnostics)
        kind, message = "invalid", f"{error_count(diagnostics)} error(s); nothing was written."
    elif isinstance(exc, OSError):
        kind, message = "failure", f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
    else:
        kind, message = "internal", f"{type(exc).__name__}: {exc}"
    return document("error", command=command, kind=kind, message=message,
                    diagnostics=[diagnostic_record(d) for d in diagnostics])


def diagnostic_record(diagnostic) -> dict:
    from ..errors import format_path

    return {"file": diagnostic.file, "line": diagnostic.line, "col": diagnostic.col,
            "path": format_path(diagnostic.path), "message": diagnostic.message, "hint": diagnostic.hint,
            "severity": diagnostic.severity}
