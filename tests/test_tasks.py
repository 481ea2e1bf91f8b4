"""The synthetic task library: shapes, seeding, and the baselines the papers quote."""

from __future__ import annotations

import math

import torch

from repro.kit import rng, tasks


def test_copy_memory_layout_and_baseline():
    b = tasks.copy_memory(4, T=30, gen=rng.stream(0, "test"))
    assert b.x.shape == b.y.shape == b.recall.shape == (4, 50)
    assert torch.equal(b.y[:, -10:], b.x[:, :10])  # the last 10 targets replay the first 10 inputs
    assert (b.x[:, -11] == 9).all() and (b.x[:, 10:-11] == 0).all()
    assert b.recall.sum() == 40
    # Bai et al.: the memoryless baseline is 10 ln 8 / (T + 20); at T = 1000 it is 0.0204.
    assert math.isclose(tasks.copy_memory_baseline(1000), 10 * math.log(8) / 1020)
    assert round(tasks.copy_memory_baseline(1000), 4) == 0.0204


def test_same_seed_same_data_and_no_global_state():
    torch.manual_seed(123)
    before = torch.rand(1)
    a = tasks.adding(8, 20, rng.stream(5, "test"))
    torch.manual_seed(123)
    b = tasks.adding(8, 20, rng.stream(5, "test"))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(torch.rand(1), before)  # the task did not consume the global generator


def test_adding_trivial_predictors_match_the_closed_form():
    # Sum of two U(0,1): predicting 1 gives MSE 1/6 = 0.1667 (Bai et al.'s text says 0.1767);
    # the mean variant: predicting 0.5 gives 1/24 = 0.0417 (Pascanu et al.).
    x, y = tasks.adding(200_000, 10, rng.stream(0, "test"))
    assert abs(((y - 1) ** 2).mean().item() - 1 / 6) < 0.002
    assert (x[..., 1].sum(1) == 2).all()
    _, ym = tasks.adding(200_000, 10, rng.stream(1, "test"), mean=True)
    assert abs(((ym - 0.5) ** 2).mean().item() - 1 / 24) < 0.0005
