"""Pascanu et al. 2013, Section 3.2 and Algorithm 1: norm clipping keeps SGD stable where the
gradients explode (a tanh RNN on the addition problem), and the cliff of Section 2.3 (Figure 6)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from repro.claims import Result
from repro.kit import rng, tasks
from repro.kit.figures import PALETTE, loss_curves, new_figure
from repro.kit.layers import ReadLast, mse
from repro.kit.train import train
from repro.kit.units import Unit, series

ARMS = ("unclipped", "clipped")
PART = "clipping-stability"
CLIFF_START, CLIFF_LR = (5.2, -2.5), 1.0  # by the wall: plain GD is thrown off, clipped GD not


def adding_model(hidden: int, rho: float, seed: int) -> nn.Module:
    """A tanh RNN reading (value, marker) pairs, a linear readout of its last state, and its
    recurrent matrix N(0, 1/H) rescaled to spectral radius rho. Built in the seed's "init"
    stream, so both arms of a seed start from the same weights."""
    with rng.scope(seed, "init"):
        model = ReadLast("rnn", hidden)
        W = torch.randn(hidden, hidden) / math.sqrt(hidden)  # (H, H)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(W * rho / torch.linalg.eigvals(W).abs().max())
    return model


def addition_run(
    arm: str,
    seed: int,
    *,
    hidden: int,
    rho: float,
    length: int,
    batch: int,
    lr: float,
    steps: int,
    threshold: float,
) -> dict:
    """One SGD run on the addition problem with an exploding W_rec: its History as a dict."""
    model = adding_model(hidden, rho, seed)
    data = rng.stream(seed, "train")  # the same training sequences for both arms of a seed
    hist = train(
        model,
        lambda _: tasks.adding(batch, length, data, mean=True),
        lambda m, b: mse(m(b[0]), b[1]),
        torch.optim.SGD(model.parameters(), lr=lr),
        steps,
        clip=threshold if arm == "clipped" else None,
        desc=f"seed {seed} {arm}",
    )
    return hist.to_dict()


def cliff_loss(w: torch.Tensor, b: torch.Tensor, steps: int = 50) -> torch.Tensor:
    """Section 2.3, eq. (8) and Figure 6: x_t = w sigmoid(x_{t-1}) + b from x_0 = 0.5, with the
    error E_50 = (sigmoid(x_50) - 0.7)^2 (the sigmoid of the last state, not the state)."""
    x = torch.full_like(w, 0.5)
    for _ in range(steps):
        x = w * torch.sigmoid(x) + b
    return (torch.sigmoid(x) - 0.7) ** 2


def cliff_figure():
    """Figure 6's surface over (w, b) with gradient-descent paths with and without clipping."""
    ws, bs = torch.meshgrid(
        torch.linspace(0, 10, 200, dtype=torch.float64),
        torch.linspace(-7, 1, 200, dtype=torch.float64),
        indexing="ij",
    )
    surface = cliff_loss(ws, bs)  # (200, 200), in [0, 0.49]
    fig, (ax,) = new_figure(width=5.5, height=4.0)
    image = ax.contourf(ws.numpy(), bs.numpy(), np.log10(surface.numpy() + 1e-12), levels=30)
    image.set_rasterized(True)  # 30 filled levels as SVG paths were 350 kB; as pixels, the page
    # stays under 1.5 MB (the paths, axes and text stay vectors)
    fig.colorbar(image, ax=ax, label="log10 loss")
    for clip, color, label in [(None, PALETTE[1], "plain GD"), (1.0, "white", "clipped GD")]:
        p = torch.tensor(CLIFF_START, dtype=torch.float64, requires_grad=True)
        path = [p.detach().clone()]
        for _ in range(60):
            (g,) = torch.autograd.grad(cliff_loss(p[0], p[1]), p)
            if clip is not None and g.norm() >= clip:  # Algorithm 1
                g = g * clip / g.norm()
            with torch.no_grad():
                p -= CLIFF_LR * g
            path.append(p.detach().clone())
        pts = torch.stack(path).numpy()
        ax.plot(pts[:, 0], pts[:, 1], ".-", color=color, ms=3, lw=1, label=label)
    ax.set(xlim=(0, 10), ylim=(-7, 1), xlabel="w", ylabel="b")
    ax.legend(frameon=False, loc="lower right")
    return fig


def clipping_stability(
    done: Mapping[Unit, dict], seeds: Sequence[int], *, rho: float, lr: float
) -> Result:
    runs = {arm: series(done, PART, arm, seeds) for arm in ARMS}
    diverged = {arm: [1.0 if h["diverged"] else 0.0 for h in hs] for arm, hs in runs.items()}
    notes = [
        f"{arm} seed {seed} diverged at step {h['diverged_step']}: {h['reason']} "
        f"(max gradient norm before: {max(h['grad_norm'][:-1] or [0]):.3g})"
        for i, seed in enumerate(seeds)
        for arm in ARMS
        if (h := runs[arm][i])["diverged"]
    ]
    result = Result("pascanu2013difficulty.clipping-stability", diverged, notes=notes)
    curves = {arm: [h["loss"] for h in hs] for arm, hs in runs.items()}
    result.add_figure(
        "stability-curves",
        loss_curves(curves, baseline=1 / 24, baseline_label="predict 0.5"),
        f"Training loss at rho = {rho}, lr = {lr}:"
        " unclipped runs end where the loss became NaN/inf.",
    )
    result.add_figure(
        "cliff",
        cliff_figure(),
        "The cliff of Section 2.3 (Figure 6): the error (sigmoid(x_50) - 0.7)^2 of a one-unit "
        "RNN over (w, b), and gradient descent with and without clipping (an illustration).",
    )
    return result
