"""Bengio et al. 1994: exact derivatives at a latching attractor (one unit) and the
singular-value bound of an n-unit tanh RNN (the Jacobian-product bound of repro.kit.jacobian)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from repro.claims import Result
from repro.kit import rng
from repro.kit.figures import PALETTE, new_figure
from repro.kit.jacobian import product_bound
from repro.kit.units import Unit

CHECKS = ("slope_error", "bound_excess")  # the claim's two values
PART = "latching-vanishes"


def attractor(w: float) -> float:
    """The positive fixed point of x = tanh(w x) (w > 1), by fixed-point iteration in float64."""
    x = 1.0
    for _ in range(10_000):
        x = math.tanh(w * x)
    return x


def log_derivative(w: float, T: int, x1: float) -> np.ndarray:
    """log |dx_t/dx_1| for t = 1..T of x_t = tanh(w x_{t-1}) from x_1, by autograd in float64."""
    x_first = torch.tensor(x1, dtype=torch.float64, requires_grad=True)
    xs, x = [x_first], x_first
    for _ in range(T - 1):
        x = torch.tanh(w * x)
        xs.append(x)
    logs = [0.0]
    for x_t in xs[1:]:
        (grad,) = torch.autograd.grad(x_t, x_first, retain_graph=True)
        logs.append(math.log(abs(grad.item())))
    return np.asarray(logs)  # (T,)


def latching_units(seeds: Sequence[int]) -> list[Unit]:
    """The first seed checks the fixed w ("fixed-w"), every other seed a drawn one ("drawn-w")."""
    return [Unit(PART, "drawn-w" if i else "fixed-w", s) for i, s in enumerate(seeds)]


def latching_unit(
    arm: str,
    seed: int,
    *,
    w: float,
    w_range: tuple[float, float],
    start_offset: float,
    fit_from: int,
    fit_to: int,
    n_units: int,
    sigma_max: float,
    horizon: int,
) -> dict:
    """Both checks for one seed; arm "fixed-w" takes `w`, "drawn-w" draws it in `w_range`."""
    lo, hi = w_range
    if arm == "drawn-w":
        w = lo + (hi - lo) * torch.rand(1, generator=rng.stream(seed, "w")).item()
    factor = abs(w * (1 - attractor(w) ** 2))
    logs = log_derivative(w, fit_to, attractor(w) + start_offset)  # (fit_to,)
    ts = np.arange(fit_from, fit_to + 1)
    slope = np.polyfit(ts, logs[ts - 1], 1)[0]
    W = torch.randn(n_units, n_units, generator=rng.stream(seed, "W"), dtype=torch.float64)
    W *= sigma_max / torch.linalg.matrix_norm(W, ord=2)  # (n, n), sigma_max exactly
    u = torch.randn(horizon, n_units, generator=rng.stream(seed, "drive"), dtype=torch.float64)
    excess, norms = product_bound(W, u, "tanh")  # h_0 = 0
    return {
        "slope_error": float(abs(slope - math.log(factor))),
        "bound_excess": excess,
        "curves": {"w": w, "factor": factor, "logs": logs.tolist(), "norms": norms},
    }


def latching_result(
    done: Mapping[Unit, dict], seeds: Sequence[int], *, horizon: int, sigma_max: float, n_units: int
) -> Result:
    outs = [done[u] for u in latching_units(seeds)]
    values = {k: [out[k] for out in outs] for k in CHECKS}
    curves = outs[0]["curves"]  # the first seed's, the fixed w
    note = f"w = {curves['w']}: |M'(x*)| = {curves['factor']:.4f}"
    result = Result("bengio1994learning.latching-vanishes", values, notes=[note], extra=curves)
    fig, (ax1, ax2) = new_figure(width=8.0, ncols=2)
    t1 = np.arange(1, len(curves["logs"]) + 1)
    ax1.plot(t1, np.log10(np.exp(curves["logs"])), color=PALETTE[0], label="measured")
    slope = f"slope log10 {curves['factor']:.3f}"
    ax1.plot(t1, (t1 - 1) * math.log10(curves["factor"]), "--", color=PALETTE[1], label=slope)
    ax1.set(xlabel="T", ylabel="log10 |dx_T / dx_1|", title=f"one unit, w = {curves['w']}")
    t2 = np.arange(1, horizon + 1)
    ax2.plot(t2, np.log10(curves["norms"]), color=PALETTE[0], label="||dh_T/dh_0||")
    bound = f"bound {sigma_max}^T"
    ax2.plot(t2, t2 * math.log10(sigma_max), "--", color=PALETTE[1], label=bound)
    ax2.set(xlabel="T", ylabel="log10 norm", title=f"{n_units} units, tanh")
    ax1.legend(frameon=False)
    ax2.legend(frameon=False)
    result.add_figure(
        "latching",
        fig,
        "Derivatives through a latching system decay exponentially, at the rate the "
        "attractor sets (left) and below the singular-value bound (right).",
    )
    return result
