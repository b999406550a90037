"""`maestro compile`: specs to gitops/, validated before anything is written; `--check` for CI."""

from __future__ import annotations

from pathlib import Path

import click

from .options import env_option, resolve_root, root_option


@click.command("compile")
@root_option
@env_option
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing every stale, missing or extra file.")
@click.option("--no-validate", is_flag=True, help="Skip validating the output (emergencies only).")
@click.option("--schema-location", multiple=True, metavar="DIR|TEMPLATE",
              help="Where else to look for schemas, before the ones shipped with Maestro (repeatable); "
                   "default: $MAESTRO_SCHEMA_LOCATION.")
def compile_command(root: Path | None, envs: tuple[str, ...], check: bool, no_validate: bool,
                    schema_location: tuple[str, ...]) -> int:
    """Compile pipelines/ and environments/ into gitops/.

    Every generated manifest is validated (JSON Schemas plus the controllers' rules) before
    anything is written; an invalid spec or manifest leaves gitops/ untouched.

    \b
    Examples:
      maestro compile
      maestro compile --env prod --check
      maestro compile --schema-location ~/schemas/argo-v4.2 --check
    """
    from .. import gitops
    from ..incremental import compile_tree, inputs_digest

    root = resolve_root(root)
    gitops_dir = root / "gitops"
    options = dict(envs=envs, validate=not no_validate, schema_locations=schema_location)
    compiled = compile_tree(root, **options)   # a refused spec stops here: nothing written, not even a lock
    with gitops.locked(root):
        if inputs_digest(root) != compiled.inputs:
            # Edited while this compile ran; another compile may have written the newer tree since:
            # never write an older tree over it.
            compiled = compile_tree(root, **options)
        tree = compiled.tree
        for line in compiled.warnings:
            click.echo(line, err=True)
        gitops.recover(root, gitops_dir)
        if check:
            return _report_drift(gitops.check(gitops_dir, tree))
        written, pruned = gitops.write(root, gitops_dir, tree)
    unchanged = len(tree.files) - len(written)
    click.echo(f"gitops/: {len(written)} written, {len(pruned)} pruned, {unchanged} unchanged "
               f"({len(tree.plan.environments)} environments, {compiled.pipelines} pipelines)")
    return 0


def _report_drift(drifts: list) -> int:
    from ..gitops import summarize

    if not drifts:
        click.echo("gitops/ is up to date")
        return 0
    click.echo(summarize(drifts))
    click.echo(f"{len(drifts)} file(s) differ from the specs; run `maestro compile` and commit gitops/", err=True)
    return 1
