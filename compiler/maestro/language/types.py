"""Constrained scalar types of the spec language: names, quantities, durations, cron, time zones.

Each type is a pydantic `Annotated` alias whose validator raises `ValueError` with a message that
says what would be accepted; `spec.diagnose` turns those into located diagnostics.
"""

from __future__ import annotations

import re
from typing import Annotated, Union

from pydantic import AfterValidator, BeforeValidator, Field

from ..errors import did_you_mean
from ..names import RFC1123_LABEL

NAME_PATTERN = RFC1123_LABEL   # names become Seldon object names
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
# Environment variable names the API server accepts everywhere (its C_IDENTIFIER-like rule; newer
# servers relax it, older ones and shells do not): so never '', 'A B' or 'X=Y'.
ENV_NAME_PATTERN = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
# An image reference as the container runtimes parse it (github.com/distribution/reference).
_ALNUM = r"[a-z0-9]+"
_PATH_PART = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_HOST_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_HOST_PART}(?:\.{_HOST_PART})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
IMAGE_PATTERN = re.compile(rf"^(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*(?::[\w][\w.-]{{0,127}})?"
                           r"(?:@(?P<digest>[^@]*))?$")
DIGEST_PATTERNS = {"sha256": re.compile(r"^[0-9a-f]{64}$"), "sha512": re.compile(r"^[0-9a-f]{128}$")}
IMAGE_NAME_MAX = 255
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


def env_name_problem(name: str) -> str | None:
    """Why the API server would refuse `name` as an environment variable name, or None."""
    if ENV_NAME_PATTERN.fullmatch(name):
        return None
    return (f"'{name}' is not an environment variable name the API server accepts; use letters, digits, "
            "'_', '-' and '.', not starting with a digit (e.g. MODE, LOG_LEVEL)")


def image_problem(image: str) -> str | None:
    """Why `image` is not a container image reference, or None. An invalid digest is never a pin."""
    example = "e.g. 'ghcr.io/acme/backtest:1.2' or 'ghcr.io/acme/backtest@sha256:<64 hex digits>'"
    if ".." in image:
        return f"'{image}' is not an image reference: '..' is not allowed in one ({example})"
    if image.count("@") > 1:
        return f"'{image}' has more than one '@'; an image reference has at most one digest ({example})"
    match = IMAGE_PATTERN.fullmatch(image)
    name = image.split("@")[0].rsplit(":", 1)[0] if match else image
    first = image.split("/")[0]
    if "/" in image and not ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        match = match if re.fullmatch(_PATH_PART, first) else None   # no registry: a lower-case path part
    if match is None or len(name) > IMAGE_NAME_MAX:
        return f"'{image}' is not an image reference ({example})"
    digest = match.group("digest")
    if digest is not None:
        algorithm, _, value = digest.partition(":")
        pattern = DIGEST_PATTERNS.get(algorithm)
        if pattern is None or not pattern.fullmatch(value):
            return (f"'{image}': '@{digest}' is not a digest, so it pins nothing; expected '@sha256:' and 64 "
                    "lower-case hex digits")
    return None


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
