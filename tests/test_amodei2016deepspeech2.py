"""Amodei et al. 2016 (Deep Speech 2): model parts, decoding, SortaGrad order, seed streams,
the arms every claim reads, and the claims at quick scale."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from repro import amodei2016deepspeech2 as paper
from repro.amodei2016deepspeech2 import data, model, runs
from repro.amodei2016deepspeech2.config import Net, Speech
from repro.amodei2016deepspeech2.model import Arm
from repro.kit import rng, speech

SCALES = {"quick": paper.Config.quick(), "full": paper.Config(), "paper": paper.Config.paper()}
TASK, NET = Speech(n_mels=5), Net(conv=6, kernel=3, stride=1)
QUICK = paper.Config.quick().speech  # a corpus of 250 utterances, synthesised in about 2 s


def _batch(n: int, seed: int) -> data.SpeechBatch:
    """Random frames (5 bands) and labels, 10-20 frames, at most half as many labels."""
    gen = rng.stream(seed, "test-batch")
    lengths = torch.randint(10, 21, (n,), generator=gen)  # (B,)
    feats = [torch.randn(int(t), 5, generator=gen) for t in lengths]
    labels = [torch.randint(1, 28, (int(t) // 2,), generator=gen) for t in lengths]
    return data.collate(feats, labels)


def _one_hot_logp(path: list[list[int]], classes: int) -> torch.Tensor:
    """Log-probabilities that put (almost) all mass on the given frame labels."""
    logits = torch.full((len(path), len(path[0]), classes), -20.0)  # (B, T, K + 1)
    for b, row in enumerate(path):
        for t, k in enumerate(row):
            logits[b, t, k] = 20.0
    return logits.log_softmax(-1)


def test_speech_batch_is_ctc_ready():
    """A minibatch of the real corpus: 40 log-mel bands, characters 1..27 (0 is the blank),
    padding zero, at least 2 frames per character after the stride-2 front end, CTC finite;
    and the batch comes from one length bucket (little padding)."""
    b = data.sample(QUICK, 16, rng.stream(0, "test-batch"))
    assert b.features.shape[0] == 16 and b.features.shape[2] == QUICK.n_mels == 40
    assert b.targets.max() <= 27 and b.targets[b.targets > 0].min() >= 1
    net = model.SpeechNet(QUICK, Net(), 8, Arm("rnn", 1, True))
    assert (net.lengths(b.feature_lengths) >= 2 * b.target_lengths).all()
    t = b.features.shape[1]
    pad = torch.arange(t)[None, :] >= b.feature_lengths[:, None]  # (B, T)
    assert (b.features[pad] == 0).all()
    assert float(b.feature_lengths.min()) > 0.3 * t  # one bucket: no 20-frame utterance beside 300
    log_probs = torch.randn(t, 16, 28).log_softmax(-1)  # (T, B, K + 1)
    loss = F.ctc_loss(log_probs, b.targets, b.feature_lengths, b.target_lengths)
    assert torch.isfinite(loss)
    texts = [speech.decode(row[:n]) for row, n in zip(b.targets, b.target_lengths)]
    assert all(set(w) <= set(speech.DIGIT_WORDS) for w in (t.split() for t in texts)), texts


def test_held_out_speakers_are_never_trained_on():
    c = speech.load(QUICK.recipe())
    train, test = (set(c.splits[k].speakers) for k in ("train", "test"))
    assert train and test and not train & test
    assert data.held_out(QUICK).features.shape[0] == QUICK.eval_size


def test_the_strided_front_end_counts_its_output_steps():
    net = model.SpeechNet(TASK, Net(conv=6, kernel=11, stride=2), 8, Arm("rnn", 1, False))
    b = _batch(5, 0)
    logp, lengths = net(b.features, b.feature_lengths)  # (B, T', K + 1), (B,)
    assert logp.shape[1] == int(lengths.max()) and torch.equal(
        lengths, (b.feature_lengths + 1) // 2
    )


def test_greedy_decode_merges_repeats_then_drops_blanks_and_edit_distance():
    logp = _one_hot_logp([[1, 1, 0, 1, 2, 2, 0, 0], [3, 0, 3, 3, 0, 0, 0, 0]], 4)
    # A blank between two equal labels keeps both; frames past the length are ignored.
    assert model.greedy_decode(logp, torch.tensor([8, 3])) == [[1, 1, 2], [3, 3]]
    # Levenshtein distance: insertions, deletions, substitutions all cost 1.
    assert model.edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert model.edit_distance([1, 3], [1, 2, 3]) == 1  # deletion
    assert model.edit_distance([1, 2, 4, 3], [1, 2, 3]) == 1  # insertion
    assert model.edit_distance([], [5, 6]) == 2
    assert model.edit_distance([2, 1], [1, 2]) == 2


def test_evaluate_scores_a_perfect_and_a_silent_model():
    targets, target_lengths = torch.tensor([[1, 2], [3, 0]]), torch.tensor([2, 1])
    batch = data.SpeechBatch(torch.zeros(2, 6, 3), torch.tensor([6, 4]), targets, target_lengths)

    class Fixed(torch.nn.Module):
        def __init__(self, path):
            super().__init__()
            self.logp = _one_hot_logp(path, 4)

        def forward(self, x, lengths):
            return self.logp, lengths

    loss, cer, wer = model.evaluate(Fixed([[1, 1, 0, 2, 2, 0], [0, 3, 0, 0, 0, 0]]), batch)
    assert cer == 0.0 and wer == 0.0 and loss < 1e-3
    loss, cer, wer = model.evaluate(Fixed([[0] * 6, [0] * 6]), batch)  # only blanks
    assert cer == 1.0 and wer == 1.0 and loss > 10  # 3 characters, 2 words ("a", "b") deleted


def test_ctc_is_torchs_own_loss_per_target_label():
    torch.manual_seed(0)
    net = model.SpeechNet(TASK, NET, 8, Arm("rnn", 2, True))
    b = _batch(6, 1)
    logp, lengths = net(b.features, b.feature_lengths)  # (B, T, K + 1), (B,)
    per_utt = F.ctc_loss(
        logp.transpose(0, 1), b.targets, lengths, b.target_lengths, reduction="none"
    )
    expected = (per_utt / b.target_lengths).mean()
    assert torch.allclose(model.ctc(net, b), expected)


def test_flip_reverses_each_sequence_within_its_length():
    x = torch.arange(10.0).view(2, 5, 1)  # (B, T, 1)
    lengths = torch.tensor([5, 3])
    assert model.flip(x, lengths)[:, :, 0].tolist() == [[4, 3, 2, 1, 0], [7, 6, 5, 8, 9]]
    assert torch.equal(model.flip(model.flip(x, lengths), lengths), x)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_layers_see_both_directions_and_never_the_padding(cell):
    """A bidirectional output at frame 0 depends on the last valid frame; valid outputs never
    depend on what the padding holds, in training (batch statistics) or eval mode."""
    torch.manual_seed(0)
    net = model.SpeechNet(TASK, NET, 8, Arm(cell, 2, True))
    b = _batch(8, 2)
    mask = torch.arange(b.features.shape[1])[None, :] < b.feature_lengths[:, None]  # (B, T)
    junk = b.features + 5.0 * (~mask)[..., None]  # padding filled with garbage
    for mode in (True, False):
        net.train(mode)
        with torch.no_grad():
            a, c = net(b.features, b.feature_lengths)[0], net(junk, b.feature_lengths)[0]
        assert torch.allclose(a[mask], c[mask], atol=1e-5)
    layer = model.BiRecurrent(5, 8, False, cell)
    x = torch.randn(1, 6, 5)  # (1, T, C)
    with torch.no_grad():
        before = layer(x, torch.tensor([6]))[0, 0]
        x[0, -1] = torch.randn(5)
        assert not torch.allclose(before, layer(x, torch.tensor([6]))[0, 0])


def test_simple_rnn_layer_clips_and_zeroes_the_padding():
    """f(x) = min(max(x, 0), 20) in each direction (Section 3.2); the layer's output, the sum of
    the two directions, lies in [0, 40] and is zero on the padding."""
    torch.manual_seed(0)
    layer = model.BiRecurrent(3, 6, False)
    wx = torch.linspace(-100, 100, 2 * 4 * 6).view(2, 4, 6)  # (2, B, H) input terms
    assert torch.equal(layer.step(wx, torch.zeros(2, 4, 6)), wx.clamp(0, 20))
    y = layer(50.0 * torch.randn(4, 10, 3), torch.tensor([10, 7, 5, 2]))  # (B, T, H)
    assert y.min() >= 0 and y.max() <= 40 and y.max() > 20
    assert (y[3, 2:] == 0).all() and (y[1, 7:] == 0).all()


def test_bn_is_sequence_wise_and_uses_running_statistics_at_evaluation():
    """Training mode: one utterance's output depends on the rest of the batch (batch x time
    statistics). Eval mode: it does not (running averages), and padding never matters."""
    torch.manual_seed(0)
    net = model.SpeechNet(TASK, NET, 8, Arm("rnn", 3, True))
    b = _batch(8, 2)
    for _ in range(3):  # collect some running statistics
        net(b.features, b.feature_lengths)
    n = int(b.feature_lengths[0])
    alone = b.features[:1, :n], b.feature_lengths[:1]
    net.eval()
    with torch.no_grad():
        full = net(b.features, b.feature_lengths)[0][0, :n]  # (n, K + 1)
        assert torch.allclose(full, net(*alone)[0][0], atol=1e-5)
        net.train()
        assert not torch.allclose(net(b.features, b.feature_lengths)[0][0, :n], net(*alone)[0][0])


def test_bn_statistics_ignore_padding():
    """The batch mean of the normalized input term over valid cells is the valid cells' own
    mean: extra padded frames (of any content) leave the running statistics unchanged."""
    torch.manual_seed(0)
    layer = model.BiRecurrent(5, 8, True)
    b = _batch(8, 5)
    longer = F.pad(b.features, (0, 0, 0, 7), value=9.0)  # 7 more padded frames of garbage
    layer(b.features, b.feature_lengths)
    mean, var = layer.bn.running_mean.clone(), layer.bn.running_var.clone()
    layer.bn.reset_running_stats()
    layer(longer, b.feature_lengths)
    assert torch.allclose(layer.bn.running_mean, mean, atol=1e-6)
    assert torch.allclose(layer.bn.running_var, var, atol=1e-5)


def test_bn_layers_normalize_only_the_input_term():
    net = model.SpeechNet(TASK, NET, 8, Arm("rnn", 2, True))
    for layer in net.rnns:
        assert layer.bn is not None and layer.bn.num_features == 8
        assert layer.w.bias is None  # BN's shift plays the bias of W x
        assert layer.u.shape == (2, 8, 8)  # forward and backward recurrent weights, no BN
    plain = model.SpeechNet(TASK, NET, 8, Arm("rnn", 2, False))
    assert all(layer.bn is None and layer.w.bias is not None for layer in plain.rnns)


@pytest.mark.parametrize("scale", SCALES)
def test_parameter_budget_is_held_across_depths(scale):
    """Table 1's design: the same parameter count at every depth (within 5%), with and without
    BN, for simple RNNs and GRUs alike; deeper nets get fewer units per layer."""
    config = SCALES[scale]
    widths = []
    for cell, depths in (("rnn", config.depth.depths), ("gru", config.gru.depths)):
        for d in depths:
            h = model.width(config.speech, config.net, d, cell)
            for bn in (True, False):
                net = model.SpeechNet(config.speech, config.net, h, Arm(cell, d, bn))
                n = model.n_params(net)
                assert abs(n / config.net.params - 1) < 0.05, (cell, d, bn, h, n)
            if cell == "rnn":
                widths.append(h)
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]


def test_streams_fix_the_task_and_pair_the_arms_of_a_seed():
    """The width search draws no random numbers (meta device); one held-out set (and alphabet)
    for every seed; the two SortaGrad orders of a seed start from the same weights."""
    state, task = torch.get_rng_state(), QUICK
    model.width(Speech(), Net(), 7)
    assert torch.equal(state, torch.get_rng_state())
    a, b = data.held_out(task), data.held_out(task)
    assert torch.equal(a.features, b.features) and torch.equal(a.targets, b.targets)
    arm = Arm("rnn", 2, True)
    first, second, other = (runs.build(task, NET, arm, s)[0] for s in (3, 3, 4))
    flat = [torch.cat([p.flatten() for p in m.parameters()]) for m in (first, second, other)]
    assert torch.equal(flat[0], flat[1]) and not torch.equal(flat[0], flat[2])


def test_minibatches_cover_the_pool_in_increasing_length():
    pool = _batch(50, 3)
    batches = data.minibatches(pool, 8)
    assert sum(len(b.feature_lengths) for b in batches) == 50
    longest = [int(b.feature_lengths.max()) for b in batches]
    assert longest == sorted(longest)
    for b in batches:
        assert b.features.shape[1] == int(b.feature_lengths.max())  # padding trimmed
        assert b.targets.shape[1] == int(b.target_lengths.max())
    sums = sorted(float(x) for b in batches for x in b.features.sum(dim=(1, 2)))
    assert sums == pytest.approx(sorted(pool.features.sum(dim=(1, 2)).tolist()), abs=1e-4)


def test_sortagrad_schedule_differs_only_in_the_first_epoch():
    a = data.schedule(5, 17, True, rng.stream(4, "epochs"))
    b = data.schedule(5, 17, False, rng.stream(4, "epochs"))
    assert a[:5] == [0, 1, 2, 3, 4] and sorted(b[:5]) == [0, 1, 2, 3, 4]
    assert a[5:] == b[5:] and len(a) == 17
    assert sorted(a[5:10]) == [0, 1, 2, 3, 4]  # every later epoch is a permutation


def _fake(u: paper.Unit) -> dict:
    """A unit's output without training: numbers that depend on the arm and the seed."""
    x = 0.1 * (1 + (len(u.arm) + 3 * u.seed) % 7)
    if u.part == "depth":
        out = {"loss": x, "cer": x / 2, "wer": x, "hidden": 8, "params": 100}
        return out | {"curve": [x, None, x]}
    evals = [(0, 3.0), (10, 2.0 + x), (20, 1.0 + x)]
    return {"evals": evals, "epoch1": evals[1][1], "final": x, "diverged": None}


