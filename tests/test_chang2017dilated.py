"""Chang et al. 2017: the dilated layer and the regular-skip recurrence against step-by-step
references, recurrent lengths (exact, dilated and regular skips), the float64 gradient at
initialization, the card's declarations, and the claims at quick scale."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from repro import chang2017dilated as paper
from repro.chang2017dilated import lengths, mnist
from repro.chang2017dilated.gradient import first_input_gradient
from repro.chang2017dilated.model import DilatedRNN, DilatedRNNLayer, SkipRNN
from repro.claims import Verdict
from repro.kit import rng, tasks
from repro.kit.copymem import N_TOKENS
from repro.kit.layers import n_params
from repro.run.config import apply_overrides

from conftest import pixel_output

SCALES = {"quick": paper.Config.quick(), "full": paper.Config(), "paper": paper.Config.paper()}


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize(("d", "t"), [(1, 9), (2, 9), (4, 10), (3, 7)])
def test_dilated_layer_equals_step_by_step(cell, d, t):
    """Interleaving into d sub-sequences equals h_t = cell(x_t, h_{t-d}) run step by step."""
    torch.manual_seed(0)
    layer = DilatedRNNLayer(3, 5, d, cell).double()
    x = torch.randn(2, t, 3, dtype=torch.float64)  # (B, T, C)
    fast = layer(x)  # (B, T, H)
    cells = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}
    ref = cells[cell](3, 5).double()
    ref.weight_ih.data, ref.weight_hh.data = (
        layer.rnn.weight_ih_l0.data,
        layer.rnn.weight_hh_l0.data,
    )
    ref.bias_ih.data, ref.bias_hh.data = layer.rnn.bias_ih_l0.data, layer.rnn.bias_hh_l0.data
    zeros = torch.zeros(2, 5, dtype=torch.float64)
    states, outs = [], []
    for step in range(t):
        prev = states[step - d] if step >= d else ((zeros, zeros) if cell == "lstm" else zeros)
        state = ref(x[:, step], prev)
        states.append(state)
        outs.append(state[0] if cell == "lstm" else state)
    assert torch.allclose(fast, torch.stack(outs, 1), atol=1e-12)


def test_dilated_rnn_default_dilations():
    net = DilatedRNN(2, 4, layers=4)
    assert [layer.dilation for layer in net.layers] == [1, 2, 4, 8]
    assert net(torch.randn(3, 17, 2)).shape == (3, 17, 4)


@pytest.mark.parametrize("n_layers", range(1, 10))
def test_shortest_paths_equal_the_closed_form(n_layers):
    m = 2 ** (n_layers - 1)
    d = lengths.recurrent_lengths(lengths.dilations(n_layers), m)
    d_form, mean_form = lengths.closed_form(n_layers)
    assert (d == d_form).all()
    assert d.mean() == pytest.approx(mean_form, abs=1e-12)  # (L - 1)/2 + 1/m
    flat = lengths.recurrent_lengths(lengths.dilations(n_layers, dilated=False), m)
    assert (flat == np.arange(1, m + 1)).all()  # no dilations: n edges for a span of n
    assert flat.mean() == (m + 1) / 2


def test_mean_recurrent_length_of_the_paper_stack():
    """Dilations 1..256: 4.0039 recurrent edges on average over one period, against 128.5."""
    d = lengths.recurrent_lengths(lengths.dilations(9), 256)
    assert d.mean() == 4 + 1 / 256
    assert d.max() == 8  # n = 255 = 11111111 in binary: one edge in each of 8 layers
    ns = np.arange(1, 257)
    assert (d <= np.floor(np.log2(ns)) + 1).all()  # about log2 n
    assert (d[[0, 1, 3, 7, 15, 31, 63, 127, 255]] == 1).all()  # spans 2^k: one edge


@pytest.mark.parametrize(("n_layers", "dilated"), [(4, True), (4, False), (6, True), (9, True)])
def test_torch_model_has_the_graph_we_count(n_layers, dilated):
    """The recurrent length read off DilatedRNN (impulse response in powers of eps) equals the
    shortest path on the graph: the model has exactly the connections we count."""
    m = 2 ** (n_layers - 1)
    dils = lengths.dilations(n_layers, dilated)
    assert (lengths.model_lengths(dils, m) == lengths.recurrent_lengths(dils, m)).all()


def test_one_pass_gradient_equals_one_backward_per_output():
    torch.manual_seed(0)
    net = DilatedRNN(3, 5, 3, "rnn").double()
    x = torch.randn(1, 12, 3, dtype=torch.float64)  # (B, T, C)
    rows = []
    for j in range(5):
        xj = x.clone().requires_grad_(True)
        net(xj)[0, -1, j].backward()
        rows.append(xj.grad[0, 0])
    assert first_input_gradient(net, x) == pytest.approx(torch.stack(rows).norm().item())


def test_gradient_at_init_float64_numbers():
    """9 layers x 32 units from torch.manual_seed(0), the same weights with and without
    dilations, a copy-memory input. Float64 on these weights gives dilated about 1e-3 (T = 64)
    and 5e-5 (T = 1024), flat about 1e-11 (T = 64) and 1e-48 (T = 256), and exactly 0.0 at
    T = 1024 (underflow); the bands allow an order of magnitude around those values."""
    torch.manual_seed(0)
    dilated = DilatedRNN(N_TOKENS, 32, 9, "rnn").double()
    flat = copy.deepcopy(dilated)
    for layer in flat.layers:
        layer.dilation = 1
    norms = {}
    for T in (64, 256, 1024):
        x = F.one_hot(tasks.copy_memory(1, T - 20, rng.stream(0, "test")).x, N_TOKENS)
        norms[T] = (first_input_gradient(dilated, x.double()),)
        norms[T] += (first_input_gradient(flat, x.double()),)
    assert 1e-4 < norms[64][0] < 1e-2 and 1e-12 < norms[64][1] < 1e-10
    assert 1e-49 < norms[256][1] < 1e-47
    assert 5e-6 < norms[1024][0] < 5e-4 and norms[1024][1] == 0.0


def test_arms_have_comparable_parameter_counts():
    """Full scale: dilated 6730, one-layer RNN 6778, regular skip 6794, one-layer LSTM 6606 and
    GRU 6650 parameters (read-out included). Tolerance: 3% of the dilated stack's count."""
    c = paper.Config()
    counts = {a: n_params(paper.copy_net(c, a)) for a in paper.COPY_ARMS}
    assert counts == {"dilated": 6730, "rnn": 6778, "skip": 6794, "lstm": 6606, "gru": 6650}
    assert all(abs(n / counts["dilated"] - 1) < 0.03 for n in counts.values()), counts


