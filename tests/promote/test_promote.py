"""`maestro promote` on a temporary git repository: minimal diffs, refusals, the full loop."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.compile.conftest import refusing_model_schemas
from tests.support import REPO, Outcome, golden_hint, maestro, regenerating_golden
SNAPSHOTS = Path(__file__).parent / "snapshots"


def _run(root: Path, *args: str) -> Outcome:
    return maestro(root, *args)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for folder in ("pipelines", "environments"):
        shutil.copytree(REPO / folder, root / folder)
    _passed_staging(root, "aapl-direction-5e6f7a", "aapl-direction-aa11bb", "aapl-direction-cc22dd")
    _git(root, "init", "-q", "-b", "main")
    assert _run(root, "compile").returncode == 0
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "seed")
    return root


def _passed_staging(root: Path, *runs: str) -> None:
    """prod promotes from staging (environments/prod.yaml): record the runs these tests promote as
    having passed staging's gate, as staging's write-back would have (tests/promote/test_environments.py
    covers the refusals)."""
    folder = root / "promotions" / "aapl-direction"
    folder.mkdir(parents=True)
    (folder / "staging.yaml").write_text(
        "apiVersion: maestro/v1\nkind: PromotionRecord\nmetadata: {pipeline: aapl-direction, environment: staging}\n"
        "passed:\n" + "".join(f"  - {{run: {run}, version: v{5 + i}}}\n" for i, run in enumerate(runs)))


def _changed_lines(root: Path, path: str) -> list[str]:
    diff = _git(root, "diff", "-U0", "--", path)
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_comments_survive_and_the_diff_is_minimal(repo: Path) -> None:
    result = _run(repo, "promote", "aapl-direction", "--version", "v5", "--run", "aapl-direction-5e6f7a",
                  "--as", "candidate", "--weight", "15")
    assert result.returncode == 0, result.stderr
    text = (repo / "pipelines/aapl-direction.yaml").read_text()
    assert "# Next-day direction of AAPL with an LSTM" in text
    assert "versions:                     # maintained by `maestro promote`" in text
    assert _changed_lines(repo, "pipelines/aapl-direction.yaml") == [
        "+      - {name: v5, run: aapl-direction-5e6f7a}",
        "-      candidate: v4", "-      candidate_weight: 20", "+      candidate: v5", "+      candidate_weight: 15",
    ]
    assert "serving.experiment.candidate v4 → v5" in result.stdout


@pytest.mark.parametrize("args, message", [
    pytest.param(["--version", "v5", "--run", "r-1", "--as", "candidate", "--weight", "40"],
                 "pipelines/aapl-direction.yaml:72:25: error: spec.serving.experiment.candidate_weight: 40 exceeds "
                 "prod's policy.max_candidate_weight 25", id="weight-over-policy"),
    pytest.param(["--version", "v9", "--as", "default"],
                 "error: spec.serving.versions: version 'v9' is not among serving.versions", id="unknown-version"),
    pytest.param(["--version", "v4", "--run", "other-run", "--as", "candidate"],
                 "error: spec.serving.versions: version 'v4' already points at run", id="run-mismatch"),
    pytest.param(["--version", "v3", "--as", "candidate"], "'v3' is already the default", id="candidate-is-default"),
])
def test_a_refused_edit_leaves_the_file_byte_identical(repo: Path, args: list[str], message: str) -> None:
    spec = repo / "pipelines/aapl-direction.yaml"
    before = spec.read_bytes()
    result = _run(repo, "promote", "aapl-direction", *args)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert spec.read_bytes() == before
    assert not [p for p in spec.parent.iterdir() if p.name.startswith(".")]


def test_an_edit_whose_tree_compile_would_refuse_is_refused(repo: Path, tmp_path: Path, monkeypatch) -> None:
    """The edited tree is validated as `maestro compile` validates it: here by a Model schema that
    refuses the s3:// storage URI of the new version."""
    monkeypatch.setenv("MAESTRO_SCHEMA_LOCATION", str(refusing_model_schemas(tmp_path / "schemas")))
    spec = repo / "pipelines/aapl-direction.yaml"
    before = spec.read_bytes()
    result = _run(repo, "promote", "aapl-direction", "--version", "v5", "--run", "aapl-direction-5e6f7a",
                  "--as", "candidate")
    assert result.returncode == 1
    assert "gitops/prod/quant-research-prod/model-aapl-direction-v5.yaml" in result.stderr
    assert "storageUri" in result.stderr and spec.read_bytes() == before


