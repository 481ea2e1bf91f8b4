"""Subakan & Smaragdis 2017, the models: recurrent stacks over piano-roll frames whose recurrent
matrices are full (torch's fused RNN, GRU, LSTM) or diagonal (this module's loop), with the same
gate equations either way, and a read-out of the next frame's 88 keys.

A diagonal layer replaces each recurrent matrix U of a gate by diag(u):

    vanilla RNN  h_t = tanh(W x_t + u * h_{t-1} + b)
    GRU          r, z = sigma(W_{r,z} x_t + u_{r,z} * h_{t-1} + b_{r,z}),
                 n = tanh(W_n x_t + r * (u_n * h_{t-1} + b_n)),  h_t = (1 - z) n + z h_{t-1}
    LSTM         i, f, o = sigma(...), g = tanh(W_g x_t + u_g * h_{t-1} + b_g),
                 c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)

(* is the element-wise product; the gate layout and the GRU's reset inside the candidate's
recurrent term are torch's, so a full and a diagonal layer differ only in U.)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from repro.kit.music import CELLS, KEYS

GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # recurrent terms per layer


class DiagonalLayer(nn.Module):
    """One recurrent layer with diagonal recurrent matrices: (B, L, I) -> (B, L, H)."""

    def __init__(self, cell: str, inputs: int, hidden: int):
        super().__init__()
        self.cell, self.hidden, g = cell, hidden, GATES[cell]
        self.inp = nn.Linear(inputs, g * hidden)  # every gate's W x + b at once
        bound = 1 / math.sqrt(hidden)  # torch's recurrent init range, kept for u and its bias
        self.u = nn.Parameter(torch.empty(g * hidden).uniform_(-bound, bound))
        self.bu = nn.Parameter(torch.empty(g * hidden).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L, I)
        H = self.hidden
        a = self.inp(x)  # (B, L, gH): the input terms of every step, one matmul
        h = x.new_zeros(x.shape[0], H)  # (B, H)
        out = []
        # Each step is a few fused element-wise ops (addcmul, lerp): a step costs per-op overhead,
        # not FLOPs, at these sizes (measured in benchmarks/step_speed.py).
        if self.cell == "rnn":
            steps = (a + self.bu).unbind(1)  # L x (B, H): W x_t + b
            for a_t in steps:
                h = torch.tanh(torch.addcmul(a_t, self.u, h))  # (B, H)
                out.append(h)
        elif self.cell == "gru":  # torch's gate order: reset, update, new
            u_rz, u_n, b_n = self.u[: 2 * H], self.u[2 * H :], self.bu[2 * H :]
            rz_steps = (a[..., : 2 * H] + self.bu[: 2 * H]).unbind(1)  # L x (B, 2H)
            n_steps = a[..., 2 * H :].unbind(1)  # L x (B, H)
            for a_rz, a_n in zip(rz_steps, n_steps, strict=True):
                rz = torch.sigmoid(torch.addcmul(a_rz, u_rz, h.repeat(1, 2)))  # (B, 2H)
                r, z = rz.chunk(2, -1)
                n = torch.tanh(torch.addcmul(a_n, r, torch.addcmul(b_n, u_n, h)))  # (B, H)
                h = torch.lerp(n, h, z)  # (1 - z) n + z h
                out.append(h)
        else:  # torch's order: in, forget, cell, out
            c = x.new_zeros(x.shape[0], H)  # (B, H), the cell
            steps = (a + self.bu).unbind(1)  # L x (B, 4H)
            for a_t in steps:
                gates = torch.addcmul(a_t, self.u, h.repeat(1, 4))  # (B, 4H)
                i, f, g, o = gates.chunk(4, -1)
                c = torch.addcmul(torch.sigmoid(f) * c, torch.sigmoid(i), torch.tanh(g))
                h = torch.sigmoid(o) * torch.tanh(c)  # (B, H)
                out.append(h)
        return torch.stack(out, 1)  # (B, L, H)


class MusicRNN(nn.Module):
    """`layers` recurrent layers of `hidden` units, full or diagonal, with dropout on the input
    and on the output (the reference code keeps 0.9 of each), and a linear read-out of the next
    frame's 88 logits: (B, L, 88) -> (B, L, 88)."""

    def __init__(self, cell: str, form: str, hidden: int, layers: int, dropout: float):
        super().__init__()
        if form not in ("full", "diag"):
            raise ValueError(f"form must be 'full' or 'diag', not {form!r}")
        widths = [KEYS] + [hidden] * layers
        if form == "full":
            self.rnn = CELLS[cell](KEYS, hidden, layers, batch_first=True)
        else:
            self.rnn = nn.ModuleList(DiagonalLayer(cell, widths[i], hidden) for i in range(layers))
        self.drop_in, self.drop_out = nn.Dropout(dropout), nn.Dropout(dropout)
        self.head = nn.Linear(hidden, KEYS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L, 88)
        h = self.drop_in(x)
        if isinstance(self.rnn, nn.ModuleList):
            for layer in self.rnn:
                h = layer(h)  # (B, L, H)
        else:
            h, _ = self.rnn(h)  # (B, L, H)
        return self.head(self.drop_out(h))  # (B, L, 88)
