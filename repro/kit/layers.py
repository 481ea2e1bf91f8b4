"""Kit room, layers: model parts shared by more than one reproduction.

- `TCN`: causal dilated convolutions in residual blocks (Bai et al. 2018, Section 3), weight
  normalization through the parametrization API, spatial dropout, a 1x1 convolution on the skip
  when widths differ. Receptive field 1 + 2 (k - 1)(2^n - 1) for n blocks of kernel k.
- `DilatedRNNLayer` / `DilatedRNN`: h_t = f(x_t, h_{t-d}) (Chang et al. 2017), computed with the
  interleaving trick so one fused torch recurrent kernel runs d sub-sequences as a batch.
- `SeqBNRNNLayer`: a simple RNN whose input-to-hidden term alone is batch-normalized with
  statistics over (batch x valid time steps) (Amodei et al. 2016, Section 3.2), clipped ReLU.
- `CifarNet`: the 6n + 2 layer CIFAR network of He et al. 2016 (Section 4.2), plain or residual.
- `n_params`: a model's parameter count, the size every comparison across arms is matched on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


def n_params(model: nn.Module) -> int:
    """Number of scalar parameters (trainable or not) in `model`."""
    return sum(p.numel() for p in model.parameters())


# ---- TCN ------------------------------------------------------------------------------------


def tcn_receptive_field(kernel_size: int, levels: int) -> int:
    """Steps of input one output sees: 1 + 2 (k - 1)(2^n - 1), two convolutions per block."""
    return 1 + 2 * (kernel_size - 1) * (2**levels - 1)


class CausalConv1d(nn.Module):
    """A dilated convolution padded on the left only: output t sees inputs <= t."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int):
        super().__init__()
        self.left = (kernel_size - 1) * dilation
        conv = nn.Conv1d(c_in, c_out, kernel_size, dilation=dilation)
        nn.init.normal_(conv.weight, 0.0, 0.01)  # the paper's N(0, 0.01), kept by weight_norm below
        self.conv = weight_norm(conv)  # g = ||v|| taken from the initialized weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (self.left, 0)))  # (B, C_out, T)


class TemporalBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(
            CausalConv1d(c_in, c_out, kernel_size, dilation),
            nn.ReLU(),
            nn.Dropout1d(dropout),  # spatial dropout: whole channels at once
            CausalConv1d(c_out, c_out, kernel_size, dilation),
            nn.ReLU(),
            nn.Dropout1d(dropout),
        )
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, C_in, T)
        return F.relu(self.net(x) + self.skip(x))  # (B, C_out, T)


