"""What the suite needs from ../shared, and what happens without it.

Two markers (registered in pyproject.toml) name the tests that need material only ../shared has:
`corpus` (the upstream Argo Workflows examples or the upstream CRD sources) and `conformance` (the
kube-apiserver and etcd binaries). Every other test runs on a fresh clone alone: schemas ship with
Maestro. Without the folder such a test is skipped, and the run ends with one line saying which and
why. With MAESTRO_REQUIRE_SHARED=1 (CI sets it) the same test fails instead, and so does any marked
test that skips itself: CI can never go green on a suite that checked nothing.

Both hold under pytest-xdist (`make test` runs `-n auto`): a worker marks each report with the markers
it needs, and the one line is written by the controller from the reports it gets. Tests that share a
costly fixture (the kube-apiserver, a trained model) all run on one worker, so it is set up once.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REQUIRE_ENV = "MAESTRO_REQUIRE_SHARED"
NEEDS = {
    "corpus": (SHARED / "corpora" / "argo-workflows-examples", SHARED / "schemas" / "crd-sources"),
    "conformance": (SHARED / "apiserver",),
}
_skipped: dict[str, set[str]] = {marker: set() for marker in NEEDS}
TESTS = Path(__file__).resolve().parent
_GROUPS = pytest.StashKey[Path]()   # the controller's groups file


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


# -- pytest-xdist: tests that share a costly fixture run on one worker ---------------------------------
# xdist's own `--dist loadgroup` cannot be used: it marks groups by renaming node ids, which pytest 9 no
# longer reads. So each worker writes, as it collects, which tests share a session or package fixture
# of the suite's (directly or through another fixture) into a file the controller names; the
# controller's scheduler sends each such group to one worker, and every other test to whichever is free.
GROUPS_INPUT = "maestro_fixture_groups"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Controller, once per worker: tell it where to write the groups."""
    node.workerinput[GROUPS_INPUT] = str(_groups_file(node.config))


def _groups_file(config: pytest.Config) -> Path:
    if _GROUPS not in config.stash:
        config.stash[_GROUPS] = Path(tempfile.mkdtemp(prefix="maestro-xdist-")) / "groups.json"
    return config.stash[_GROUPS]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "load":
        return None   # the caller asked for another distribution
    from xdist.scheduler import LoadScopeScheduling

    groups_file = _groups_file(config)

    class SharedFixturesTogether(LoadScopeScheduling):
        """A group's tests as one unit of work, every other test as a unit of its own."""
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:   # first called once every worker has collected, so has written it
                self.groups = json.loads(groups_file.read_text())
            return self.groups.get(nodeid, nodeid)

    return SharedFixturesTogether(config, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _GROUPS in config.stash:
        shutil.rmtree(config.stash[_GROUPS].parent, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    target = getattr(config, "workerinput", {}).get(GROUPS_INPUT)
    if target:
        staged = Path(f"{target}.{os.getpid()}")
        staged.write_text(json.dumps(fixture_groups(items)))
        os.replace(staged, target)   # both workers write the same; neither is ever read half-written


def fixture_groups(items: list[pytest.Item]) -> dict[str, str]:
    """Node id -> group, for the tests that use a session or package fixture defined under tests/;
    tests sharing any such fixture, even through a chain of tests, are in one group."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    shared = {item.nodeid: _costly_fixtures(item) for item in items}
    for names in shared.values():
        for name in names[1:]:
            parent[root(name)] = root(names[0])
    return {nodeid: f"fixture {root(names[0])}" for nodeid, names in shared.items() if names}


def _costly_fixtures(item: pytest.Item) -> list[str]:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    return sorted(name for name, definitions in info.name2fixturedefs.items()
                  if definitions and definitions[-1].scope in ("session", "package")
                  and _defined_under(definitions[-1].func, TESTS))


def _defined_under(function, folder: Path) -> bool:
    try:
        return Path(inspect.getfile(function)).resolve().is_relative_to(folder)
    except TypeError:   # no source file
        return False
