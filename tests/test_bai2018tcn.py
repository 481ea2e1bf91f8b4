"""Bai et al. 2018: the models' stated properties, the baselines' arithmetic, the card's
declarations (arms, units, overrides, NaN), the claims at quick scale; the TCN's causality,
receptive field and weight normalization, on its blocks and on the paper's whole models."""

from __future__ import annotations

import math

import pytest
import torch

from repro import bai2018tcn as paper
from repro.bai2018tcn import mnist, music, tcn
from repro.bai2018tcn.memory import reach
from repro.bai2018tcn.model import AddingTCN
from repro.bai2018tcn.music import BASELINES, JSB_ARMS
from repro.claims import Verdict
from repro.kit import copymem, layers, rng, tasks
from repro.kit.copymem import N_TOKENS
from repro.run.config import apply_overrides

from conftest import pixel_output

SCALES = {"quick": paper.Config.quick(), "full": paper.Config(), "paper": paper.Config.paper()}


def test_copy_tcn_is_causal_from_tokens_to_logits():
    torch.manual_seed(0)
    model = paper.model(paper.Config(), "copy", "tcn").eval()
    batch = tasks.copy_memory(4, 30, rng.stream(0, "test"))
    t = 25
    changed = batch.x.clone()
    changed[:, t + 1 :] = torch.randint(0, N_TOKENS, changed[:, t + 1 :].shape)
    with torch.no_grad():
        a, b = model(batch.x), model(changed)  # (B, L, N_TOKENS)
    assert torch.equal(a[:, : t + 1], b[:, : t + 1])  # nothing before t sees a later token
    assert not torch.equal(a[:, t + 1 :], b[:, t + 1 :])


@pytest.mark.parametrize("scale", list(SCALES))
def test_receptive_field_covers_every_sequence(scale):
    """r = 1 + 2 (k - 1)(2^n - 1) must reach from the first symbol to the last output."""
    c = SCALES[scale]
    copy_tcn = paper.model(c, "copy", "tcn").tcn
    assert copy_tcn.receptive_field == 1 + 2 * (c.kernel - 1) * (2**c.copy.levels - 1)
    assert copy_tcn.receptive_field >= max(c.copy.T, *c.memory.lengths) + 20
    assert paper.model(c, "adding", "tcn").tcn.receptive_field >= c.adding.T


def test_adding_tcn_sees_exactly_its_receptive_field():
    """Perturb the input r - 1 steps back: the read-out moves; r steps back: it does not."""
    torch.manual_seed(0)
    model = AddingTCN(channels=4, levels=3, kernel=3).double().eval()
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
def test_parameter_counts_are_matched(scale):
    """Matched size, as Table 1 compares arms: every recurrent arm within 10% of its task's TCN
    and never smaller (any doubt goes to the recurrent nets)."""
    c = SCALES[scale]
    for task in ("copy", "adding"):
        counts = {arm: layers.n_params(paper.model(c, task, arm)) for arm in paper.ARMS}
        assert all(1.0 <= n / counts["tcn"] < 1.10 for n in counts.values()), (task, counts)
        if scale == "paper":  # Table 1: about 16K parameters on copy memory, 70K on adding
            lo, hi = (13_000, 20_000) if task == "copy" else (60_000, 80_000)
            assert all(lo < n < hi for n in counts.values()), (task, counts)


@pytest.mark.parametrize("scale", list(SCALES))
def test_jsb_arms_are_matched_to_the_tcn(scale):
    """Table 1's JSB row: about 300K parameters each; the recurrent arms within 2% of the
    TCN's 270K (supplement Table 2: k = 3, n = 2, 150 hidden)."""
    c = SCALES[scale]
    counts = {arm: layers.n_params(paper.model(c, "jsb", arm)) for arm in JSB_ARMS}
    assert 260_000 < counts["tcn"] < 280_000, counts
    assert all(abs(n / counts["tcn"] - 1) < 0.02 for n in counts.values()), counts
    assert paper.model(c, "jsb", "tcn").tcn.receptive_field == 13


