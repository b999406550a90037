"""`maestro version` (and `maestro --version`): this maestro and the platform versions it targets.

The targets are read from the index of the shipped schema bundle (maestro/schemas/index.json), so
what is printed is what `maestro compile` and `maestro validate` check against.
"""

from __future__ import annotations

import json

import click

from .options import debug_option


def version_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from .. import DISTRIBUTION
    from ..validation.locations import BUNDLE_DIR

    try:
        own = version(DISTRIBUTION)
    except PackageNotFoundError:
        own = "unknown (not installed)"
    lines = [f"maestro {own}", "targets (JSON Schemas shipped with maestro, checked by compile and validate):"]
    try:
        targets = json.loads((BUNDLE_DIR / "index.json").read_text(encoding="utf-8"))["targets"]
    except (OSError, ValueError, KeyError) as exc:
        return "\n".join(lines[:1] + [f"targets: unknown, the schema bundle cannot be read ({exc})"])
    width = max(len(t["project"]) for t in targets)
    lines += [f"  {t['project']:<{width}}  {t['version']:<8}  {', '.join(sorted(k.rsplit('/', 1)[1] for k in t['kinds']))}"
              for t in targets]
    return "\n".join(lines)


@click.command("version")
@debug_option
def version_command() -> int:
    """Print maestro's version and the versions of Argo, Seldon, Kubernetes... it targets.

    These are the versions of the JSON Schemas shipped with maestro, which `maestro compile` and
    `maestro validate` check against unless --schema-location or $MAESTRO_SCHEMA_LOCATION add others.

    \b
    Examples:
      maestro version
      maestro --version
    """
    click.echo(version_text())
    return 0


def print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """The eager `--version` flag of the `maestro` group."""
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit(0)
