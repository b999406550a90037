"""Fixtures for the target tests: the example project's plan, small temp projects, the schemas."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from maestro.lower import lower
from maestro.project import load_project
from maestro.targets import argocd, monitoring, platform, seldon

REPO = Path(__file__).resolve().parents[2]
# The schemas shipped with Maestro (gzip JSON, laid out as shared/schemas is).
SCHEMAS = REPO / "compiler" / "maestro" / "schemas"
# The Argo Workflows target is the lead's; these are the targets of this suite.
EMITTERS = (platform.emit, monitoring.emit, seldon.emit, argocd.emit)

PIPELINE = """\
apiVersion: maestro/v1
kind: Pipeline
metadata:
  name: {name}
  team: {team}
spec:
  data: {{source: sample, tickers: [AAPL], start: 2005-01-01, end: 2012-12-31}}
  features:
    - {{kind: returns, periods: [1]}}
  schedule: {{cron: "0 6 * * 1-5", timezone: UTC}}
  serving:
    runtime: {runtime}
    replicas: 2
    memory: 1Gi
    versions:
      - {{name: v1, run: {name}-aaaaaa}}
      - {{name: {candidate}, run: {name}-bbbbbb}}
    default: v1
    experiment: {{mode: {mode}, candidate: {candidate}, candidate_weight: {weight}}}
"""


def example_plan():
    return lower(load_project(REPO))


@pytest.fixture(scope="session")
def project():
    """The example project as loaded: the specs the plan is lowered from."""
    return load_project(REPO)


@pytest.fixture(scope="session")
def plan(project):
    return lower(project)


@pytest.fixture(scope="session")
def all_outputs(plan):
    return [(env.name, output) for env in plan.environments for emit in EMITTERS for output in emit(env)]


def write_project(root: Path, pipelines: dict[str, str], environments: dict[str, str] | None = None) -> Path:
    """A project with the example environments (or the given ones) and the given pipeline files."""
    shutil.copytree(REPO / "environments", root / "environments")
    for name, text in (environments or {}).items():
        (root / "environments" / f"{name}.yaml").write_text(textwrap.dedent(text))
    (root / "pipelines").mkdir()
    for name, text in pipelines.items():
        (root / "pipelines" / f"{name}.yaml").write_text(text)
    return root


def pipeline_yaml(name="demo", team="quant-research", runtime="triton", mode="ab", candidate="v2", weight=20):
    return PIPELINE.format(name=name, team=team, runtime=runtime, mode=mode, candidate=candidate, weight=weight)


def plan_of(root: Path, env: str):
    return next(e for e in lower(load_project(root)).environments if e.name == env)
