"""Bai, Kolter & Koltun 2018, the temporal convolutional network (Section 3).

Causal dilated convolutions in residual blocks, weight normalization through the parametrization
API, spatial dropout, a 1x1 convolution on the skip when widths differ. Receptive field
1 + 2 (k - 1)(2^n - 1) for n blocks of kernel k (two convolutions per block, dilation 2^i).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


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