@pytest.mark.parametrize(
    ("n_layers", "skip", "T"), [(1, 4, 13), (2, 3, 12), (3, 11, 30), (2, 1, 7)]
)
def test_regular_skip_recurrence_is_h_t_of_h_t1_and_h_ts(n_layers, skip, T):
    """The paper's regular skip connection, h_t = tanh(W x_t + V h_{t-s} + U h_{t-1} + b) with
    h = 0 before t = 0, in every layer: the blocked kernel equals a step-by-step loop, also when
    T is not a multiple of s."""
    torch.manual_seed(0)
    net = SkipRNN(3, 5, n_layers, skip).double()
    x = torch.randn(2, T, 3, dtype=torch.float64)  # (B, T, C)
    ref = x
    for layer in net.layers:
        r, c_in = layer.rnn, ref.shape[-1]
        w, v, u = r.weight_ih_l0[:, :c_in], r.weight_ih_l0[:, c_in:], r.weight_hh_l0
        b = r.bias_ih_l0 + r.bias_hh_l0
        zero, hs = torch.zeros(2, 5, dtype=torch.float64), []
        for t in range(T):
            h_1 = hs[t - 1] if t >= 1 else zero
            h_s = hs[t - skip] if t >= skip else zero
            hs.append(torch.tanh(ref[:, t] @ w.T + h_s @ v.T + h_1 @ u.T + b))  # (B, H)
        ref = torch.stack(hs, dim=1)  # (B, T, H)
    with torch.no_grad():
        assert torch.allclose(net(x), ref, atol=1e-12)


