"""The cluster write-back, end to end against a real local bare git repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from maestro.writeback import PASSWORD_VARIABLE, USERNAME_VARIABLE, WriteBack, write_back
from tests.support import REPO, git, seed_bare_repository

SECRET = "s3cr3t-token-value"


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare repository holding the example project and its compiled gitops/."""
    return seed_bare_repository(tmp_path, REPO)


def _request(origin: Path, promotion: str) -> WriteBack:
    return WriteBack(str(origin), "main", "gitops", promotion, "msft-momentum", "msft-momentum-x7k2p",
                     {"accuracy": 0.5612, "sharpe": 1.31, "p_value": 0.012})


def _checkout(origin: Path, ref: str, into: Path) -> Path:
    git(origin.parent, "clone", "--quiet", "--branch", ref, str(origin), str(into))
    return into


@pytest.mark.parametrize("promotion, ref", [
    pytest.param("pull-request", "maestro/msft-momentum-msft-momentum-x7k2p", id="pull-request"),
    pytest.param("direct", "main", id="direct"),
])
def test_write_back_pushes_a_compiled_proposal(origin: Path, tmp_path: Path, monkeypatch, promotion: str, ref: str) -> None:
    monkeypatch.setenv(USERNAME_VARIABLE, "bot")
    monkeypatch.setenv(PASSWORD_VARIABLE, SECRET)
    pushed = write_back(_request(origin, promotion))
    assert pushed.version == "v13" and pushed.ref == ref
    clone = _checkout(origin, ref, tmp_path / "check")
    spec = (clone / "pipelines/msft-momentum.yaml").read_text()
    assert "- {name: v13, run: msft-momentum-x7k2p}" in spec
    assert "experiment: {mode: shadow, candidate: v13, candidate_weight: 15}" in spec
    check = subprocess.run([sys.executable, "-m", "maestro", "compile", "--check", "--no-validate"],
                           cwd=clone, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    log = git(clone, "log", "-1", "--format=%an%n%B")
    assert "msft-momentum v13 from run msft-momentum-x7k2p" in log and "accuracy 0.5612" in log
    assert SECRET not in log and SECRET not in spec
    if promotion == "pull-request":
        assert git(origin, "rev-parse", "main") != pushed.commit


def test_a_failed_push_names_git_and_hides_the_password(origin: Path, monkeypatch) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, SECRET)
    request = _request(origin, "direct")
    broken = WriteBack(str(origin) + "-missing", *list(request.__dict__.values())[1:])
    from maestro.errors import UsageError
    with pytest.raises(UsageError) as failure:
        write_back(broken)
    assert "git clone failed" in str(failure.value) and SECRET not in str(failure.value)
