"""Kit room, layers: model parts shared by more than one reproduction.

- `ReadLast` and `mse`: a recurrent layer read out at its last step, and its loss (the adding
  problem of Bai et al. 2018 and the addition problem of Pascanu et al. 2013).
- `n_params`: a model's parameter count, the size every comparison across arms is matched on.
"""

from __future__ import annotations

import torch
from torch import nn


def n_params(model: nn.Module) -> int:
    """Number of scalar parameters (trainable or not) in `model`."""
    return sum(p.numel() for p in model.parameters())


# ---- Read-out at the last step ---------------------------------------------------------------


class ReadLast(nn.Module):
    """A recurrent layer over (B, T, inputs) read out linearly at its last step: the regressor of
    the adding and addition problems (Hochreiter & Schmidhuber 1997; Bai et al. 2018, Sec. 5)."""

    CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}  # nn.RNN: the plain tanh RNN

    def __init__(self, cell: str, hidden: int, inputs: int = 2, outputs: int = 1):
        super().__init__()
        self.rnn = self.CELLS[cell](inputs, hidden, batch_first=True)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, inputs)
        out, _ = self.rnn(x)  # (B, T, H)
        return self.head(out[:, -1]).squeeze(-1)  # (B,) for one output


def mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error over every element (the adding problem's metric)."""
    return ((pred - y) ** 2).mean()
