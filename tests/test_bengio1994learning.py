"""Bengio et al. 1994: the latching derivatives (exact), the tasks' definitions, the oracle, the
arms every scale produces, and the span experiment's claims at quick scale."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from repro import bengio1994learning as paper
from repro.bengio1994learning import tasks
from repro.bengio1994learning.latching import attractor, log_derivative
from repro.kit.jacobian import product_bound
from repro.kit.units import Unit
from repro.run.config import SCALES


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_attractor_factor_for_w_1_25():
    """w = 1.25: x* = tanh(1.25 x*) and |w (1 - x*^2)| = 0.619."""
    x = attractor(1.25)
    assert math.isclose(x, math.tanh(1.25 * x), abs_tol=1e-15)
    assert round(abs(1.25 * (1 - x * x)), 3) == 0.619


def test_log_derivative_slope_is_log_factor():
    w = 1.25
    logs = log_derivative(w, 60, attractor(w) + 0.05)
    slope = np.polyfit(np.arange(30, 61), logs[29:60], 1)[0]
    assert abs(slope - math.log(0.6189)) < 1e-3  # the printed factor, to its 4 digits
    assert abs(slope - math.log(abs(w * (1 - attractor(w) ** 2)))) < 1e-6


def test_jacobian_norm_never_exceeds_singular_value_bound():
    g = gen(0)
    W = torch.randn(8, 8, generator=g, dtype=torch.float64)
    W *= 0.8 / torch.linalg.matrix_norm(W, ord=2)
    excess, norms = product_bound(W, torch.randn(30, 8, generator=g, dtype=torch.float64))
    assert (np.asarray(norms) <= 0.8 ** np.arange(1, 31) * (1 + 1e-12)).all() and excess < 0
    assert norms[-1] < 1e-3  # and it does vanish


# ---- the tasks' definitions ------------------------------------------------------------------


def test_latch_class_is_set_by_the_first_L_inputs_only():
    """Every sequence of class c starts with that trial's h_c; what follows is the noise as
    drawn; so two sequences with the same first L inputs share a class (and a target)."""
    L, g = 3, gen(0)
    theta = torch.randn(4, 1 + 2 * L, generator=g, dtype=torch.float64)  # (N, d)
    noise = tasks.span_noise(4, 5, 20, 0.45, g)  # (N, 2, B, T - L)
    u = tasks.latch_inputs(theta, noise)  # (N, 2, B, T)
    h = theta[:, 1:].reshape(4, 2, 1, L)
    assert torch.equal(u[..., :L], h.expand(4, 2, 5, L))
    assert torch.equal(u[..., L:], noise)
    assert tasks.SPAN_TARGETS == (-0.8, 0.8)
    # the target is a function of the prefix: the two classes' prefixes differ in every trial
    assert (u[:, 0, 0, :L] != u[:, 1, 0, :L]).any(dim=1).all()


def test_two_sequence_label_is_the_sign_of_its_prefix():
    noise = tasks.span_noise(2, 3, 10, 0.2, gen(1))
    u = tasks.two_sequence_inputs(3, noise)  # (N, 2, B, T)
    assert (u[:, 0, :, :3] == -1).all() and (u[:, 1, :, :3] == 1).all()
    assert torch.equal(u[..., 3:], noise)
    assert [math.copysign(1, t) for t in tasks.SPAN_TARGETS] == [-1.0, 1.0]


def test_one_unit_matches_a_scalar_loop():
    u = tasks.span_noise(1, 1, 12, 0.5, gen(2))  # (1, 2, 1, 12)
    w, v, b = 1.7, 0.6, -0.1
    w_, v_, b_ = (torch.tensor([p], dtype=torch.float64) for p in (w, v, b))  # (N,) each
    x_T = tasks.one_unit_final(w_, v_, b_, u)  # (1, 2, 1)
    for c in range(2):
        x = 0.0
        for t in range(12):
            x = math.tanh(w * x + v * u[0, c, 0, t].item() + b)
        assert math.isclose(x_T[0, c, 0].item(), x, rel_tol=1e-12)


@pytest.mark.parametrize("task", paper.TASKS)
def test_oracle_solves_the_largest_span_under_the_larger_noise(task):
    """Hand-set weights classify all of 2 x 2000 fresh sequences at T = 300 and T = 1000 with
    noise std sqrt(0.2): a failure at the largest T is the optimiser's, not the task's."""
    for T in (paper.T_MAX, 1000):
        noise = tasks.span_noise(1, 2000, T - 3, paper.NOISE_STD["var0.2"], gen(T))
        theta = tasks.span_oracle(task, 3)[None]  # (1, d)
        assert tasks.span_scores(task, theta, noise, 3)[1].item() == 1.0


def test_trial_outcomes_are_deterministic_and_binary():
    config = paper.Config.quick()
    u = Unit("latch/std0.2", "sa", 3, paper.T_MIN)
    torch.manual_seed(0)
    a = paper.unit(config, u)["success"]
    torch.manual_seed(1)  # the global generator's state does not matter: named streams only
    b = paper.unit(config, u)["success"]
    assert a == b and set(a) <= {0.0, 1.0} and len(a) == config.span.trials


# ---- every scale produces what the criteria read ----------------------------------------------


def scale_config(scale: str) -> paper.Config:
    return {"quick": paper.Config.quick, "paper": paper.Config.paper}.get(scale, paper.Config)()


@pytest.mark.parametrize("scale", SCALES)
def test_combine_writes_exactly_the_declared_arms(scale):
    """combine over stand-in unit outputs (no training) writes every declared arm, at the
    paper scale's spans up to 1000 too."""
    config = scale_config(scale)
    seeds = (0, 1, 2, 3, 4)
    norms = [0.5] * config.latching.horizon
    curves = {"w": 1.25, "factor": 0.6, "logs": [0.0, -0.5], "norms": norms}
    fake = {"slope_error": 0.0, "bound_excess": -1.0, "success": [1.0], "curves": curves}
    done = {u: fake for u in paper.units(config, seeds)}
    results = {r.claim_id: r for r in paper.combine(config, seeds, done)}
    for claim_id, arms in paper.arms(config).items():
        assert set(results[claim_id].values) == set(arms), claim_id


