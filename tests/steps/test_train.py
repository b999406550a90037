"""Training and export: the four networks, determinism, scaling on training rows, TorchScript parity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from maestro.language.pipeline import PipelineSpec
from maestro.steps.export import load_torchscript, save_torchscript
from maestro.steps.features import build_table
from maestro.steps.learning import fit, make_samples, predict, split_validation

from .conftest import synthetic_bars


def spec(kind: str = "lstm", target: str = "direction", epochs: int = 3) -> PipelineSpec:
    return PipelineSpec.model_validate({
        "data": {"tickers": ["SYN"], "start": "2001-01-01"},
        "features": [{"kind": "returns", "periods": [1, 2]}, {"kind": "rsi", "window": 5}],
        "target": {"kind": target, "horizon": 1},
        "model": {"kind": kind, "sequence_length": 8, "hidden_size": 8, "layers": 2, "heads": 2, "dropout": 0.1},
        "training": {"epochs": epochs, "batch_size": 64, "seed": 3}})


def samples(s: PipelineSpec, n: int = 400):
    bars = synthetic_bars("rule", n=n)
    bars = bars.assign(Date=pd.to_datetime(bars["Date"]), Ticker="SYN", Volume=bars["Volume"].astype(float))
    table, names, _ = build_table(bars, s.features, s.target)
    return make_samples(table, names, s.model.sequence_length)


@pytest.mark.parametrize("kind", [pytest.param(k, id=k) for k in ("lstm", "gru", "transformer", "mlp")])
def test_torchscript_export_reproduces_the_trained_model(tmp_path, kind):
    s = spec(kind)
    data = samples(s)
    model = fit(data, s, seed=3).model
    save_torchscript(model, tmp_path / "model.pt")
    loaded = load_torchscript(tmp_path / "model.pt")
    np.testing.assert_allclose(predict(loaded, data.x), predict(model, data.x), rtol=0, atol=1e-6)
    with torch.no_grad():
        assert loaded(torch.from_numpy(data.x[:5])).shape == (5, 1)      # any batch size
    assert ((predict(loaded, data.x) > 0) & (predict(loaded, data.x) < 1)).all()   # probabilities


def test_training_is_deterministic_for_a_seed():
    s = spec("gru")
    data = samples(s)
    first, second = fit(data, s, seed=3), fit(data, s, seed=3)
    np.testing.assert_array_equal(predict(first.model, data.x), predict(second.model, data.x))
    assert first.history == second.history


def test_scaler_is_fit_on_training_rows_only():
    s = spec("mlp")
    data = samples(s)
    train_idx, val_idx = split_validation(data.dates, s.target.horizon)
    model = fit(data, s, seed=3).model
    np.testing.assert_allclose(model.mean.numpy(), data.x[train_idx, -1, :].mean(axis=0), rtol=1e-5)
    assert not np.allclose(model.mean.numpy(), data.x[:, -1, :].mean(axis=0), rtol=1e-5)


def test_validation_slice_is_the_latest_dates_with_a_purge():
    dates = np.array(pd.bdate_range("2020-01-01", periods=100).values)
    train, val = split_validation(dates, horizon=3)
    assert len(val) == 15 and val.min() == 85 and train.max() == 81    # 3 dates purged before validation


def test_return_target_outputs_returns_in_their_own_units():
    s = spec("mlp", target="return", epochs=5)
    data = samples(s)
    predicted = predict(fit(data, s, seed=3).model, data.x)
    assert abs(predicted.std() - data.y.std()) < 5 * data.y.std() and abs(predicted.mean()) < 0.01


@pytest.mark.gpu
@pytest.mark.filterwarnings("ignore::UserWarning")   # warn-only determinism on CUDA names slow ops
def test_training_uses_cuda_when_present():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    s = spec("lstm")
    result = fit(samples(s), s, seed=3)
    assert result.device == "cuda"
    assert next(result.model.parameters()).device.type == "cpu"     # exported from the CPU
