"""Fitting one network: windows, scaling, the training loop with early stopping, prediction.

In: the feature table, the spec's model/training/target sections and a seed. Out: a `Served`
module (scaler and output transform folded in) and its training history. Used by `train` (the
final model, on every scorable row) and `evaluate` (one model per walk-forward fold), so both
train the same way. Deterministic on CPU for a given seed and thread count. `distributed` runs the
same loop in several worker processes (the train step with several GPUs).
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch import nn

from .context import StepError
from .nets import Served, build
from .reporting import epoch_done

VALIDATION_FRACTION = 0.15
MAX_THREADS = 8


@dataclass
class Samples:
    """Windows of feature rows ending at each scorable bar, with what happened after it."""

    x: np.ndarray            # (n, sequence_length, features) float32
    y: np.ndarray            # (n,) target
    dates: np.ndarray        # (n,) datetime64 of the bar each window ends at
    tickers: np.ndarray      # (n,) str
    fwd_return: np.ndarray   # (n,) h-bar return after the bar
    next_return: np.ndarray  # (n,) 1-bar return after the bar (the trading simulation)
    prev_return: np.ndarray  # (n,) latest 1-bar return (the previous-bar baseline)

    def take(self, index: np.ndarray) -> "Samples":
        return Samples(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Fit:
    model: Served
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    device: str = "cpu"
    world_size: int = 1       # worker processes that trained it (distributed.fit_distributed)


def make_samples(table, columns: list[str], length: int) -> Samples:
    import pandas as pd

    parts = []
    for _, rows in table.groupby("Ticker", sort=True):
        values = rows[columns].to_numpy(np.float32)
        if len(values) < length:
            continue
        windows = np.lib.stride_tricks.sliding_window_view(values, length, axis=0).transpose(0, 2, 1)
        ends = rows.iloc[length - 1:]
        keep = ends["scorable"].to_numpy() == 1
        parts.append((windows[keep], ends[keep]))
    if not parts or not sum(len(p[1]) for p in parts):
        raise StepError(f"no window of {length} feature rows ends at a bar with a known target; "
                        "fetch a longer history or shorten model.sequence_length")
    x = np.concatenate([p[0] for p in parts]).astype(np.float32)
    rows = pd.concat([p[1] for p in parts])
    return Samples(x, rows["target"].to_numpy(np.float32), rows["Date"].to_numpy(), rows["Ticker"].to_numpy(str),
                   *(rows[c].to_numpy(np.float64) for c in ("fwd_return", "next_return", "prev_return")))


def torch_threads() -> int:
    """Half the CPUs this process may use (at least one), unless the step context says otherwise
    ($MAESTRO_TORCH_THREADS, read by the command): the small recurrent nets here gain little from
    intra-op threads and slow down badly when cores are shared, as they are on CI runners and busy nodes."""
    return max(1, cpu_budget() // 2)


def cpu_budget() -> int:
    """CPUs this process may use: the cgroup quota of its pod, else its affinity mask."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            return max(1, min(MAX_THREADS, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, min(MAX_THREADS, len(os.sched_getaffinity(0))))


def seed_everything(seed: int, device: str, threads: Optional[int] = None) -> None:
    if device == "cuda":
        deterministic_cublas()
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    torch.use_deterministic_algorithms(True, warn_only=device == "cuda")
    torch.set_num_threads(threads or torch_threads())


def deterministic_cublas() -> None:
    """cuBLAS needs a fixed workspace for deterministic results; set before the first CUDA call."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def pick_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def split_validation(dates: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Time-ordered: the last ~15% of dates validate; `horizon` dates before them are purged so no
    training label reaches into the validation slice."""
    unique = np.unique(dates)
    n_val = max(1, int(round(len(unique) * VALIDATION_FRACTION)))
    if len(unique) - n_val - horizon < 1:
        raise StepError(f"only {len(unique)} training dates: too few to hold out a validation slice")
    first_val = unique[-n_val]
    last_train = unique[-n_val - horizon - 1]
    return np.flatnonzero(dates <= last_train), np.flatnonzero(dates >= first_val)


@dataclass
class Prepared:
    """What training starts from: scaled training and validation tensors (on CPU) and the scalers."""

    train: tuple          # (x, y) tensors
    val: tuple
    scaler: tuple         # (mean, std) of each feature, float32 arrays
    shift: float          # target mean (0 for direction)
    scale: float          # target spread (1 for direction)
    features: int