@pytest.mark.parametrize("scale", list(SCALES))
def test_mnist_arms_are_matched_to_the_tcn(scale):
    """Table 1's MNIST rows compare nets of about the same size: every recurrent arm within 5%
    of the TCN's (7% at paper scale: Table 2's TCN has 66.9K, Table 3's LSTM 1 x 130 70.5K);
    the TCN sees every pixel; at paper scale about Table 1's 70K."""
    p = SCALES[scale].pixels
    counts = {
        arm: layers.n_params(mnist.mnist_model(p, mnist.SEQ, arm)) for arm in mnist.MNIST_ARMS
    }
    tol = 0.07 if scale == "paper" else 0.05
    assert all(abs(n / counts["tcn"] - 1) < tol for n in counts.values()), counts
    assert mnist.mnist_model(p, mnist.SEQ, "tcn").tcn.receptive_field >= p.side**2
    if scale == "paper":
        assert all(60_000 < n < 80_000 for n in counts.values()), counts


def test_mnist_lstm_forget_bias_is_table_3s():
    """Forget-gate bias 1 on sequential, 10 on permuted MNIST (the two biases of torch's LSTM
    sum); the TCN reads the class at the last step only."""
    p = paper.Config().pixels
    for part, bias in ((mnist.SEQ, 1.0), (mnist.PERM, 10.0)):
        rnn = mnist.mnist_model(p, part, "lstm").rnn
        h = rnn.hidden_size
        total = rnn.bias_ih_l0[h : 2 * h] + rnn.bias_hh_l0[h : 2 * h]
        assert torch.allclose(total, torch.full((h,), bias)), part
    net = mnist.mnist_model(p, mnist.SEQ, "tcn").eval()
    x = torch.randn(2, 196, 1)
    y = x.clone()
    y[:, -1] += 1.0
    with torch.no_grad():
        assert net(x).shape == (2, 10) and not torch.equal(net(x), net(y))


def test_mnist_claims_read_table_1s_order_and_nan_fails():
    """TCN > GRU > LSTM > RNN passes; a diverged (NaN) TCN seed on 2 of 5 fails it."""
    c, seeds = paper.Config.quick(), [0, 1, 2, 3, 4]
    acc = {
        (part, a): v
        for part in mnist.MNIST_PARTS
        for a, v in zip(mnist.MNIST_ARMS, (0.9, 0.7, 0.5, 0.2))
    }
    done = fake_outputs(c, seeds, acc)
    results = {r.claim_id: r for r in paper.combine(c, seeds, done)}
    claims = {cl.id: cl for cl in mnist.MNIST_CLAIMS}
    for cid, claim in claims.items():
        assert claim.evaluate(results[cid].values).verdict == Verdict.REPRODUCED, cid
    for u in done:
        if u.part == mnist.SEQ and u.arm == "tcn" and u.seed in (0, 1):
            done[u] = pixel_output(math.nan)
    r = {r.claim_id: r for r in paper.combine(c, seeds, done)}["bai2018tcn.seq-mnist"]
    assert claims["bai2018tcn.seq-mnist"].evaluate(r.values).verdict != Verdict.REPRODUCED


def test_jsb_models_predict_the_next_frame_causally():
    """Changing frame t + 1 leaves every logit up to t alone, for every arm."""
    x = (torch.rand(2, 30, 88) < 0.05).float()  # (B, L, 88)
    changed = x.clone()
    changed[:, 16:] = 1 - changed[:, 16:]
    for arm in JSB_ARMS:
        net = paper.model(paper.Config(), "jsb", arm).eval()
        with torch.no_grad():
            a, b = net(x), net(changed)  # (B, L, 88)
        assert a.shape == (2, 30, 88)
        assert torch.equal(a[:, :16], b[:, :16]) and not torch.equal(a[:, 16:], b[:, 16:]), arm


def test_adding_recurrent_arm_is_the_shared_read_last():
    net = paper.model(paper.Config(), "adding", "gru")
    assert isinstance(net, layers.ReadLast) and isinstance(net.rnn, torch.nn.GRU)
    assert net(torch.rand(3, 7, 2)).shape == (3,)


