"""The networks of `spec.model`: LSTM, GRU, Transformer encoder and MLP, plus the served wrapper.

In: a batch of feature windows shaped (batch, sequence_length, features). Out: one raw score per
window, shaped (batch, 1). `Served` folds the training scaler in front and the output transform
behind (a probability for direction targets, a return for return targets), so the exported
TorchScript takes raw feature windows and needs nothing else.
"""

from __future__ import annotations

import torch
from torch import nn


class Recurrent(nn.Module):
    def __init__(self, cell: str, features: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        kind = nn.LSTM if cell == "lstm" else nn.GRU
        # nn.LSTM/GRU apply dropout only between stacked layers; one layer would warn.
        self.rnn = kind(features, hidden, num_layers=layers, batch_first=True,
                        dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


class Transformer(nn.Module):
    def __init__(self, features: int, length: int, hidden: int, layers: int, heads: int, dropout: float):
        super().__init__()
        self.embed = nn.Linear(features, hidden)
        self.position = nn.Parameter(torch.zeros(1, length, hidden))
        layer = nn.TransformerEncoderLayer(hidden, heads, dim_feedforward=2 * hidden, dropout=dropout,
                                           batch_first=True, norm_first=True)
        # Nested tensors only speed up padded batches; ours are dense, and the option warns.
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(self.embed(x) + self.position)
        return self.head(z[:, -1, :])


class Mlp(nn.Module):
    def __init__(self, features: int, length: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        blocks: list[nn.Module] = [nn.Flatten()]
        width = features * length
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.body = nn.Sequential(*blocks, nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def build(model, features: int) -> nn.Module:
    """The network that `spec.model` describes, for windows of `features` columns."""
    if model.kind in ("lstm", "gru"):
        return Recurrent(model.kind, features, model.hidden_size, model.layers, model.dropout)
    if model.kind == "transformer":
        return Transformer(features, model.sequence_length, model.hidden_size, model.layers, model.heads, model.dropout)
    return Mlp(features, model.sequence_length, model.hidden_size, model.layers, model.dropout)


class Served(nn.Module):
    """Raw windows in, a probability of "up" (direction) or a return (return target) out."""

    def __init__(self, net: nn.Module, mean, std, out_scale: float, out_shift: float, probability: bool):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
        self.out_scale = out_scale
        self.out_shift = out_shift
        self.probability = probability

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net((x - self.mean) / self.std)
        if self.probability:
            return torch.sigmoid(y)
        return y * self.out_scale + self.out_shift
