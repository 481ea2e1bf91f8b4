"""Pascanu et al. 2013: the vanishing/exploding conditions (exact) and clipping at quick scale."""

from __future__ import annotations

import math

import pytest
import torch

from repro import pascanu2013difficulty as paper
from repro.claims import Verdict
from repro.kit.train import train

from conftest import run_quick


def test_tanh_and_sigmoid_products_respect_the_bound():
    gen = torch.Generator().manual_seed(0)
    W = paper.random_matrix(12, gen)
    W *= 0.9 / torch.linalg.matrix_norm(W, ord=2)
    excess, norms = paper.product_excess(W, "tanh", 1.0, 40, gen)
    assert excess < 0 and norms[-1] < 0.9**40 * 1.000001
    excess, _ = paper.product_excess(4 * W, "sigmoid", 0.25, 40, gen)  # sigma_max 3.6 < 4
    assert excess < 0


def test_linear_rnn_grows_like_rho():
    slope, _ = paper.linear_growth(1.1, 16, (100, 300), torch.Generator().manual_seed(1))
    assert abs(slope - math.log(1.1)) < 0.01


def test_recurrent_matrix_has_the_requested_spectral_radius():
    model = paper.AddingRNN(50, 1.2)
    rho = torch.linalg.eigvals(model.rnn.weight_hh_l0.detach()).abs().max().item()
    assert abs(rho - 1.2) < 1e-5


def test_clipping_is_applied_after_backward():
    """The shared loop clips the gradients the optimizer sees (not a no-op before backward)."""
    model = torch.nn.Linear(3, 1)
    seen = []

    class Spy(torch.optim.SGD):
        def step(self, closure=None):
            seen.append(torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item())
            return super().step(closure)

    x = 100 * torch.ones(4, 3)
    hist = train(
        model,
        lambda _: x,
        lambda m, b: (m(b) ** 2).mean(),
        Spy(model.parameters(), lr=0.0),
        steps=3,
        clip=0.5,
        progress=False,
    )
    assert all(n <= 0.5 + 1e-6 for n in seen)
    assert all(g > 0.5 for g in hist.grad_norm)  # the recorded norm is the one before clipping


def test_state_grad_norms_cover_every_step():
    model = paper.AddingRNN(8, 1.0)
    x, y = paper.tasks.adding(4, 12, paper.tasks.generator(0), mean=True)
    norms = model.state_grad_norms(x, y)
    assert len(norms) == 12 and all(n > 0 for n in norms)


@pytest.fixture(scope="module")
def quick_record(tmp_path_factory):
    return run_quick("pascanu2013difficulty", tmp_path_factory.mktemp("results"))


def test_quick_conditions_reproduce(quick_record):
    r = quick_record.results["pascanu2013difficulty.conditions"]
    assert r.verdict == Verdict.HOLDS, r.detail


def test_quick_clipping_prevents_divergence(quick_record):
    """rho = 1.5, lr = 0.1: every unclipped quick seed diverged (NaN/inf) within ~40 steps and no
    clipped one did; the claim asks for >= 80% of seeds each way."""
    r = quick_record.results["pascanu2013difficulty.clipping-stability"]
    assert r.values["unclipped"] == [1.0, 1.0, 1.0] and r.values["clipped"] == [0.0, 0.0, 0.0]
    assert r.verdict == Verdict.REPRODUCED, r.detail
    assert any("diverged at step" in n for n in r.notes)  # divergence recorded as data


def test_quick_learning_claim_is_judged_not_asserted(quick_record):
    """At quick scale (300 steps) neither arm beats 0.0417 by much; what must hold is that both
    arms finished with finite MSE near the trivial predictor (0.0417), and then the claim, which
    asks the clipped arm to beat both, must come out "not reproduced" (measured: 0/3 and 1/3)."""
    r = quick_record.results["pascanu2013difficulty.clipping-learning"]
    for arm in ("clipped", "unclipped"):
        assert all(0.02 < v < 0.06 for v in r.values[arm]), r.values
    assert r.verdict == Verdict.NOT_REPRODUCED, r.detail
