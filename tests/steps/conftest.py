"""Fixtures of the step-runtime tests: synthetic bar series and throwaway projects to run them in."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support import Outcome, maestro

REPO = Path(__file__).resolve().parents[2]

# One torch thread everywhere: float sums, hence trained weights, depend on the thread count, and the
# honesty and determinism tests must give the same figures on a laptop, a workstation and CI.
os.environ["MAESTRO_TORCH_THREADS"] = "1"

ENVIRONMENT = """\
apiVersion: maestro/v1
kind: Environment
metadata: {name: dev}
spec:
  image: ghcr.io/acme/maestro-steps:0.1.0
  gitops: {repo_url: "https://github.com/acme/ml-platform.git", promotion: direct}
  artifacts: {bucket: acme-ml-dev, endpoint: "minio.minio.svc:9000"}
"""


def synthetic_bars(kind: str, n: int = 1500, seed: int = 7) -> pd.DataFrame:
    """Daily bars whose one-bar direction is random ("walk") or, 90% of the time, the product of the
    two previous directions ("rule"): up after up-up or down-down, down otherwise. No baseline that
    looks at one bar, at the majority or at the drift can see the rule; the magnitudes are random."""
    rng = np.random.default_rng(seed)
    size = np.abs(rng.normal(0, 0.01, n)) + 0.001
    sign = np.ones(n)
    sign[1] = -1
    for t in range(2, n):
        rule = sign[t - 1] * sign[t - 2]
        sign[t] = rng.choice([-1.0, 1.0]) if kind == "walk" else (rule if rng.random() < 0.9 else -rule)
    close = 100 * np.cumprod(1 + sign * size)
    open_ = np.concatenate([[100.0], close[:-1]])
    return pd.DataFrame({
        "Date": pd.bdate_range("2001-01-01", periods=n).strftime("%Y-%m-%d"),
        "Open": open_, "High": np.maximum(open_, close) * (1 + rng.uniform(0, 0.003, n)),
        "Low": np.minimum(open_, close) * (1 - rng.uniform(0, 0.003, n)), "Close": close,
        "Volume": rng.integers(100_000, 1_000_000, n),
    })


LEAK_NOTE = "synthetic bars with a planted rule: near-perfect calls are the point"


def pipeline_yaml(name: str, csv: str, end: str, model: str = "mlp", runtime: str = "triton", extra: str = "",
                  acknowledged_leak: str = LEAK_NOTE) -> str:
    acknowledgement = f", acknowledged_leak: {acknowledged_leak!r}" if acknowledged_leak else ""
    return textwrap.dedent(f"""\
        apiVersion: maestro/v1
        kind: Pipeline
        metadata: {{name: {name}, team: quant-research, description: Synthetic bars for tests.}}
        spec:
          data: {{source: csv, tickers: [SYN], start: 2001-01-01, end: {end}, path: {csv}}}
          quality: {{min_rows: 500}}
          features:
            - {{kind: returns, periods: [1, 2]}}
          target: {{kind: direction, horizon: 1}}
          model: {{kind: {model}, sequence_length: 3, hidden_size: 32, layers: 1, dropout: 0.0}}
          training: {{epochs: 60, batch_size: 64, learning_rate: 0.01, early_stopping_patience: 10}}
          evaluation:
            folds: 3
            test_size: 100
            gap: 2
            transaction_cost_bps: 1
            gate: {{min_accuracy: 0.6, min_sharpe: 0.5, beat_baselines: true, max_p_value: 0.01{acknowledgement}}}
          serving: {{runtime: {runtime}}}
        """) + extra


def make_project(root: Path, kind: str, name: str = "syn", **options) -> Path:
    """A project folder with environments/dev.yaml, data/<kind>.csv and pipelines/<name>.yaml."""
    (root / "environments").mkdir(parents=True)
    (root / "pipelines").mkdir()
    (root / "data").mkdir()
    (root / "environments" / "dev.yaml").write_text(ENVIRONMENT)
    bars = synthetic_bars(kind)
    bars.to_csv(root / "data" / f"{kind}.csv", index=False)
    end = bars["Date"].iloc[-1]
    (root / "pipelines" / f"{name}.yaml").write_text(pipeline_yaml(name, f"data/{kind}.csv", end, **options))
    return root


def run_cli(*args: str) -> Outcome:
    """`maestro run ARGS` in-process, through the real entry point."""
    return maestro(None, "run", *args)


def read_summary(output: Path) -> dict:
    return json.loads((output / "summary.json").read_text())


@pytest.fixture(scope="session")
def learnable_run(tmp_path_factory):
    """One end-to-end run on the learnable series, shared by the tests that inspect its outputs."""
    root = make_project(tmp_path_factory.mktemp("rule"), "rule")
    result = run_cli("syn", "--root", str(root), "--output-dir", str(root / "out"))
    return root, result


@pytest.fixture(scope="session")
def dev_example_run(tmp_path_factory):
    """The repository's example pipeline in dev, offline (the sample data), in a fresh output dir."""
    output = tmp_path_factory.mktemp("dev") / "run"
    result = run_cli("aapl-direction", "--root", str(REPO), "--env", "dev", "--output-dir", str(output))
    return output, result


def pipeline_model(data: dict, **spec):
    """A Pipeline and an Environment as the pods get them, for calling one step directly."""
    from maestro.language.environment import Environment
    from maestro.language.pipeline import Pipeline

    pipeline = Pipeline.model_validate({
        "apiVersion": "maestro/v1", "kind": "Pipeline", "metadata": {"name": "unit", "team": "t"},
        "spec": {"data": data, "features": [{"kind": "returns"}], **spec}})
    environment = Environment.model_validate({
        "apiVersion": "maestro/v1", "kind": "Environment", "metadata": {"name": "dev"},
        "spec": {"image": "img", "gitops": {"repo_url": "https://x/y.git"}, "artifacts": {"bucket": "bkt", "endpoint": "s3"}}})
    return pipeline, environment


def step_context(tmp_path: Path, data: dict, **spec):
    from maestro.steps.context import StepContext

    pipeline, environment = pipeline_model(data, **spec)
    return StepContext(pipeline, environment, tmp_path / "work", "unit-run", root=tmp_path, torch_threads=1)
