"""Stage 7, the command line: `maestro validate`.

In: command-line arguments (and MAESTRO_SCHEMA_LOCATION, stdin).
Out: the report on stdout and the exit code: 0 when every document is valid or
skipped, 1 when any is invalid or in error, 2 for a usage error (bad option,
template that does not parse, unknown Kubernetes version, no PATH).
Importing this module loads only click: jsonschema, PyYAML and the schemas load
when the command runs, so `maestro --help` stays fast.
"""

from __future__ import annotations

import click

from ..validation.locations import ENV_VAR
from ..validation.templates import FIELDS
from .kubeconform import KubeconformFlags
from .options import debug_option

DEFAULT_KUBERNETES_VERSION = "1.37.0"
FORMATS = ("text", "json", "junit", "tap")

_HELP = f"""Validate Kubernetes manifests offline, like kubeconform, plus the controllers' rules.

PATH is a YAML or JSON file, a directory (walked for *.yaml, *.yml, *.json) or
- for stdin. Multi-document files and `kind: List` are read item by item.

Every kind maestro emits needs no set-up: its JSON Schemas ship with maestro at the
versions it targets (`maestro version` lists them), and built-in Kubernetes kinds of
1.25-1.37 come with kubernetes-validate. For other versions, --schema-location adds
locations tried first: a directory laid out like shared/schemas, or a kubeconform
template (a path or http(s) URL) using
{", ".join("{{." + f + "}}" for f in FIELDS)}. Without --schema-location,
${ENV_VAR} (comma-separated) is used. Maestro's own ConfigMap patch files
(gitops/bootstrap/*.patch.yaml) are checked as the ConfigMap they patch.

kubeconform's spelling of the options works too: -summary, -strict, -output json,
-schema-location L, -ignore-missing-schemas, -skip K, -reject K, -kubernetes-version V,
-ignore-filename-pattern R, -verbose, -exit-on-error, -cache DIR, -n N, and -flag=value.
The json report has kubeconform's shape (docs/validate.md).

Exit status: 0 all valid or skipped, 1 something invalid or in error, 2 usage error.

\b
Examples:
  maestro validate gitops/
  maestro validate --schema-location ~/schemas/argo-v4.2 gitops/
  maestro validate -s 'schemas/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json' app.yaml
  kubectl kustomize overlays/prod | maestro validate --summary -
  maestro validate -strict -summary -output json gitops/     # as kubeconform takes them
  maestro validate --output junit --skip Secret,v1/ConfigMap manifests/ > report.xml
"""


@click.command("validate", cls=KubeconformFlags, help=_HELP,
               short_help="Validate Kubernetes manifests offline, like kubeconform.")
@click.argument("paths", nargs=-1, metavar="[PATH|-]...", type=click.Path(exists=True, allow_dash=True))
@click.option("-s", "--schema-location", "schema_locations", multiple=True, metavar="DIR|TEMPLATE|URL",
              help=f"Where else to find schemas, tried in order (repeatable) before maestro's bundle ('bundle') "
                   f"and kubernetes-validate's built-ins ('default'), unless those are named. Default: ${ENV_VAR}.")
@click.option("--kubernetes-version", default=DEFAULT_KUBERNETES_VERSION, show_default=True, metavar="VERSION",
              help="Kubernetes version of the built-in schemas and of {{.NormalizedKubernetesVersion}}.")
@click.option("--strict/--no-strict", default=False, show_default=True,
              help="As kubeconform -strict: reject duplicate keys and unknown fields of built-in kinds, "
                   "and check every object's metadata as the API server does.")
@click.option("--ignore-missing-schemas", is_flag=True,
              help="Skip kinds with no schema instead of failing (their metadata and the rules still apply).")
@click.option("--skip", multiple=True, metavar="KINDS",
              help="Comma-separated kinds or apiVersion/kinds to ignore, e.g. Secret,v1/ConfigMap (repeatable).")
@click.option("--reject", multiple=True, metavar="KINDS",
              help="Comma-separated kinds or apiVersion/kinds to refuse (repeatable).")
@click.option("-o", "--output", type=click.Choice(FORMATS), default="text", show_default=True, help="Report format.")
@click.option("--summary", is_flag=True, help="Add a summary: kubeconform's line (text, tap), the counts (json).")
@click.option("-v", "--verbose", is_flag=True, help="Text and json: also list valid and skipped documents.")
@click.option("--exit-on-error", is_flag=True,
              help="Report no further than the first document that is invalid or in error, as kubeconform does.")
@click.option("-n", "--concurrency", type=click.IntRange(min=1), default=None, metavar="N",
              help="Accepted for kubeconform's -n; maestro validates in this one process, so it changes nothing.")
@click.option("--ignore-filename-pattern", "ignore_patterns", multiple=True, metavar="REGEX",
              help="Do not read files whose path matches REGEX (repeatable), e.g. '\\.patch\\.yaml$'.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Keep schemas downloaded over http(s) in DIR, and use them from there.")
@debug_option
def validate_command(paths: tuple[str, ...], schema_locations: tuple[str, ...], kubernetes_version: str, strict: bool,
                     ignore_missing_schemas: bool, skip: tuple[str, ...], reject: tuple[str, ...], output: str,
                     summary: bool, verbose: bool, exit_on_error: bool, concurrency: int | None,
                     ignore_patterns: tuple[str, ...], cache_dir: str | None) -> int:
    from ..errors import UsageError
    from ..validation.engine import make_settings, validate_documents
    from ..validation.locations import schema_locations_from_env
    from ..validation.report import Inputs, render
    from ..loading.documents import STDIN, load_source, manifest_files

    if not paths:
        raise click.UsageError("give at least one PATH, or - to read stdin")
    locations = list(schema_locations) or schema_locations_from_env()
    try:  # every option is checked before any document is read
        settings = make_settings(locations, kubernetes_version, ignore_missing_schemas, skip, reject, strict, cache_dir)
        _check_patterns(ignore_patterns)
    except UsageError as exc:
        raise click.UsageError(_usage_message(str(exc), schema_locations)) from None
    sources = list(manifest_files(paths, ignore_patterns))
    documents = [document for source in sources for document in load_source(source)]   # `-` reads sys.stdin
    results = validate_documents(documents, settings)
    if exit_on_error:
        results = _to_first_failure(results)
    inputs = Inputs(files=len(set(sources)), stdin=paths == (STDIN,))
    click.echo(render(results, output, summary=summary, verbose=verbose, inputs=inputs), nl=False)
    return 1 if any(r.failed for r in results) else 0


def _to_first_failure(results: list) -> list:
    """The results up to the first failed one: kubeconform -exit-on-error stops there."""
    failed = next((i for i, r in enumerate(results) if r.failed), None)
    return results if failed is None else results[:failed + 1]


def _check_patterns(patterns: tuple[str, ...]) -> None:
    import re

    from ..errors import UsageError

    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"--ignore-filename-pattern {pattern!r} is not a regular expression: {exc}") from None


def _usage_message(message: str, from_flags: tuple[str, ...]) -> str:
    if "template" in message and not from_flags:
        return f"{message} (from ${ENV_VAR})"
    return message
