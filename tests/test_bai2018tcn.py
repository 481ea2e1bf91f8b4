"""Bai et al. 2018: the models' stated properties, the baselines' arithmetic, the claims at
quick scale. (layers.TCN's causality and receptive field are in tests/test_layers.py; here
the same properties are checked on the paper's whole models, token input to read-out.)"""

from __future__ import annotations

import math

import pytest
import torch

from repro import bai2018tcn as paper
from repro.claims import Verdict
from repro.kit import copymem, layers, tasks

from conftest import run_quick

SCALES = {"quick": paper.Config.quick(), "full": paper.Config(), "paper": paper.Config.paper()}


def test_copy_tcn_is_causal_from_tokens_to_logits():
    torch.manual_seed(0)
    model = paper.copy_model(paper.Config(), "tcn").eval()
    batch = tasks.copy_memory(4, 30, tasks.generator(0))
    t = 25
    changed = batch.x.clone()
    changed[:, t + 1 :] = torch.randint(0, paper.N_TOKENS, changed[:, t + 1 :].shape)
    with torch.no_grad():
        a, b = model(batch.x), model(changed)  # (B, L, N_TOKENS)
    assert torch.equal(a[:, : t + 1], b[:, : t + 1])  # nothing before t sees a later token
    assert not torch.equal(a[:, t + 1 :], b[:, t + 1 :])


@pytest.mark.parametrize("scale", list(SCALES))
def test_receptive_field_covers_every_sequence(scale):
    """r = 1 + 2 (k - 1)(2^n - 1) must reach from the first symbol to the last output."""
    c = SCALES[scale]
    copy_tcn = paper.copy_model(c, "tcn").tcn
    assert copy_tcn.receptive_field == 1 + 2 * (c.tcn_kernel - 1) * (2**c.tcn_levels - 1)
    assert copy_tcn.receptive_field >= c.copy_T + 20
    assert paper.adding_model(c, "tcn").tcn.receptive_field >= c.add_T


def test_adding_tcn_sees_exactly_its_receptive_field():
    """Perturb the input r - 1 steps back: the read-out moves; r steps back: it does not."""
    torch.manual_seed(0)
    model = paper.AddingTCN(channels=4, levels=3, kernel=3).double().eval()
    for p in model.parameters():  # positive weights: no ReLU can hide a path (test_layers too)
        p.data = p.data.abs() + 0.1
    r = model.tcn.receptive_field  # 1 + 4 * 7 = 29
    x = torch.rand(1, r + 5, 2, dtype=torch.float64)  # (B, T, 2)
    base = model(x)
    for back, moves in ((r - 1, True), (r, False)):
        y = x.clone()
        y[0, -1 - back] += 1.0
        assert (model(y) != base).item() is moves


@pytest.mark.parametrize("scale", list(SCALES))
def test_parameter_counts_are_comparable(scale):
    """Comparable size: every recurrent arm within a factor 2 of its TCN; on copy memory the
    recurrent arms get at least the TCN's parameters (doubt goes to the RNNs)."""
    c = SCALES[scale]
    copy = {arm: paper.n_params(paper.copy_model(c, arm)) for arm in ("tcn", "lstm", "gru")}
    add = {arm: paper.n_params(paper.adding_model(c, arm)) for arm in ("tcn", "lstm")}
    for counts in (copy, add):
        assert all(0.5 < n / counts["tcn"] < 2.0 for n in counts.values()), counts
    assert copy["lstm"] >= copy["tcn"] and copy["gru"] >= copy["tcn"]
    if scale == "paper":  # Table 1: about 16K parameters on copy memory
        assert all(12_000 < n < 20_000 for n in copy.values()), copy


def test_torch_init_keeps_weight_norm_with_default_scale():
    model = paper.copy_model(paper.Config(), "tcn")
    conv = model.tcn.blocks[0].net[0].conv
    g, v = conv.parametrizations.weight.original0, conv.parametrizations.weight.original1
    assert torch.allclose(g, v.norm(dim=(1, 2), keepdim=True))  # w = g v / ||v|| = v at init
    assert conv.weight.std() > 0.05  # torch's default, not N(0, 0.01)
    stated = paper.copy_model(paper.Config(tcn_init="paper"), "tcn")
    assert stated.tcn.blocks[0].net[0].conv.weight.std() < 0.03
    with pytest.raises(ValueError, match="tcn_init"):
        paper.Config(tcn_init="xavier")


