"""Bai et al. 2018, the models of Table 1's synthetic rows: a TCN or a recurrent net over the
copy-memory tokens (a read-out at every step) or over the adding problem's (value, mark) pairs
(a read-out at the last step), and the initialization the reference code actually ran."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from repro.bai2018tcn.tcn import TCN, CausalConv1d
from repro.kit import layers
from repro.kit.copymem import N_TOKENS

TASKS = ("copy", "adding")


class TCNSeq(nn.Module):
    """TCN over one-hot tokens, a linear read-out at every step: (B, L) -> (B, L, N_TOKENS)."""

    def __init__(self, channels: int, levels: int, kernel: int):
        super().__init__()
        self.tcn = TCN(N_TOKENS, [channels] * levels, kernel)
        self.head = nn.Linear(channels, N_TOKENS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L) tokens
        h = self.tcn(F.one_hot(x, N_TOKENS).float().transpose(1, 2))  # (B, C, L)
        return self.head(h.transpose(1, 2))  # (B, L, N_TOKENS)


class RNNSeq(nn.Module):
    """LSTM, GRU or tanh RNN over one-hot tokens, a linear read-out at every step."""

    def __init__(self, cell: str, hidden: int):
        super().__init__()
        self.rnn = layers.ReadLast.CELLS[cell](N_TOKENS, hidden, batch_first=True)
        self.head = nn.Linear(hidden, N_TOKENS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L) tokens
        out, _ = self.rnn(F.one_hot(x, N_TOKENS).float())  # (B, L, H)
        return self.head(out)  # (B, L, N_TOKENS)


class AddingTCN(nn.Module):
    """TCN over (value, mark) pairs read at the last step: (B, T, 2) -> (B,)."""

    def __init__(self, channels: int, levels: int, kernel: int):
        super().__init__()
        self.tcn = TCN(2, [channels] * levels, kernel)
        self.head = nn.Linear(channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, 2)
        h = self.tcn(x.transpose(1, 2))  # (B, C, T)
        return self.head(h[:, :, -1]).squeeze(-1)  # (B,): read at the last step


def torch_init(model: nn.Module) -> nn.Module:
    """Redraw every TCN convolution with torch's default init, keeping weight normalization
    (g = ||v||): the weights the reference code actually started from."""
    for m in model.modules():
        if isinstance(m, CausalConv1d):
            w = m.conv.parametrizations.weight
            fresh = nn.Conv1d(w.original1.shape[1], w.original1.shape[0], w.original1.shape[2])
            with torch.no_grad():
                w.original1.copy_(fresh.weight)  # v: (C_out, C_in, k)
                w.original0.copy_(fresh.weight.norm(dim=(1, 2), keepdim=True))  # g: (C_out, 1, 1)
    return model


class Row:
    """What a config section of one Table 1 row (copy memory, adding) gives the models and
    the optimizer: the TCN's levels and channels, each recurrent arm's width, each arm's rate."""

    levels: int
    channels: int
    lstm_hidden: int
    gru_hidden: int
    rnn_hidden: int
    tcn_lr: float
    lstm_lr: float
    gru_lr: float
    rnn_lr: float

    def hidden(self, arm: str) -> int:
        """A recurrent arm's width (0 for the TCN, whose size is its channels and levels)."""
        s = self
        return {"tcn": 0, "lstm": s.lstm_hidden, "gru": s.gru_hidden, "rnn": s.rnn_hidden}[arm]

    def lr(self, arm: str) -> float:
        """The arm's Adam rate."""
        s = self
        return {"tcn": s.tcn_lr, "lstm": s.lstm_lr, "gru": s.gru_lr, "rnn": s.rnn_lr}[arm]


def build(task: str, arm: str, row: Row, kernel: int, init: str) -> nn.Module:
    """Arm `arm` ("tcn", "lstm", "gru", "rnn") of `task` ("copy" or "adding") at the sizes of
    `row`; the TCN with kernel `kernel` and init `init` ("torch" or "paper")."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    if arm == "tcn":
        tcn = (TCNSeq if task == "copy" else AddingTCN)(row.channels, row.levels, kernel)
        return torch_init(tcn) if init == "torch" else tcn
    hidden = row.hidden(arm)
    return RNNSeq(arm, hidden) if task == "copy" else layers.ReadLast(arm, hidden)


def adding_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """The adding problem's MSE of the read-out against the sum of the two marked values."""
    x, y = batch  # (B, T, 2), (B,)
    return layers.mse(model(x), y)
