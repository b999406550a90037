"""A bound on one figure, as every gate words it: whether it holds, and the reason in one line.
The built-in gate and a custom pipeline's metrics gate both use these, so their reasons read alike."""

from __future__ import annotations

from typing import Optional


def figure(value: Optional[float]) -> str:
    return "undefined" if value is None else f"{value:.4g}"


def at_least(what: str, value: Optional[float], threshold: float, field: str) -> tuple[bool, str]:
    ok = value is not None and value >= threshold
    verdict = "meets" if ok else "misses"
    return ok, f"{what} {figure(value)} {verdict} the minimum of {threshold:g} ({field})"


def at_most(what: str, value: Optional[float], threshold: float, field: str) -> tuple[bool, str]:
    ok = value is not None and value <= threshold
    verdict = "is within" if ok else "exceeds"
    return ok, f"{what} {figure(value)} {verdict} the maximum of {threshold:g} ({field})"