def prepare(samples: Samples, spec) -> Prepared:
    train_idx, val_idx = split_validation(samples.dates, spec.target.horizon)
    scaler = feature_scaler(samples.x[train_idx])
    shift_, scale = target_scaler(samples.y[train_idx], spec.target.kind)
    train, val = (_tensors(samples.take(i), scaler, shift_, scale, "cpu") for i in (train_idx, val_idx))
    return Prepared(train, val, scaler, shift_, scale, samples.x.shape[2])


def fit(samples: Samples, spec, seed: int, threads: Optional[int] = None) -> Fit:
    """One process on one device. `distributed.fit_distributed` is the same fit on several workers."""
    device = pick_device()
    seed_everything(seed, device, threads)
    data = prepare(samples, spec)
    net = build(spec.model, data.features).to(device)
    train, val = (tuple(t.to(device) for t in part) for part in (data.train, data.val))
    history, best_state, best_epoch = _train_loop(net, train, val, spec, device, seed)
    return Fit(served(net, best_state, data, spec), history, best_epoch, device)


def served(net, best_state: dict, data: Prepared, spec) -> Served:
    """The network with its best weights, the scaler in front and the output transform behind."""
    net.load_state_dict(best_state)
    return Served(net.cpu(), data.scaler[0], data.scaler[1], data.scale, data.shift,
                  spec.target.kind == "direction").eval()


def feature_scaler(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of each feature over the training bars (each window's last row)."""
    rows = x[:, -1, :].astype(np.float64)
    std = rows.std(axis=0)
    return rows.mean(axis=0).astype(np.float32), np.where(std > 1e-12, std, 1.0).astype(np.float32)


def target_scaler(y: np.ndarray, kind: str) -> tuple[float, float]:
    if kind == "direction":
        return 0.0, 1.0
    std = float(np.std(y))
    return float(np.mean(y)), std if std > 1e-12 else 1.0


def _tensors(s: Samples, scaler, shift_: float, scale: float, device: str):
    x = (torch.from_numpy(s.x) - torch.from_numpy(scaler[0])) / torch.from_numpy(scaler[1])
    y = (torch.from_numpy(s.y.astype(np.float32)) - shift_) / scale
    return x.to(device), y.unsqueeze(1).to(device)


def _train_loop(net, train, val, spec, device: str, seed: int, worker=None):
    """Epochs with early stopping on the validation loss. `worker` (a `distributed.Worker`) makes this
    process one of several: it trains through DistributedDataParallel on its share of every batch and
    takes rank 0's validation loss, so all workers stop at the same epoch; None trains alone."""
    loss_fn = nn.BCEWithLogitsLoss() if spec.target.kind == "direction" else nn.MSELoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=spec.training.learning_rate)
    scaler = torch.amp.GradScaler("cuda", enabled=device == "cuda")
    order = torch.Generator().manual_seed(seed)   # every worker draws the same order: the global batches
    trained, run_epoch = (worker.wrap(net), worker.epoch) if worker else (net, _epoch)
    history, best, best_state, best_epoch, waited = [], math.inf, copy.deepcopy(net.state_dict()), 0, 0
    for epoch in range(1, spec.training.epochs + 1):
        if worker:
            worker.starting(epoch)
        train_loss = run_epoch(trained, train, loss_fn, optimizer, scaler, spec.training.batch_size, order, device)
        val_loss = _evaluate_loss(net, val, loss_fn, device)
        if worker:
            val_loss = worker.agree(val_loss)
        history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss})
        epoch_done(epoch, spec.training.epochs, train_loss=train_loss, val_loss=val_loss)
        if val_loss < best - 1e-7:
            best, best_state, best_epoch, waited = val_loss, copy.deepcopy(net.state_dict()), epoch, 0
        else:
            waited += 1
            if waited >= spec.training.early_stopping_patience:
                break
    return history, best_state, best_epoch


def _epoch(net, data, loss_fn, optimizer, scaler, batch_size: int, order, device: str) -> float:
    net.train()
    x, y = data
    total = 0.0
    for batch in torch.randperm(len(x), generator=order).split(batch_size):
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device, enabled=device == "cuda"):
            loss = loss_fn(net(x[batch]), y[batch])
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        total += float(loss.detach()) * len(batch)
    return total / len(x)


@torch.no_grad()
def _evaluate_loss(net, data, loss_fn, device: str) -> float:
    net.eval()
    with torch.autocast(device_type=device, enabled=device == "cuda"):
        return float(loss_fn(net(data[0]), data[1]))


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """The served output for each window: P(up) for direction targets, a return otherwise."""
    model.eval()
    outs = [model(torch.from_numpy(x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
    return torch.cat(outs).squeeze(1).double().numpy() if outs else np.zeros(0)
