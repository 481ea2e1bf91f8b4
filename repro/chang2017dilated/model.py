"""Chang et al. 2017, the models: the dilated recurrent layer h_t = f(x_t, h_{t-s}) on torch's
fused kernels (the interleaving trick), the regular-skip layer h_t = f(x_t, h_{t-1}, h_{t-s}) of
the paper's baseline, the copy-memory read-out, and TensorFlow's cell init the paper's code ran."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from repro.kit.copymem import N_TOKENS
from repro.kit.layers import ReadLast


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
    """One recurrent layer with skip d: h_t = cell(x_t, h_{t-d}). `cell` is "rnn", "gru", "lstm".

    The d interleaved sub-sequences (steps j, j + d, j + 2d, ...) never meet, so they run as a
    batch of d B sequences through one fused torch kernel (the paper's parallel computation)."""

    def __init__(self, c_in: int, hidden: int, dilation: int, cell: str = "rnn"):
        super().__init__()
        self.dilation = dilation
        self.rnn = ReadLast.CELLS[cell](c_in, hidden, batch_first=True)  # rnn: tanh

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, C)
        xs, pad = dilate(x, self.dilation)  # (d B, T', C)
        ys, _ = self.rnn(xs)  # (d B, T', H)
        return undilate(ys, self.dilation, x.shape[0], pad)  # (B, T, H)


class DilatedRNN(nn.Module):
    """Layers with dilations 1, 2, 4, ..., 2^(L-1) (the paper's exponential schedule)."""

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


class SkipRNNLayer(nn.Module):
    """Regular recurrent skip connections: h_t = tanh(W x_t + V h_{t-s} + U h_{t-1} + b).

    torch's fused kernel runs over blocks of s steps; each block's input is [x_t, h_{t-s}], the
    previous block's outputs at the same offsets, and its start state the previous block's last
    (so weight_ih holds [W, V] and weight_hh holds U)."""

    def __init__(self, c_in: int, hidden: int, skip: int):
        super().__init__()
        self.skip = skip
        self.rnn = nn.RNN(c_in + hidden, hidden, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, C)
        s, h = self.skip, None
        past = x.new_zeros(x.shape[0], s, self.rnn.hidden_size)  # (B, s, H): h_{t-s}, 0 at t < s
        blocks = []
        for start in range(0, x.shape[1], s):
            xs = x[:, start : start + s]  # (B, s', C)
            ys, h = self.rnn(torch.cat([xs, past[:, : xs.shape[1]]], dim=-1), h)  # (B, s', H)
            blocks.append(ys)
            past = ys
        return torch.cat(blocks, dim=1)  # (B, T, H)


class SkipRNN(nn.Module):
    """A stack of regular-skip layers, the same s in every layer (the paper's baseline)."""

    def __init__(self, c_in: int, hidden: int, n_layers: int, skip: int):
        super().__init__()
        widths = [c_in] + [hidden] * n_layers
        self.layers = nn.ModuleList(SkipRNNLayer(widths[i], hidden, skip) for i in range(n_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, C)
        for layer in self.layers:
            x = layer(x)  # (B, T, H)
        return x


class CopyNet(nn.Module):
    """One-hot tokens -> a recurrent stack -> a linear read-out at every step."""

    def __init__(self, net: nn.Module, hidden: int):
        super().__init__()
        self.net = net
        self.head = nn.Linear(hidden, N_TOKENS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L) tokens
        return self.head(self.net(F.one_hot(x, N_TOKENS).float()))  # (B, L, N_TOKENS)


def glorot_init(net: CopyNet) -> CopyNet:
    """TensorFlow's default for its recurrent cells, which the paper's code used: one
    glorot-uniform matrix over [x, h] (a skip layer: [x, h_{t-s}, h_{t-1}]), zero biases."""
    for layer in net.net.layers:
        r = layer.rnn
        w_ih, w_hh = r.weight_ih_l0, r.weight_hh_l0  # (H, C), (H, H)
        joint = torch.empty(w_ih.shape[0], w_ih.shape[1] + w_hh.shape[1])  # (H, C + H)
        nn.init.xavier_uniform_(joint)
        with torch.no_grad():
            w_ih.copy_(joint[:, : w_ih.shape[1]])
            w_hh.copy_(joint[:, w_ih.shape[1] :])
            r.bias_ih_l0.zero_()
            r.bias_hh_l0.zero_()
    return net
