"""Rules helper: cron schedules and time zones, as Argo's CronWorkflow controller reads them.

In: a schedule string (robfig/cron "standard" syntax: five fields, or a descriptor)
and time zone names.
Out: `schedule_problem` / `timezone_problem`: an empty string when fine, else why not.
Fields: minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of
week 0-6 or SUN-SAT; each a list of `*`, `?`, `N`, `A-B`, with an optional `/STEP`.
Descriptors: @yearly @annually @monthly @weekly @daily @midnight @hourly, and
`@every DURATION`. An optional `CRON_TZ=Zone ` or `TZ=Zone ` prefix names a zone.
"""

from __future__ import annotations

import re

_MONTHS = {name: i + 1 for i, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DAYS = {name: i for i, name in enumerate("sun mon tue wed thu fri sat".split())}
FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}), ("month", 1, 12, _MONTHS), ("day of week", 0, 6, _DAYS))
DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_GO_DURATION = re.compile(r"^((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$")
_ITEM = re.compile(r"^(?P<range>[^/]+)(?:/(?P<step>.*))?$")


def timezone_problem(name: str) -> str:
    """Why `name` is not an IANA time zone, or an empty string ("" means local time)."""
    if name == "":
        return ""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if not available_timezones():
            return ""  # no time zone database on this machine (no tzdata): nothing to check against
        return f"unknown time zone {name!r} (expected an IANA name such as 'Europe/Paris' or 'UTC')"
    return ""


def schedule_problem(schedule: str) -> str:
    """Why `schedule` does not parse, or an empty string."""
    text = schedule.strip()
    if text.startswith(("CRON_TZ=", "TZ=")):
        zone, _, text = text.partition("=")[2].partition(" ")
        if problem := timezone_problem(zone):
            return problem
        text = text.strip()
    if text.startswith("@"):
        return _descriptor_problem(text)
    fields = text.split()
    if len(fields) != 5:
        return f"expected 5 fields (minute hour day-of-month month day-of-week), found {len(fields)}"
    return next((p for p in map(_field_problem, fields, FIELDS) if p), "")


def _descriptor_problem(text: str) -> str:
    if text.lower() in DESCRIPTORS:
        return ""
    word, _, rest = text.partition(" ")
    if word.lower() != "@every":
        return f"unknown descriptor {word!r} (expected one of: {', '.join(DESCRIPTORS)}, @every DURATION)"
    duration = rest.strip()
    if not _GO_DURATION.match(duration) or not re.search(r"[1-9]", duration):
        return f"@every needs a positive duration such as 1h30m, not {duration!r}"
    return ""


def _field_problem(text: str, spec: tuple) -> str:
    name = spec[0]
    for item in text.split(","):
        if problem := _item_problem(item, spec):
            return f"{name} field {text!r}: {problem}"
    return ""


def _item_problem(item: str, spec: tuple) -> str:
    match = _ITEM.match(item)
    if not match:
        return f"{item!r} is not a value, range or step"
    step = match.group("step")
    if step is not None and not (step.isdigit() and int(step) > 0):
        return f"step {step!r} must be a positive number"
    return _range_problem(match.group("range"), spec)


def _range_problem(text: str, spec: tuple) -> str:
    _, low, high, names = spec
    if text in ("*", "?"):
        return ""
    bounds = text.split("-")
    if len(bounds) > 2:
        return f"{text!r} is not a range"
    values = [_value(bound, names) for bound in bounds]
    if any(value is None or not low <= value <= high for value in values):
        return f"{text!r} is out of range {low}-{high}"
    return "" if values[0] <= values[-1] else f"range {text!r} starts after it ends"


def _value(text: str, names: dict) -> int | None:
    if text.isdigit():
        return int(text)
    return names.get(text.lower())