def fake_outputs(c: paper.Config, seeds, acc=None) -> dict:
    """What every unit would return, without training: recall `acc[(arm, T)]` (else chance,
    at the memoryless loss); every adding arm at MSE 0.1."""
    acc = acc or {}
    done = {}
    for u in paper.units(c, seeds):
        if u.part == music.JSB:
            done[u] = {"nll": 9.0, "best_epoch": 3, "valid": [10.0, 9.0], "params": 270_000}
            done[u] |= {"data": {f"{s}_pieces": 1.0 for s in ("train", "valid", "test")}}
            done[u]["data"] |= {"frames": 9.0, "mean_length": 3.0, "mean_polyphony": 3.9}
        elif u.part == paper.ADDING:
            done[u] = {"mse": 0.1, "curve": [0.2, 0.1], "params": 4000}
        elif u.part in mnist.MNIST_PARTS:
            done[u] = pixel_output(acc.get((u.part, u.arm), 0.5))
        else:
            a = acc.get((u.arm, u.T), 0.125)
            done[u] = {"value": 0.0 if a > 0.5 else 1.0, "acc": a, "loss": 0.1, "curve": [1.0]}
            done[u] |= {"params": 4000, "diverged_step": None}
    return done


def test_units_have_typed_lengths_and_share_the_copy_runs():
    """One copy unit per (arm, seed, T): the memory study reuses the runs at copy.T."""
    c = paper.Config()
    us = paper.units(c, [0, 1])
    assert len(us) == len(set(us))
    copy_Ts = {u.T for u in us if u.part == paper.COPY}
    assert copy_Ts == {c.copy.T, *c.memory.lengths}
    assert {u.T for u in us if u.part == paper.ADDING} == {c.adding.T}
    at_copy_T = [u for u in us if u.part == paper.COPY and u.T == c.copy.T]
    assert len(at_copy_T) == 2 * len(paper.ARMS)


def test_combine_gives_exactly_the_declared_arms():
    c = paper.Config.quick()
    results = paper.combine(c, [0, 1], fake_outputs(c, [0, 1]))
    declared = paper.arms(c)
    assert {r.claim_id: set(r.values) for r in results} == {k: set(v) for k, v in declared.items()}


def test_memory_reach_is_the_longest_recalled_length():
    """The memory study's per-seed value: the largest T with recall >= memory.acc, else 0."""
    c = paper.Config()
    acc = {("tcn", 10): 1.0, ("tcn", 20): 0.4, ("tcn", 40): 0.6, ("lstm", 10): 0.5}
    results = paper.combine(c, [0], fake_outputs(c, [0], acc))
    values = {r.claim_id: r.values for r in results}["bai2018tcn.memory"]
    assert values == {"tcn_reach": [40.0], "lstm_reach": [10.0], "gru_reach": [0.0]}


def test_a_diverged_run_is_nan_in_every_value_it_feeds():
    """A NaN recall at any length makes the seed's reach NaN (never 'recalled nowhere'), and
    the TCN's NaN copy loss on 2 of 5 seeds fails the copy-memory claim that the same seeds
    pass when they are finite."""
    assert math.isnan(reach([1.0, math.nan, 0.2], [10, 20, 40], 0.5))
    assert reach([1.0, 0.9, 0.2], [10, 20, 40], 0.5) == 20.0
    c = paper.Config.quick()
    seeds = [0, 1, 2, 3, 4]
    done = fake_outputs(c, seeds, {("tcn", c.copy.T): 1.0})
    claim = next(cl for cl in paper.CLAIMS if cl.id == "bai2018tcn.copy-memory")
    assert claim.evaluate(paper.combine(c, seeds, done)[0].values).verdict == Verdict.REPRODUCED
    for u in done:
        if u.part == paper.COPY and u.arm == "tcn" and u.seed in (0, 1):
            done[u] = done[u] | {"value": math.nan, "acc": math.nan}
    copy, _, memory, *_ = paper.combine(c, seeds, done)
    assert math.isnan(copy.values["tcn"][0]) and math.isnan(memory.values["tcn_reach"][1])
    assert claim.evaluate(copy.values).verdict != Verdict.REPRODUCED


def test_sections_take_dotted_overrides():
    c = apply_overrides(paper.Config(), {"copy.T": "100", "adding.steps": "10", "kernel": "3"})
    assert (c.copy.T, c.adding.steps, c.kernel) == (100, 10, 3)
    assert c.adding.T == paper.Config().adding.T


