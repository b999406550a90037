"""The `Pipeline` kind of SPEC-v1 as pydantic models: what to train, evaluate, publish and serve.

Defaults applied here are the documented defaults of docs/spec.md; every model forbids unknown keys.
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

from .types import Cron, Duration, Fraction, Labels, Name, PositiveInt, Quantity, RunId, Ticker, Timezone



class SpecSection(BaseModel):
    """A mapping of a spec: unknown keys are refused, values are frozen, an explicit null means the default."""

    # defer_build: a model's validator is built when it first validates, not at import; a command
    # that never reads a spec of some kind (a custom pipeline, say) never pays for its model.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        """An explicit null removes a key, so its default applies; a field that accepts null (a
        schedule, the gate) takes it as "none". This keeps merged specs and single files alike."""
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if v is not None or k not in cls.model_fields
                or type(None) in typing.get_args(cls.model_fields[k].annotation)}


class Metadata(SpecSection):
    name: Name = Field(description="Unique across pipelines/; equals the file stem.")
    team: Name = Field(description="The tenant: selects namespace, quota and Argo CD project.")
    description: str = Field("", description="One line shown in Argo's UI and the model card.")
    labels: Labels = Field(
        default_factory=dict, description="Kubernetes labels copied onto every generated object.")


class Data(SpecSection):
    source: Literal["yfinance", "csv", "sample"] = Field(
        "yfinance", description="Where bars come from; `sample` is bundled offline history.")
    tickers: list[Ticker] = Field(min_length=1, max_length=50, description="1..50 symbols as Yahoo spells them.")
    start: dt.date = Field(description="First day of history.")
    end: Optional[dt.date] = Field(None, description="Last day of history; default: the day of the run.")
    interval: Literal["1d", "1wk"] = Field("1d", description="Bar size: daily (1d) or weekly (1wk).")
    path: Optional[str] = Field(
        None, description="CSV file (Date, Open, High, Low, Close, Volume[, Ticker]); source: csv only.")


class Quality(SpecSection):
    min_rows: PositiveInt = Field(250, description="Fewest bars accepted per ticker.")
    max_missing_fraction: Fraction = Field(0.01, description="Largest share of missing values accepted.")
    max_abs_return: Annotated[float, Field(gt=0)] = Field(
        0.5, description="Largest one-bar move accepted, as a fraction; a larger one is treated as a bad print.")
    max_stale_bars: PositiveInt = Field(
        5, description="Most consecutive bars with an unchanged close and no volume.")


class Returns(SpecSection):
    kind: Literal["returns"] = Field(description="k-bar returns c[t] / c[t-k] - 1.")
    periods: list[PositiveInt] = Field(
        default_factory=lambda: [1], min_length=1, description="The k of each return.")


class Sma(SpecSection):
    kind: Literal["sma"] = Field(description="Close relative to its simple moving average.")
    windows: list[Annotated[int, Field(ge=2)]] = Field(
        min_length=1, description="Window of each average, in bars.")


class Rsi(SpecSection):
    kind: Literal["rsi"] = Field(description="Wilder's RSI, scaled to 0..1.")
    window: Annotated[int, Field(ge=2)] = Field(14, description="Window in bars.")


class Macd(SpecSection):
    kind: Literal["macd"] = Field(description="MACD line, signal and histogram, divided by the close.")
    fast: PositiveInt = Field(12, description="Fast EMA span in bars; below slow.")
    slow: PositiveInt = Field(26, description="Slow EMA span in bars.")
    signal: PositiveInt = Field(9, description="Signal EMA span in bars.")


class Bollinger(SpecSection):
    kind: Literal["bollinger"] = Field(description="Bollinger %B and bandwidth.")
    window: Annotated[int, Field(ge=2)] = Field(20, description="Window in bars.")
    k: Annotated[float, Field(gt=0)] = Field(2.0, description="Band width in standard deviations.")


class Atr(SpecSection):
    kind: Literal["atr"] = Field(description="Wilder's average true range divided by the close.")
    window: PositiveInt = Field(14, description="Window in bars.")


class Volatility(SpecSection):
    kind: Literal["volatility"] = Field(description="Standard deviation of one-bar log returns.")
    window: Annotated[int, Field(ge=2)] = Field(20, description="Window in bars.")


class VolumeZscore(SpecSection):
    kind: Literal["volume_zscore"] = Field(description="Z-score of volume.")
    window: Annotated[int, Field(ge=2)] = Field(20, description="Window in bars.")


Feature = Annotated[
    Union[Returns, Sma, Rsi, Macd, Bollinger, Atr, Volatility, VolumeZscore], Field(discriminator="kind")
]


class Target(SpecSection):
    kind: Literal["direction", "return"] = Field(
        "direction", description="direction: up/down classification; return: regression of the forward return.")
    horizon: PositiveInt = Field(1, description="Bars ahead.")


class ModelSpec(SpecSection):
    kind: Literal["lstm", "gru", "transformer", "mlp"] = Field(
        "lstm", description="Network: lstm, gru, transformer or mlp (the window flattened).")
    sequence_length: PositiveInt = Field(30, description="Feature rows the model sees per prediction.")
    hidden_size: PositiveInt = Field(32, description="Width of the hidden layers.")
    layers: PositiveInt = Field(1, description="Number of recurrent, attention or dense layers.")
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(0.0, description="Dropout probability, 0 <= p < 1.")
    heads: PositiveInt = Field(4, description="Attention heads; transformer only; must divide hidden_size.")


class Resources(SpecSection):
    gpus: Annotated[int, Field(ge=0)] = Field(0, description="GPUs for the train step; 0 trains on CPU.")
    cpu: Quantity = Field("2", description="CPU request and limit of the train step (Kubernetes quantity).")
    memory: Quantity = Field(
        "4Gi", description="Memory request and limit of the train step (Kubernetes quantity).")
    shared_memory: Quantity = Field(
        "1Gi", description="Size of the memory-backed /dev/shm (PyTorch data loaders).")
    nodes: PositiveInt = Field(
        1, description="Nodes the train step spans; above 1 it runs as a Kubeflow Trainer TrainJob of "
                       "nodes x gpus workers, each node with the cpu, memory and GPUs above (docs/multinode.md).")
    allow_cpu_nodes: bool = Field(
        False, description="With nodes above 1 and no GPUs: train across nodes on CPU (gloo) anyway; "
                           "without it such a spec is refused as a likely mistake.")


class Training(SpecSection):
    epochs: PositiveInt = Field(20, description="Most passes over the training data.")
    batch_size: PositiveInt = Field(128, description="Samples per optimizer step.")
    learning_rate: Annotated[float, Field(gt=0)] = Field(0.001, description="Adam learning rate.")
    seed: int = Field(42, description="Random seed; the same seed and data give the same model on CPU.")
    early_stopping_patience: PositiveInt = Field(
        5, description="Epochs without improvement of the validation loss before training stops.")
    resources: Resources = Field(default_factory=Resources, description="Resources of the train step.")
    retries: Annotated[int, Field(ge=0, le=20)] = Field(
        2, description="Retries of the train step, with exponential backoff.")
    timeout: Duration = Field("2h", description="Longest the train step may run.")


class Gate(SpecSection):
    min_accuracy: Fraction = Field(0.5, description="Lowest walk-forward hit rate accepted.")
    min_sharpe: float = Field(
        0.0, description="Lowest annualized Sharpe ratio of the long/flat simulation accepted.")
    beat_baselines: bool = Field(True, description="The model must beat every naive baseline on the same folds.")
    max_p_value: Fraction = Field(
        0.05, description="Largest p-value of the one-sided test of the hit rate against the best baseline.")
    acknowledged_leak: Optional[Annotated[str, Field(min_length=1)]] = Field(
        None, description="Why results that look too good for market data (accuracy above 0.75 or p below "
                          "1e-12) are expected here; without it such a run is refused as a suspected leak.")


class Evaluation(SpecSection):
    folds: PositiveInt = Field(5, description="Walk-forward folds.")
    test_size: PositiveInt = Field(60, description="Bars per test block.")
    gap: Annotated[int, Field(ge=0)] = Field(
        5, description="Bars dropped between train and test (embargo); at least the target horizon.")
    transaction_cost_bps: Annotated[float, Field(ge=0)] = Field(
        5.0, description="Cost of each change of position, in basis points.")
    gate: Optional[Gate] = Field(default_factory=Gate, description="Promotion gate; null disables it.")


class StepResources(SpecSection):
    cpu: Quantity = Field("1", description="CPU request and limit (Kubernetes quantity).")
    memory: Quantity = Field("1Gi", description="Memory request and limit (Kubernetes quantity).")
    gpus: Annotated[int, Field(ge=0)] = Field(0, description="GPUs for this step.")


class CustomStep(SpecSection):
    name: Name = Field(description="Step name; unique, and not a built-in step's name.")
    after: list[str] = Field(default_factory=list, description="Steps that must finish first.")
    image: str = Field(min_length=1, description="Container image.")
    command: list[str] = Field(default_factory=list, description="Container command (entrypoint).")
    args: list[str] = Field(default_factory=list, description="Container arguments.")
    inputs: list[str] = Field(
        default_factory=list, description="Steps whose outputs are given to this one as artifacts.")
    resources: StepResources = Field(default_factory=StepResources, description="Resources of this step.")
    env: dict[str, str] = Field(
        default_factory=dict, description="Plain environment variables; credentials go in secrets.")
    secrets: list[Name] = Field(default_factory=list, description="Kubernetes Secret names, exposed with envFrom.")
    retries: Annotated[int, Field(ge=0, le=20)] = Field(0, description="Retries, with exponential backoff.")
    timeout: Duration = Field("1h", description="Longest the step may run.")


class Schedule(SpecSection):
    cron: Cron = Field(
        description="Five-field cron expression (minute hour day-of-month month day-of-week) or a macro such as @daily.")
    timezone: Timezone = Field("UTC", description="IANA time zone the cron expression is read in.")


class Version(SpecSection):
    name: Name = Field(description="Version name, e.g. v3.")
    run: RunId = Field(description="The training run (Argo Workflow name) whose published model this is.")


class Experiment(SpecSection):
    mode: Literal["ab", "shadow"] = Field(
        "ab", description="ab: split traffic; shadow: mirror traffic, discard the candidate's answers.")
    candidate: Name = Field(description="The version tested against the default; one of serving.versions.")
    candidate_weight: Annotated[int, Field(ge=1, le=99)] = Field(
        10, description="Percent of traffic (ab) or of mirrored requests (shadow), 1-99.")


class ServedVersions(SpecSection):
    """What every serving section has, whichever template trained the model: the Seldon server, the
    replicas and memory of each model, and the versions `maestro promote` maintains."""

    runtime: Literal["triton", "mlserver"] = Field("triton", description="triton (TorchScript) or mlserver.")
    replicas: PositiveInt = Field(1, description="Replicas of each served model.")
    memory: Quantity = Field("1Gi", description="Memory of each served model (Kubernetes quantity).")
    versions: list[Version] = Field(
        default_factory=list, description="Published model versions; maintained by `maestro promote`.")
    default: Optional[Name] = Field(
        None, description="The version that takes traffic; one of versions, required when versions are listed.")
    experiment: Optional[Experiment] = Field(
        None, description="Optional: test a candidate version against the default.")
    previous_default: Optional[Name] = Field(
        None, description="The default before the last `maestro promote --as default`; one of versions. "
                          "`maestro promote --rollback` swaps it with default.")

    @model_serializer(mode="wrap")
    def _without_unset_previous_default(self, handler):
        """Serving without `previous_default` dumps as before the field existed: unchanged spec.json."""
        dumped = handler(self)
        if isinstance(dumped, dict) and dumped.get("previous_default") is None:
            dumped.pop("previous_default", None)
        return dumped


class Serving(ServedVersions):
    """The built-in template's serving: a TorchScript model on Triton, or MLflow's on MLServer."""


class Monitoring(SpecSection):
    max_hours_since_success: PositiveInt = Field(
        48, description="Alert when no training run succeeded for this many hours.")


class PipelineSpec(SpecSection):
    # Left out of spec.json (exclude): the market-data template's compiled output stays what it was.
    template: Literal["market-data"] = Field(
        "market-data", exclude=True,
        description="market-data: the built-in DAG below (the default); custom: the DAG is spec.steps "
                    "(docs/spec.md, bring your own pipeline).")
    data: Data = Field(description="Where the bars come from.")
    quality: Quality = Field(
        default_factory=Quality, description="Checks on raw data; a failure stops the run with a report.")
    features: list[Feature] = Field(
        min_length=1, description="Ordered list of features, each computed from data at or before its bar.")
    target: Target = Field(default_factory=Target, description="What the model predicts.")
    model: ModelSpec = Field(default_factory=ModelSpec, description="The network.")
    training: Training = Field(default_factory=Training, description="How the model is trained.")
    evaluation: Evaluation = Field(
        default_factory=Evaluation, description="Walk-forward evaluation and the promotion gate.")
    steps: list[CustomStep] = Field(
        default_factory=list, description="Custom container steps, inserted into the DAG.")
    schedule: Optional[Schedule] = Field(None, description="Retraining schedule; omit for on-demand only.")
    serving: Optional[Serving] = Field(None, description="Seldon Core v2 serving; omit to only store the model.")
    monitoring: Monitoring = Field(default_factory=Monitoring, description="Alerting on stale models.")
    overrides: dict[Name, dict[str, Any]] = Field(
        default_factory=dict, description="Per-environment patches, deep-merged over spec.")


class Pipeline(SpecSection):
    apiVersion: Literal["maestro/v1"] = Field(description="Always maestro/v1.")
    kind: Literal["Pipeline"] = Field(description="Always Pipeline.")
    metadata: Metadata = Field(description="Name, team, description and labels.")
    spec: PipelineSpec = Field(description="What to train, evaluate, publish and serve.")
