"""Stage 2c, schema locations: `--schema-location` strings to lookup strategies.

In: location strings (from flags or MAESTRO_SCHEMA_LOCATION), the Kubernetes
version and strictness.
Out: `Location`s which, for one apiVersion/kind, list the candidate files or URLs
to try, in order. Kinds of location:

* `bundle` (or `maestro`): the schemas shipped with Maestro (`maestro/schemas/`, built by
  scripts/build_schema_bundle.py): every kind Maestro emits, at the versions it targets, laid out
  as shared/schemas is, one gzip-compressed file per kind, read only when that kind is looked up.
* `default` or `builtin`: the schemas bundled with kubernetes-validate.
  When neither these nor `bundle` is listed, `bundle` and then `default` are tried after the
  given locations; listing any of them explicitly puts exactly those where listed.
* a directory laid out like shared/schemas (it has `crds/` or `kubernetes/`):
  `crds/<group>/<kind>_<version>.json`, then
  `kubernetes/<NormalizedKubernetesVersion>-standalone<StrictSuffix>/<kind><KindSuffix>.json`.
* a template ending in `json` (path or http(s) URL), as kubeconform reads it.
* any other path or URL: kubeconform's layout is appended to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import UsageError
from . import builtin
from .templates import KUBECONFORM_LAYOUT, Template, parse_template, template_values

ENV_VAR = "MAESTRO_SCHEMA_LOCATION"
BUILTIN_NAMES = ("default", "builtin")
BUNDLE_NAMES = ("bundle", "maestro")
BUNDLE_DIR = Path(__file__).resolve().parents[1] / "schemas"


@dataclass(frozen=True)
class Candidate:
    """One place a schema may be: a file path or URL; `definitions` is set for bundled schemas."""

    ref: str
    definitions: str = ""

    @property
    def is_url(self) -> bool:
        return is_url(self.ref)


@dataclass(frozen=True)
class BuiltinLocation:
    directory: Path

    def candidates(self, api_version: str, kind: str) -> list[Candidate]:
        path = builtin.schema_file(self.directory, api_version, kind)
        return [Candidate(str(path), str(self.directory / builtin.DEFINITIONS))]


@dataclass(frozen=True)
class LayoutLocation:
    root: Path
    values_for: tuple[str, bool]  # (kubernetes version, strict)
    suffix: str = ".json"  # ".json.gz" in Maestro's own bundle

    def candidates(self, api_version: str, kind: str) -> list[Candidate]:
        values = template_values(api_version, kind, *self.values_for)
        found = []
        if "/" in api_version:
            found.append(self.root / "crds" / values["Group"] / f"{values['ResourceKind']}_{values['ResourceAPIVersion']}{self.suffix}")
        folder = f"{values['NormalizedKubernetesVersion']}-standalone{values['StrictSuffix']}"
        found.append(self.root / "kubernetes" / folder / f"{values['ResourceKind']}{values['KindSuffix']}{self.suffix}")
        return [Candidate(str(path)) for path in found]


@dataclass(frozen=True)
class TemplateLocation:
    template: Template
    values_for: tuple[str, bool]

    def candidates(self, api_version: str, kind: str) -> list[Candidate]:
        return [Candidate(self.template.render(template_values(api_version, kind, *self.values_for)))]


Location = BuiltinLocation | LayoutLocation | TemplateLocation


def build_locations(texts: Sequence[str], kubernetes_version: str, strict: bool) -> list[Location]:
    """Parse every location (raising TemplateError or UsageError at once); Maestro's bundle, then
    kubernetes-validate's built-ins go last unless one of them is listed."""
    values_for = (kubernetes_version, strict)
    locations = [_location(text.strip(), values_for) for text in texts if text.strip()]
    if not any(text.strip() in BUILTIN_NAMES + BUNDLE_NAMES for text in texts):
        locations += [loc for loc in (bundle_location(values_for), _builtin(values_for)) if loc not in locations]
    return locations


def bundle_location(values_for: tuple[str, bool]) -> LayoutLocation:
    return LayoutLocation(BUNDLE_DIR, values_for, ".json.gz")


def _location(text: str, values_for: tuple[str, bool]) -> Location:
    if text in BUILTIN_NAMES:
        return _builtin(values_for)
    if text in BUNDLE_NAMES or (not is_url(text) and _is_bundle(Path(text))):
        return bundle_location(values_for)
    if not is_url(text) and _is_layout_dir(Path(text)):
        return LayoutLocation(Path(text), values_for)
    if not text.endswith("json"):
        if not is_url(text) and "{{" not in text and not Path(text).is_dir():
            raise UsageError(f"schema location {text!r} is not a directory, a template ending in json, a URL, "
                             "'bundle' or 'default'")
        text = text.rstrip("/") + KUBECONFORM_LAYOUT
    return TemplateLocation(parse_template(text), values_for)


def _builtin(values_for: tuple[str, bool]) -> BuiltinLocation:
    version, strict = values_for
    return BuiltinLocation(builtin.schema_dir(version, strict))


def _is_bundle(path: Path) -> bool:
    try:
        return path.resolve() == BUNDLE_DIR
    except (OSError, RuntimeError):
        return False


def _is_layout_dir(path: Path) -> bool:
    return path.is_dir() and ((path / "crds").is_dir() or (path / "kubernetes").is_dir())


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def schema_locations_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """MAESTRO_SCHEMA_LOCATION of `environ` (default: this process's) as a list: comma-separated, blanks
    ignored. For commands: the library takes the locations as values."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "")
    return [part.strip() for part in value.split(",") if part.strip()]
