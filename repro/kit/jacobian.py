"""Kit room, Jacobian products: how fast a tanh or sigmoid RNN forgets, against its bound.

For h_t = f(W h_{t-1} + u_t), the derivative of the state with respect to the distant past is the
product dh_t/dh_0 = prod_{i=1..t} diag(f'(a_i)) W. With |f'| <= gamma (tanh: 1, the sigmoid: 1/4)
its norm is at most (gamma sigma_max(W))^t, so sigma_max(W) < 1/gamma makes it vanish
exponentially (Bengio et al. 1994; Pascanu et al. 2013, Section 2.1).
"""

from __future__ import annotations

import math

import numpy as np
import torch

GAMMA = {"tanh": 1.0, "sigmoid": 0.25}  # sup |f'| of each activation


def product_bound(
    W: torch.Tensor, u: torch.Tensor, act: str = "tanh", h0: torch.Tensor | None = None
) -> tuple[float, list[float]]:
    """The excess of the Jacobian product over its bound along one trajectory, in float64:
    max over t of log10(||dh_t/dh_0||_2 / (gamma sigma_max(W))^t) (below 0 where the bound
    holds), and the norms ||dh_t/dh_0||_2 for t = 1..T. W: (n, n); u: (T, n); h0: (n,), zeros
    when not given."""
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}[act]
    W, u = W.double(), u.double()
    n = W.shape[0]
    log_bound = math.log10(GAMMA[act] * torch.linalg.matrix_norm(W, ord=2).item())
    h = torch.zeros(n, dtype=torch.float64) if h0 is None else h0.double()  # (n,)
    J = torch.eye(n, dtype=torch.float64)  # (n, n)
    norms = []
    for t in range(u.shape[0]):
        h = f(W @ h + u[t])  # (n,)
        deriv = 1 - h**2 if act == "tanh" else h * (1 - h)  # f'(a_t) from h_t = f(a_t), (n,)
        J = deriv[:, None] * W @ J  # diag(f') W J: (n, n)
        finite = bool(torch.isfinite(J).all())  # the SVD refuses NaN: a diverged J has norm NaN
        norms.append(torch.linalg.matrix_norm(J, ord=2).item() if finite else math.nan)
    steps = np.arange(1, len(norms) + 1)
    excess = np.max(np.log10(norms) - steps * log_bound)  # np.max: a NaN norm gives a NaN excess
    return float(excess), norms
