"""Amodei et al. 2016 (Deep Speech 2): model parts, decoding, SortaGrad order, quick claims."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from repro import amodei2016deepspeech2 as paper
from repro.claims import Verdict
from repro.kit import tasks

from conftest import run_quick


def _one_hot_logp(path: list[list[int]], classes: int) -> torch.Tensor:
    """Log-probabilities that put (almost) all mass on the given frame labels."""
    logits = torch.full((len(path), len(path[0]), classes), -20.0)  # (B, T, K + 1)
    for b, row in enumerate(path):
        for t, k in enumerate(row):
            logits[b, t, k] = 20.0
    return logits.log_softmax(-1)


def test_greedy_decode_merges_repeats_then_drops_blanks():
    logp = _one_hot_logp([[1, 1, 0, 1, 2, 2, 0, 0], [3, 0, 3, 3, 0, 0, 0, 0]], 4)
    # A blank between two equal labels keeps both; frames past the length are ignored.
    assert paper.greedy_decode(logp, torch.tensor([8, 3])) == [[1, 1, 2], [3, 3]]


def test_edit_distance():
    assert paper.edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert paper.edit_distance([1, 3], [1, 2, 3]) == 1  # deletion
    assert paper.edit_distance([1, 2, 4, 3], [1, 2, 3]) == 1  # insertion
    assert paper.edit_distance([], [5, 6]) == 2
    assert paper.edit_distance([2, 1], [1, 2]) == 2


def test_evaluate_scores_a_perfect_and_a_silent_model():
    batch = tasks.SpeechBatch(
        torch.zeros(2, 6, 3), torch.tensor([6, 4]), torch.tensor([[1, 2], [3, 0]]),
        torch.tensor([2, 1]),
    )  # fmt: skip

    class Fixed(torch.nn.Module):
        def __init__(self, path):
            super().__init__()
            self.logp = _one_hot_logp(path, 4)

        def forward(self, x, lengths):
            return self.logp

    loss, cer = paper.evaluate(Fixed([[1, 1, 0, 2, 2, 0], [0, 3, 0, 0, 0, 0]]), batch)
    assert cer == 0.0 and loss < 1e-3
    loss, cer = paper.evaluate(Fixed([[0] * 6, [0] * 6]), batch)  # only blanks: 3 deletions
    assert cer == 1.0 and loss > 10


SMALL = paper.Config(n_features=5, n_labels=4, conv=6, kernel=3)


def test_ctc_is_torchs_own_loss_per_target_label():
    torch.manual_seed(0)
    model = paper.SpeechNet(SMALL, 8, 2, True)
    b = tasks.speech(6, tasks.speech_spectra(4, 5, 0), tasks.generator(1))
    logp = model(b.features, b.feature_lengths)  # (B, T, K + 1)
    per_utt = F.ctc_loss(
        logp.transpose(0, 1), b.targets, b.feature_lengths, b.target_lengths, reduction="none"
    )
    expected = (per_utt / b.target_lengths).mean()
    assert torch.allclose(paper.ctc(model, b), expected)


def test_flip_reverses_each_sequence_within_its_length():
    x = torch.arange(10.0).view(2, 5, 1)  # (B, T, 1)
    lengths = torch.tensor([5, 3])
    assert paper.flip(x, lengths)[:, :, 0].tolist() == [[4, 3, 2, 1, 0], [7, 6, 5, 8, 9]]
    assert torch.equal(paper.flip(paper.flip(x, lengths), lengths), x)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_layers_see_both_directions_and_never_the_padding(cell):
    """A bidirectional output at frame 0 depends on the last valid frame; valid outputs never
    depend on what the padding holds, in training (batch statistics) or eval mode."""
    torch.manual_seed(0)
    model = paper.SpeechNet(SMALL, 8, 2, True, cell)
    b = tasks.speech(8, tasks.speech_spectra(4, 5, 0), tasks.generator(2))
    mask = torch.arange(b.features.shape[1])[None, :] < b.feature_lengths[:, None]  # (B, T)
    junk = b.features + 5.0 * (~mask)[..., None]  # padding filled with garbage
    for mode in (True, False):
        model.train(mode)
        with torch.no_grad():
            a, c = model(b.features, b.feature_lengths), model(junk, b.feature_lengths)
        assert torch.allclose(a[mask], c[mask], atol=1e-5)
    layer = paper.BiRecurrent(5, 8, False, cell)
    x = torch.randn(1, 6, 5)  # (1, T, C)
    with torch.no_grad():
        before = layer(x, torch.tensor([6]))[0, 0]
        x[0, -1] = torch.randn(5)
        assert not torch.allclose(before, layer(x, torch.tensor([6]))[0, 0])


def test_bn_is_sequence_wise_and_uses_running_statistics_at_evaluation():
    """Training mode: one utterance's output depends on the rest of the batch (batch x time
    statistics). Eval mode: it does not (running averages), and padding never matters."""
    torch.manual_seed(0)
    model = paper.SpeechNet(SMALL, 8, 3, True)
    b = tasks.speech(8, tasks.speech_spectra(4, 5, 0), tasks.generator(2))
    for _ in range(3):  # collect some running statistics
        model(b.features, b.feature_lengths)
    n = int(b.feature_lengths[0])
    alone = b.features[:1, :n], b.feature_lengths[:1]
    model.eval()
    with torch.no_grad():
        full = model(b.features, b.feature_lengths)[0, :n]  # (n, K + 1)
        assert torch.allclose(full, model(*alone)[0], atol=1e-5)
        model.train()
        assert not torch.allclose(model(b.features, b.feature_lengths)[0, :n], model(*alone)[0])


def test_bn_statistics_ignore_padding():
    """The batch mean of the normalized input term over valid cells is the valid cells' own
    mean: extra padded frames (of any content) leave the running statistics unchanged."""
    torch.manual_seed(0)
    layer = paper.BiRecurrent(5, 8, True)
    b = tasks.speech(8, tasks.speech_spectra(4, 5, 0), tasks.generator(5))
    longer = F.pad(b.features, (0, 0, 0, 7), value=9.0)  # 7 more padded frames of garbage
    layer(b.features, b.feature_lengths)
    mean, var = layer.bn.running_mean.clone(), layer.bn.running_var.clone()
    layer.bn.reset_running_stats()
    layer(longer, b.feature_lengths)
    assert torch.allclose(layer.bn.running_mean, mean, atol=1e-6)
    assert torch.allclose(layer.bn.running_var, var, atol=1e-5)


def test_bn_layers_normalize_only_the_input_term():
    model = paper.SpeechNet(SMALL, 8, 2, True)
    for layer in model.rnns:
        assert layer.bn is not None and layer.bn.num_features == 8
        assert layer.w.bias is None  # BN's shift plays the bias of W x
        assert layer.u.shape == (2, 8, 8)  # forward and backward recurrent weights, no BN
    plain = paper.SpeechNet(SMALL, 8, 2, False)
    assert all(layer.bn is None and layer.w.bias is not None for layer in plain.rnns)


@pytest.mark.parametrize("make", [paper.Config, paper.Config.quick, paper.Config.paper])
def test_parameter_budget_is_held_across_depths(make):
    """Table 1's design: the same parameter count at every depth (within 5%), with and without
    BN, for simple RNNs and GRUs alike; deeper nets get fewer units per layer."""
    config = make()
    widths = []
    for cell, depths in (("rnn", config.depths), ("gru", config.gru_depths)):
        for d in depths:
            h = paper.width(config, d, cell)
            for bn in (True, False):
                n = paper.n_params(paper.SpeechNet(config, h, d, bn, cell))
                assert abs(n / config.params - 1) < 0.05, (cell, d, bn, h, n)
            if cell == "rnn":
                widths.append(h)
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]


def test_every_arm_has_a_rate_from_the_grid():
    for make in (paper.Config, paper.Config.quick, paper.Config.paper):
        config = make()
        rates = dict(config.lr)
        for arm in paper.depth_arms(config):
            assert rates[arm] in (0.003, 0.01, 0.03, 0.1, 0.3), arm
        assert f"rnn{config.sorta_depth}" in rates and f"rnn{config.sorta_depth}_bn" in rates


def test_minibatches_cover_the_pool_in_increasing_length():
    pool = tasks.speech(50, tasks.speech_spectra(4, 5, 0), tasks.generator(3))
    batches = paper.minibatches(pool, 8)
    assert sum(len(b.feature_lengths) for b in batches) == 50
    longest = [int(b.feature_lengths.max()) for b in batches]
    assert longest == sorted(longest)
    for b in batches:
        assert b.features.shape[1] == int(b.feature_lengths.max())  # padding trimmed
        assert b.targets.shape[1] == int(b.target_lengths.max())
    sums = sorted(float(x) for b in batches for x in b.features.sum(dim=(1, 2)))
    assert sums == pytest.approx(sorted(pool.features.sum(dim=(1, 2)).tolist()), rel=1e-5)


def test_sortagrad_schedule_differs_only_in_the_first_epoch():
    a = paper.schedule(5, 17, True, tasks.generator(4))
    b = paper.schedule(5, 17, False, tasks.generator(4))
    assert a[:5] == [0, 1, 2, 3, 4] and sorted(b[:5]) == [0, 1, 2, 3, 4]
    assert a[5:] == b[5:] and len(a) == 17
    assert sorted(a[5:10]) == [0, 1, 2, 3, 4]  # every later epoch is a permutation


@pytest.fixture(scope="module")
def quick_record(tmp_path_factory):
    return run_quick("amodei2016deepspeech2", tmp_path_factory.mktemp("results"))


def test_quick_bn_gap_grows_from_one_to_three_layers(quick_record):
    """Quick scale (1 and 3 layers at 3,000 parameters, 60 steps) measured held-out loss gaps
    (no BN minus BN) of 0.06, 0.36 at one layer and 1.22, 0.89 at three: the gap grows in both
    seeds (unlike the paper, BN does not hurt at one layer at this size)."""
    r = quick_record.results["amodei2016deepspeech2.bn-gap-both-train"]
    assert all(g > 0.5 for g in r.values["gap_3"]), r.values
    assert all(g3 > g1 for g1, g3 in zip(r.values["gap_1"], r.values["gap_3"])), r.values
    assert r.verdict == Verdict.REPRODUCED, r.detail
    # The claims that need 5 or 7 layers have no arms at quick scale.
    assert quick_record.results["amodei2016deepspeech2.bn-depth-gap"].verdict == Verdict.FAILED


def test_quick_bn_lowers_held_out_cer(quick_record):
    """Quick scale: CER without / with BN 0.66, 0.67 / 0.55, 0.53 at one layer and 1.0, 1.0 /
    0.67, 0.84 at three (the 3-layer no-BN arm is still on the blank plateau after 60 steps)."""
    v = quick_record.results["amodei2016deepspeech2.bn-deep"].values
    for d, margin in ((1, 0.05), (3, 0.1)):
        assert all(b < n - margin for b, n in zip(v[f"rnn{d}_bn"], v[f"rnn{d}"])), v
    assert all(0.0 <= x <= 1.5 for vs in v.values() for x in vs)


def test_quick_gru_beats_the_simple_rnn_at_one_layer(quick_record):
    """Quick scale: the 1-layer GRU (10 units) ends at CER 0.48, 0.37 against the simple RNN's
    0.55, 0.53 (19 units), both with BN, the paper's direction (Table 3's first row)."""
    v = quick_record.results["amodei2016deepspeech2.gru"].values
    assert all(g < r for g, r in zip(v["gru1_bn"], v["rnn1_bn"])), v


def test_quick_sortagrad_arms_train_with_bn_only(quick_record):
    """Quick scale, 3 layers, 48 steps (4 epochs of 12 minibatches): with BN both orders train
    (final held-out loss 1.74, 1.77 sorted and 1.78, 1.91 shuffled, below the losses after
    epoch 1); without BN both stay on the blank plateau (2.81-2.83). Neither SortaGrad's final
    gain nor its interaction with BN is called reproduced at this scale."""
    res = quick_record.results
    v = res["amodei2016deepspeech2.sortagrad"].values
    for arm in ("sortagrad_bn", "shuffled_bn"):
        assert all(f < e for f, e in zip(v[arm], v[f"epoch1_{arm}"])), v
    plain = res["amodei2016deepspeech2.sortagrad-no-bn"].values
    assert all(x > 2.5 for arm in ("sortagrad", "shuffled") for x in plain[arm]), plain
    r = res["amodei2016deepspeech2.sortagrad-larger-without-bn"]
    assert r.verdict != Verdict.REPRODUCED, r.detail