def test_torch_init_keeps_weight_norm_with_default_scale():
    model = paper.model(paper.Config(), "copy", "tcn")
    conv = model.tcn.blocks[0].net[0].conv
    g, v = conv.parametrizations.weight.original0, conv.parametrizations.weight.original1
    assert torch.allclose(g, v.norm(dim=(1, 2), keepdim=True))  # w = g v / ||v|| = v at init
    assert conv.weight.std() > 0.05  # torch's default, not N(0, 0.01)
    stated = paper.model(paper.Config(tcn_init="paper"), "copy", "tcn")
    assert stated.tcn.blocks[0].net[0].conv.weight.std() < 0.03
    with pytest.raises(ValueError, match="tcn_init"):
        paper.Config(tcn_init="xavier")


def test_memoryless_predictor_scores_the_baseline():
    """Blanks predicted perfectly, recalled symbols guessed uniformly: 10 ln 8 / (T + 20)."""
    T = 40
    batch = tasks.copy_memory(64, T, rng.stream(1, "test"))
    logits = torch.full((*batch.x.shape, N_TOKENS), -1e4)  # (B, L, N_TOKENS)
    logits[..., 0] = 0.0  # blank, where nothing is recalled
    logits[batch.recall] = torch.tensor([-1e4] + [0.0] * 8 + [-1e4])  # uniform over 1..8
    loss = copymem.copy_loss(lambda x: logits, batch).item()
    assert math.isclose(loss, tasks.copy_memory_baseline(T), rel_tol=1e-6)
    assert math.isclose(tasks.copy_memory_baseline(1000), 0.0204, abs_tol=5e-5)  # Table 1's LSTM


def test_accuracy_counts_only_the_recalled_positions():
    """All-blank output: right on T + 10 of T + 20 positions, yet 0 on what must be recalled."""
    batch = tasks.copy_memory(16, 30, rng.stream(2, "test"))
    blanks = torch.zeros(*batch.x.shape, N_TOKENS)  # (B, L, N_TOKENS)
    blanks[..., 0] = 1.0
    model = torch.nn.Module()
    model.forward = lambda x: blanks
    _, acc = copymem.copy_scores(model, batch)
    assert acc == 0.0


def test_predicting_one_scores_one_sixth_not_0_1767():
    _, y = tasks.adding(200_000, 10, rng.stream(3, "test"))
    mse = ((1.0 - y) ** 2).mean().item()
    assert abs(mse - 1 / 6) < 0.002  # Var(u1 + u2) = 2/12
    assert abs(mse - 0.1767) > 0.008  # the paper's text is off by 0.01


def test_tcn_layer_is_the_shared_one():
    assert isinstance(paper.model(paper.Config(), "copy", "tcn").tcn, tcn.TCN)


@pytest.fixture(scope="module")
def quick_record(quick):
    return quick("bai2018tcn")


def test_quick_copy_memory_direction(quick_record):
    """Quick: T = 10, 250 steps, one seed. The claim's line for the recurrent arms holds as
    stated: above 0.9 of the memoryless baseline with recall below 0.3 (chance 1/8). The TCN
    leaves its plateau within these steps but may still be descending at step 250, short of
    the claim's 0.05, so its band is the direction: below half the baseline with most of the
    symbols recalled (recall above 0.5)."""
    r = quick_record.results["bai2018tcn.copy-memory"]
    v = {arm: vals[0] for arm, vals in r.values.items()}
    assert v["tcn"] < 0.5 and v["tcn_acc"] > 0.5, v
    for arm in paper.RECURRENT:
        assert v[arm] > 0.9 and v[f"{arm}_acc"] < 0.3, (arm, v)


def test_quick_memory_direction(quick_record):
    """Quick memory study at the one length T = 10 (the copy runs above): the TCN reaches
    further than the LSTM and the GRU, the direction the criterion reads."""
    r = quick_record.results["bai2018tcn.memory"]
    v = {arm: vals[0] for arm, vals in r.values.items()}
    assert v["lstm_reach"] < v["tcn_reach"] and v["gru_reach"] < v["tcn_reach"], v
    assert r.figures and r.figures[0]["file"].startswith("memory")


