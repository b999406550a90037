"""What the suite needs from ../shared, and what happens without it.

Two markers (registered in pyproject.toml) name the tests that need material only ../shared has:
`corpus` (the upstream Argo Workflows examples or the upstream CRD sources) and `conformance` (the
kube-apiserver and etcd binaries). Every other test runs on a fresh clone alone: schemas ship with
Maestro. Without the folder such a test is skipped, and the run ends with one line saying which and
why. With MAESTRO_REQUIRE_SHARED=1 (CI sets it) the same test fails instead, and so does any marked
test that skips itself: CI can never go green on a suite that checked nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REQUIRE_ENV = "MAESTRO_REQUIRE_SHARED"
NEEDS = {
    "corpus": (SHARED / "corpora" / "argo-workflows-examples", SHARED / "schemas" / "crd-sources"),
    "conformance": (SHARED / "apiserver",),
}
_skipped: dict[str, set[str]] = {marker: set() for marker in NEEDS}


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def missing_for(marker: str) -> list[Path]:
    return [path for path in NEEDS[marker] if not path.is_dir()]


def _shared_markers(item: pytest.Item) -> list[str]:
    return [marker for marker in NEEDS if item.get_closest_marker(marker)]


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in _shared_markers(item):
        missing = missing_for(marker)
        if not missing:
            continue
        names = ", ".join(str(path) for path in missing)
        if _required():
            pytest.fail(f"{REQUIRE_ENV}=1 but this `{marker}` test needs {names}, which is not there", pytrace=False)
        pytest.skip(f"needs {names} (the `{marker}` marker)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped:
        return
    for marker in _shared_markers(item):
        if missing_for(marker):
            _skipped[marker].add(item.nodeid)
    if _required() and _shared_markers(item):
        # A marked test that skipped itself (an empty parameter set, a pytest.skip inside): under CI
        # that means ../shared did not give it what it needs.
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_ENV}=1: a test needing ../shared was skipped: {_reason(report)}"


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    parts = [f"{len(ids)} `{marker}` test(s) (no {', '.join(str(p) for p in missing_for(marker))})"
             for marker, ids in _skipped.items() if ids]
    if parts:
        terminalreporter.write_line(f"skipped for lack of ../shared: {'; '.join(parts)}; "
                                    f"everything else ran (put shared/ beside the checkout to run them)")
