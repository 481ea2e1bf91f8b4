"""Pascanu et al. 2013, Section 2.1: the conditions for vanishing and exploding gradients,
checked on random matrices (the Jacobian-product bound from repro.kit.jacobian)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from repro.claims import Result
from repro.kit import rng
from repro.kit.figures import PALETTE, new_figure
from repro.kit.jacobian import product_bound
from repro.kit.units import Unit, series

CHECKS = ("tanh_excess", "sigmoid_excess", "linear_slope_error")  # the claim's three values
PART = "conditions"  # one unit per seed, arm "checks"


def random_matrix(n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(n, n, generator=gen, dtype=torch.float64) / math.sqrt(n)  # (n, n)


def trajectory(n: int, horizon: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A random start h_0 (n,) and a random drive u (horizon, n), both N(0, 1)."""
    h0 = torch.randn(n, generator=gen, dtype=torch.float64)  # (n,)
    return h0, torch.randn(horizon, n, generator=gen, dtype=torch.float64)  # (horizon, n)


def linear_growth(
    rho: float, n: int, fit: tuple[int, int], gen: torch.Generator
) -> tuple[float, list[float]]:
    """Fitted growth rate of log ||W^m|| for a linear RNN (dh_t/dh_k = W^(t-k)), radius rho."""
    W = random_matrix(n, gen)
    W *= rho / torch.linalg.eigvals(W).abs().max().item()  # spectral radius exactly rho
    P, logs = torch.eye(n, dtype=torch.float64), []
    for _ in range(fit[1]):
        P = W @ P  # (n, n)
        logs.append(math.log(torch.linalg.matrix_norm(P, ord=2).item()))
    ms = np.arange(fit[0], fit[1] + 1)
    return float(np.polyfit(ms, np.asarray(logs)[ms - 1], 1)[0]), logs


def conditions_unit(
    seed: int, *, n_units: int, horizon: int, sigma: float, rho: float, fit: tuple[int, int]
) -> dict:
    """The three checks for one seed's random matrices, and the curves for the figure."""
    W = random_matrix(n_units, rng.stream(seed, "W"))
    W_tanh = W * sigma / torch.linalg.matrix_norm(W, ord=2)  # (n, n), sigma_max = sigma < 1
    h0, u = trajectory(n_units, horizon, rng.stream(seed, "tanh"))
    tanh_excess, tanh_norms = product_bound(W_tanh, u, "tanh", h0)
    h0, u = trajectory(n_units, horizon, rng.stream(seed, "sigmoid"))
    sigmoid_excess, _ = product_bound(4 * W_tanh, u, "sigmoid", h0)  # sigma_max 4 sigma < 4
    slope, logs = linear_growth(rho, n_units, fit, rng.stream(seed, "linear"))
    return {
        "tanh_excess": tanh_excess,
        "sigmoid_excess": sigmoid_excess,
        "linear_slope_error": abs(slope - math.log(rho)),
        "tanh_norms": tanh_norms,
        "logs": logs,
    }


def conditions_result(
    done: Mapping[Unit, dict], seeds: Sequence[int], *, horizon: int, sigma: float, rho: float
) -> Result:
    outs = series(done, PART, "checks", seeds)
    values = {name: [out[name] for out in outs] for name in CHECKS}
    first = (outs[0]["tanh_norms"], outs[0]["logs"])
    result = Result("pascanu2013difficulty.conditions", values)
    fig, (ax1, ax2) = new_figure(width=8.0, ncols=2)
    ks = np.arange(1, horizon + 1)
    ax1.plot(ks, np.log10(first[0]), color=PALETTE[0], label="tanh RNN")
    ax1.plot(ks, ks * math.log10(sigma), "--", color=PALETTE[1], label=f"bound {sigma}^(t-k)")
    ax1.set(xlabel="t - k", ylabel="log10 ||prod J||", title="sigma_max < 1: vanishing")
    ax1.legend(frameon=False)
    ms = np.arange(1, len(first[1]) + 1)
    ax2.plot(ms, np.asarray(first[1]) / math.log(10), color=PALETTE[0], label="linear RNN")
    growth = f"rho^(t-k), rho = {rho}"
    ax2.plot(ms, ms * math.log10(rho), "--", color=PALETTE[1], label=growth)
    ax2.set(xlabel="t - k", ylabel="log10 ||W^(t-k)||", title="rho > 1: exploding")
    ax2.legend(frameon=False)
    result.add_figure(
        "conditions",
        fig,
        "Gradient norm against the horizon t - k: under the "
        "singular-value bound (left), growing like rho^(t-k) (right).",
    )
    return result
