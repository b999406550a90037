"""What the suite needs from ../shared, and what happens without it.

Two markers (registered in pyproject.toml) name the tests that need material only ../shared has:
`corpus` (the upstream Argo Workflows examples or the upstream CRD sources) and `conformance` (the
kube-apiserver and etcd binaries). Every other test runs on a fresh clone alone: schemas ship with
Maestro. Without the folder such a test is skipped, and the run ends with one line saying which and
why. With MAESTRO_REQUIRE_SHARED=1 (CI sets it) the same test fails instead, and so does any marked
test that skips itself: CI can never go green on a suite that checked nothing.

Both hold under pytest-xdist (`make test` runs `-n auto`): a worker marks each report with the markers
it needs, and the one line is written by the controller from the reports it gets. Tests that share the
kube-apiserver all run on one worker, so it is started once.
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
# Folders whose tests share a session fixture too costly to set up once per xdist worker: the
# kube-apiserver and etcd of tests/conformance/conftest.py, minutes to start and load every upstream CRD.
ONE_WORKER = ("tests/conformance/",)


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
    report.shared_markers = _shared_markers(item)   # travels with the report from an xdist worker
    if not report.skipped:
        return
    if _required() and report.shared_markers:
        # A marked test that skipped itself (an empty parameter set, a pytest.skip inside): under CI
        # that means ../shared did not give it what it needs.
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_ENV}=1: a test needing ../shared was skipped: {_reason(report)}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Where the reports arrive: this process's own, or under xdist every worker's, at the controller."""
    if report.skipped:
        for marker in getattr(report, "shared_markers", ()):
            if missing_for(marker):
                _skipped[marker].add(report.nodeid)


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    parts = [f"{len(ids)} `{marker}` test(s) (no {', '.join(str(p) for p in missing_for(marker))})"
             for marker, ids in _skipped.items() if ids]
    if parts:
        terminalreporter.write_line(f"skipped for lack of ../shared: {'; '.join(parts)}; "
                                    f"everything else ran (put shared/ beside the checkout to run them)")


@pytest.hookimpl(optionalhook=True)   # a hook of pytest-xdist's: without it, never called
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Each test goes to whichever worker is free, but all the tests of one ONE_WORKER folder go to the
    same worker, so the session fixtures they share are set up once. (xdist's own `loadgroup` cannot be
    used: it renames node ids in a way pytest 9 no longer reads.)"""
    if config.getvalue("dist") != "load":
        return None   # the caller asked for another distribution
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixturesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((folder for folder in ONE_WORKER if nodeid.startswith(folder)), nodeid)

    return SharedFixturesTogether(config, log)