def test_regular_skip_graph_equals_the_formula():
    """d(n) = n // s + n % s for edges {1, s} in every layer, whatever the depth; the best fixed
    s over spans 1..m: 4 (m = 16, quick), 11 (m = 128, full), 16 (m = 256, paper)."""
    for s, n_layers in ((1, 2), (3, 1), (11, 4), (16, 9)):
        graph = lengths.recurrent_lengths([(1, s)] * n_layers, 128)
        assert (graph == lengths.skip_lengths(s, 128)).all()
    assert lengths.best_skip(128) == (11, pytest.approx(10.359375))
    assert lengths.best_skip(256)[0] == 16 and lengths.best_skip(16)[0] == 4
    for c in SCALES.values():  # each scale's copy arm runs the best s of its own period
        assert c.copy.skip == lengths.best_skip(2 ** (c.copy.layers - 1))[0]


def test_recurrent_length_skip_numbers():
    """m = 256: dilated 4.0039 against 15.06 for regular skips at their best s = 16 and 16.20 at
    the copy arm's s = 11; strictly shorter from L = 3 on (the smallest margin, 0.25, at L = 3;
    a tie at L = 2)."""
    r = lengths.recurrent_length_skip("chang2017dilated.recurrent-length-skip", 9, 11)
    assert r.values["dilated"] == [4 + 1 / 256] and r.values["flat"] == [128.5]
    assert r.values["regular_best"] == [pytest.approx(15.0625)]
    assert r.values["regular_copy"] == [pytest.approx(16.1953125)]
    assert r.values["margin"] == [pytest.approx(0.25)] and r.values["skip_formula_error"] == [0]


def test_glorot_init_is_tensorflows_cell_default():
    torch.manual_seed(0)
    net = paper.copy_net(paper.Config(), "skip")
    r = net.net.layers[0].rnn
    joint = torch.cat([r.weight_ih_l0, r.weight_hh_l0], dim=1)  # (H, C + 2 H): [W, V, U]
    limit = math.sqrt(6 / (joint.shape[0] + joint.shape[1]))
    assert joint.abs().max() <= limit and joint.abs().max() > 0.9 * limit
    assert r.bias_ih_l0.abs().sum() == 0 and r.bias_hh_l0.abs().sum() == 0
    with pytest.raises(ValueError, match="init"):
        paper.Config(copy=paper.Copy(init="orthogonal"))


def test_dilated_copy_net_is_causal():
    torch.manual_seed(0)
    model = paper.copy_net(paper.Config(), "dilated").eval()
    x = tasks.copy_memory(3, 30, rng.stream(0, "test")).x  # (B, L)
    later = x.clone()
    later[:, 41:] = 9 - later[:, 41:]
    with torch.no_grad():
        assert torch.equal(model(x)[:, :41], model(later)[:, :41])


def test_combine_gives_exactly_the_declared_arms_and_nan_fails_the_copy_claim():
    """Small checks (4 layers of 2 units) and fake copy units in which every arm behaves as the
    claim says, except that the dilated stack diverged (NaN) on one of two seeds: the NaN
    reaches the values, and the claim that the finite values pass fails with it."""
    c = paper.Config(depth=4, gradient=paper.Gradient(hidden=2, lengths=(64,)))
    seeds = [0, 1]
    done = {}
    for u in paper.units(c, seeds):
        if u.part in mnist.PARTS:
            done[u] = pixel_output(0.9 if u.arm == "dilated" else 0.3)
            continue
        value = (math.nan if u.seed == 0 else 0.1) if u.arm == "dilated" else 1.0
        done[u] = {"value": value, "acc": 1 - value, "loss": 0.1, "curve": [1.0, 0.5]}
        done[u] |= {"params": 6000, "diverged_step": 3 if math.isnan(value) else None}
    assert {u.T for u in done if u.part == paper.COPY} == {c.copy.T}
    results = {r.claim_id: r for r in paper.combine(c, seeds, done)}
    assert {k: set(r.values) for k, r in results.items()} == {
        k: set(v) for k, v in paper.arms(c).items()
    }
    claim = next(cl for cl in paper.CLAIMS if cl.id == "chang2017dilated.copy-memory-skip")
    values = results[claim.id].values
    assert math.isnan(values["dilated"][0]) and math.isnan(values["dilated_acc"][0])
    assert claim.evaluate(values).verdict != Verdict.REPRODUCED
    finite = {k: [0.1 if math.isnan(x) else x for x in v] for k, v in values.items()}
    assert claim.evaluate(finite).verdict == Verdict.REPRODUCED


