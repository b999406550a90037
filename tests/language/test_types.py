"""The constrained scalars of the spec language, accepted and refused, with the messages users see."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from maestro.language.types import Cron, Duration, LabelKey, LabelValue, Labels, Name, Quantity, Ticker, Timezone

TYPES = {"name": Name, "quantity": Quantity, "duration": Duration, "ticker": Ticker, "cron": Cron,
         "timezone": Timezone, "label-key": LabelKey, "label-value": LabelValue}

ACCEPTED = [
    ("name", ["a", "aapl-direction", "v3", "0", "a" * 40, "team-1-b"]),
    ("quantity", ["2", "500m", "16Gi", "1.5", "0.5Gi", "1e3", "100M", 4, 0.5, "+1"]),
    ("duration", ["30s", "45m", "2h", "1d", "90m"]),
    ("ticker", ["AAPL", "^GSPC", "BRK-B", "BRK.B", "EURUSD=X", "7203.T"]),
    ("cron", ["0 6 * * 1-5", "*/15 * * * *", "0 0 1 JAN,JUL *", "30 21 * * MON-FRI", "0 0 * * 0", "@daily", "0 0-23/2 * * *"]),
    ("timezone", ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"]),
    ("label-key", ["cost-center", "acme.com/cost-center", "app.kubernetes.io/name", "a", "A_b.c", "x" * 63]),
    ("label-value", ["", "4711", "gold", "A.b_c-d", "x" * 63]),
]

REFUSED = [
    ("name", "Aapl", "'Aapl' is not a valid name; use lower-case letters, digits and '-', starting and ending with a letter or digit"),
    ("name", "under_score", "'under_score' is not a valid name; use lower-case letters, digits and '-', starting and ending with a letter or digit"),
    ("name", "-lead", "'-lead' is not a valid name; use lower-case letters, digits and '-', starting and ending with a letter or digit"),
    ("name", "trail-", "'trail-' is not a valid name; use lower-case letters, digits and '-', starting and ending with a letter or digit"),
    ("name", "", "'' is not a valid name; use lower-case letters, digits and '-', starting and ending with a letter or digit"),
    ("name", "v1.2", "'v1.2' contains a dot; Seldon refuses dots in names, use '-'"),
    ("name", "a" * 41, f"'{'a' * 41}' is 41 characters; at most 40 are accepted so derived object names fit Kubernetes limits"),
    ("quantity", "16GB", "'16GB' is not a Kubernetes quantity; e.g. '500m', '2', '16Gi'"),
    ("quantity", "four", "'four' is not a Kubernetes quantity; e.g. '500m', '2', '16Gi'"),
    ("quantity", "-1", "'-1' is not a Kubernetes quantity; e.g. '500m', '2', '16Gi'"),
    ("quantity", "1 Gi", "'1 Gi' is not a Kubernetes quantity; e.g. '500m', '2', '16Gi'"),
    ("duration", "2 hours", "'2 hours' is not a duration; e.g. '30s', '45m', '2h', '1d'"),
    ("duration", "0s", "'0s' is not a duration; e.g. '30s', '45m', '2h', '1d'"),
    ("duration", "1h30m", "'1h30m' is not a duration; e.g. '30s', '45m', '2h', '1d'"),
    ("duration", "1w", "'1w' is not a duration; e.g. '30s', '45m', '2h', '1d'"),
    ("ticker", "aapl", "'aapl' is not a ticker as Yahoo spells it; e.g. 'AAPL', '^GSPC', 'BRK-B'"),
    ("ticker", "BRK B", "'BRK B' is not a ticker as Yahoo spells it; e.g. 'AAPL', '^GSPC', 'BRK-B'"),
    ("ticker", "", "'' is not a ticker as Yahoo spells it; e.g. 'AAPL', '^GSPC', 'BRK-B'"),
    ("cron", "0 6 * *", "'0 6 * *' has 4 fields; cron needs 5 (minute hour day-of-month month day-of-week), e.g. '0 6 * * 1-5'"),
    ("cron", "0 6 * * * *", "'0 6 * * * *' has 6 fields; cron needs 5 (minute hour day-of-month month day-of-week), e.g. '0 6 * * 1-5'"),
    ("cron", "60 6 * * *", "'60 6 * * *': 60 is out of range for minute (0-59)"),
    ("cron", "0 24 * * *", "'0 24 * * *': 24 is out of range for hour (0-23)"),
    ("cron", "0 6 0 * *", "'0 6 0 * *': 0 is out of range for day of month (1-31)"),
    ("cron", "0 6 32 * *", "'0 6 32 * *': 32 is out of range for day of month (1-31)"),
    ("cron", "0 6 * 13 *", "'0 6 * 13 *': 13 is out of range for month (1-12)"),
    ("cron", "0 6 * * 7", "'0 6 * * 7': 7 is out of range for day of week (0-6)"),
    ("cron", "0 6 * * 5-1", "'0 6 * * 5-1': range '5-1' in the day of week field runs backwards"),
    ("cron", "*/0 * * * *", "'*/0 * * * *': step '0' in the minute field must be a positive number"),
    ("cron", "0 6 * * FUNDAY", "'0 6 * * FUNDAY': 'FUNDAY' is not a valid day of week value"),
    ("cron", "0 6 * JANUARY *", "'0 6 * JANUARY *': 'JANUARY' is not a valid month value"),
    ("timezone", "America/NewYork", "'America/NewYork' is not an IANA time zone; did you mean 'America/New_York'?"),
    ("timezone", "Mars/Olympus", "'Mars/Olympus' is not an IANA time zone; e.g. 'UTC', 'America/New_York'"),
    ("timezone", "EST5EDT ", "'EST5EDT ' is not an IANA time zone; did you mean 'EST5EDT'?"),
    ("timezone", "../etc/passwd", "'../etc/passwd' is not an IANA time zone; e.g. 'UTC', 'America/New_York'"),
    ("label-key", "bad key", "label key 'bad key' is not a Kubernetes label name; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
    ("label-key", "x" * 64, f"label key '{'x' * 64}' is not a Kubernetes label name; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
    ("label-key", "acme.com/", "label key 'acme.com/' is not a Kubernetes label name; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
    ("label-key", "Acme.com/team", "label key 'Acme.com/team': prefix 'Acme.com' is not a lower-case DNS subdomain; e.g. 'acme.com/cost-center'"),
    ("label-key", "/team", "label key '/team': prefix '' is not a lower-case DNS subdomain; e.g. 'acme.com/cost-center'"),
    ("label-key", "a/b/c", "label key 'a/b/c': prefix 'a/b' is not a lower-case DNS subdomain; e.g. 'acme.com/cost-center'"),
    ("label-value", "-gold", "label value '-gold' is not a Kubernetes label value; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
    ("label-value", "two words", "label value 'two words' is not a Kubernetes label value; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
    ("label-value", "x" * 64, f"label value '{'x' * 64}' is not a Kubernetes label value; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
]


def refusal(kind: str, value) -> str:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(TYPES[kind]).validate_python(value)
    return str(caught.value.errors()[0]["ctx"]["error"])


@pytest.mark.parametrize("kind, value", [
    pytest.param(kind, value, id=f"{kind}-{str(value)[:20]}") for kind, values in ACCEPTED for value in values
])
def test_accepted(kind: str, value) -> None:
    assert TypeAdapter(TYPES[kind]).validate_python(value) == (str(value) if kind == "quantity" else value)


@pytest.mark.parametrize("kind, value, message", [
    pytest.param(kind, value, message, id=f"{kind}-{value[:20]}") for kind, value, message in REFUSED
])
def test_refused(kind: str, value, message: str) -> None:
    assert refusal(kind, value) == message


@pytest.mark.parametrize("key", ["maestro.dev/pipeline", "maestro.dev/anything", "app.kubernetes.io/managed-by"])
def test_label_keys_maestro_sets_are_reserved(key: str) -> None:
    with pytest.raises(ValidationError, match="is reserved; maestro sets it on every object"):
        TypeAdapter(Labels).validate_python({key: "x"})
