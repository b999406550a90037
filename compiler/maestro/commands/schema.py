"""`maestro schema`: the JSON Schema of a spec kind, for editors and other tools."""

from __future__ import annotations

import click

from .options import debug_option


@click.command("schema")
@click.argument("kind", type=click.Choice(["pipeline", "environment", "teams"]))
@debug_option
def schema_command(kind: str) -> int:
    """Print the JSON Schema of a spec kind.

    \b
    Example:
      maestro schema pipeline > docs/schemas/pipeline.schema.json
    """
    from ..language.jsonschema import schema_text

    click.echo(schema_text(kind), nl=False)
    return 0