def test_memoryless_predictor_scores_the_baseline():
    """Blanks predicted perfectly, recalled symbols guessed uniformly: 10 ln 8 / (T + 20)."""
    T = 40
    batch = tasks.copy_memory(64, T, tasks.generator(1))
    logits = torch.full((*batch.x.shape, paper.N_TOKENS), -1e4)  # (B, L, N_TOKENS)
    logits[..., 0] = 0.0  # blank, where nothing is recalled
    logits[batch.recall] = torch.tensor([-1e4] + [0.0] * 8 + [-1e4])  # uniform over 1..8
    loss = copymem.copy_loss(lambda x: logits, batch).item()
    assert math.isclose(loss, tasks.copy_memory_baseline(T), rel_tol=1e-6)
    assert math.isclose(tasks.copy_memory_baseline(1000), 0.0204, abs_tol=5e-5)  # Table 1's LSTM


def test_accuracy_counts_only_the_recalled_positions():
    """All-blank output: right on T + 10 of T + 20 positions, yet 0 on what must be recalled."""
    batch = tasks.copy_memory(16, 30, tasks.generator(2))
    blanks = torch.zeros(*batch.x.shape, paper.N_TOKENS)  # (B, L, N_TOKENS)
    blanks[..., 0] = 1.0
    model = torch.nn.Module()
    model.forward = lambda x: blanks
    _, acc = copymem.copy_scores(model, batch)
    assert acc == 0.0


def test_predicting_one_scores_one_sixth_not_0_1767():
    _, y = tasks.adding(200_000, 10, tasks.generator(3))
    mse = ((1.0 - y) ** 2).mean().item()
    assert abs(mse - 1 / 6) < 0.002  # Var(u1 + u2) = 2/12
    assert abs(mse - 0.1767) > 0.008  # the paper's text is off by 0.01


@pytest.fixture(scope="module")
def quick_record(tmp_path_factory):
    return run_quick("bai2018tcn", tmp_path_factory.mktemp("results"))


def test_quick_copy_memory_direction(quick_record):
    """Quick (T = 10, 250 steps, one seed) measured loss / baseline: TCN 6e-4 (recall 1.00),
    LSTM and GRU 1.00-1.01 (recall at chance). Full scale (T = 100, 1000 steps, 3 seeds): TCN
    2e-5 to 3e-4, LSTM 1.002-1.003, GRU 0.96-0.99. The band is the claim's own thresholds (TCN
    < 0.05, recurrent arms > 0.9): a TCN leaving its plateau 100 steps later still passes."""
    r = quick_record.results["bai2018tcn.copy-memory"]
    v = {arm: vals[0] for arm, vals in r.values.items()}
    assert v["tcn"] < 0.05 and v["tcn_acc"] > 0.9, v
    assert v["lstm"] > 0.9 and v["gru"] > 0.9 and v["lstm_acc"] < 0.3 and v["gru_acc"] < 0.3, v
    assert r.verdict == Verdict.REPRODUCED, r.detail


def test_quick_adding_direction(quick_record):
    """Quick (T = 20, 200 steps, one seed) measured test MSE: TCN 0.064, LSTM 0.174 (1/6 = its
    trivial level): the TCN has begun to solve the task, the LSTM has not, neither is near the
    claim's 1/600, so the verdict here must be "not reproduced" (measured: TCN part 0/1).
    Band: TCN below 0.6 x LSTM, LSTM within 0.03 of 1/6 (one seed; full scale, T = 100, measured
    TCN 5e-4 to 3e-3). predict_one uses 100,000 sequences (standard error 0.0006)."""
    r = quick_record.results["bai2018tcn.adding"]
    v = {arm: vals[0] for arm, vals in r.values.items()}
    assert v["tcn"] < 0.6 * v["lstm"] and abs(v["lstm"] - 1 / 6) < 0.03, v
    assert abs(v["predict_one"] - 1 / 6) < 0.003 and 0.1767 - v["predict_one"] > 0.007, v
    # The TCN at 0.064 is 38x above the criterion's 1/600: "reproduced" would be a broken judge.
    assert r.verdict == Verdict.NOT_REPRODUCED, r.detail


def test_tcn_layer_is_the_shared_one():
    assert isinstance(paper.copy_model(paper.Config(), "tcn").tcn, layers.TCN)