class TCN(nn.Module):
    """Stack of temporal blocks with dilations 1, 2, 4, ...; maps (B, C_in, T) to (B, C, T)."""

    def __init__(self, c_in: int, channels: list[int], kernel_size: int, dropout: float = 0.0):
        super().__init__()
        widths = [c_in, *channels]
        self.blocks = nn.Sequential(
            *(
                TemporalBlock(widths[i], widths[i + 1], kernel_size, 2**i, dropout)
                for i in range(len(channels))
            )
        )
        self.receptive_field = tcn_receptive_field(kernel_size, len(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)  # (B, C_last, T)


# ---- Dilated RNN ----------------------------------------------------------------------------


def dilate(x: torch.Tensor, d: int) -> tuple[torch.Tensor, int]:
    """(B, T, C) -> (d B, ceil(T / d), C): step t of sub-sequence j is original step t d + j."""
    b, t, c = x.shape
    pad = (-t) % d
    x = F.pad(x, (0, 0, 0, pad))  # (B, T + pad, C)
    x = x.reshape(b, (t + pad) // d, d, c).transpose(1, 2)  # (B, d, T', C)
    return x.reshape(b * d, (t + pad) // d, c), pad  # (d B, T', C)


def undilate(y: torch.Tensor, d: int, batch: int, pad: int) -> torch.Tensor:
    """Inverse of `dilate`: (d B, T', H) -> (B, T, H)."""
    _, tp, h = y.shape
    y = y.reshape(batch, d, tp, h).transpose(1, 2).reshape(batch, tp * d, h)  # (B, T + pad, H)
    return y[:, : tp * d - pad]  # (B, T, H)


class DilatedRNNLayer(nn.Module):
    """One recurrent layer with skip d: h_t = cell(x_t, h_{t-d}). `cell` is "rnn", "gru", "lstm"."""

    def __init__(self, c_in: int, hidden: int, dilation: int, cell: str = "rnn"):
        super().__init__()
        self.dilation = dilation
        kinds = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
        self.rnn = kinds[cell](c_in, hidden, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, C)
        xs, pad = dilate(x, self.dilation)  # (d B, T', C)
        ys, _ = self.rnn(xs)  # (d B, T', H)
        return undilate(ys, self.dilation, x.shape[0], pad)  # (B, T, H)


class DilatedRNN(nn.Module):
    """Layers with dilations 1, 2, 4, ..., 2^(L-1) (Chang et al.'s exponential schedule)."""

    def __init__(
        self,
        c_in: int,
        hidden: int,
        layers: int,
        cell: str = "rnn",
        dilations: list[int] | None = None,
    ):
        super().__init__()
        dilations = dilations or [2**i for i in range(layers)]
        widths = [c_in] + [hidden] * len(dilations)
        self.layers = nn.ModuleList(
            DilatedRNNLayer(widths[i], hidden, d, cell) for i, d in enumerate(dilations)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, C)
        for layer in self.layers:
            x = layer(x)  # (B, T, H)
        return x


# ---- Sequence-wise batch-normalized RNN (Deep Speech 2) -------------------------------------


def masked_batch_norm(z: torch.Tensor, mask: torch.Tensor, bn: nn.BatchNorm1d) -> torch.Tensor:
    """BatchNorm of z (B, T, H) with statistics over the valid (batch, time) cells only."""
    flat = z[mask]  # (N_valid, H): padding never enters the statistics
    out = torch.zeros_like(z)  # (B, T, H)
    out[mask] = bn(flat)
    return out


class SeqBNRNNLayer(nn.Module):
    """h_t = min(max(BN(W x_t) + U h_{t-1} + b, 0), 20); without BN: W x_t + b in its place."""

    def __init__(self, c_in: int, hidden: int, batch_norm: bool):
        super().__init__()
        self.w = nn.Linear(c_in, hidden, bias=not batch_norm)  # BN's shift plays the bias
        self.u = nn.Linear(hidden, hidden, bias=False)
        self.bn = nn.BatchNorm1d(hidden) if batch_norm else None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:  # x: (B, T, C)
        b, t, _ = x.shape
        mask = torch.arange(t, device=x.device)[None, :] < lengths[:, None]  # (B, T)
        wx = self.w(x)  # (B, T, H): the input-to-hidden term, for all steps at once
        if self.bn is not None:
            wx = masked_batch_norm(wx, mask, self.bn)
        h = x.new_zeros(b, wx.shape[-1])  # (B, H)
        outs = []
        for step in range(t):
            h = torch.clamp(wx[:, step] + self.u(h), 0.0, 20.0)  # clipped ReLU, (B, H)
            outs.append(h)
        return torch.stack(outs, dim=1) * mask[..., None]  # (B, T, H)


# ---- CIFAR-style plain and residual networks (He et al. 2016) -------------------------------


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


class CifarBlock(nn.Module):
    """Two 3x3 conv-BN layers; with `residual`, the identity shortcut (option A: subsample and
    zero-pad channels when the shape changes, so shortcuts add no parameters)."""

    def __init__(self, c_in: int, c_out: int, stride: int, residual: bool):
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.stride, self.extra = stride, c_out - c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, C_in, H, W)
        out = F.relu(self.bn1(self.conv1(x)))  # (B, C_out, H / s, W / s)
        out = self.bn2(self.conv2(out))
        if self.residual:
            short = x[:, :, :: self.stride, :: self.stride]  # (B, C_in, H / s, W / s)
            out = out + F.pad(short, (0, 0, 0, 0, 0, self.extra))  # zero channels to C_out
        return F.relu(out)


class CifarNet(nn.Module):
    """6n + 2 layers: a 3x3 conv, 3 stages of n blocks (widths 16, 32, 64), pooling, a linear
    classifier. `residual=False` gives the paper's plain counterpart (same layers, no shortcuts)."""

    def __init__(self, n: int, residual: bool, classes: int = 10, widths=(16, 32, 64)):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()
        )
        blocks, c = [], widths[0]
        for stage, w in enumerate(widths):
            for i in range(n):
                blocks.append(CifarBlock(c, w, 2 if (stage > 0 and i == 0) else 1, residual))
                c = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, classes)
        self.depth = 6 * n + 2
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 3, H, W)
        h = self.blocks(self.stem(x))  # (B, 64, H / 4, W / 4)
        return self.fc(h.mean(dim=(2, 3)))  # (B, classes)
