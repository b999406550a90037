"""gitops/CODEOWNERS from teams.yaml: a change to a team's files needs that team's review."""

from __future__ import annotations

import shutil

import pytest

from maestro.targets.codeowners import codeowners
from maestro.lower import lower
from maestro.project import load_project
from maestro.language.teams import owns

from .conftest import REPO, example_plan


def owners_of(text: str, path: str) -> list[str]:
    """GitHub's rule: the last line whose pattern covers the path decides."""
    found: list[str] = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            pattern, *owners = line.split()
            if pattern == "*" or owns(pattern.lstrip("/"), path):
                found = owners
    return found


@pytest.fixture(scope="module")
def text() -> str:
    return codeowners(example_plan()).decode()


@pytest.mark.parametrize(("path", "owner"), [
    pytest.param("pipelines/aapl-direction.yaml", "@acme/quant-research", id="own-pipeline"),
    pytest.param("pipelines/goog-volatility.yaml", "@acme/risk-lab", id="other-team-pipeline"),
    pytest.param("gitops/prod/risk-lab-prod/workflowtemplate-goog-volatility.yaml", "@acme/risk-lab", id="namespace-folder"),
    pytest.param("gitops/prod/quant-research-prod/model-aapl-direction-v3.yaml", "@acme/quant-research", id="served-model"),
    pytest.param("pipelines/new-pipeline.yaml", "@acme/ml-platform", id="unowned-pipeline"),
    pytest.param("teams.yaml", "@acme/ml-platform", id="teams"),
    pytest.param("environments/prod.yaml", "@acme/ml-platform", id="environment"),
    pytest.param("gitops/prod/argocd/appproject-maestro-prod-risk-lab-prod.yaml", "@acme/ml-platform", id="argocd"),
    pytest.param("gitops/bootstrap/prod.yaml", "@acme/ml-platform", id="bootstrap"),
    pytest.param(".github/CODEOWNERS", "@acme/ml-platform", id="codeowners"),
])
def test_each_path_needs_its_owner(text: str, path: str, owner: str) -> None:
    assert owners_of(text, path) == [owner]


def test_the_committed_tree_holds_it(text: str) -> None:
    assert (REPO / "gitops" / "CODEOWNERS").read_text() == text


def test_without_teams_yaml_nobody_is_asked(tmp_path) -> None:
    for folder in ("pipelines", "environments"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    text = codeowners(lower(load_project(tmp_path))).decode()
    assert [line for line in text.splitlines() if line and not line.startswith("#")] == []


@pytest.mark.parametrize(("pattern", "path", "covered"), [
    ("pipelines/aapl-*.yaml", "pipelines/aapl-direction.yaml", True),
    ("pipelines/aapl-*.yaml", "pipelines/sub/aapl-x.yaml", False),
    ("pipelines/", "pipelines/a.yaml", True),
    ("pipelines", "pipelines/a.yaml", True),
    ("pipelines/**/x.yaml", "pipelines/a/b/x.yaml", True),
    ("pipelines/**/x.yaml", "pipelines/x.yaml", True),
    ("pipelines/a?.yaml", "pipelines/ab.yaml", True),
    ("pipelines/a.yaml", "pipelines/a.yaml.bak", False),
    ("pipelines/a.yaml", "pipelinesXa.yaml", False),
])
def test_patterns_follow_codeowners(pattern: str, path: str, covered: bool) -> None:
    assert owns(pattern, path) is covered
