"""Deep Speech 2's network (Section 3): a convolutional front end, bidirectional recurrent layers
with sequence-wise batch normalization (Eq. 4 of Section 3.2), a softmax over labels and blank;
CTC loss, greedy decoding and the character error rate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from repro.amodei2016deepspeech2.config import Net, Speech
from repro.amodei2016deepspeech2.data import SpeechBatch
from repro.kit.layers import n_params
from repro.kit.speech import decode


@dataclass(frozen=True)
class Arm:
    """One net of Tables 1 and 3: its recurrent cell, its depth and whether it uses BN."""

    cell: str  # "rnn" (clipped ReLU) or "gru"
    depth: int  # bidirectional recurrent layers
    bn: bool  # sequence-wise BN on the input term of every layer (and on the convolution)

    @property
    def name(self) -> str:
        return f"{self.cell}{self.depth}{'_bn' if self.bn else ''}"


def flip(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:  # x: (B, T, ...)
    """Each sequence reversed within its own length; padding stays where it is (an involution)."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]  # (1, T)
    idx = lengths[:, None] - 1 - t  # (B, T)
    idx = torch.where(idx >= 0, idx, t.expand_as(idx))
    return x.gather(1, idx.view(*idx.shape, *[1] * (x.dim() - 2)).expand_as(x))


def masked_batch_norm(z: torch.Tensor, mask: torch.Tensor, bn: nn.BatchNorm1d) -> torch.Tensor:
    """BatchNorm of z (B, T, H) with statistics over the valid (batch, time) cells only: the
    paper's sequence-wise normalization (Section 3.2) of variable-length utterances."""
    flat = z[mask]  # (N_valid, H): padding never enters the statistics
    out = torch.zeros_like(z)  # (B, T, H)
    out[mask] = bn(flat)
    return out


class BiRecurrent(nn.Module):
    """One bidirectional layer (Eq. 4): a shared input term W x_t, batch-normalized sequence-wise
    when `batch_norm`, a forward and a backward recurrence on it, their states summed. The
    recurrent terms U h are never normalized. `cell` is "rnn" (clipped ReLU) or "gru"."""

    def __init__(self, c_in: int, hidden: int, batch_norm: bool, cell: str = "rnn"):
        super().__init__()
        self.cell, g = cell, 3 if cell == "gru" else 1
        self.w = nn.Linear(c_in, g * hidden, bias=not batch_norm)  # BN's shift plays the bias
        self.bn = nn.BatchNorm1d(g * hidden) if batch_norm else None
        self.u = nn.Parameter(torch.empty(2, hidden, g * hidden))  # forward, backward U^T
        nn.init.uniform_(self.u, -(hidden**-0.5), hidden**-0.5)  # nn.Linear's default range

    def step(self, wx: torch.Tensor, h: torch.Tensor) -> torch.Tensor:  # wx: (2, B, gH)
        uh = torch.bmm(h, self.u)  # (2, B, gH): both directions in one product
        if self.cell == "rnn":
            return torch.clamp(wx + uh, 0.0, 20.0)  # (2, B, H)
        (zx, rx, nx), (zh, rh, nh) = wx.chunk(3, -1), uh.chunk(3, -1)
        z, r = torch.sigmoid(zx + zh), torch.sigmoid(rx + rh)  # (2, B, H) update, reset
        return (1 - z) * h + z * torch.tanh(nx + r * nh)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:  # x: (B, T, C)
        b, t, _ = x.shape
        mask = torch.arange(t, device=x.device)[None, :] < lengths[:, None]  # (B, T)
        wx = self.w(x)  # (B, T, gH), all steps at once
        if self.bn is not None:
            wx = masked_batch_norm(wx, mask, self.bn)  # statistics over valid (batch, time)
        seq = torch.stack([wx, flip(wx, lengths)])  # (2, B, T, gH): backward runs on the flip
        h = x.new_zeros(2, b, self.u.shape[1])  # (2, B, H)
        hs = []
        for s in range(t):
            h = self.step(seq[:, :, s], h)
            hs.append(h)
        hs = torch.stack(hs, dim=2)  # (2, B, T, H)
        return (hs[0] + flip(hs[1], lengths)) * mask[..., None]  # (B, T, H): the sum


