"""Bengio et al. 1994: the three ways of fitting the one-unit system compared on the latch and
2-sequence problems: gradient descent and two search methods that use no gradient, simulated
annealing and multi-grid random search (our readings of the paper's descriptions)."""

from __future__ import annotations

import torch

from repro.bengio1994learning.tasks import span_noise, span_scores


def span_train(
    task: str,
    algo: str,
    theta: torch.Tensor,
    T: int,
    std: float,
    gen: torch.Generator,
    *,
    relevant: int,
    steps: int,
    batch: int,
    lr: float,
    sa_step: float,
    sa_temp: float,
    sa_cooling: float,
    mg_box: float,
    mg_levels: int,
) -> torch.Tensor:
    """`steps` updates of all trials' theta (N, d) at once, each on fresh noise (`batch` per
    class). "gd": gradient descent (rate `lr`, BPTT). "sa": simulated annealing (Gaussian moves
    of scale `sa_step`, Metropolis acceptance at a temperature cooled geometrically from
    `sa_temp` by `sa_cooling`). "mgrs": multi-grid random search (uniform moves in a box of
    half-width `mg_box`, halved at each of `mg_levels` levels, kept when better). A move is
    judged on the same batch as the current point (common random numbers)."""
    n, d = theta.shape
    for step in range(steps):
        noise = span_noise(n, batch, T - relevant, std, gen)  # (N, 2, B, T - L)
        if algo == "gd":
            theta = theta.detach().requires_grad_()
            loss = span_scores(task, theta, noise, relevant)[0].sum()  # trials independent
            theta = (theta - lr * torch.autograd.grad(loss, [theta])[0]).detach()
            continue
        if algo == "sa":
            move = sa_step * torch.randn(n, d, generator=gen, dtype=theta.dtype)
        else:
            box = mg_box / 2 ** (step * mg_levels // steps)
            move = box * (2 * torch.rand(n, d, generator=gen, dtype=theta.dtype) - 1)
        pair = torch.cat([theta, theta + move])  # (2N, d)
        mse = span_scores(task, pair, torch.cat([noise, noise]), relevant)[0]  # (2N,)
        keep = mse[n:] < mse[:n]
        if algo == "sa":
            temp = sa_temp * sa_cooling ** (step / steps)
            u = torch.rand(n, generator=gen, dtype=theta.dtype)
            keep |= u < torch.exp((mse[:n] - mse[n:]) / temp)
        theta = torch.where(keep[:, None], theta + move, theta)
    return theta