def test_quick_adding_direction(quick_record):
    """Quick: T = 20, 200 steps, one seed; Table 1's row direction. The claim's line for the
    LSTM and the RNN is 1/6 / 2: here the TCN and the GRU must be below it (they learn) and the
    LSTM and the RNN above 0.14 (near the trivial 1/6). Neither solver reaches the claim's
    1/600 in 200 steps, so no verdict is asserted. predict_one: 100,000 sequences (standard
    error 0.0006) within 0.003 of 1/6 (five standard errors), below the paper's 0.1767."""
    r = quick_record.results["bai2018tcn.adding-row"]
    v = {arm: vals[0] for arm, vals in r.values.items()}
    assert v["tcn"] < 1 / 12 and v["gru"] < 1 / 12, v
    assert v["lstm"] > 0.14 and v["rnn"] > 0.14, v
    assert abs(v["predict_one"] - 1 / 6) < 0.003 and 0.1767 - v["predict_one"] > 0.007, v


def test_quick_mnist_direction(quick_record):
    """Quick: 7x7 digits (49 steps), 100 steps of 32, one seed. Asserted: the TCN above every
    recurrent arm and above chance on both rows (the ordering among the recurrent arms is left
    to the full scale: after 100 steps they are all near their start)."""
    for part in mnist.MNIST_PARTS:
        v = {
            arm: vals[0] for arm, vals in quick_record.results[f"bai2018tcn.{part}"].values.items()
        }
        assert set(v) == set(mnist.MNIST_ARMS) and all(math.isfinite(x) for x in v.values()), v
        assert v["tcn"] > 0.5 and all(v["tcn"] > v[a] for a in ("gru", "lstm", "rnn")), (part, v)


def test_quick_jsb_direction(quick_record):
    """Quick: 24 pieces a split, 20 epochs of 6 steps, one seed. The TCN leaves the counting
    baselines' level within these steps (below the independent-keys Bernoulli) and so lies below
    the LSTM and the GRU, which are still on the plateau near the Bernoulli level that the probes
    saw last 10-15 epochs on the whole data; the gated-against-RNN parts are not asserted here.
    The Markov chain scores below the Bernoulli on every split (held notes)."""
    r = quick_record.results["bai2018tcn.jsb-chorales"]
    v = {arm: vals[0] for arm, vals in r.values.items()}
    assert set(v) == {*JSB_ARMS, *BASELINES} and all(math.isfinite(x) for x in v.values()), v
    assert v["tcn"] < v["bernoulli"] - 0.3, v
    assert v["tcn"] < v["lstm"] and v["tcn"] < v["gru"], v
    assert v["markov"] < v["bernoulli"] < 88 * math.log(2), v


# ---- the TCN (Section 3): causality, receptive field, weight normalization --------------


def test_tcn_is_causal():
    torch.manual_seed(0)
    net = tcn.TCN(3, [8, 8, 8], kernel_size=3).eval()
    x = torch.randn(2, 3, 40, requires_grad=True)  # (B, C, T)
    y = net(x)  # (B, 8, T)
    t = 20
    y[:, :, t].sum().backward()
    later = x.grad[:, :, t + 1 :]
    assert later.abs().max() == 0  # no output depends on a later input
    assert x.grad[:, :, t].abs().max() > 0


@pytest.mark.parametrize(("k", "n"), [(2, 1), (3, 3), (4, 6), (7, 8)])
def test_tcn_receptive_field_formula(k, n):
    """The gradient of one output reaches exactly 1 + 2 (k - 1)(2^n - 1) inputs back."""
    rf = tcn.tcn_receptive_field(k, n)
    assert rf == 1 + 2 * (k - 1) * (2**n - 1)
    torch.manual_seed(0)
    net = tcn.TCN(1, [4] * n, kernel_size=k).double().eval()
    for p in net.parameters():  # positive weights: no accidental cancellation in the gradient
        p.data = p.data.abs() + 0.1
    length = rf + 10
    x = torch.randn(1, 1, length, dtype=torch.float64, requires_grad=True)
    net(x)[0, :, -1].sum().backward()
    reached = (x.grad[0, 0] != 0).nonzero().flatten()
    assert length - reached.min().item() == rf
    assert net.receptive_field == rf


def test_tcn_uses_weight_norm_parametrization_and_keeps_init_scale():
    conv = tcn.CausalConv1d(4, 4, 3, 1)
    assert hasattr(conv.conv, "parametrizations")  # the parametrization API, not the old hook
    assert conv.conv.weight.std().item() < 0.03  # N(0, 0.01) survived weight_norm
