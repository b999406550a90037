"""The `Pipeline` kind of SPEC-v1 as pydantic models: what to train, evaluate, publish and serve.

Defaults applied here are the documented defaults of docs/spec.md; every model forbids unknown keys.
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .types import Cron, Duration, Fraction, Labels, Name, Percent, PositiveInt, Quantity, RunId, Ticker, Timezone

BUILTIN_STEPS = ("ingest", "validate", "features", "train", "evaluate", "gate", "publish")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        """An explicit null removes a key, so its default applies; a field that accepts null (a
        schedule, the gate) takes it as "none". This keeps merged specs and single files alike."""
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if v is not None or k not in cls.model_fields
                or type(None) in typing.get_args(cls.model_fields[k].annotation)}


class Metadata(Strict):
    name: Name = Field(description="Unique across pipelines/; equals the file stem.")
    team: Name = Field(description="The tenant: selects namespace, quota and Argo CD project.")
    description: str = Field("", description="One line shown in Argo's UI and the model card.")
    labels: Labels = Field(default_factory=dict, description="Kubernetes labels copied onto every generated object.")


class Data(Strict):
    source: Literal["yfinance", "csv", "sample"] = Field("yfinance", description="Where bars come from; `sample` is bundled offline history.")
    tickers: list[Ticker] = Field(min_length=1, max_length=50, description="1..50 symbols as Yahoo spells them.")
    start: dt.date = Field(description="First day of history.")
    end: Optional[dt.date] = Field(None, description="Last day of history; default: the day of the run.")
    interval: Literal["1d", "1wk"] = "1d"
    path: Optional[str] = Field(None, description="CSV file (Date, Open, High, Low, Close, Volume[, Ticker]); source: csv only.")


class Quality(Strict):
    min_rows: PositiveInt = 250
    max_missing_fraction: Fraction = 0.01
    max_abs_return: Annotated[float, Field(gt=0)] = 0.5
    max_stale_bars: PositiveInt = Field(5, description="Most consecutive bars with an unchanged close and no volume.")


class Returns(Strict):
    kind: Literal["returns"]
    periods: list[PositiveInt] = Field(default_factory=lambda: [1], min_length=1)


class Sma(Strict):
    kind: Literal["sma"]
    windows: list[Annotated[int, Field(ge=2)]] = Field(min_length=1)


class Rsi(Strict):
    kind: Literal["rsi"]
    window: Annotated[int, Field(ge=2)] = 14


class Macd(Strict):
    kind: Literal["macd"]
    fast: PositiveInt = 12
    slow: PositiveInt = 26
    signal: PositiveInt = 9


class Bollinger(Strict):
    kind: Literal["bollinger"]
    window: Annotated[int, Field(ge=2)] = 20
    k: Annotated[float, Field(gt=0)] = 2.0


class Atr(Strict):
    kind: Literal["atr"]
    window: PositiveInt = 14


class Volatility(Strict):
    kind: Literal["volatility"]
    window: Annotated[int, Field(ge=2)] = 20


class VolumeZscore(Strict):
    kind: Literal["volume_zscore"]
    window: Annotated[int, Field(ge=2)] = 20


Feature = Annotated[
    Union[Returns, Sma, Rsi, Macd, Bollinger, Atr, Volatility, VolumeZscore], Field(discriminator="kind")
]


class Target(Strict):
    kind: Literal["direction", "return"] = "direction"
    horizon: PositiveInt = 1


class ModelSpec(Strict):
    kind: Literal["lstm", "gru", "transformer", "mlp"] = "lstm"
    sequence_length: PositiveInt = 30
    hidden_size: PositiveInt = 32
    layers: PositiveInt = 1
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    heads: PositiveInt = Field(4, description="Attention heads; transformer only; must divide hidden_size.")


class Resources(Strict):
    gpus: Annotated[int, Field(ge=0)] = 0
    cpu: Quantity = "2"
    memory: Quantity = "4Gi"
    shared_memory: Quantity = Field("1Gi", description="Size of the memory-backed /dev/shm (PyTorch data loaders).")


class Training(Strict):
    epochs: PositiveInt = 20
    batch_size: PositiveInt = 128
    learning_rate: Annotated[float, Field(gt=0)] = 0.001
    seed: int = 42
    early_stopping_patience: PositiveInt = 5
    resources: Resources = Field(default_factory=Resources)
    retries: Annotated[int, Field(ge=0, le=20)] = 2
    timeout: Duration = "2h"


class Gate(Strict):
    min_accuracy: Fraction = 0.5
    min_sharpe: float = 0.0
    beat_baselines: bool = True
    max_p_value: Fraction = 0.05


class Evaluation(Strict):
    folds: PositiveInt = 5
    test_size: PositiveInt = 60
    gap: Annotated[int, Field(ge=0)] = 5
    transaction_cost_bps: Annotated[float, Field(ge=0)] = 5.0
    gate: Optional[Gate] = Field(default_factory=Gate, description="Promotion gate; null disables it.")


class StepResources(Strict):
    cpu: Quantity = "1"
    memory: Quantity = "1Gi"
    gpus: Annotated[int, Field(ge=0)] = 0


class CustomStep(Strict):
    name: Name
    after: list[str] = Field(default_factory=list, description="Steps that must finish first.")
    image: str = Field(min_length=1)
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    inputs: list[str] = Field(default_factory=list, description="Steps whose outputs are given to this one as artifacts.")
    resources: StepResources = Field(default_factory=StepResources)
    env: dict[str, str] = Field(default_factory=dict)
    secrets: list[Name] = Field(default_factory=list, description="Kubernetes Secret names, exposed with envFrom.")
    retries: Annotated[int, Field(ge=0, le=20)] = 0
    timeout: Duration = "1h"


class Schedule(Strict):
    cron: Cron
    timezone: Timezone = "UTC"


class Version(Strict):
    name: Name
    run: RunId = Field(description="The training run (Argo Workflow name) whose published model this is.")


class Experiment(Strict):
    mode: Literal["ab", "shadow"] = "ab"
    candidate: Name
    candidate_weight: Annotated[int, Field(ge=1, le=99)] = 10


class Serving(Strict):
    runtime: Literal["triton", "mlserver"] = "triton"
    replicas: PositiveInt = 1
    memory: Quantity = "1Gi"
    versions: list[Version] = Field(default_factory=list)
    default: Optional[Name] = None
    experiment: Optional[Experiment] = None


class Monitoring(Strict):
    max_hours_since_success: PositiveInt = 48


class PipelineSpec(Strict):
    data: Data
    quality: Quality = Field(default_factory=Quality)
    features: list[Feature] = Field(min_length=1)
    target: Target = Field(default_factory=Target)
    model: ModelSpec = Field(default_factory=ModelSpec)
    training: Training = Field(default_factory=Training)
    evaluation: Evaluation = Field(default_factory=Evaluation)
    steps: list[CustomStep] = Field(default_factory=list)
    schedule: Optional[Schedule] = None
    serving: Optional[Serving] = None
    monitoring: Monitoring = Field(default_factory=Monitoring)
    overrides: dict[Name, dict[str, Any]] = Field(default_factory=dict, description="Per-environment patches, deep-merged over spec.")


class Pipeline(Strict):
    apiVersion: Literal["maestro/v1"]
    kind: Literal["Pipeline"]
    metadata: Metadata
    spec: PipelineSpec
