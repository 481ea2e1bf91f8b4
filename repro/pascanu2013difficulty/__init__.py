"""Pascanu, Mikolov & Bengio 2013: On the difficulty of training recurrent neural networks.

Claims: (1) the conditions of Section 2: with ||diag sigma'(x)|| <= gamma (gamma = 1 for tanh,
1/4 for the sigmoid), a largest singular value of W_rec below 1/gamma is sufficient for the
gradients to vanish, and for a linear RNN a spectral radius above 1 is necessary for them to
explode; (2) norm clipping (Algorithm 1) keeps training stable where gradients explode; (3) on
the temporal order problem (Section 4.1.1, Figure 7) clipping plus the regulariser Omega
(MSGD-CR) succeeds more often than clipping alone (MSGD-C), which does no worse than MSGD.

Key equations: dE_t/dh_k = dE_t/dh_t prod_{i=k+1..t} W_rec^T diag(sigma'(x_{i-1})), so

    || prod_i dh_i/dh_{i-1} || <= (gamma sigma_max(W_rec))^(t-k);

Algorithm 1: g = dE/dtheta; if ||g|| >= threshold: g <- (threshold / ||g||) g (after backward);
Omega (eq. 9-10) = sum_k (||dE/dx_{k+1} dx_{k+1}/dx_k||^2 / ||dE/dx_{k+1}||^2 - 1)^2, of which
only the immediate derivative w.r.t. W_rec is used (x_k and dE/dx_{k+1} held constant).

Departures from Section 4.1.1 (temporal order), one per line:
- lengths 10-30, 5 runs per point (paper: 5 runs; Figure 7's lengths not in the text we read);
- the paper scale's 50-200 is Section 4.1.1's single mixed-length model's range, not Figure 7's;
- at most `order.steps` updates (paper: up to 5M), learning rate `order.lr` (paper: 0.01);
- success on 1,000 fresh test sequences (paper: 10,000), under 1% errors as in the paper;
- Omega averaged over steps, as the authors' code does (eq. 9 writes a sum), squared ratio (eq. 10);
- the three algorithms of one run share its initial weights and training sequences (paired);
- early stop at no error on 500 validation sequences (the authors' code: 10,000, every 20 steps);
- smart tanh keeps 15 incoming weights per unit as the paper says (the code keeps 15 per row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from repro.claims import Claim, Registration, Result, above, below
from repro.kit.units import Unit, grid
from repro.pascanu2013difficulty import clipping, conditions, order
from repro.pascanu2013difficulty.clipping import ARMS, addition_run, clipping_stability
from repro.pascanu2013difficulty.conditions import CHECKS, conditions_result, conditions_unit
from repro.pascanu2013difficulty.order import ALGOS, INITS, order_run, temporal_order_result

CLAIMS = [
    Claim(
        id="pascanu2013difficulty.conditions",
        title="The spectral-norm conditions bound the Jacobian product",
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
        title="Gradient clipping keeps SGD from diverging",
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
        id="pascanu2013difficulty.temporal-order",
        title="Clipping plus the regulariser beats clipping alone",
        setup="paper: Figure 7's lengths (not in the text we read; the 50-200 of Section 4.1.1 is "
        "its single mixed-length model's range, not Figure 7's), up to 5M updates at lr 0.01 | "
        "ours: lengths 10-30, up to 1200 updates at lr 0.1, the same RNN",
        statement="On the temporal order problem, at the longer lengths, MSGD with clipping and "
        "the regulariser Omega (MSGD-CR) succeeds more often than MSGD with clipping (MSGD-C), "
        "and MSGD-C does not do worse than plain MSGD, over the three initialisations.",
        paper_value="Figure 7: success rate out of 5 runs against sequence length for MSGD, "
        "MSGD-C, MSGD-CR under sigmoid, basic tanh and smart tanh initialisations; the text: "
        "'As the length of the sequence increases, using clipping becomes more important'",
        where="Section 4.1.1, Figure 7",
        metric="per run (one initialisation, one length >= order.long_from, one seed): 1 if "
        "under "
        "1% of the fresh test sequences are misclassified; c_lost: 1 if MSGD succeeded and "
        "MSGD-C did not on the same run",
        criterion=above("msgd-cr", "msgd-c") & below("c_lost", 0.2),
        proportion=True,
    ),
]

# Fixed before the confirmation run (seeds 100-104, never looked at before): what was explored.
REGISTRATION = Registration(
    exploration=(0, 1, 2, 3, 4),
    confirmation=(100, 101, 102, 103, 104),
    quick=(0, 1, 2),
    note=(
        "Conditions and clipping-stability: radius, learning rate, budget and thresholds were "
        "set on seeds 0-4. Temporal order (criterion written before any run): lr 0.1 (the only "
        "rate tried) and the lengths from runs on seeds 0-2 at T = 20 and 40 for 1000 updates "
        "(no run of any arm solved T = 40); a full run on seeds 0-2 with 800 updates, then the "
        "budget raised to 1200 and measured on seeds 0-4 (inconclusive there: the CR - C "
        "interval straddled 0); the quick scale (T = 10, 800 updates) set on seeds 0-2."
    ),
)

# A cap on one worker's peak memory at full scale: the last full run peaked at 580.5 MB.
MEMORY_MB = 600.0


@dataclass(frozen=True)
class Conditions:
    """Section 2.1's checks on random matrices (claim 1)."""

    n_units: int = 32  # size of the random W_rec
    horizon: int = 60  # t - k up to this in the vanishing checks
    sigma: float = 0.95  # sigma_max for tanh (< 1); the sigmoid check uses 4 sigma (< 4)
    rho: float = 1.1  # the linear RNN's spectral radius, just above Section 2.1's threshold 1
    fit: tuple[int, int] = (100, 400)  # fit log ||W^n|| over these n (past the transient)


