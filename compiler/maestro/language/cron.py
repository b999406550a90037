"""Five-field cron expressions, checked with real ranges (minute hour day-of-month month day-of-week)."""

from __future__ import annotations

# Argo's CronWorkflow parser (robfig/cron) takes day of week 0-6 with Sunday as 0, not cron's 7.
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 6))
NAMES = {
    "month": {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())},
    "day of week": {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())},
}
MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def parse_cron(expression: str) -> None:
    """Raise ValueError naming the bad field when `expression` is not a valid cron expression."""
    text = expression.strip()
    if text in MACROS:
        return
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"'{expression}' has {len(parts)} fields; cron needs 5 "
                         "(minute hour day-of-month month day-of-week), e.g. '0 6 * * 1-5'")
    for part, (name, low, high) in zip(parts, FIELDS):
        for item in part.split(","):
            _check_item(item, name, low, high, expression)


def _check_item(item: str, name: str, low: int, high: int, expression: str) -> None:
    base, _, step = item.partition("/")
    if step and (not step.isdigit() or int(step) == 0):
        raise ValueError(f"'{expression}': step '{step}' in the {name} field must be a positive number")
    if base == "*":
        return
    bounds = base.split("-")
    if len(bounds) > 2 or not all(bounds):
        raise ValueError(f"'{expression}': '{item}' is not a valid {name} value")
    values = [_value(b, name, expression) for b in bounds]
    for value in values:
        if not low <= value <= high:
            raise ValueError(f"'{expression}': {value} is out of range for {name} ({low}-{high})")
    if len(values) == 2 and values[0] > values[1]:
        raise ValueError(f"'{expression}': range '{base}' in the {name} field runs backwards")


def _value(text: str, name: str, expression: str) -> int:
    if text.isdigit():
        return int(text)
    named = NAMES.get(name, {}).get(text.upper())
    if named is None:
        raise ValueError(f"'{expression}': '{text}' is not a valid {name} value")
    return named
