"""tests/conftest.py: without ../shared the `corpus`/`conformance` tests skip with one line; under CI they
fail. Both in one process and spread over pytest-xdist workers, as `make test` runs the suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")
TESTS = '''
import pytest

@pytest.mark.corpus
def test_needs_corpus():
    pass

@pytest.mark.conformance
def test_needs_apiserver():
    pass

@pytest.mark.corpus
@pytest.mark.parametrize("name", [])
def test_empty_without_corpus(name):
    pass

def test_plain():
    pass
'''


WORKERS = [pytest.param([], id="one-process"), pytest.param(["-n", "2"], id="xdist")]


def _run(tmp_path: Path, workers: list[str], **env: str) -> subprocess.CompletedProcess:
    repo = tmp_path / "clone"   # tmp_path/shared does not exist: the fresh-clone case
    (repo / "tests").mkdir(parents=True)
    shutil.copy(CONFTEST, repo / "tests" / "conftest.py")
    (repo / "tests" / "test_sample.py").write_text(TESTS)
    (repo / "pytest.ini").write_text("[pytest]\nmarkers =\n  corpus: x\n  conformance: y\n")
    # the outer run's options (PYTEST_ADDOPTS=-q...) and CI's requirement must not leak into the inner one
    environment = {k: v for k, v in os.environ.items() if k not in ("MAESTRO_REQUIRE_SHARED", "PYTEST_ADDOPTS")} | env
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                           "-W", "ignore::pytest.PytestUnknownMarkWarning", *workers, "tests"],
                          cwd=repo, capture_output=True, text=True, env=environment, timeout=120)


@pytest.mark.parametrize("workers", WORKERS)
def test_without_shared_marked_tests_skip_and_one_line_says_so(tmp_path, workers):
    result = _run(tmp_path, workers)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 3 skipped" in result.stdout
    [line] = [l for l in result.stdout.splitlines() if "for lack of ../shared" in l]
    assert "2 `corpus` test(s)" in line and "1 `conformance` test(s)" in line and str(tmp_path / "shared") in line


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("value", ["1"])
def test_require_shared_turns_every_such_skip_into_a_failure(tmp_path, value, workers):
    result = _run(tmp_path, workers, MAESTRO_REQUIRE_SHARED=value)
    assert result.returncode == 1, result.stdout
    assert "1 passed, 3 errors" in result.stdout  # failed in setup: reported as errors, exit status 1
    assert "MAESTRO_REQUIRE_SHARED=1" in result.stdout
