"""policy.gate_floor: a pipeline may tighten its promotion gate in an environment, never loosen it
below the floor nor remove it; the floor's bounds are inclusive."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro.errors import MaestroError
from maestro.project import load_project
from maestro.language.policy import check_gate_floor, check_policy
from tests.support import copy_examples

GATE = "    gate: {min_accuracy: 0.53, min_sharpe: 0.2, beat_baselines: true, max_p_value: 0.05}\n"


def _project(tmp_path: Path, gate: str, require_gate: bool = True) -> Path:
    root = copy_examples(tmp_path / "project")
    spec = root / "pipelines/msft-momentum.yaml"
    text = spec.read_text()
    assert GATE in text
    spec.write_text(text.replace(GATE, f"    gate: {gate}\n"))
    if not require_gate:
        env = root / "environments/staging.yaml"
        env.write_text(env.read_text().replace("    require_gate: true\n", "    require_gate: false\n"))
    return root


def _refusals(root: Path) -> list[str]:
    try:
        load_project(root)
    except MaestroError as error:
        return [d.format() for d in error.diagnostics]
    return []


@pytest.mark.parametrize("gate", [
    pytest.param("{min_accuracy: 0.5, min_sharpe: 0.0, beat_baselines: true, max_p_value: 0.1}", id="exactly-the-floor"),
    pytest.param("{min_accuracy: 0.6, min_sharpe: 1.0, beat_baselines: true, max_p_value: 0.01}", id="tighter"),
])
def test_a_gate_at_or_above_the_floor_passes(tmp_path: Path, gate: str) -> None:
    assert _refusals(_project(tmp_path, gate)) == []


def test_removing_the_gate_breaks_the_floor_without_require_gate(tmp_path: Path) -> None:
    root = _project(tmp_path, "null", require_gate=False)
    found = _refusals(root)
    assert len(found) == 2, found   # staging by its floor, prod by require_gate
    staging = next(line for line in found if "staging" in line)
    assert "spec.evaluation.gate: the promotion gate is removed, but staging's policy.gate_floor requires one" in staging
    assert staging.endswith(")") and "environments/staging.yaml:" in staging


def test_no_floor_no_finding(tmp_path: Path) -> None:
    root = _project(tmp_path, "{min_accuracy: 0, min_sharpe: -9, beat_baselines: false, max_p_value: 1}")
    project = load_project(root, ["dev"])
    dev = project.environments["dev"]
    pipeline = project.effective[("msft-momentum", "dev")].pipeline
    assert dev.spec.policy.gate_floor is None
    assert list(check_gate_floor(dev, pipeline)) == [] and check_policy(dev, pipeline) == []
