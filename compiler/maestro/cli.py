"""The `maestro` command: parse arguments, call the library, report.

This is the one place that prints errors and maps them to exit codes: 0 success, 1 findings
(invalid input, drift, invalid manifests, a failed step or run), 2 usage, 130 interrupted. Commands
return their exit code and raise what goes wrong; `--debug` (before or after the command's name) adds
the traceback of an internal or OS error. Commands load lazily so `maestro --help` imports none of
pydantic, jsonschema, torch or pandas.
"""

from __future__ import annotations

import importlib
import sys

import click

from .commands.options import Session, debug_option

COMMANDS = {
    # name: (module:attribute, one-line help)
    "init": ("maestro.commands.init:init_command", "Scaffold a new repository: environments/, a pipeline, pre-commit."),
    "compile": ("maestro.commands.compile:compile_command", "Compile the specs into gitops/ (or --check it)."),
    "validate": ("maestro.commands.validate:validate_command", "Validate Kubernetes manifests offline, like kubeconform."),
    "diff": ("maestro.commands.diff:diff_command", "Show what a compile would change, per resource and field."),
    "run": ("maestro.commands.run:run_command", "Run a pipeline's DAG on this machine."),
    "step": ("maestro.commands.step:step_command", "Run one built-in step (what workflow pods call)."),
    "promote": ("maestro.commands.promote:promote_command", "Make a model version the candidate or the default."),
    "graph": ("maestro.commands.graph:graph_command", "Draw a pipeline's DAG as Argo runs it (Mermaid, DOT, HTML)."),
    "schema": ("maestro.commands.schema:schema_command", "Print the JSON Schema of a spec kind."),
    "version": ("maestro.commands.version:version_command", "Print the version and the platform versions targeted."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[name][0].partition(":")
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_text) for name, (_, help_text) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@debug_option
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=lambda *a: _print_version(*a),
              help="Show the version and the platform versions targeted, and exit.")
def cli() -> None:
    """Maestro compiles ML pipeline specs into GitOps manifests for Argo Workflows,
    Seldon Core v2 and Argo CD, and runs the same pipelines locally.

    \b
    Example:
      maestro compile            # write gitops/ from pipelines/ and environments/
      maestro compile --check    # CI: fail when gitops/ is stale
      maestro run aapl-direction --env dev
    """


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from .commands.version import print_version

        print_version(ctx, param, value)


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Every exception ends here, as a message and an exit code."""
    session = Session()
    try:
        result = cli.main(args=argv, prog_name="maestro", standalone_mode=False, obj=session)
        return result if isinstance(result, int) else 0
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:
        return report(exc, session)


def report(exc: Exception, session: Session) -> int:
    """Print what `exc` means for the user; return the exit code. The first handler whose exception
    types match is used; anything else is a bug."""
    for kinds, handle in _handlers():
        if isinstance(exc, kinds):
            return handle(exc, session)
    return _internal_error(exc, session)


def _handlers() -> tuple:
    from .errors import Failure, MaestroError, UsageError   # here: `maestro --help` stays light

    # Usage errors, failures and refused paths are MaestroErrors too (the API's one error type):
    # they come before the findings' handler.
    return (
        ((UsageError, click.UsageError), _usage_error),
        (click.exceptions.Exit, lambda exc, _: exc.exit_code),
        (click.exceptions.Abort, lambda exc, session: _say("aborted")),
        (Failure, lambda exc, session: _say(f"{_subject(session)}error: {exc}")),
        (OSError, _os_error),
        (MaestroError, _diagnostics),
    )


def _diagnostics(exc, session: Session) -> int:
    for diagnostic in exc.diagnostics:
        click.echo(diagnostic.format(), err=True)
    from .errors import error_count

    return _say(f"{error_count(exc.diagnostics)} error(s); nothing was written.")


def _usage_error(exc, session: Session) -> int:
    _say(f"error: {exc.format_message() if isinstance(exc, click.UsageError) else exc}")
    return 2


def _os_error(exc: OSError, session: Session) -> int:
    where = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
    return _say(f"{_subject(session)}error: {where}{_traceback(exc, session)}")


def _internal_error(exc: Exception, session: Session) -> int:
    """A bug: one line, the traceback only on request."""
    hint = "" if session.debug else " (run with --debug for the traceback and please report it)"
    return _say(f"{_subject(session)}internal error: {type(exc).__name__}: {exc}{hint}{_traceback(exc, session)}")


def _say(line: str) -> int:
    click.echo(line, err=True)
    return 1


def _subject(session: Session) -> str:
    return f"{session.subject}: " if session.subject else ""


def _traceback(exc: Exception, session: Session) -> str:
    import traceback

    return "\n" + "".join(traceback.format_exception(exc)).rstrip("\n") if session.debug else ""