def _experiments(root: Path, env: str) -> list[dict]:
    folder = root / "gitops" / env / "quant-research-prod".replace("prod", env)
    bodies = [yaml.safe_load(p.read_text()) for p in sorted(folder.glob("experiment-*.yaml"))]
    return [b for b in bodies if b["metadata"]["labels"]["maestro.dev/pipeline"] == "aapl-direction"]


def test_candidate_then_default_then_next_candidate(repo: Path) -> None:
    steps = [
        (["--version", "v5", "--run", "aapl-direction-aa11bb", "--as", "candidate", "--weight", "10"],
         [("aapl-direction-v3", 90), ("aapl-direction-v5", 10)]),
        (["--version", "v5", "--as", "default"], None),
        (["--version", "v6", "--run", "aapl-direction-cc22dd", "--as", "candidate", "--weight", "25"],
         [("aapl-direction-v5", 75), ("aapl-direction-v6", 25)]),
    ]
    for args, candidates in steps:
        assert _run(repo, "promote", "aapl-direction", *args).returncode == 0
        assert _run(repo, "compile").returncode == 0
        experiments = _experiments(repo, "prod")
        if candidates is None:
            assert experiments == []
            continue
        (experiment,) = experiments
        assert experiment["spec"]["default"] == candidates[0][0]
        assert [(c["name"], c["weight"]) for c in experiment["spec"]["candidates"]] == candidates
        assert _run(repo, "compile", "--check").returncode == 0


def test_markdown_diff_snapshot(repo: Path) -> None:
    spec = repo / "pipelines/msft-momentum.yaml"
    spec.write_text(spec.read_text().replace("candidate_weight: 15", "candidate_weight: 10"))
    result = _run(repo, "diff", "--env", "prod", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    snapshot = SNAPSHOTS / "msft-weight-change.md"
    if regenerating_golden():
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(result.stdout)
    assert result.stdout == snapshot.read_text(), golden_hint(snapshot.name)


# ---- issue 11: `maestro promote` never writes or reads through a symbolic link ------------------

PROMOTE_V5 = ["promote", "aapl-direction", "--version", "v5", "--run", "aapl-direction-5e6f7a", "--as", "candidate"]


def test_a_planted_link_at_the_old_temporary_name_is_never_written_through(repo: Path, tmp_path: Path) -> None:
    """The exploit: promote wrote `.aapl-direction.yaml.maestro-tmp` with a plain open, so a link
    planted at that name sent the spec's text into any file the user can write."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    planted = repo / "pipelines/.aapl-direction.yaml.maestro-tmp"
    planted.symlink_to(victim)
    result = _run(repo, *PROMOTE_V5)
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "precious\n"
    assert planted.is_symlink() and os.readlink(planted) == str(victim)
    assert "{name: v5, run: aapl-direction-5e6f7a}" in (repo / "pipelines/aapl-direction.yaml").read_text()
    assert not (repo / "pipelines/aapl-direction.yaml").is_symlink()
    assert sorted(p.name for p in (repo / "pipelines").iterdir() if p.name.startswith(".")) == [planted.name]


@pytest.mark.parametrize("linked", ["pipelines/aapl-direction.yaml", "pipelines"])
def test_a_spec_reached_through_a_link_is_refused(repo: Path, tmp_path: Path, linked: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / Path(linked).name
    (repo / linked).rename(target)
    (repo / linked).symlink_to(target)
    spec = outside / "aapl-direction.yaml" if linked.endswith(".yaml") else target / "aapl-direction.yaml"
    before = spec.read_bytes()
    result = _run(repo, *PROMOTE_V5)
    assert result.returncode == 2, result.stderr
    assert f"error: {linked} is a symbolic link" in result.stderr
    assert "Traceback" not in result.stderr and "Next-day direction" not in result.stderr
    assert spec.read_bytes() == before
    assert [p.name for p in spec.parent.iterdir() if p.name.startswith(".")] == []
