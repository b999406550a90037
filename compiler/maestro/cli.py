"""The `maestro` command: parse arguments, call the library, report.

This is the one place that prints diagnostics and maps outcomes to exit codes:
0 success, 1 findings (invalid input, drift, invalid manifests), 2 usage.
Commands load lazily so `maestro --help` imports none of pydantic, jsonschema, torch or pandas.
"""

from __future__ import annotations

import importlib
import sys

import click

COMMANDS = {
    # name: (module:attribute, one-line help)
    "compile": ("maestro.commands.compile:compile_command", "Compile the specs into gitops/ (or --check it)."),
    "validate": ("maestro.commands.validate:validate_command", "Validate Kubernetes manifests offline, like kubeconform."),
    "diff": ("maestro.commands.diff:diff_command", "Show what a compile would change, per resource and field."),
    "run": ("maestro.commands.run:run_command", "Run a pipeline's DAG on this machine."),
    "step": ("maestro.commands.step:step_command", "Run one built-in step (what workflow pods call)."),
    "promote": ("maestro.commands.promote:promote_command", "Make a model version the candidate or the default."),
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
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=lambda *a: _print_version(*a),
              help="Show the version and the platform versions targeted, and exit.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Maestro compiles ML pipeline specs into GitOps manifests for Argo Workflows,
    Seldon Core v2 and Argo CD, and runs the same pipelines locally.

    \b
    Example:
      maestro compile            # write gitops/ from pipelines/ and environments/
      maestro compile --check    # CI: fail when gitops/ is stale
      maestro run aapl-direction --env dev
    """
    ctx.obj = {"debug": debug}


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from .commands.version import print_version

        print_version(ctx, param, value)


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Every exception ends here, as a message and an exit code."""
    from .errors import MaestroError, UsageError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        result = cli.main(args=argv, prog_name="maestro", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except MaestroError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(diagnostic.format(), err=True)
        click.echo(f"{len(exc.diagnostics)} error(s); nothing was written.", err=True)
        return 1
    except (UsageError, click.UsageError) as exc:
        message = exc.format_message() if isinstance(exc, click.UsageError) else str(exc)
        click.echo(f"error: {message}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except OSError as exc:
        click.echo(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
        return 1
    except Exception as exc:  # the funnel: a traceback is a bug, shown only on request
        if debug:
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback "
                   "and please report it)", err=True)
        return 1
