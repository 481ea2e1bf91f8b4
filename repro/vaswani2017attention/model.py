"""Vaswani et al. 2017, the task and the readers: marked retrieval, a one-head attention reader
(eq. 1, with the arms' softmax at a temperature or sparsemax in its place) and the LSTM reader of
about as many parameters."""

from __future__ import annotations

import math

import torch
from torch import nn


def retrieval(batch: int, T: int, gen: torch.Generator, symbols: int = 8, early: float = 0.25):
    """tokens (B, T) in 0..K-1, the query token K last; marker bits (B, T), a 1 at the answer
    position pos (B,) in [0, early T); the target (B,), the symbol at pos."""
    tokens = torch.randint(0, symbols, (batch, T), generator=gen)  # (B, T)
    tokens[:, -1] = symbols  # the query token
    pos = torch.randint(0, max(1, int(early * T)), (batch,), generator=gen)  # (B,)
    marks = torch.zeros(batch, T, dtype=torch.long)  # (B, T)
    marks[torch.arange(batch), pos] = 1
    return tokens, marks, pos, tokens[torch.arange(batch), pos]


def sinusoid(T: int, d: int) -> torch.Tensor:
    """Section 3.5: PE(t, 2i) = sin(t / 10000^(2i/d)), PE(t, 2i+1) = cos(...)."""
    t = torch.arange(T, dtype=torch.float32)[:, None]  # (T, 1)
    freq = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)  # (d/2,)
    return torch.stack([torch.sin(t * freq), torch.cos(t * freq)], -1).reshape(T, d)  # (T, d)


def sparsemax(z: torch.Tensor) -> torch.Tensor:
    """Euclidean projection of z (..., T) onto the simplex: max(z - tau, 0), exact zeros."""
    zs, _ = torch.sort(z, dim=-1, descending=True)  # (..., T)
    k = torch.arange(1, z.shape[-1] + 1, device=z.device, dtype=z.dtype)  # (T,)
    cum = zs.cumsum(-1)  # (..., T)
    support = (1 + k * zs > cum).sum(-1, keepdim=True)  # (..., 1): the support size
    tau = (cum.gather(-1, support - 1) - 1) / support.to(z.dtype)  # (..., 1)
    return torch.clamp(z - tau, min=0.0)


class AttentionReader(nn.Module):
    """Token + marker embeddings + sinusoids; the last position queries all T (eq. 1)."""

    def __init__(self, symbols: int, d: int, arm: str = "softmax", temperature: float = 1.0):
        super().__init__()
        self.tok, self.mark = nn.Embedding(symbols + 1, d), nn.Embedding(2, d)
        self.q, self.k, self.v = (nn.Linear(d, d) for _ in range(3))
        self.out = nn.Linear(d, symbols)
        self.arm, self.tau, self.d = arm, temperature if arm == "sharp" else 1.0, d

    def forward(self, tokens: torch.Tensor, marks: torch.Tensor):
        T = tokens.shape[1]
        x = self.tok(tokens) + self.mark(marks) + sinusoid(T, self.d).to(tokens.device)  # (B,T,d)
        q = self.q(x[:, -1])  # (B, d)
        logits = torch.einsum("btd,bd->bt", self.k(x), q) / math.sqrt(self.d)  # (B, T)
        norm = sparsemax if self.arm == "sparsemax" else lambda z: torch.softmax(z / self.tau, -1)
        w = norm(logits)  # (B, T)
        return self.out(torch.einsum("bt,btd->bd", w, self.v(x))), w  # (B, K), (B, T)


class LSTMReader(nn.Module):
    """The same embeddings (no positions: the recurrence has the order), the last state read."""

    def __init__(self, symbols: int, d: int, hidden: int, forget_bias: float = 1.0):
        super().__init__()
        self.tok, self.mark = nn.Embedding(symbols + 1, d), nn.Embedding(2, d)
        self.lstm, self.out = nn.LSTM(d, hidden, batch_first=True), nn.Linear(hidden, symbols)
        f = slice(hidden, 2 * hidden)  # the forget gate (gates i, f, g, o): a remembering start
        self.lstm.bias_hh_l0.data[f], self.lstm.bias_ih_l0.data[f] = forget_bias, 0.0

    def forward(self, tokens: torch.Tensor, marks: torch.Tensor):
        h, _ = self.lstm(self.tok(tokens) + self.mark(marks))  # (B, T, H)
        return self.out(h[:, -1]), None  # (B, K)


def entropy(w: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of -sum_t w_t ln w_t (0 ln 0 = 0), w (B, T)."""
    return -(w * torch.log(w.clamp_min(1e-12))).sum(-1).mean()
