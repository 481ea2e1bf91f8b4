"""Bengio, Simard & Frasconi 1994: Learning long-term dependencies with gradient descent is
difficult.

Claim: a recurrent system that stores a bit robustly (a hyperbolic attractor, "latching") must
have derivatives of its state with respect to the distant past that vanish exponentially, so
gradient descent finds long-term dependencies ever harder to learn as the span grows, while
search methods that use no gradient (simulated annealing, multi-grid random search) do not.

Key equation, for the one-unit system x_t = M(x_{t-1}) = tanh(w x_{t-1} + h_t) near an attractor
x* = tanh(w x*) with |M'(x*)| = |w (1 - x*^2)| < 1:

    dx_T/dx_1 = prod_{t=2..T} w (1 - x_t^2)  ~  |M'(x*)|^(T-1)      (log-slope ln|M'(x*)|)

and for an n-unit tanh RNN h_t = tanh(W h_{t-1} + u_t), ||dh_T/dh_0|| <= sigma_max(W)^T.
(Seed 001 asks whether |M'(z)| is a norm or a determinant: M maps R^n to R^n, M' is its
Jacobian; in one dimension it is an absolute value, in n it is a matrix norm / eigenvalues.)

The experiment: success frequency against the span T per algorithm, latch and 2-sequence problems
(repro.kit.tasks), both readings of the noise "0.2". A seed is a batch of `trials` independent
trials (own start, own noise); an arm's values are all its trials' 0/1 outcomes (Wilson on trials).
Departures from the paper, one line each:
- T up to 300 at full scale (paper: up to a few thousand for some problems, not verified).
- 200 trials per point: Wilson width up to 0.14, not the 0.1 aimed at (the CPU budget).
- 120 updates for every algorithm, none tuned (paper: SA ran far longer, not verified).
- SA and multi-grid random search are our readings of the paper's description, not its code.
- time-weighted pseudo-Newton and discrete error propagation are not run; nor the parity problem.
- 2-sequence: prefix of L = 3 exact -+1 values, noise after it only (details not verified).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import product
from operator import and_

import numpy as np
import torch

from repro.claims import Claim, Registration, Result, above, below, wilson_interval
from repro.kit import tasks
from repro.kit.figures import PALETTE, new_figure
from repro.kit.units import Budget, Unit, grid

NOISE_STD = {"std0.2": 0.2, "var0.2": math.sqrt(0.2)}  # the two readings of the paper's "0.2"
ALGOS = ("gd", "sa", "mgrs")  # gradient descent, simulated annealing, multi-grid random search
TASKS = ("latch", "two-seq")
T_MIN, T_MAX = 10, 300  # the full grid's ends, named in the criteria
SUCCESS = "per trial: 1 if >= 95% of fresh noisy sequences are classified right, else 0"


def arm(task: str, noise: str, algo: str, T: int) -> str:
    return f"{task}/{noise}/{algo}/T={T}"


# Each noise reading: the latch's success above 0.5 at T_MIN and below 0.15 at T_MAX.
GD_FALLS = reduce(and_, [above(arm("latch", n, "gd", T_MIN), 0.5) for n in NOISE_STD]) & reduce(
    and_, [below(arm("latch", n, "gd", T_MAX), 0.15) for n in NOISE_STD]
)
# Each task and reading at T_MAX: each alternative above gradient descent; the oracle above 0.95.
WINS = product(TASKS, NOISE_STD, ("sa", "mgrs", "oracle"))
ALTERNATIVES_WIN = reduce(
    and_,
    [
        above(arm(k, n, a, T_MAX), 0.95 if a == "oracle" else arm(k, n, "gd", T_MAX))
        for k, n, a in WINS
    ],
)

CLAIMS = [
    Claim(
        id="bengio1994learning.latching-vanishes",
        kind="check",
        domains={"slope_error": "nonnegative"},
        statement="Near a latching (hyperbolic) attractor the derivative of the state with respect "
        "to the distant past decays exponentially: its log-slope in T is ln|M'(x*)|, and an "
        "n-unit tanh RNN's Jacobian norm stays below sigma_max(W)^T.",
        paper_value="|dx_T/dx_0| -> 0 exponentially in T whenever the system latches robustly",
        where="analysis of hyperbolic attractors (section numbers not verified)",
        metric="slope_error: |fitted log-slope - ln|w(1-x*^2)|| for one unit, per w; "
        "bound_excess: max over T of log10(||dh_T/dh_0|| / sigma_max^T), per random W",
        criterion=below("slope_error", 1e-6, seeds=1.0) & below("bound_excess", 1e-9, seeds=1.0),
    ),
    Claim(
        id="bengio1994learning.gd-span",
        setup="paper: its own spans and trial counts | ours: T = 10 ... 300, 200 trials per "
        'point, both readings of the noise "0.2" (std and variance)',
        statement="Gradient descent solves the latch problem less and less often as the span T "
        "of irrelevant noisy inputs grows.",
        paper_value="the frequency of training convergence falls as T grows",
        where="experiments on the minimal latching problem (figure number not verified)",
        metric=SUCCESS + "; one arm per task, noise reading and T",
        # Fixed on exploration seeds 0-4: the paper's curve is the latch's, so the latch is judged
        # (2-sequence arms shown); margin: > 0.5 at T_MIN, < 0.15 at T_MAX (Wilson, on trials).
        criterion=GD_FALLS,
        proportion=True,
    ),
    Claim(
        id="bengio1994learning.alternatives",
        setup="paper: its own budgets per algorithm | ours: the same number of updates for "
        "every algorithm, T = 300, both noise readings",
        statement="At the largest span, simulated annealing and multi-grid random search succeed "
        "more often than gradient descent, on a task that hand-set weights solve.",
        paper_value="the alternatives reach lower final error than back-propagation on the latch, "
        "2-sequence and parity problems (numbers not verified)",
        where="the comparison of alternative algorithms (table number not verified)",
        metric=SUCCESS + "; oracle: the hand-set weights judged the same way",
        # Fixed on exploration seeds 0-4; paired trial by trial (same starting point).
        criterion=ALTERNATIVES_WIN,
        proportion=True,
    ),
]


# Fixed before the confirmation run (seeds 100-104, never looked at before): what was explored.
NOTE = (
    "Sizes, budget and criteria set on seeds 0-4 (full; seed 0 also at 2x trials and updates; a run"
)
NOTE += " whose 5 seeds were copies, a 32-bit seed bug, then the fixed rerun) and 0-1 (quick)."
REGISTRATION = Registration(tuple(range(5)), tuple(range(100, 105)), NOTE)

# Full scale on exploration seeds 0-4, one thread per unit (provenance cpu_time_s, peak_memory_mb).
BUDGET = Budget(cpu_s=390, memory_mb=525, measured="2-core CI-class machine, 2026-12-01")


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # quick and paper scale; full scale confirms on REGISTRATION
    w_latch: float = 1.25  # the issue's example: attractor x* = 0.710, |M'(x*)| = 0.619
    w_range: tuple[float, float] = (1.25, 3.0)  # seeds > 0 draw w here (w > 1 latches; below
    # 1.25 the pull to x* is so slow that x_t is still off x* at fit_from)
    start_offset: float = 0.05  # x_1 = x* + offset: the state starts near, not on, the attractor
    fit_from: int = 30  # fit the log-slope on T in [fit_from, fit_to]: x_t sits on x* by then
    fit_to: int = 60
    n_units: int = 16  # the n-unit check: any size works; 16 keeps float64 Jacobians cheap
    sigma_max: float = 0.9  # largest singular value of W, below 1 (the sufficient condition)
    horizon: int = 60  # T for the n-unit bound
    spans: tuple[int, ...] = (T_MIN, 30, 100, T_MAX)  # log-spaced up to "a few hundred"
    algos: tuple[str, ...] = ALGOS  # gradient descent and two of the paper's alternatives
    trials: int = 40  # per seed and point: 5 x 40 = 200 trials (400 cost 2x the CPU budget)
    relevant: int = 3  # L: the class is set by the first L inputs (the latch's trainable ones)
    w0: float = 1.25  # initial recurrent weight: already latching (the paper's w0, not verified)
    steps: int = 120  # updates per trial, every algorithm alike (150 cost 1.3x the budget)
    batch: int = 10  # noise sequences per class per update
    lr: float = 1.0  # gradient descent's rate; not tuned (no time was left to tune any arm)
    sa_step: float = 0.5  # annealing move scale, of the order of the weights' scale 1
    sa_temp: float = 0.1  # initial temperature: an uphill step of 0.1 in MSE taken w.p. 1/e
    sa_cooling: float = 1e-3  # final temperature = 1e-3 x initial (geometric)
    mg_box: float = 4.0  # coarsest grid: moves up to +-4, enough to reach the oracle's w = 4
    mg_levels: int = 5  # box halved 4 times: finest moves +-0.25
    test_sequences: int = 100  # fresh sequences per class judging a trial (std. error <= 0.025)
    success_accuracy: float = 0.95  # a trial succeeds when it classifies this fraction right

    @classmethod
    def quick(cls) -> Config:
        return cls(seeds=2, fit_to=50, horizon=40, spans=(T_MIN, T_MAX), trials=10, steps=60)

    @classmethod
    def paper(cls) -> Config:
        # Longer spans and 1000 trials per point (the paper's own counts are not verified).
        return cls(seeds=10, trials=100, spans=(T_MIN, 30, 100, T_MAX, 1000), steps=1000)


# ---- claim 1: exact derivatives at a latching attractor ---------------------------------------


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


def jacobian_norms(W: torch.Tensor, u: torch.Tensor) -> np.ndarray:
    """||dh_t/dh_0||_2 for t = 1..T of h_t = tanh(W h_{t-1} + u_t), h_0 = 0, in float64."""
    n = W.shape[0]
    h = torch.zeros(n, dtype=torch.float64)  # (n,)
    J = torch.eye(n, dtype=torch.float64)  # (n, n)
    norms = []
    for t in range(u.shape[0]):
        h = torch.tanh(W @ h + u[t])  # (n,)
        J = (1.0 - h**2)[:, None] * W @ J  # diag(tanh') W J: (n, n)
        norms.append(torch.linalg.matrix_norm(J, ord=2).item())
    return np.asarray(norms)  # (T,)


def latching_unit(config: Config, arm: str, seed: int) -> dict:
    """Both checks for one seed; arm "fixed-w" (the first seed) takes w_latch, "drawn-w" draws w."""
    gen = torch.Generator().manual_seed(seed)
    lo, hi = config.w_range
    w = config.w_latch if arm == "fixed-w" else lo + (hi - lo) * torch.rand(1, generator=gen).item()
    factor = abs(w * (1 - attractor(w) ** 2))
    logs = log_derivative(w, config.fit_to, attractor(w) + config.start_offset)  # (fit_to,)
    ts = np.arange(config.fit_from, config.fit_to + 1)
    slope = np.polyfit(ts, logs[ts - 1], 1)[0]
    W = torch.randn(config.n_units, config.n_units, generator=gen, dtype=torch.float64)
    W *= config.sigma_max / torch.linalg.matrix_norm(W, ord=2)  # (n, n), sigma_max exactly
    u = torch.randn(config.horizon, config.n_units, generator=gen, dtype=torch.float64)
    norms = jacobian_norms(W, u)  # (horizon,)
    bounds = config.sigma_max ** np.arange(1, config.horizon + 1)
    return {
        "slope_error": float(abs(slope - math.log(factor))),
        "bound_excess": float(np.max(np.log10(norms) - np.log10(bounds))),
        "curves": {"w": w, "factor": factor, "logs": logs.tolist(), "norms": norms.tolist()},
    }


def latching_units(seeds: Sequence[int]) -> list[Unit]:
    return [
        Unit("latching-vanishes", "drawn-w" if i else "fixed-w", s) for i, s in enumerate(seeds)
    ]


def latching(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> Result:
    outs = [done[u] for u in latching_units(seeds)]
    values = {k: [out[k] for out in outs] for k in ("slope_error", "bound_excess")}
    curves = outs[0]["curves"]  # the first seed's, w = w_latch
    note = f"w = {curves['w']}: |M'(x*)| = {curves['factor']:.4f}"
    result = Result("bengio1994learning.latching-vanishes", values, notes=[note], extra=curves)
    fig, (ax1, ax2) = new_figure(width=8.0, ncols=2)
    t1 = np.arange(1, len(curves["logs"]) + 1)
    ax1.plot(t1, np.log10(np.exp(curves["logs"])), color=PALETTE[0], label="measured")
    slope = f"slope log10 {curves['factor']:.3f}"
    ax1.plot(t1, (t1 - 1) * math.log10(curves["factor"]), "--", color=PALETTE[1], label=slope)
    ax1.set(xlabel="T", ylabel="log10 |dx_T / dx_1|", title=f"one unit, w = {curves['w']}")
    t2 = np.arange(1, config.horizon + 1)
    ax2.plot(t2, np.log10(curves["norms"]), color=PALETTE[0], label="||dh_T/dh_0||")
    bound = f"bound {config.sigma_max}^T"
    ax2.plot(t2, t2 * math.log10(config.sigma_max), "--", color=PALETTE[1], label=bound)
    ax2.set(xlabel="T", ylabel="log10 norm", title=f"{config.n_units} units, tanh")
    ax1.legend(frameon=False), ax2.legend(frameon=False)
    caption = "Derivatives through a latching system decay exponentially, at the rate the "
    caption += "attractor sets (left) and below the singular-value bound (right)."
    result.add_figure("latching", fig, caption)
    return result


# ---- the span experiment: success frequency against T, per algorithm -----------------------


def span_unit(config: Config, name: str, seed: int) -> dict:
    """One arm for one seed: `trials` independent trials, 0/1 success each."""
    task, noise, algo, t_text = name.split("/")
    T, n, L, std = int(t_text.removeprefix("T=")), config.trials, config.relevant, NOISE_STD[noise]
    # one generator per (seed, key), hashed into 32 bits: torch's CPU generator keeps only those
    stream = lambda key: tasks.generator(zlib.crc32(f"{seed}/{key}".encode()))  # noqa: E731
    # the same starting points for every algorithm and T: comparisons pair trial by trial
    theta = tasks.span_init(task, n, L, config.w0, stream(f"init/{task}"))  # (N, d)
    if algo == "oracle":
        theta = tasks.span_oracle(task, L).expand(n, -1)  # (N, d)
    else:
        theta = tasks.span_train(config, task, algo, theta, T, std, stream(name))
    with torch.no_grad():
        test = tasks.span_noise(n, config.test_sequences, T - L, std, stream("test/" + name))
        acc = tasks.span_scores(task, theta, test, L)[1]  # (N,)
    return {"success": (acc >= config.success_accuracy).double().tolist()}


def span_arms(config: Config) -> list[str]:
    runs = [arm(*x) for x in product(TASKS, NOISE_STD, config.algos, config.spans)]
    return runs + [arm(k, n, "oracle", max(config.spans)) for k, n in product(TASKS, NOISE_STD)]


def span_results(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> list[Result]:
    trials = lambda a: [x for s in seeds for x in done[Unit("span", a, s)]["success"]]  # noqa: E731
    values = {a: trials(a) for a in span_arms(config)}
    top, m = max(config.spans), len(seeds) * config.trials
    gd = Result("bengio1994learning.gd-span", {a: v for a, v in values.items() if "/gd/" in a})
    last = {a: v for a, v in values.items() if a.endswith(f"T={top}")}
    alt = Result("bengio1994learning.alternatives", last)
    gd.notes = alt.notes = [f"{m} trials per point, {config.steps} updates per trial"]
    fig, axes = new_figure(width=12.0, height=3.0, ncols=len(TASKS) * len(NOISE_STD))
    for ax, (task, noise) in zip(axes, product(TASKS, NOISE_STD)):
        for i, algo in enumerate([*config.algos, "oracle"]):
            Ts = [top] if algo == "oracle" else list(config.spans)
            rate = np.array([sum(values[arm(task, noise, algo, T)]) / m for T in Ts])  # (len(Ts),)
            ci = np.array([wilson_interval(round(r * m), m) for r in rate]).T  # (2, len(Ts))
            err = np.maximum(0.0, [rate - ci[0], ci[1] - rate])  # Wilson's end can pass the rate
            style = {"fmt": "*" if algo == "oracle" else "o-", "color": PALETTE[i], "capsize": 3}
            ax.errorbar(Ts, rate, yerr=err, label=algo, **style)
        ax.set(xscale="log", xlabel="span T", title=f"{task}, noise {noise}", ylim=(-0.05, 1.05))
    axes[0].set_ylabel("frequency of success (95% Wilson)")
    axes[0].legend(frameon=False)
    caption = "Fraction of trials that learned to latch the class against the span T, per algorithm"
    caption += " (gd: gradient descent, sa: simulated annealing, mgrs: multi-grid random search;"
    gd.add_figure("success", fig, caption + " oracle: hand-set weights at the largest T).")
    return [gd, alt]


# ---- units: the checks for one seed; one arm of the span experiment for one seed -------------


def units(config: Config, seeds: Sequence[int]) -> list[Unit]:
    return latching_units(seeds) + grid("span", span_arms(config), seeds)


def unit(config: Config, u: Unit) -> dict:
    return (latching_unit if u.part == "latching-vanishes" else span_unit)(config, u.arm, u.seed)


def combine(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> list[Result]:
    return [latching(config, seeds, done), *span_results(config, seeds, done)]