@dataclass(frozen=True)
class Addition:
    """Clipping stability (claim 2): SGD on the addition problem with an exploding W_rec."""

    length: int = 50  # T of the addition problem (paper, Section 4.1.2: one model for lengths
    # up to 200; 50 keeps CPU minutes)
    rho: float = 1.5  # an exploding recurrent matrix ...
    lr: float = 0.1  # ... and a step size that pushes it over the cliff
    steps: int = 300  # unclipped runs diverge within about 30 steps here


@dataclass(frozen=True)
class Order:
    """The temporal order problem (claim 3; Section 4.1.1, Figure 7)."""

    lengths: tuple[int, ...] = (10, 20, 30)  # T (Figure 7's lengths are not in the text we read;
    # 50 to 200 is Section 4.1.1's single mixed-length model, not Figure 7);
    # at 40, 1000 updates solved no run of any arm (explored)
    long_from: int = 20  # lengths >= this are "the longer lengths" of the claim
    lr: float = 0.1  # paper: 0.01 for up to 5M updates; at 0.1 MSGD-C and MSGD-CR solved
    # every tanh run at T = 20 within 1000 updates (explored, seeds 0-2)
    alpha: float = 4.0  # Section 4.1.1: "the regularization weight was fixed to 4"
    steps: int = 1200  # at most this many updates per run (paper: 5M); 800 left T = 20
    # runs unsolved that 1000 solved (explored); 1200 is what the CPU budget affords
    check_every: int = 100  # a run stops once it makes no error on the validation set
    # (the authors' code checks every 20 updates on 10,000 sequences)
    val_size: int = 500  # validation sequences for that early stop
    test_size: int = 1000  # paper: 10,000; at 1,000 "under 1%" means at most 9 errors
    curve_every: int = 20  # training loss kept every this many updates


@dataclass(frozen=True)
class Config:
    hidden: int = 50  # the paper's 50-unit RNN (Section 4.1.1), in claims 2 and 3
    batch: int = 20  # the paper's minibatch (Section 4.1.1), in claims 2 and 3
    threshold: float = 1.0  # clipping norm, fixed before the runs (paper: half to ten times
    # the average norm; the unclipped norms here are about 0.1 to 5); Section 4.1.1 clips at 1
    conditions: Conditions = field(default_factory=Conditions)
    addition: Addition = field(default_factory=Addition)
    order: Order = field(default_factory=Order)

    @classmethod
    def quick(cls) -> Config:
        return cls(
            conditions=Conditions(horizon=30, fit=(100, 300)),
            addition=Addition(length=20, steps=100),
            order=Order(
                lengths=(10,),  # where the sigmoid runs already separate MSGD-CR (explored)
                long_from=10,
                steps=800,
                test_size=500,
                val_size=200,
            ),
        )

    @classmethod
    def paper(cls) -> Config:
        # Section 4.1.1: 5 runs per point, lr 0.01, 5M updates at most, 10,000 test sequences;
        # Figure 7's lengths are not in the copy we read: 50-200 is the range Section 4.1.1
        # trains its single mixed-length model on (and Section 4.1.2's per-length noiseless
        # memorisation models use 50, 100, 150, 200), borrowed here; it is not Figure 7's.
        return cls(
            addition=Addition(length=200),
            order=Order(
                lengths=(50, 100, 150, 200),
                long_from=100,
                lr=0.01,
                steps=5_000_000,
                check_every=20,
                val_size=10_000,
                test_size=10_000,
            ),
        )


def arms(config: Config) -> dict[str, tuple[str, ...]]:
    """Claim id -> the arms combine writes into its Result (the same at every scale)."""
    return {
        "pascanu2013difficulty.conditions": CHECKS,
        "pascanu2013difficulty.clipping-stability": ARMS,
        "pascanu2013difficulty.temporal-order": (*ALGOS, "c_lost"),
    }


# ---- units: one seed of one arm (temporal order: one seed of one initialisation and length) --


def units(config: Config, seeds: Sequence[int]) -> list[Unit]:
    return (
        grid(conditions.PART, ["checks"], seeds)
        + grid(clipping.PART, ARMS, seeds)
        + grid(order.PART, INITS, seeds, Ts=config.order.lengths)
    )


def unit(config: Config, u: Unit) -> dict:
    c, a, o = config.conditions, config.addition, config.order
    if u.part == conditions.PART:
        return conditions_unit(
            u.seed, n_units=c.n_units, horizon=c.horizon, sigma=c.sigma, rho=c.rho, fit=c.fit
        )
    shared = {"hidden": config.hidden, "batch": config.batch, "threshold": config.threshold}
    if u.part == clipping.PART:
        return addition_run(
            u.arm, u.seed, rho=a.rho, length=a.length, lr=a.lr, steps=a.steps, **shared
        )
    return order_run(
        u.arm,
        u.T,
        u.seed,
        lr=o.lr,
        alpha=o.alpha,
        steps=o.steps,
        check_every=o.check_every,
        val_size=o.val_size,
        test_size=o.test_size,
        curve_every=o.curve_every,
        **shared,
    )


def combine(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> list[Result]:
    c, a, o = config.conditions, config.addition, config.order
    return [
        conditions_result(done, seeds, horizon=c.horizon, sigma=c.sigma, rho=c.rho),
        clipping_stability(done, seeds, rho=a.rho, lr=a.lr),
        temporal_order_result(
            done, seeds, lengths=o.lengths, long_from=o.long_from, test_size=o.test_size
        ),
    ]
