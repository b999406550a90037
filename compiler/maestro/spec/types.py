"""Constrained scalar types of the spec language: names, quantities, durations, cron, time zones.

Each type is a pydantic `Annotated` alias whose validator raises `ValueError` with a message that
says what would be accepted; `spec.diagnose` turns those into located diagnostics.
"""

from __future__ import annotations

import re
from typing import Annotated, Union

from pydantic import AfterValidator, BeforeValidator, Field

from ..errors import did_you_mean

NAME_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAME_MAX = 40
QUANTITY_PATTERN = re.compile(r"^[+]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][-+]?\d+)?$")
DURATION_PATTERN = re.compile(r"^(\d+)(s|m|h|d)$")
DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TICKER_PATTERN = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]{0,14}$")
LABEL_PATTERN = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
LABEL_MAX = 63
DNS_SUBDOMAIN_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
OWNER_PATTERN = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?$"
                           r"|^[^@\s]+@[^@\s]+\.[^@\s]+$")
OWNED_PATH_PATTERN = re.compile(r"^[A-Za-z0-9._*?/-]+$")
KEY_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
KEY_PLACEHOLDERS = ("{team}", "{env}")
RESERVED_LABELS = ("maestro.dev/", "app.kubernetes.io/managed-by")  # set by maestro on every object


def check_name(value: str) -> str:
    if "." in value:
        raise ValueError(f"'{value}' contains a dot; Seldon refuses dots in names, use '-'")
    if not NAME_PATTERN.match(value):
        raise ValueError(f"'{value}' is not a valid name; use lower-case letters, digits and '-', "
                         "starting and ending with a letter or digit")
    if len(value) > NAME_MAX:
        raise ValueError(f"'{value}' is {len(value)} characters; at most {NAME_MAX} are accepted "
                         "so derived object names fit Kubernetes limits")
    return value


def check_run_id(value: str) -> str:
    """A training run is an Argo Workflow name: the pipeline's name plus a generated suffix."""
    if not NAME_PATTERN.match(value) or len(value) > 63:
        raise ValueError(f"'{value}' is not a run id; expected the workflow name of a training run "
                         "(lower-case letters, digits and '-', at most 63 characters)")
    return value


def check_quantity(value: str | int | float) -> str:
    text = str(value)
    if not QUANTITY_PATTERN.match(text):
        raise ValueError(f"'{text}' is not a Kubernetes quantity; e.g. '500m', '2', '16Gi'")
    return text


def check_duration(value: str) -> str:
    if not isinstance(value, str) or not DURATION_PATTERN.match(value) or duration_seconds(value) == 0:
        raise ValueError(f"'{value}' is not a duration; e.g. '30s', '45m', '2h', '1d'")
    return value


def duration_seconds(value: str) -> int:
    number, unit = DURATION_PATTERN.match(value).groups()
    return int(number) * DURATION_SECONDS[unit]


def check_ticker(value: str) -> str:
    if not TICKER_PATTERN.match(value):
        raise ValueError(f"'{value}' is not a ticker as Yahoo spells it; e.g. 'AAPL', '^GSPC', 'BRK-B'")
    return value


def check_label_key(value: str) -> str:
    """A Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name."""
    prefix, slash, name = value.rpartition("/")
    if slash and (len(prefix) > 253 or not DNS_SUBDOMAIN_PATTERN.match(prefix)):
        raise ValueError(f"label key '{value}': prefix '{prefix}' is not a lower-case DNS subdomain; "
                         "e.g. 'acme.com/cost-center'")
    if not name or len(name) > LABEL_MAX or not LABEL_PATTERN.match(name):
        raise ValueError(f"label key '{value}' is not a Kubernetes label name; use at most {LABEL_MAX} "
                         "letters, digits, '-', '_' and '.', starting and ending with a letter or digit")
    return value


