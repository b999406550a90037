"""Stage 3a, formats: the `format` keywords asserted, as kubeconform asserts them.

In: a string and a format name.
Out: `format_checker()`, a jsonschema FormatChecker that knows only `date-time`
(RFC 3339) and `duration` (a Go duration such as `1h30m`, or ISO 8601 such as
`PT5M`). Other formats (`int32`, `int64`, `byte`, ...) are not asserted, as in
kubeconform. Non-strings always pass (type checks report those).
"""

from __future__ import annotations

import calendar
import functools
import re
from typing import Any

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$"
)
_GO_DURATION = re.compile(r"^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$")
_ISO_DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
)


def is_date_time(value: Any) -> bool:
    """RFC 3339 `date-time`, with real ranges (no February 30th, no hour 24)."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.match(value)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    return _valid_date(year, month, day) and hour < 24 and minute < 60 and second <= 60 and _valid_offset(match)


def _valid_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _valid_offset(match: re.Match) -> bool:
    hours, minutes = match.group(9), match.group(10)
    return hours is None or (int(hours) < 24 and int(minutes) < 60)


def is_duration(value: Any) -> bool:
    """A Go duration (`90s`, `1h30m`, `0`) or an ISO 8601 one (`PT90S`, `P1D`)."""
    if not isinstance(value, str):
        return True
    return bool(_GO_DURATION.match(value) or _ISO_DURATION.match(value))


FORMAT_CHECKS = {"date-time": is_date_time, "duration": is_duration}


@functools.lru_cache(maxsize=None)
def format_checker() -> Any:
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():
        checker.checks(name)(check)
    return checker
