"""teams.yaml through the real CLI: the compile cache honours it, symlinks are refused, CODEOWNERS follows it."""

from __future__ import annotations

import shutil
from pathlib import Path

from .conftest import REPO
from tests.support import copy_examples


def project(tmp_path: Path) -> Path:
    root = copy_examples(tmp_path / "project")
    shutil.copy(REPO / "teams.yaml", root / "teams.yaml")
    return root


def test_dropping_a_team_refuses_its_cached_pipelines(tmp_path, maestro) -> None:
    root = project(tmp_path)
    assert maestro("compile", "--root", root, "--no-validate").returncode == 0
    teams = root / "teams.yaml"
    text = teams.read_text()
    teams.write_text(text[:text.index("    risk-lab:")])
    result = maestro("compile", "--root", root, "--no-validate")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith(
        "pipelines/goog-volatility.yaml:7:9: error: metadata.team: team 'risk-lab' is not declared in teams.yaml")


def test_codeowners_follows_teams_yaml(tmp_path, maestro) -> None:
    root = project(tmp_path)
    assert maestro("compile", "--root", root, "--no-validate").returncode == 0
    teams = root / "teams.yaml"
    teams.write_text(teams.read_text().replace('"@acme/risk-lab"', '"@acme/risk-desk"'))
    assert maestro("compile", "--root", root, "--check", "--no-validate").returncode == 1
    assert maestro("compile", "--root", root, "--no-validate").returncode == 0
    assert "/pipelines/goog-volatility.yaml @acme/risk-desk" in (root / "gitops" / "CODEOWNERS").read_text()


def test_a_symlinked_teams_yaml_is_refused(tmp_path, maestro) -> None:
    root = copy_examples(tmp_path / "project")
    outside = tmp_path / "outside.yaml"
    outside.write_text("apiVersion: maestro/v1\nkind: Teams\nspec: {owners: ['@x'], teams: {}}\n")
    (root / "teams.yaml").symlink_to(outside)
    result = maestro("compile", "--root", root, "--no-validate")
    assert (result.returncode, result.stderr.splitlines()[0]) == (
        1, "teams.yaml: error: is a symbolic link; teams.yaml must be a file of the repository")
    assert not (root / "gitops").exists()
