"""Pascanu, Mikolov & Bengio 2013: On the difficulty of training recurrent neural networks.

Claims: (1) the conditions of Section 2: with ||diag sigma'(x)|| <= gamma (gamma = 1 for tanh,
1/4 for the sigmoid), a largest singular value of W_rec below 1/gamma is sufficient for the
gradients to vanish, and for a linear RNN a spectral radius above 1 is necessary for them to
explode; (2) norm clipping (Algorithm 1) keeps training stable where gradients explode; (3) on
the addition problem it also helps learning.

Key equations: dE_t/dh_k = dE_t/dh_t prod_{i=k+1..t} W_rec^T diag(sigma'(x_{i-1})), so

    || prod_i dh_i/dh_{i-1} || <= (gamma sigma_max(W_rec))^(t-k),

and Algorithm 1: g = dE/dtheta; if ||g|| >= threshold: g <- (threshold / ||g||) g (after backward).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from repro.claims import Claim, Registration, Result, above, below
from repro.kit import tasks
from repro.kit.device import to_device
from repro.kit.figures import PALETTE, gradient_flow_heatmap, loss_curves, new_figure
from repro.kit.train import train
from repro.kit.units import Budget, Unit, grid

CLAIMS = [
    Claim(
        id="pascanu2013difficulty.conditions",
        kind="check",
        domains={"linear_slope_error": "nonnegative"},
        statement="sigma_max(W_rec) < 1/gamma makes the Jacobian product shrink at least as fast "
        "as (gamma sigma_max)^(t-k) (tanh: gamma = 1, sigmoid: gamma = 1/4), and a linear RNN "
        "with spectral radius rho > 1 grows like rho^(t-k).",
        paper_value="sufficient condition for vanishing: lambda_1 < 1/gamma; necessary for "
        "exploding: lambda_1 > 1/gamma",
        where="Section 2.1",
        metric="tanh_excess / sigmoid_excess: max over t-k of log10(||prod J|| / bound); "
        "linear_slope_error: |fitted log-growth rate - ln rho|",
        criterion=below("tanh_excess", 1e-9, seeds=1.0)
        & below("sigmoid_excess", 1e-9, seeds=1.0)
        & below("linear_slope_error", 0.01, seeds=1.0),
    ),
    Claim(
        id="pascanu2013difficulty.clipping-stability",
        setup="paper: the cliff argument and the temporal-order figure | ours: a tanh RNN with "
        "spectral radius 1.5 on the addition problem, SGD with and without clipping",
        statement="With an exploding recurrent matrix, plain SGD diverges while the same run with "
        "gradient-norm clipping does not.",
        paper_value="clipping lets SGD cross the cliffs of the error surface instead of being "
        "thrown off them",
        where="Section 3.2, Algorithm 1",
        metric="per seed: 1 if the run reached a NaN/inf loss or gradient, else 0",
        criterion=above("unclipped", 0.5, seeds=0.8) & below("clipped", 0.5, seeds=0.8),
        proportion=True,
    ),
    Claim(
        id="pascanu2013difficulty.clipping-learning",
        domain="nonnegative",
        setup="paper: MSGD vs MSGD-C vs MSGD-CR on the temporal order and addition problems | "
        "ours: SGD vs SGD-C on the addition problem (a comparison the paper does not make)",
        statement="On the addition problem, clipping gives a lower test error than the same SGD "
        "run without it (paired by seed), and beats the trivial predictor.",
        paper_value="SGD-C solves the addition problem at lengths where plain SGD fails",
        where="Section 4.1, Figure 7",
        metric="test MSE on 1000 fresh sequences (predicting 0.5 gives 1/24 = 0.0417)",
        criterion=below("clipped", "unclipped", seeds=0.8) & below("clipped", 1 / 24, seeds=0.8),
    ),
]

# Fixed before the confirmation run (seeds 100-104, never looked at before): what was explored.
REGISTRATION = Registration(
    exploration=(0, 1, 2, 3, 4),
    confirmation=(100, 101, 102, 103, 104),
    note=(
        "Radius, learning rate, budget and thresholds were set on seeds 0-4; a later outside "
        "check on five other seeds (not recorded) found clipping-learning not reproduced."
    ),
)

# Full scale on the default seeds, one thread per unit (provenance: wall_time_s, rounded up).
BUDGET = Budget(cpu_s=350, memory_mb=600, measured="2-core CI-class machine, 2026-12-01")


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # quick and paper scale; full scale confirms on REGISTRATION
    n_units: int = 32  # size of the random W_rec in the deterministic checks
    horizon: int = 60  # t - k up to this in the vanishing checks
    sigma: float = 0.95  # sigma_max for tanh (< 1); the sigmoid check uses 4 sigma (< 4)
    rho_linear: float = 1.1  # the linear RNN
    linear_fit: tuple[int, int] = (100, 400)  # fit log ||W^n|| over these n (past the transient)
    hidden: int = 50  # the paper's 50-unit tanh RNN
    length: int = 50  # T of the addition problem (paper: 50 to 200; 50 keeps CPU minutes)
    batch: int = 20  # the paper's minibatch
    rho_explode: float = 1.5  # stability runs: an exploding recurrent matrix ...
    lr_explode: float = 0.1  # ... and a step size that pushes it over the cliff
    steps_explode: int = 300  # unclipped runs diverge within about 30 steps here
    rho: float = 1.2  # learning runs: near the edge, where the paper expects clipping to matter
    lr: float = 0.03
    steps: int = 2000  # paper: up to millions of updates; 2000 is what 2 CPU cores afford
    threshold: float = 1.0  # clipping norm, fixed before the runs (paper: half to ten times
    # the average norm; the unclipped norms here are about 0.1 to 5)
    test_size: int = 1000
    probe_every: int = 100  # gradient-flow heatmap: probe dL/dh_t every this many steps

    @classmethod
    def quick(cls) -> Config:
        return cls(
            seeds=3,
            length=20,
            steps_explode=100,
            steps=300,
            horizon=30,
            linear_fit=(100, 300),
            probe_every=50,
        )

    @classmethod
    def paper(cls) -> Config:
        return cls(seeds=10, length=200, steps=50_000, probe_every=2500)


# ---- claim 1: the conditions -----------------------------------------------------------------


def random_matrix(n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(n, n, generator=gen, dtype=torch.float64) / math.sqrt(n)  # (n, n)


def product_excess(
    W: torch.Tensor, act: str, gamma: float, horizon: int, gen: torch.Generator
) -> tuple[float, list[float]]:
    """max over t-k of log10(||prod_i diag(sigma') W|| / (gamma sigma_max)^(t-k)), and the norms."""
    n = W.shape[0]
    f = torch.tanh if act == "tanh" else torch.sigmoid
    sigma_max = torch.linalg.matrix_norm(W, ord=2).item()
    h = torch.randn(n, generator=gen, dtype=torch.float64)  # (n,)
    J = torch.eye(n, dtype=torch.float64)  # (n, n)
    excess, norms = -math.inf, []
    for step in range(1, horizon + 1):
        pre = W @ h + torch.randn(n, generator=gen, dtype=torch.float64)  # (n,)
        h = f(pre)
        deriv = 1 - h**2 if act == "tanh" else h * (1 - h)  # sigma'(pre), (n,)
        J = deriv[:, None] * W @ J  # (n, n)
        norm = torch.linalg.matrix_norm(J, ord=2).item()
        norms.append(norm)
        excess = max(excess, math.log10(norm) - step * math.log10(gamma * sigma_max))
    return excess, norms


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


def conditions_unit(config: Config, seed: int) -> dict:
    """The three checks for one seed's random matrices, and the curves for the figure."""
    gen = torch.Generator().manual_seed(seed)
    W = random_matrix(config.n_units, gen)
    W_tanh = W * config.sigma / torch.linalg.matrix_norm(W, ord=2)  # (n, n), sigma_max < 1
    tanh_excess, tanh_norms = product_excess(W_tanh, "tanh", 1.0, config.horizon, gen)
    sigmoid_excess, _ = product_excess(4 * W_tanh, "sigmoid", 0.25, config.horizon, gen)  # < 4
    slope, logs = linear_growth(config.rho_linear, config.n_units, config.linear_fit, gen)
    return {
        "tanh_excess": tanh_excess,
        "sigmoid_excess": sigmoid_excess,
        "linear_slope_error": abs(slope - math.log(config.rho_linear)),
        "tanh_norms": tanh_norms,
        "logs": logs,
    }


def conditions(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> Result:
    outs = [done[Unit("conditions", "checks", seed)] for seed in seeds]
    names = ("tanh_excess", "sigmoid_excess", "linear_slope_error")
    values = {name: [out[name] for out in outs] for name in names}
    first = (outs[0]["tanh_norms"], outs[0]["logs"])
    result = Result("pascanu2013difficulty.conditions", values)
    fig, (ax1, ax2) = new_figure(width=8.0, ncols=2)
    ks = np.arange(1, config.horizon + 1)
    ax1.plot(ks, np.log10(first[0]), color=PALETTE[0], label="tanh RNN")
    ax1.plot(
        ks,
        ks * math.log10(config.sigma),
        "--",
        color=PALETTE[1],
        label=f"bound {config.sigma}^(t-k)",
    )
    ax1.set(xlabel="t - k", ylabel="log10 ||prod J||", title="sigma_max < 1: vanishing")
    ax1.legend(frameon=False)
    ms = np.arange(1, len(first[1]) + 1)
    ax2.plot(ms, np.asarray(first[1]) / math.log(10), color=PALETTE[0], label="linear RNN")
    ax2.plot(
        ms,
        ms * math.log10(config.rho_linear),
        "--",
        color=PALETTE[1],
        label=f"rho^(t-k), rho = {config.rho_linear}",
    )
    ax2.set(xlabel="t - k", ylabel="log10 ||W^(t-k)||", title="rho > 1: exploding")
    ax2.legend(frameon=False)
    result.add_figure(
        "conditions",
        fig,
        "Gradient norm against the horizon t - k: under the "
        "singular-value bound (left), growing like rho^(t-k) (right).",
    )
    return result


# ---- claims 2 and 3: clipping on the addition problem ----------------------------------------


class AddingRNN(nn.Module):
    """A tanh RNN reading (value, marker) pairs; a linear readout of the last state."""

    def __init__(self, hidden: int, rho: float):
        super().__init__()
        self.rnn = nn.RNN(2, hidden, batch_first=True, nonlinearity="tanh")
        self.head = nn.Linear(hidden, 1)
        with torch.no_grad():  # the recurrent matrix at a fixed spectral radius
            W = torch.randn(hidden, hidden) / math.sqrt(hidden)
            self.rnn.weight_hh_l0.copy_(W * rho / torch.linalg.eigvals(W).abs().max())

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, 2)
        out, _ = self.rnn(x)  # (B, T, H)
        return self.head(out[:, -1]).squeeze(-1)  # (B,)

    def state_grad_norms(self, x: torch.Tensor, y: torch.Tensor) -> list[float]:
        """||dL/dh_t|| for every t (through the recurrence), unrolled step by step."""
        r = self.rnn
        h = x.new_zeros(x.shape[0], r.hidden_size)  # (B, H)
        states = []
        for t in range(x.shape[1]):
            h = torch.tanh(
                x[:, t] @ r.weight_ih_l0.T + r.bias_ih_l0 + h @ r.weight_hh_l0.T + r.bias_hh_l0
            )  # (B, H)
            states.append(h)
        loss = ((self.head(h).squeeze(-1) - y) ** 2).mean()
        grads = torch.autograd.grad(loss, states)
        return [g.norm().item() for g in grads]


def addition_run(config: Config, part: str, arm: str, seed: int) -> dict:
    """One SGD run on the addition problem, exploding (stability) or near the edge (learning):
    its History as a dict, the test MSE (NaN if it diverged) and the gradient-flow probes."""
    clip = config.threshold if arm == "clipped" else None
    if part == "clipping-stability":
        rho, lr, steps = config.rho_explode, config.lr_explode, config.steps_explode
    else:
        rho, lr, steps = config.rho, config.lr, config.steps
    torch.manual_seed(seed)  # same init for both arms of a seed
    model = AddingRNN(config.hidden, rho)
    data = tasks.generator(1000 + seed)  # same training stream for both arms
    probe = tasks.adding(100, config.length, tasks.generator(7), mean=True)
    probe_x, probe_y = to_device(probe)  # (100, T, 2), (100,)

    def loss_fn(m: nn.Module, batch) -> torch.Tensor:
        x, y = batch
        return ((m(x) - y) ** 2).mean()

    hist = train(
        model,
        lambda _: tasks.adding(config.batch, config.length, data, mean=True),
        loss_fn,
        torch.optim.SGD(model.parameters(), lr=lr),
        steps,
        clip=clip,
        probe=lambda step, m: m.state_grad_norms(probe_x, probe_y),
        probe_every=config.probe_every,
        desc=f"seed {seed} {'clip' if clip else 'plain'}",
    )
    test = tasks.adding(config.test_size, config.length, tasks.generator(99), mean=True)
    x, y = to_device(test)  # (N, T, 2), (N,)
    with torch.no_grad():
        mse = math.nan if hist.diverged else ((model(x) - y) ** 2).mean().item()
    return {**hist.to_dict(), "mse": mse, "probes": hist.probes}  # probes: [(step, norms)]


def cliff_figure():
    """Section 2.3's one-unit RNN x_t = w sigmoid(x_{t-1}) + b, x_0 = 0.5, loss (x_50 - 0.7)^2:
    the loss surface over (w, b) with gradient-descent paths with and without clipping."""

    def loss(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x = torch.full_like(w, 0.5)
        for _ in range(50):
            x = w * torch.sigmoid(x) + b
        return (x - 0.7) ** 2

    ws, bs = torch.meshgrid(
        torch.linspace(0, 10, 200, dtype=torch.float64),
        torch.linspace(-7, 1, 200, dtype=torch.float64),
        indexing="ij",
    )
    surface = loss(ws, bs)  # (200, 200)
    fig, (ax,) = new_figure(width=5.5, height=4.0)
    image = ax.contourf(ws.numpy(), bs.numpy(), np.log10(surface.numpy() + 1e-12), levels=30)
    fig.colorbar(image, ax=ax, label="log10 loss")
    for clip, color, label in [(None, PALETTE[1], "plain GD"), (1.0, "white", "clipped GD")]:
        p = torch.tensor([6.0, -3.2], dtype=torch.float64, requires_grad=True)
        path = [p.detach().clone()]
        for _ in range(60):
            (g,) = torch.autograd.grad(loss(p[0], p[1]), p)
            if clip is not None and g.norm() >= clip:  # Algorithm 1
                g = g * clip / g.norm()
            with torch.no_grad():
                p -= 0.5 * g
            path.append(p.detach().clone())
        pts = torch.stack(path).numpy()
        ax.plot(pts[:, 0], pts[:, 1], ".-", color=color, ms=3, lw=1, label=label)
    ax.set(xlim=(0, 10), ylim=(-7, 1), xlabel="w", ylabel="b")
    ax.legend(frameon=False, loc="lower right")
    return fig


ARMS = ("unclipped", "clipped")


def arms(part: str, seeds: Sequence[int], done: Mapping[Unit, dict]) -> dict[str, list[dict]]:
    """Each arm's unit outputs in seed order."""
    return {arm: [done[Unit(part, arm, seed)] for seed in seeds] for arm in ARMS}


def clipping_stability(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> Result:
    runs = arms("clipping-stability", seeds, done)
    stable = {arm: [1.0 if h["diverged"] else 0.0 for h in hs] for arm, hs in runs.items()}
    notes = [
        f"{arm} seed {seed} diverged at step {h['diverged_step']}: {h['reason']} "
        f"(max gradient norm before: {max(h['grad_norm'][:-1] or [0]):.3g})"
        for seed in seeds
        for arm in ARMS
        if (h := done[Unit("clipping-stability", arm, seed)])["diverged"]
    ]
    result = Result("pascanu2013difficulty.clipping-stability", stable, notes=notes)
    curves = {arm: [h["loss"] for h in hs] for arm, hs in runs.items()}
    result.add_figure(
        "stability-curves",
        loss_curves(curves, baseline=1 / 24, baseline_label="predict 0.5"),
        f"Training loss at rho = {config.rho_explode}, lr = {config.lr_explode}:"
        " unclipped runs end where the loss became NaN/inf.",
    )
    result.add_figure(
        "cliff",
        cliff_figure(),
        "The cliff of Section 2.3: the loss surface of "
        "a one-unit RNN and gradient descent with and without clipping "
        "(an illustration, not a test).",
    )
    return result


def clipping_learning(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> Result:
    runs = arms("clipping-learning", seeds, done)
    clipped_steps = [h["clipped"] for h in runs["clipped"]]
    result = Result(
        "pascanu2013difficulty.clipping-learning",
        {arm: [h["mse"] for h in hs] for arm, hs in runs.items()},
        notes=[
            f"clipping was active on {min(clipped_steps)}-{max(clipped_steps)} of "
            f"{config.steps} steps per clipped run"
        ],
    )
    curves = {arm: [h["loss"] for h in hs] for arm, hs in runs.items()}
    result.add_figure(
        "learning-curves",
        loss_curves(curves, every=1, baseline=1 / 24, baseline_label="predict 0.5"),
        f"Training loss at rho = {config.rho}, lr = {config.lr}, both arms.",
    )
    heat = {arm: [norms for _, norms in hs[0]["probes"]] for arm, hs in runs.items()}
    probe_steps = [step for step, _ in runs["clipped"][0]["probes"]]  # the first seed's
    result.add_figure(
        "gradient-flow",
        gradient_flow_heatmap(
            heat, probe_steps, position_label="time step t of h_t (loss at the last)"
        ),
        "||dL/dh_t|| over training: how much of the gradient reaches early time steps.",
    )
    return result


# ---- units: the checks per seed, and one arm of one clipping claim per seed ------------------


def units(config: Config, seeds: Sequence[int]) -> list[Unit]:
    return (
        grid("conditions", ["checks"], seeds)
        + grid("clipping-stability", ARMS, seeds)
        + grid("clipping-learning", ARMS, seeds)
    )


def unit(config: Config, u: Unit) -> dict:
    if u.part == "conditions":
        return conditions_unit(config, u.seed)
    return addition_run(config, u.part, u.arm, u.seed)


def combine(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> list[Result]:
    return [
        conditions(config, seeds, done),
        clipping_stability(config, seeds, done),
        clipping_learning(config, seeds, done),
    ]