@pytest.fixture
def no_corpus(monkeypatch):
    """combine() measures the corpus for the page: on a fresh machine that synthesises it first
    (86 s for the paper scale's, 32 s for the full scale's, in a cold CI run). The tests of
    combine's arms read a made-up measurement instead; the quick run reads the real one."""
    split = {"utterances": 1, "hours": 0.5, "voices": 1, "speakers": 1, "frames": (1, 1.0, 1)}
    split |= {"snrs": {10.0: 1}}
    fake = {"sample_rate": 16000, "cache_file": "fake", "train": split, "test": split}
    monkeypatch.setattr(paper, "stats", lambda task: fake)


@pytest.mark.usefixtures("no_corpus")
@pytest.mark.parametrize("scale", SCALES)
def test_every_criterion_reads_declared_arms_that_combine_produces(scale):
    """At every scale each claim's criterion reads only arms that arms() declares, and combine
    (on made-up unit outputs) puts exactly those arms into the claim's values; every net has
    a learning rate from the searched grid."""
    config, seeds = SCALES[scale], [0, 1]
    for arm in [*paper.depth_arms(config).values(), Arm("rnn", config.sortagrad.depth, False)]:
        assert paper.rate(config, arm) in (0.003, 0.01, 0.03, 0.1, 0.3), arm
    declared = paper.arms(config)
    assert set(declared) == {c.id for c in paper.CLAIMS}
    for claim in paper.CLAIMS:
        assert set(claim.criterion.arms()) <= set(declared[claim.id]), claim.id
    done = {u: _fake(u) for u in paper.units(config, seeds)}
    for r in paper.combine(config, seeds, done):
        assert list(r.values) == list(declared[r.claim_id]), r.claim_id
        assert all(len(v) == len(seeds) for v in r.values.values())


