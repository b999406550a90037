"""Stage 2a, schema paths: kubeconform-style location templates.

In: a template such as `schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`
and an object's apiVersion/kind plus the Kubernetes version and strictness.
Out: `Template` (parsed once, at start-up; a bad one raises `TemplateError`) and
the path or URL it gives for one object.

Only Go `text/template` field actions are accepted (`{{.Field}}`, `{{ .Field }}`,
with optional `-` trim markers), as kubeconform's documented variables:
NormalizedKubernetesVersion, StrictSuffix, ResourceKind, ResourceAPIVersion,
Group and KindSuffix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FIELDS = (
    "NormalizedKubernetesVersion",
    "StrictSuffix",
    "ResourceKind",
    "ResourceAPIVersion",
    "Group",
    "KindSuffix",
)
_ACTION = re.compile(r"^(-\s)?\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*(\s-)?$", re.S)
# kubeconform's default layout below a location that is not a `.json` template
KUBECONFORM_LAYOUT = "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"


class TemplateError(ValueError):
    """A schema location template that cannot be used."""


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and field names, in order."""

    text: str
    parts: tuple[tuple[bool, str], ...]  # (is_field, literal text or field name)

    def render(self, values: dict[str, str]) -> str:
        return "".join(values[part] if is_field else part for is_field, part in self.parts)


def parse_template(text: str) -> Template:
    """Parse `text`; raises TemplateError naming the problem."""
    parts: list[tuple[bool, str]] = []
    rest = text
    while "{{" in rest:
        before, _, after = rest.partition("{{")
        action, closed, rest = after.partition("}}")
        if not closed:
            raise TemplateError(f"unclosed action '{{{{' in schema location template {text!r}")
        name, trim_left, trim_right = _action(action, text)
        parts.append((False, before.rstrip() if trim_left else before))
        parts.append((True, name))
        rest = rest.lstrip() if trim_right else rest
    parts.append((False, rest))
    return Template(text, tuple((is_field, part) for is_field, part in parts if is_field or part))


def _action(action: str, text: str) -> tuple[str, bool, bool]:
    match = _ACTION.match(action)
    if not match:
        raise TemplateError(f"unsupported action '{{{{{action}}}}}' in schema location template {text!r}: only fields such as {{{{.ResourceKind}}}} are allowed")
    name = match.group(2)
    if name not in FIELDS:
        raise TemplateError(f"unknown field '.{name}' in schema location template {text!r}; known fields: {', '.join(FIELDS)}")
    return name, bool(match.group(1)), bool(match.group(3))


def template_values(api_version: str, kind: str, kubernetes_version: str, strict: bool) -> dict[str, str]:
    """The template variables for one object, computed as kubeconform does."""
    group_parts = api_version.split("/")
    first_label = group_parts[0].split(".")[0].lower()
    suffix = f"-{first_label}" + (f"-{group_parts[1].lower()}" if len(group_parts) > 1 else "")
    return {
        "NormalizedKubernetesVersion": normalized_version(kubernetes_version),
        "StrictSuffix": "-strict" if strict else "",
        "ResourceKind": kind.lower(),
        "ResourceAPIVersion": group_parts[-1],
        "Group": group_parts[0],
        "KindSuffix": suffix,
    }


def normalized_version(kubernetes_version: str) -> str:
    """`1.37.0` as `v1.37.0`; `master` stays `master`."""
    return kubernetes_version if kubernetes_version == "master" else "v" + kubernetes_version
