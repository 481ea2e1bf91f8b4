"""The synthetic task library: shapes, seeding, and the baselines the papers quote."""

from __future__ import annotations

import math

import torch

from repro.kit import tasks


def test_copy_memory_layout_and_baseline():
    b = tasks.copy_memory(4, T=30, gen=tasks.generator(0))
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
    a = tasks.adding(8, 20, tasks.generator(5))
    torch.manual_seed(123)
    b = tasks.adding(8, 20, tasks.generator(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(torch.rand(1), before)  # the task did not consume the global generator


def test_adding_trivial_predictors_match_the_closed_form():
    # Sum of two U(0,1): predicting 1 gives MSE 1/6 = 0.1667 (Bai et al.'s text says 0.1767);
    # the mean variant: predicting 0.5 gives 1/24 = 0.0417 (Pascanu et al.).
    x, y = tasks.adding(200_000, 10, tasks.generator(0))
    assert abs(((y - 1) ** 2).mean().item() - 1 / 6) < 0.002
    assert (x[..., 1].sum(1) == 2).all()
    _, ym = tasks.adding(200_000, 10, tasks.generator(1), mean=True)
    assert abs(((ym - 0.5) ** 2).mean().item() - 1 / 24) < 0.0005


def test_prototype_images_share_prototypes_across_generators():
    protos = tasks.smooth_prototypes(10, (3, 8, 8), task_seed=0)
    assert protos.shape == (10, 3, 8, 8)
    assert torch.equal(protos, tasks.smooth_prototypes(10, (3, 8, 8), task_seed=0))
    x, labels = tasks.prototype_images(64, protos, tasks.generator(1), noise=0.0)
    assert torch.equal(x, protos[labels])


def test_speech_batch_is_ctc_ready():
    spectra = tasks.speech_spectra(12, 20, task_seed=0)
    b = tasks.speech(16, spectra, tasks.generator(0))
    assert b.features.shape[0] == 16 and b.features.shape[2] == 20
    assert (b.targets.max() <= 12) and (b.targets[b.targets > 0].min() >= 1)
    assert (b.feature_lengths >= 2 * b.target_lengths).all()  # min 2 frames per label
    t = b.features.shape[1]
    pad = torch.arange(t)[None, :] >= b.feature_lengths[:, None]  # (B, T)
    assert (b.features[pad] == 0).all()
    log_probs = torch.randn(t, 16, 13).log_softmax(-1)  # (T, B, K + 1)
    loss = torch.nn.functional.ctc_loss(log_probs, b.targets, b.feature_lengths, b.target_lengths)
    assert torch.isfinite(loss)