@pytest.mark.usefixtures("no_corpus")
def test_a_diverged_seed_is_nan_in_every_derived_arm():
    config, seeds = paper.Config.quick(), [0, 1]
    done = {u: _fake(u) for u in paper.units(config, seeds)}
    done[paper.Unit("depth", "rnn7", 1)] |= {"loss": math.nan, "cer": math.nan}
    done[paper.Unit("sortagrad", "sortagrad_bn", 0)] |= {"final": math.nan, "epoch1": math.nan}
    results = {r.claim_id: r.values for r in paper.combine(config, seeds, done)}
    gap = results["amodei2016deepspeech2.bn-depth-gap"]["gap_7"]
    assert not math.isnan(gap[0]) and math.isnan(gap[1])
    gain = results["amodei2016deepspeech2.sortagrad-larger-without-bn"]["gain_bn"]
    assert math.isnan(gain[0]) and not math.isnan(gain[1])


@pytest.fixture(scope="module")
def quick_record(quick):
    return quick("amodei2016deepspeech2")


def _values(record, claim: str) -> dict[str, list[float]]:
    return record.results[f"amodei2016deepspeech2.{claim}"].values


def test_quick_one_layer_nets_learn_and_bn_leads_at_seven(quick_record):
    """Quick scale (a tenth of the parameters, 150 steps of 8 on 200 utterances of one or two
    digits, one seed): the one-layer nets leave the blank plateau (CER below 0.75), and at seven
    layers BN is ahead on held-out loss (gap_7 > 0) while the no-BN stack is still on the
    plateau (loss above 2.5). Deeper BN nets and the 3-layer gap are left to full scale: at this
    size they have barely started (measured: CER 0.93-0.95 at 3 and 5 layers either way)."""
    v = _values(quick_record, "bn-depth-gap")
    assert all(math.isfinite(x) for vs in v.values() for x in vs), v
    assert all(g > 0 for g in v["gap_7"]) and all(x > 2.5 for x in v["rnn7"]), v
    cer = _values(quick_record, "bn-deep")
    assert all(x < 0.75 for x in cer["rnn1"] + cer["rnn1_bn"]), cer
    assert all(0.0 <= x <= 1.5 for vs in cer.values() for x in vs), cer


def test_quick_sortagrad_and_gru_runs_are_finite_and_train(quick_record):
    """Tables 2 and 3 at quick scale: no direction is asserted (at 48 steps and 9k parameters
    the sorted and shuffled orders, and the GRU and the simple RNN, are within noise of each
    other); every value is finite and each order's held-out loss falls from epoch 1 to the end."""
    for slug in ("sortagrad", "sortagrad-no-bn"):
        v = _values(quick_record, slug)
        assert all(math.isfinite(x) for vs in v.values() for x in vs), v
        for arm in ("sortagrad", "shuffled"):
            bn = "_bn" if slug == "sortagrad" else ""
            assert all(e > f for e, f in zip(v[f"epoch1_{arm}{bn}"], v[f"{arm}{bn}"])), v
    g = _values(quick_record, "gru")
    assert all(0.0 <= x <= 1.5 for vs in g.values() for x in vs), g
