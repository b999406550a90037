"""Generate a large project from the example specs: N pipelines with varied names, teams and features.

In: the example project (pipelines/ and environments/ of this repository), a count and a seed.
Out: a new project folder whose pipelines compile in every example environment. The variation is
deterministic per (count, seed), so two runs of the benchmarks compile the same repository.
"""

from __future__ import annotations

import copy
import random
import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
MODEL_KINDS = ("lstm", "gru", "mlp", "transformer")
PIPELINES_PER_TEAM = 25


def example_specs(repo: Path = REPO) -> list[dict]:
    """The examples of the built-in market-data template: what the generator knows how to vary."""
    specs = [yaml.safe_load(p.read_text()) for p in sorted((repo / "pipelines").glob("*.yaml"))]
    return [spec for spec in specs if spec["spec"].get("template", "market-data") == "market-data"]


def make_project(root: Path, count: int, seed: int = 0, repo: Path = REPO, teams: int | None = None) -> Path:
    """A project at `root` with `count` pipelines in `teams` teams (default: one per 25) and the
    example environments."""
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(repo / "environments", root / "environments")
    (root / "pipelines").mkdir(parents=True)
    examples, rng = example_specs(repo), random.Random(seed)
    teams = teams or max(1, count // PIPELINES_PER_TEAM)
    for i in range(count):
        spec = vary(examples[i % len(examples)], i, teams, rng)
        write_spec(root, spec)
    return root


def write_spec(root: Path, spec: dict) -> Path:
    path = root / "pipelines" / f"{spec['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, width=120))
    return path


def vary(example: dict, index: int, teams: int, rng: random.Random) -> dict:
    """A copy of `example` renamed and perturbed; still valid under every example policy."""
    spec = copy.deepcopy(example)
    base = spec["metadata"]["name"].split("-")[0]
    spec["metadata"]["name"] = f"{base}-p{index:04d}"
    spec["metadata"]["team"] = f"team-{rng.randrange(teams):03d}"
    body = spec["spec"]
    body["features"] = _features(body["features"], rng)
    _model(body, rng)
    body["training"]["epochs"] = rng.randint(5, 40)
    if "schedule" in body and rng.random() < 0.3:
        del body["schedule"]
        for override in body.get("overrides", {}).values():
            override.pop("schedule", None)
    if body.get("serving", {}).get("experiment"):
        body["serving"]["experiment"]["candidate_weight"] = rng.randint(1, 25)
    return spec


def _features(features: list[dict], rng: random.Random) -> list[dict]:
    kept = [f for f in features if rng.random() < 0.8] or features[:1]
    return kept


def _model(body: dict, rng: random.Random) -> None:
    model = body["model"]
    model["kind"] = rng.choice(MODEL_KINDS)
    model["hidden_size"] = rng.choice((16, 32, 64))
    if model["kind"] == "transformer":
        model["heads"] = 4
    else:
        model.pop("heads", None)