def test_pixel_arms_differ_only_in_their_dilations():
    """Dilated and flat stacks: the same layers, widths and parameter count (6.6K at full
    scale), dilations 1..2^(L-1) against all 1; each reads the class at the last step."""
    p = paper.Config().pixels
    dilated, flat = mnist.pixel_net(p, "dilated"), mnist.pixel_net(p, "flat")
    assert n_params(dilated) == n_params(flat) == 6550
    assert [lay.dilation for lay in dilated.net.layers] == [2**i for i in range(p.layers)]
    assert [lay.dilation for lay in flat.net.layers] == [1] * p.layers
    assert 2**p.layers - 1 >= p.side**2  # the dilated stack's reach covers every pixel
    x = torch.randn(2, p.side**2, 1)
    y = x.clone()
    y[:, -1] += 1.0
    with torch.no_grad():
        assert dilated(x).shape == (2, 10) and not torch.equal(dilated(x), dilated(y))


def test_a_diverged_flat_arm_fails_the_pixel_claim():
    """The claim compares dilated against flat: a NaN in either arm fails it (a diverged flat
    stack is not a win for the dilated one)."""
    claim = next(cl for cl in paper.CLAIMS if cl.id == "chang2017dilated.pixel-mnist")
    ok = {"dilated": [0.9] * 5, "flat": [0.3] * 5}
    assert claim.evaluate(ok).verdict == Verdict.REPRODUCED
    assert claim.evaluate(ok | {"flat": [math.nan] * 2 + [0.3] * 3}).verdict != Verdict.REPRODUCED


def test_sections_take_dotted_overrides():
    c = apply_overrides(paper.Config(), {"copy.T": "50", "gradient.hidden": "8", "depth": "5"})
    assert (c.copy.T, c.gradient.hidden, c.depth) == (50, 8, 5)


@pytest.fixture(scope="module")
def quick_record(quick):
    return quick("chang2017dilated")


def test_quick_recurrent_length_holds(quick_record):
    """Exact checks: the closed forms match the graph to 1e-12 and the stack of 9 layers has
    the mean recurrent lengths of the formula."""
    r = quick_record.results["chang2017dilated.recurrent-length"]
    assert r.values["dilated"] == [4 + 1 / 256] and r.values["flat"] == [128.5]
    assert r.values["dilated_formula_error"][0] < 1e-12 and r.values["model_error"][0] < 0.5


def test_quick_gradient_at_init_direction(quick_record):
    """The criterion's direction at quick scale (seed 0's own init stream): dilated above flat
    by the criterion's factors at T = 64 and 256, and far from underflow at T = 1024."""
    v = {
        k: vals[0]
        for k, vals in quick_record.results["chang2017dilated.gradient-at-init"].values.items()
    }
    assert v["dilated_T64"] > 1e6 * v["flat_T64"], v
    assert v["dilated_T256"] > 1e20 * v["flat_T256"], v
    assert v["dilated_T1024"] > 1e-8, v


def test_quick_recurrent_length_skip_direction(quick_record):
    v = {
        k: vals[0]
        for k, vals in quick_record.results["chang2017dilated.recurrent-length-skip"].values.items()
    }
    assert v["margin"] > 0 and v["regular_best"] > 2 * v["dilated"], v


def test_quick_copy_memory_direction(quick_record):
    """Quick: T = 10, 5 layers, s = 4, 300 steps, one seed. The claim's line for the other arms
    holds as stated: above 0.9 of the memoryless baseline with recall below 0.3 (chance 1/8).
    The dilated stack leaves the baseline within these steps but may still be descending at
    step 300, near the claim's 0.5, so its band is the direction: below 0.8, clear of the
    others' 0.9, with recall above 0.4 (over three times chance)."""
    r = quick_record.results["chang2017dilated.copy-memory-skip"]
    v = {arm: vals[0] for arm, vals in r.values.items()}
    assert v["dilated"] < 0.8 and v["dilated_acc"] > 0.4, v
    for arm in ("rnn", "skip", "lstm", "gru"):
        assert v[arm] > 0.9 and v[f"{arm}_acc"] < 0.3, (arm, v)


def test_quick_pixel_mnist_direction(quick_record):
    """Quick: 7x7 digits (49 steps), 6 layers, 100 steps of 32, one seed: the dilated stack
    above the flat one, in both orders."""
    for part in mnist.PARTS:
        v = {
            a: vals[0]
            for a, vals in quick_record.results[f"chang2017dilated.{part}"].values.items()
        }
        assert v["dilated"] > v["flat"], (part, v)
