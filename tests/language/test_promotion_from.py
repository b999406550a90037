"""`spec.promotion.from` of an environment, validated across environments with located errors:
naming itself, an unknown environment, or closing a cycle (reported once, at the closing `from`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import copy_examples, maestro


def _set_from(root: Path, env: str, source: str) -> str:
    """Give `env` a `promotion.from`; return the position of its value."""
    path = root / "environments" / f"{env}.yaml"
    text = path.read_text().replace("  promotion: {from: staging}\n", "")     # the examples' prod has one
    path.write_text(text.replace("\nspec:\n", f"\nspec:\n  promotion:\n    from: {source}\n", 1))
    line = path.read_text().splitlines().index(f"    from: {source}") + 1
    return f"environments/{env}.yaml:{line}:11"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_examples(tmp_path / "project")


def _errors(root: Path) -> list[str]:
    result = maestro(root, "compile")
    assert result.returncode == 1, result.stdout + result.stderr
    assert not (root / "gitops").exists()
    return [line for line in result.stderr.splitlines() if ": error: " in line]


def test_a_chain_compiles(root: Path) -> None:
    _set_from(root, "prod", "staging")
    _set_from(root, "staging", "dev")
    assert maestro(root, "compile").returncode == 0


def test_naming_itself(root: Path) -> None:
    at = _set_from(root, "prod", "prod")
    assert _errors(root) == [f"{at}: error: spec.promotion.from: environment 'prod' cannot promote from itself "
                             "(name the lower environment a version must pass first, e.g. staging)"]


def test_an_unknown_environment(root: Path) -> None:
    at = _set_from(root, "prod", "stagin")
    assert _errors(root) == [f"{at}: error: spec.promotion.from: no environment named 'stagin' to promote from "
                             "(did you mean 'staging'?)"]


def test_a_cycle_is_reported_once_at_the_from_that_closes_it(root: Path) -> None:
    """Walking from the first environment by name (dev), staging's `from: dev` is the edge back."""
    _set_from(root, "prod", "staging")
    at = _set_from(root, "staging", "dev")
    _set_from(root, "dev", "prod")
    assert _errors(root) == [f"{at}: error: spec.promotion.from: promotion.from closes a cycle: "
                             "dev -> prod -> staging -> dev (a version must start somewhere: remove "
                             "promotion.from from one of them)"]


def test_a_from_naming_an_invalid_environment_adds_no_error(root: Path) -> None:
    """staging's own error is the one to fix; prod's `from: staging` is not reported as unknown."""
    staging = root / "environments/staging.yaml"
    staging.write_text(staging.read_text().replace("max_candidate_weight: 50", "max_candidate_weight: 500"))
    errors = _errors(root)
    assert any(e.startswith("environments/staging.yaml:") and "max_candidate_weight" in e for e in errors)
    assert not [e for e in errors if "promotion" in e], errors


def test_not_a_name(root: Path) -> None:
    at = _set_from(root, "prod", "Not_A_Name")
    assert f"{at}: error: spec.promotion.from: 'Not_A_Name' is not a valid name" in " ".join(_errors(root))