class SpeechNet(nn.Module):
    """A 1-D convolution over time with stride `net.stride` (optional), `arm.depth`
    bidirectional layers, a linear softmax over the labels and CTC's blank."""

    def __init__(self, task: Speech, net: Net, hidden: int, arm: Arm):
        super().__init__()
        c_in, bn = task.n_mels, arm.bn
        self.conv, self.stride = None, 1
        if net.conv:
            k, self.stride = net.kernel, net.stride
            self.conv = nn.Conv1d(c_in, net.conv, k, net.stride, padding=k // 2, bias=not bn)
            self.conv_bn = nn.BatchNorm1d(net.conv) if bn else None
            c_in = net.conv
        widths = [c_in] + [hidden] * arm.depth
        self.rnns = nn.ModuleList(
            BiRecurrent(widths[i], hidden, bn, arm.cell) for i in range(arm.depth)
        )
        self.out = nn.Linear(hidden, task.labels + 1)

    def lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Valid output steps per utterance after the strided convolution."""
        if self.conv is None:
            return lengths
        k = self.conv.kernel_size[0]
        return (lengths + 2 * (k // 2) - k) // self.stride + 1

    def forward(self, x: torch.Tensor, lengths: torch.Tensor):  # x: (B, T, F)
        """(log-probabilities (B, T', K + 1), valid steps (B,))."""
        if self.conv is not None:
            mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
            x = x * mask[..., None]  # zero padding: the kernel reaches past the end
            x = self.conv(x.transpose(1, 2)).transpose(1, 2)  # (B, T', C)
            lengths = self.lengths(lengths)
            mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
            if self.conv_bn is not None:
                x = masked_batch_norm(x, mask, self.conv_bn)
            x = torch.clamp(x, 0.0, 20.0) * mask[..., None]
        for rnn in self.rnns:
            x = rnn(x, lengths)  # (B, T', H)
        return self.out(x).log_softmax(-1), lengths  # (B, T', K + 1), (B,)


def width(task: Speech, net: Net, depth: int, cell: str = "rnn") -> int:
    """Units per layer whose BN net comes closest to `net.params` (Table 1's design); the count
    grows with the width, so a bisection finds the first width at or above the budget. The nets
    are built on the meta device: no memory, no random draws."""

    def count(h: int) -> int:
        with torch.device("meta"):
            return n_params(SpeechNet(task, net, h, Arm(cell, depth, True)))

    lo, hi = 1, 2
    while count(hi) < net.params:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count(mid) < net.params else (lo, mid)
    return min((lo, hi), key=lambda h: abs(count(h) - net.params))


def ctc(model: nn.Module, b: SpeechBatch) -> torch.Tensor:
    """torch's CTC loss, per target label, averaged over the batch (blank = 0)."""
    logp, lengths = model(b.features, b.feature_lengths)  # (B, T', K + 1), (B,)
    return F.ctc_loss(logp.transpose(0, 1), b.targets, lengths, b.target_lengths)


def greedy_decode(logp: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
    """Best path: argmax per frame, merge repeats, drop blanks."""
    out = []
    for row, n in zip(logp.argmax(-1), lengths.tolist()):  # row: (T,)
        path = torch.unique_consecutive(row[:n])
        out.append(path[path != 0].tolist())
    return out


def edit_distance(a: Sequence[int], b: Sequence[int]) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@torch.no_grad()
def evaluate(model: nn.Module, b: SpeechBatch) -> tuple[float, float, float]:
    """(held-out CTC loss, character error rate, word error rate) with running BN statistics
    (eval mode); words are the digit words, split at the spaces."""
    was = model.training
    model.eval()
    logp, lengths = model(b.features, b.feature_lengths)  # (B, T', K + 1), (B,)
    loss = F.ctc_loss(logp.transpose(0, 1), b.targets, lengths, b.target_lengths)
    hyps = greedy_decode(logp, lengths)
    refs = [t[:n].tolist() for t, n in zip(b.targets, b.target_lengths)]
    errors = sum(edit_distance(h, r) for h, r in zip(hyps, refs))
    words = [(decode(h).split(), decode(r).split()) for h, r in zip(hyps, refs)]
    word_errors = sum(edit_distance(h, r) for h, r in words)
    model.train(was)
    n_words = sum(len(r) for _, r in words)
    return float(loss), errors / int(b.target_lengths.sum()), word_errors / n_words
