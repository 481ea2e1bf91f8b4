"""Alain & Bengio 2016, the network and the probes: a deep ReLU MLP with an optional long
identity skip (Section 5.1's pathological net), one linear probe per layer trained together, and
the two readings the claims judge (probe gain over a layer range, gradient-norm ratio), and the
task's images: smooth random prototypes plus noise."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class SkipMLP(nn.Module):
    """h_0 = relu(W_0 x); h_k = relu(W_k h_{k-1}) for k = 1..depth, plus h_i at layer j when
    skip = (i, j); a linear classifier on h_depth. He initialisation (ReLU nets)."""

    def __init__(self, d_in: int, width: int, depth: int, classes: int, skip=None) -> None:
        super().__init__()
        self.embed = nn.Linear(d_in, width)  # layer 0
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))  # 1..depth
        self.out = nn.Linear(width, classes)
        self.skip = skip
        for lin in (self.embed, *self.layers):
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)

    def forward(self, x: torch.Tensor, keep: bool = False):
        h = torch.relu(self.embed(x))  # (B, W): h_0
        hs = [h]
        for k, layer in enumerate(self.layers, start=1):
            h = torch.relu(layer(h))  # (B, W): h_k
            if self.skip is not None and k == self.skip[1]:
                h = h + hs[self.skip[0]]
            hs.append(h)  # autograd keeps them anyway
        logits = self.out(h)  # (B, classes)
        return (logits, hs) if keep else logits

    def weight_layers(self) -> list[nn.Module]:
        return [self.embed, *self.layers, self.out]  # depth order: 0..depth, then the classifier


class Probes(nn.Module):
    """One linear classifier per layer, trained together: A (L, W, K), c (L, 1, K)."""

    def __init__(self, n_layers: int, width: int, classes: int) -> None:
        super().__init__()
        self.A = nn.Parameter(torch.zeros(n_layers, width, classes))
        self.c = nn.Parameter(torch.zeros(n_layers, 1, classes))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.c, feats, self.A)  # (L, N, K)


def gains(out: dict, lo: int, hi: int) -> float:
    """Mean probe gain (points) over layers lo..hi inclusive, last checkpoint minus first."""
    first, last = np.asarray(out["probes"][0]), np.asarray(out["probes"][-1])
    return float((last - first)[lo : hi + 1].mean())


def grad_ratio(out: dict, skip_end: int, depth: int) -> float:
    """Median gradient norm of layers 1..skip_end over that of skip_end+1..depth, averaged over
    the reads (NaN if a run left no reads)."""
    g = np.asarray(out["grads"], dtype=float)  # (reads, depth + 2)
    if g.size == 0:
        return math.nan
    low, up = np.median(g[:, 1 : skip_end + 1], 1), np.median(g[:, skip_end + 1 : depth + 1], 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # a dead net: 0 / 0 is NaN, data
        return float(np.mean(low / up))


def smooth_prototypes(
    n_classes: int, shape: tuple[int, int, int], gen: torch.Generator, smoothness: int = 3
) -> torch.Tensor:
    """n_classes smooth random fields (C, H, W), unit variance: the "look" of each class."""
    c, h, w = shape
    raw = torch.randn(n_classes, c, h, w, generator=gen)  # (K, C, H, W)
    kernel = torch.ones(c, 1, smoothness, smoothness) / smoothness**2
    smooth = F.conv2d(F.pad(raw, [smoothness // 2] * 4, mode="circular"), kernel, groups=c)
    return (smooth - smooth.mean()) / smooth.std()  # (K, C, H, W)


def prototype_images(
    batch: int, prototypes: torch.Tensor, gen: torch.Generator, noise: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Labelled images: a class prototype plus Gaussian noise of standard deviation `noise`."""
    labels = torch.randint(0, prototypes.shape[0], (batch,), generator=gen)  # (B,)
    eps = torch.randn(batch, *prototypes.shape[1:], generator=gen)  # (B, C, H, W)
    return prototypes[labels] + noise * eps, labels
