"""Pascanu et al. 2013: the recurrent net of the temporal-order experiment (Section 4.1.1).

A one-layer simple RNN, R runs stacked along a leading axis so MSGD, MSGD-C and MSGD-CR train
from the same weights on the same sequences; the paper's three initialisations;
back-propagation through time by hand (eq. 3-5; tested against autograd), which returns the
dE/dh_k the regulariser needs; Omega (eq. 10); and the error rate.

Row convention h_t = f(h_{t-1} W_hh + u_t W_in + b), as in the authors' code.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from repro.pascanu2013difficulty.tasks import TEMPORAL_ORDER_CLASSES, TEMPORAL_ORDER_SYMBOLS


def to_init(init: str, hidden: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Section 4.1.1: "sigmoid": W ~ N(0, 0.01); "basic tanh": N(0, 0.1); "smart tanh": W_in,
    W_out ~ N(0, 0.01), W_rec sparse (15 non-zero incoming weights per unit) at spectral
    radius 0.95; b = b_out = 0. 0.01 and 0.1 are standard deviations (the authors' code draws
    normal(scale=.01)). Row convention h_t = f(h_{t-1} W_hh + u_t W_in + b), as in that code."""
    n_in, n_out = TEMPORAL_ORDER_SYMBOLS, len(TEMPORAL_ORDER_CLASSES)
    std = 0.1 if init == "basic-tanh" else 0.01
    W_in = torch.randn(n_in, hidden, generator=gen) * std  # (6, H)
    W_hh = torch.randn(hidden, hidden, generator=gen) * std  # (H, H): W_hh[i, j] is i -> j
    if init == "smart-tanh":  # 15 random rows kept per column: 15 inputs into each unit
        keep = torch.rand(hidden, hidden, generator=gen).argsort(dim=0) < 15  # (H, H)
        W_hh = W_hh * keep
        W_hh = W_hh * 0.95 / torch.linalg.eigvals(W_hh).abs().max()
    W_out = torch.randn(hidden, n_out, generator=gen) * std  # (H, 4)
    zeros = torch.zeros(hidden), torch.zeros(n_out)
    return {"W_in": W_in, "W_hh": W_hh, "b": zeros[0], "W_out": W_out, "b_out": zeros[1]}


def to_forward(P: Mapping[str, torch.Tensor], x: torch.Tensor, init: str):
    """R stacked runs at once. x: (B, T, 6); P[name]: (R, ...). Logits (R, B, 4), states."""
    act = torch.sigmoid if init == "sigmoid" else torch.tanh
    drive = torch.einsum("btc,rch->rtbh", x, P["W_in"]) + P["b"][:, None, None]  # (R, T, B, H)
    h = drive.new_zeros(drive.shape[0], x.shape[0], drive.shape[-1])  # (R, B, H): x_0 = 0
    states = []
    for d in drive.unbind(1):  # unbind, not drive[:, t]: one backward node, not T
        h = act(torch.baddbmm(d, h, P["W_hh"]))  # (R, B, H)
        states.append(h)
    return torch.baddbmm(P["b_out"][:, None], h, P["W_out"]), states  # (R, B, 4)


def to_bptt(P: Mapping[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, init: str):
    """Back-propagation through time by hand (eq. 3-5), about twice as fast as autograd here:
    the mean cross-entropy per run (R,), the gradients {name: (R, ...)}, and dE/dh_k per k."""
    with torch.no_grad():
        logits, states = to_forward(P, x, init)  # (R, B, 4)
        ce = F.cross_entropy(logits.flatten(0, 1), y.repeat(len(logits)), reduction="none")
        d_logits = (logits.softmax(-1) - F.one_hot(y, logits.shape[-1])) / len(y)  # (R, B, 4)
        G = {"W_out": states[-1].transpose(1, 2) @ d_logits, "b_out": d_logits.sum(1)}
        g = d_logits @ P["W_out"].transpose(1, 2)  # (R, B, H): dE/dh_T
        grads, d_pre, G["W_hh"] = [], [], torch.zeros_like(P["W_hh"])
        for t in range(len(states) - 1, -1, -1):
            h = states[t]
            grads.append(g)
            d = g * (h * (1 - h) if init == "sigmoid" else 1 - h * h)  # (R, B, H): dE/da_t
            d_pre.append(d)
            if t > 0:  # x_0 = 0 adds nothing to dE/dW_hh
                G["W_hh"].baddbmm_(states[t - 1].transpose(1, 2), d)  # (R, H, H)
            g = d @ P["W_hh"].transpose(1, 2)  # (R, B, H): dE/dh_{t-1}
        D = torch.stack(d_pre[::-1], 1)  # (R, T, B, H)
        G["W_in"] = torch.einsum("btc,rtbh->rch", x, D)  # (R, 6, H)
        G["b"] = D.sum((1, 2))  # (R, H)
    return ce.view(len(logits), -1).mean(1), {k: G[k] for k in P}, grads[::-1], states


def omega(W_hh: torch.Tensor, states, grads, init: str, bound: float = 1e-20) -> torch.Tensor:
    """Eq. (10) for R stacked runs: (||dE/dh_k diag(f'_k) W_hh^T||^2 / ||dE/dh_k||^2 - 1)^2
    over steps k and sequences, states and dE/dh detached, so autograd gives only the immediate
    derivative w.r.t. W_hh. Normalised like the authors' code: a mean over the sequences, summed
    over the steps, divided by the steps with ||dE/dh_k||^2 >= bound. Returns (R,)."""
    h = torch.stack(states).detach()  # (T, R, B, H)
    g = torch.stack(grads).detach()  # (T, R, B, H): dE/dh_k
    deriv = h * (1 - h) if init == "sigmoid" else 1 - h**2  # f'(a_k) from h_k = f(a_k)
    back = torch.einsum("trbh,rkh->trbk", g * deriv, W_hh)  # (T, R, B, H): one step back
    num, den = back.pow(2).sum(-1), g.pow(2).sum(-1)  # (T, R, B)
    ok = den >= bound
    per = (torch.where(ok, num / den.clamp_min(bound), 1.0) - 1) ** 2  # (T, R, B)
    return per.mean(2).sum(0) / ok.float().mean(2).sum(0).clamp_min(1e-12)  # (R,)


def to_errors(P: Mapping[str, torch.Tensor], x, y, init: str, chunk: int = 500) -> torch.Tensor:
    """Fraction of misclassified sequences per stacked run, (R,)."""
    with torch.no_grad():
        wrong = [
            (to_forward(P, x[i : i + chunk], init)[0].argmax(-1) != y[i : i + chunk]).sum(1)
            for i in range(0, len(y), chunk)
        ]  # [(R,)]
    return torch.stack(wrong).sum(0) / len(y)
