"""Bengio et al. 1994: the latch and 2-sequence problems, for many trials at once.

Two classes whose class is set by the first L inputs only; T - L Gaussian noise inputs follow;
one unit x_t = tanh(w x_{t-1} + v u_t + b), x_0 = 0, must end at x_T = -0.8 / +0.8 (class 0 / 1).
Layout: (N trials, 2 classes, B sequences, T). Latch: the L prefix inputs are free parameters,
theta = (w, h_0[:L], h_1[:L]), v = 1, b = 0: 2L + 1 free parameters (a departure: the later
weight-guessing report's latch has 3 in all, w and one initial input per class, i.e. L = 1).
2-sequence (our reading): prefix -1/+1, (w, v, b).
Every draw takes an explicit `torch.Generator`.
"""

from __future__ import annotations

import torch

SPAN_TARGETS = (-0.8, 0.8)  # x_T's target for class 0 and class 1


def span_noise(n: int, batch: int, steps: int, std: float, gen: torch.Generator) -> torch.Tensor:
    """The irrelevant inputs: i.i.d. Gaussian of standard deviation `std`, (N, 2, B, steps)."""
    return std * torch.randn(n, 2, batch, steps, generator=gen, dtype=torch.float64)


def one_unit_final(w, v, b, u: torch.Tensor) -> torch.Tensor:
    """x_T of x_t = tanh(w x_{t-1} + v u_t + b): u (N, 2, B, T) -> (N, 2, B); w, v, b (N,)."""
    w, v, b = (torch.as_tensor(p, dtype=u.dtype).reshape(-1, 1, 1) for p in (w, v, b))
    x = torch.zeros(u.shape[:3], dtype=u.dtype)  # (N, 2, B)
    for u_t in u.unbind(dim=-1):  # unbind, not u[..., t]: its backward would cost O(T^2)
        x = torch.tanh(w * x + v * u_t + b)  # (N, 2, B)
    return x


def latch_inputs(theta: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Class c's sequences: its trainable prefix h_c, then noise (N, 2, B, T - L): (N, 2, B, T)."""
    n, _, batch, _ = noise.shape
    h = theta[:, 1:].reshape(n, 2, 1, -1).expand(n, 2, batch, -1)  # (N, 2, B, L)
    return torch.cat([h, noise], dim=-1)


def two_sequence_inputs(relevant: int, noise: torch.Tensor) -> torch.Tensor:
    """Class c's sequences: L inputs of -1 (c = 0) or +1 (c = 1), then the noise: (N, 2, B, T)."""
    n, _, batch, _ = noise.shape
    sign = torch.tensor([-1.0, 1.0], dtype=noise.dtype).reshape(1, 2, 1, 1)
    return torch.cat([sign.expand(n, 2, batch, relevant), noise], dim=-1)


def span_final(task: str, theta: torch.Tensor, noise: torch.Tensor, relevant: int) -> torch.Tensor:
    """x_T for every trial's parameters theta (N, d) on `noise` (N, 2, B, T - L): (N, 2, B)."""
    if task == "latch":
        return one_unit_final(theta[:, 0], 1.0, 0.0, latch_inputs(theta, noise))
    return one_unit_final(*theta.unbind(dim=1), two_sequence_inputs(relevant, noise))


def span_scores(task: str, theta, noise, relevant: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per trial: x_T's mean squared error and accuracy (x_T with its target's sign): (N,), (N,)."""
    x = span_final(task, theta, noise, relevant)  # (N, 2, B)
    target = torch.tensor(SPAN_TARGETS, dtype=x.dtype).reshape(1, 2, 1)
    correct = (x.sign() == target.sign()).to(x.dtype)  # (N, 2, B)
    return ((x - target) ** 2).mean(dim=(1, 2)), correct.mean(dim=(1, 2))


def span_init(task: str, n: int, relevant: int, w0: float, gen: torch.Generator) -> torch.Tensor:
    """Starting points of n trials: w = w0, every other parameter N(0, 0.1^2): (N, d)."""
    d = 1 + 2 * relevant if task == "latch" else 3
    theta = 0.1 * torch.randn(n, d, generator=gen, dtype=torch.float64)  # (N, d)
    theta[:, 0] = w0
    return theta


def span_oracle(task: str, relevant: int) -> torch.Tensor:
    """Hand-set weights (d,): the prefix (h = -+1, or v = 1 on the fixed -+1) takes x to -+0.76;
    w = 4 then holds it near -+0.999, which only a noise beyond 2.9 (6.5 std at 0.447) flips."""
    if task == "latch":
        return torch.tensor([4.0] + [-1.0] * relevant + [1.0] * relevant, dtype=torch.float64)
    return torch.tensor([4.0, 1.0, 0.0], dtype=torch.float64)
