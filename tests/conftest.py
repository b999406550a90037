"""What the suite needs from ../shared, and what happens without it.

Two markers (registered in pyproject.toml) name the tests that need material only ../shared has:
`corpus` (the upstream Argo Workflows examples or the upstream CRD sources) and `conformance` (the
kube-apiserver and etcd binaries). Every other test runs on a fresh clone alone: schemas ship with
Maestro. Without the folder such a test is skipped, and the run ends with one line saying which and
why. With MAESTRO_REQUIRE_SHARED=1 (CI sets it) the same test fails instead, and so does any marked
test that skips itself: CI can never go green on a suite that checked nothing.

Both hold under pytest-xdist (`make test` runs `-n auto --dist loadgroup`): a worker marks each report
with the markers it needs, and the one line is written by the controller from the reports it gets.
And the tests that share a costly session fixture (the kube-apiserver, a trained model) are put in one
xdist group, so that fixture is built once, on one worker, not once per worker.
"""

from __future__ import annotations

import inspect
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


@pytest.hookimpl(tryfirst=True)   # before xdist's own hook reads the groups off the items
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that share a session-scoped fixture of the suite's, directly or through another, form one
    xdist group: under `--dist loadgroup` the fixture is then set up by one worker only."""
    parent = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    shared = {item: _session_fixtures(item) for item in items}
    for names in shared.values():
        for name in names[1:]:
            parent[root(name)] = root(names[0])
    for item, names in shared.items():
        if names:
            item.add_marker(pytest.mark.xdist_group(root(names[0])))


def _session_fixtures(item: pytest.Item) -> list[str]:
    """The session-scoped fixtures defined under tests/ that `item` uses, in a stable order."""
    definitions = getattr(item, "_fixtureinfo", None)
    if definitions is None:
        return []
    tests = Path(__file__).resolve().parent
    return sorted(name for name, defs in definitions.name2fixturedefs.items()
                  if defs and defs[-1].scope == "session" and _defined_under(defs[-1], tests))


def _defined_under(definition, folder: Path) -> bool:
    try:
        return Path(inspect.getfile(definition.func)).resolve().is_relative_to(folder)
    except TypeError:   # a fixture without a source file
        return False