def check_unreserved(value: str) -> str:
    if value.startswith(RESERVED_LABELS):
        raise ValueError(f"label key '{value}' is reserved; maestro sets it on every object")
    return value


def check_label_value(value: str) -> str:
    if len(value) > LABEL_MAX or not LABEL_PATTERN.match(value):
        raise ValueError(f"label value '{value}' is not a Kubernetes label value; use at most {LABEL_MAX} "
                         "letters, digits, '-', '_' and '.', starting and ending with a letter or digit")
    return value


def check_owner(value: str) -> str:
    """A CODEOWNERS owner: a GitHub team or user, or an e-mail address."""
    if not OWNER_PATTERN.match(value):
        raise ValueError(f"'{value}' is not a code owner; use '@org/team', '@user' or an e-mail address")
    return value


def check_owned_path(value: str) -> str:
    """A CODEOWNERS pattern relative to the repository root that cannot reach outside it."""
    parts = value.rstrip("/").split("/")
    if (not OWNED_PATH_PATTERN.match(value) or value.startswith("/") or "//" in value
            or any(p in ("", ".", "..") for p in parts) or set(value) <= set("*/")):
        raise ValueError(f"'{value}' is not an owned path; use a path relative to the repository root made of "
                         "letters, digits, '.', '_', '-', '/', '*' and '?', without '..' and not only wildcards, "
                         "e.g. 'pipelines/aapl-*.yaml'")
    return value


def check_key_template(value: str) -> str:
    """An external store key; `{team}` and `{env}` are the only placeholders."""
    unknown = [p for p in KEY_PLACEHOLDER.findall(value) if p not in KEY_PLACEHOLDERS]
    rest = KEY_PLACEHOLDER.sub("", value)
    if unknown or "{" in rest or "}" in rest:
        shown = unknown[0] if unknown else "an unmatched brace"
        raise ValueError(f"key '{value}' has {shown}; the placeholders are {{team}} and {{env}}, "
                         "e.g. 'ml/{env}/{team}/artifacts'")
    return value


def check_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        if value != value.strip() or not value:
            raise ValueError
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        hint = did_you_mean(value, available_timezones()) or "e.g. 'UTC', 'America/New_York'"
        raise ValueError(f"'{value}' is not an IANA time zone; {hint}")
    return value


def check_cron(value: str) -> str:
    from .cron import parse_cron

    parse_cron(value)
    return value


def _to_text(value: object) -> object:
    """Quantities may be written as YAML numbers (`cpu: 4`); they are kept as strings."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


# The validators give the messages; the schema keywords only help editors (yaml-language-server).
Name = Annotated[str, AfterValidator(check_name),
                 Field(json_schema_extra={"pattern": NAME_PATTERN.pattern, "maxLength": NAME_MAX})]
RunId = Annotated[str, AfterValidator(check_run_id)]
Quantity = Annotated[str, BeforeValidator(_to_text, json_schema_input_type=Union[str, int, float]),
                     AfterValidator(check_quantity)]
Duration = Annotated[str, AfterValidator(check_duration), Field(json_schema_extra={"pattern": DURATION_PATTERN.pattern})]
Ticker = Annotated[str, AfterValidator(check_ticker), Field(json_schema_extra={"pattern": TICKER_PATTERN.pattern})]
Timezone = Annotated[str, AfterValidator(check_timezone)]
Cron = Annotated[str, AfterValidator(check_cron)]
LabelKey = Annotated[str, AfterValidator(check_label_key)]
LabelValue = Annotated[str, AfterValidator(check_label_value)]
Selector = dict[LabelKey, LabelValue]
Labels = dict[Annotated[LabelKey, AfterValidator(check_unreserved)], LabelValue]
Owner = Annotated[str, AfterValidator(check_owner)]
OwnedPath = Annotated[str, AfterValidator(check_owned_path)]
PositiveInt = Annotated[int, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Percent = Annotated[int, Field(ge=0, le=100)]
