"""He et al. 2016, the networks and the recipe's pieces: the CIFAR nets of Section 4.2 (6n + 2
layers, plain or with option-A identity shortcuts), the weight layers a gradient probe reads,
the error rate, and the paper's warm-up rule as a training-loop hook."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


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

    def __init__(
        self, n: int, residual: bool, classes: int = 10, widths=(16, 32, 64), c_in: int = 3
    ):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(c_in, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, C_in, H, W)
        h = self.blocks(self.stem(x))  # (B, 64, H / 4, W / 4)
        return self.fc(h.mean(dim=(2, 3)))  # (B, classes)


def conv_layers(model: CifarNet) -> list[nn.Module]:
    """The weight layers in depth order: stem conv, two convs per block, the classifier."""
    convs = [c for b in model.blocks for c in (b.conv1, b.conv2)]
    return [model.stem[0], *convs, model.fc]


def error_rate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 1024) -> float:
    """Classification error in percent (call in eval mode, without grad)."""
    wrong = 0
    for i in range(0, len(y), chunk):
        logits = model(x[i : i + chunk])  # (b, classes)
        wrong += int((logits.argmax(dim=1) != y[i : i + chunk]).sum())
    return 100.0 * wrong / len(y)


def batch_error(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Error (%) of one mini-batch's logits (B, classes), what the warm-up rule reads."""
    return 100.0 * float((logits.argmax(1) != y).float().mean())


WARMUP_DECAY = 0.9  # running mean of the mini-batch error: about the last 10 batches


class WarmUp:
    """Section 4.2's warm-up as a `train(on_step=...)` hook: the run starts at a tenth of the
    rate (the optimizer's initial rate) until the training error is below `until` percent, then
    goes to `lr`; the error is a running mean of the mini-batch error (WARMUP_DECAY), the batch
    error being what the loss function reports beside the loss. At the step it ends, the step's
    own update already uses `lr` with the schedule's drops so far (every milestone passed)."""

    def __init__(self, lr: float, until: float, milestones: Sequence[int], on: bool = True):
        self.lr, self.until, self.milestones = lr, until, list(milestones)
        self.on, self.err = on, 100.0
        self.ended: int | None = None  # 1-based step the warm-up ended on (None: never)

    def __call__(self, step: int, model: nn.Module, opt, loss: float, err: float) -> None:
        if not self.on:
            return
        self.err = WARMUP_DECAY * self.err + (1 - WARMUP_DECAY) * err
        if self.err < self.until:
            self.on, self.ended = False, step + 1
            for group in opt.param_groups:  # the schedule's drops so far still apply
                group["lr"] = self.lr * 0.1 ** sum(step + 1 > m for m in self.milestones)