def test_spans_without_the_criteria_spans_are_refused():
    with pytest.raises(ValueError, match="must include"):
        paper.Span(spans=(paper.T_MIN, 30))


# ---- the claims at quick scale -------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_record(quick):
    return quick("bengio1994learning")


def test_quick_latching_checks_hold(quick_record):
    r = quick_record.results["bengio1994learning.latching-vanishes"]
    assert max(r.values["slope_error"]) < 1e-6
    assert max(r.values["bound_excess"]) < 0  # strictly inside the bound


def rates(record, claim_id: str) -> dict[str, float]:
    values = record.results[claim_id].values
    return {a: sum(v) / len(v) for a, v in values.items()}


def test_quick_gradient_descent_fails_more_often_at_the_longer_span(quick_record):
    """Quick scale: 20 trials per point (2 seeds x 10), 60 updates. The criterion asks for the
    latch's success above 0.5 at T_MIN and below 0.15 at T_MAX. A difference of two 20-trial
    rates has a standard error of about 0.12, so the band asks for a drop of at least 0.25 (two
    standard errors) under each noise reading."""
    rate = rates(quick_record, "bengio1994learning.gd-span")
    for noise in paper.NOISE_STD:
        short, long = (rate[paper.arm("latch", noise, "gd", T)] for T in (paper.T_MIN, paper.T_MAX))
        assert short - long >= 0.25, (noise, short, long)


def test_quick_alternatives_beat_gradient_descent_at_the_longest_span(quick_record):
    """Quick scale, T_MAX: the criterion asks each alternative to beat gradient descent and the
    oracle to pass 0.95, on every task and noise reading. Band: multi-grid random search ahead
    of gradient descent by at least 0.25 (about two standard errors of a difference of two
    20-trial rates) and the oracle above 0.95 everywhere."""
    rate = rates(quick_record, "bengio1994learning.alternatives")
    for task, noise in [(k, n) for k in paper.TASKS for n in paper.NOISE_STD]:
        gd, mgrs = (rate[paper.arm(task, noise, a, paper.T_MAX)] for a in ("gd", "mgrs"))
        assert mgrs - gd >= 0.25, (task, noise, gd, mgrs)
        assert rate[paper.arm(task, noise, paper.ORACLE, paper.T_MAX)] > 0.95
