"""Britz et al. 2017, the task and the model: sequence reversal, and an encoder of `depth`
residual LSTM layers with a 1-layer attention decoder (the paper's framework: additive attention,
input feeding, a zero bridge between encoder and decoder)."""

from __future__ import annotations

import torch
from torch import nn


def reversal(batch: int, length: int, vocab: int, gen: torch.Generator):
    """Random sequences of `length` symbols in 0..vocab-1 and their reversals: (B, L), (B, L)."""
    x = torch.randint(0, vocab, (batch, length), generator=gen)  # (B, L)
    return x, x.flip(1)


class Seq2Seq(nn.Module):
    """`depth` residual LSTM layers; a 1-layer LSTM decoder, additive attention, input feeding,
    zero initial state (the paper's framework: AttentionLayerBahdanau, ZeroBridge)."""

    def __init__(self, vocab: int, width: int, depth: int):
        super().__init__()
        self.bos = vocab  # the decoder's first input: an extra symbol
        self.src = nn.Embedding(vocab, width)
        self.tgt = nn.Embedding(vocab + 1, width)
        self.encoder = nn.ModuleList(nn.LSTM(width, width, batch_first=True) for _ in range(depth))
        self.cell = nn.LSTMCell(2 * width, width)  # input: [target embedding; last context]
        self.keys = nn.Linear(width, width, bias=False)
        self.query = nn.Linear(width, width)
        self.v = nn.Linear(width, 1, bias=False)
        self.combine = nn.Linear(2 * width, width)
        self.out = nn.Linear(width, vocab)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self.src(x)  # (B, T, H)
        for lstm in self.encoder:
            h = lstm(h)[0] + h  # (B, T, H): x_{l+1} = LSTM_l(x_l) + x_l
        return h

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, T, V): teacher-forced on the targets y (B, T), or greedy when y is None."""
        enc = self.encode(x)  # (B, T, H)
        keys = self.keys(enc)  # (B, T, H)
        s = c = ctx = enc.new_zeros(enc.shape[0], enc.shape[2])  # (B, H)
        prev = torch.full_like(x[:, 0], self.bos)  # (B,)
        logits = []
        for t in range(x.shape[1] if y is None else y.shape[1]):
            s, c = self.cell(torch.cat([self.tgt(prev), ctx], -1), (s, c))  # (B, H)
            score = self.v(torch.tanh(keys + self.query(s)[:, None])).squeeze(-1)  # (B, T)
            ctx = (score.softmax(-1)[..., None] * enc).sum(1)  # (B, H)
            logits.append(self.out(torch.tanh(self.combine(torch.cat([s, ctx], -1)))))  # (B, V)
            prev = logits[-1].argmax(-1) if y is None else y[:, t]  # (B,)
        return torch.stack(logits, 1)  # (B, T, V)

    def recurrent(self) -> list[torch.Tensor]:
        """Every recurrent matrix W_hh (4H, H): the encoder's layers, then the decoder's."""
        return [lstm.weight_hh_l0 for lstm in self.encoder] + [self.cell.weight_hh]


def orthogonalise(model: Seq2Seq, gen: torch.Generator) -> None:
    """Each gate's H x H block of every W_hh becomes random orthogonal; nothing else changes."""
    with torch.no_grad():
        for w in model.recurrent():
            for block in w.view(4, w.shape[1], w.shape[1]):  # (H, H) per gate
                nn.init.orthogonal_(block, generator=gen)


def accuracy(model: Seq2Seq, x: torch.Tensor, y: torch.Tensor) -> float:
    """Token accuracy of greedy decoding (call in eval mode, without grad)."""
    return float((model(x).argmax(-1) == y).float().mean())
