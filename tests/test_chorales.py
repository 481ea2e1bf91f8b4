"""Bach's chorales as JSB renders them (kit.chorales) and the music kit (kit.music): the key
shift, the quarter-note grid, the 88-key range, the split by piece, the cache's invalidation,
the masked frame NLL and the counting baselines. No network: music21's wheel holds the scores."""

from __future__ import annotations

import math
import socket

import numpy as np
import pytest
import torch

from repro.kit import chorales, music


@pytest.mark.parametrize(("pc", "shift"), [(0, 0), (2, -2), (5, -5), (6, -6), (7, 5), (11, 1)])
def test_shift_to_c_is_the_shortest_way(pc, shift):
    assert chorales.shift_to_c(pc) == shift
    assert (pc + shift) % 12 == 0


def test_roll_samples_every_quarter_note_onset_inclusive_offset_exclusive():
    notes = [(0.0, 2.0, 60), (0.5, 1.0, 64), (1.5, 3.0, 67), (2.0, 2.5, 72)]
    roll = chorales.roll_of(notes, 3.0, shift=0)
    assert roll.shape == (3, chorales.KEYS)
    on = {t: set(np.flatnonzero(roll[t]) + chorales.LOW) for t in range(3)}
    # the eighth note 64 at 0.5-1.0 covers no grid point; 67 starts off the grid, sounds at 2
    assert on == {0: {60}, 1: {60}, 2: {67, 72}}


def test_roll_transposes_and_refuses_the_off_keyboard():
    roll = chorales.roll_of([(0.0, 1.0, 62)], 1.0, shift=-2)  # D -> C
    assert np.flatnonzero(roll[0]).tolist() == [60 - chorales.LOW]
    with pytest.raises(ValueError, match="88-key"):
        chorales.roll_of([(0.0, 1.0, 108)], 1.0, shift=1)


def test_split_is_by_name_disjoint_and_about_60_20_20():
    names = [p.stem for p in chorales.corpus_files()]
    assert len(names) > 350  # music21 ships 408 MusicXML chorales
    splits = {n: chorales.split_of(n) for n in names}
    assert splits == {n: chorales.split_of(n) for n in reversed(names)}  # order-free
    share = {s: sum(v == s for v in splits.values()) / len(names) for s in chorales.SPLIT}
    assert abs(share["train"] - 0.6) < 0.07 and abs(share["test"] - 0.2) < 0.07, share


def test_rendered_chorale_is_in_c_on_the_grid(tmp_path, monkeypatch):
    """A real chorale, rendered with the network off: its tonic moved to C, one frame per
    quarter note, four voices sounding in most frames."""
    monkeypatch.setattr(socket, "socket", _no_network)
    path = next(p for p in chorales.corpus_files() if p.stem == "bwv10.7")  # g minor, 88 quarters
    roll, parts, key = chorales.load_one(path, tmp_path)
    assert (parts, key) == (4, "G minor")
    assert roll.shape == (88, chorales.KEYS) and set(np.unique(roll)) <= {0, 1}
    assert np.median(roll.sum(1)) == 4
    hist = np.zeros(12)
    for t, k in zip(*np.nonzero(roll), strict=True):
        hist[(k + chorales.LOW) % 12] += 1
    assert hist.argmax() in (0, 7)  # C or its fifth G sounds most, after the shift to C minor


def test_parsing_writes_and_reads_no_music21_pickle(tmp_path, monkeypatch):
    """music21 caches each parse as a pickle in one scratch folder shared by every process; two
    workers parsing one piece read each other's half-written pickle (a CI run failed so). Our
    render goes around that cache; a plain parse, the control, writes one there."""
    from music21 import converter, environment

    monkeypatch.setattr(environment.Environment, "getRootTempDir", lambda self: tmp_path)
    path = next(p for p in chorales.corpus_files() if p.stem == "bwv10.7")
    chorales.render(path)
    assert not list(tmp_path.iterdir())
    converter.parse(path)  # the control: music21's default pickles into the scratch folder
    assert list(tmp_path.iterdir())


def test_cache_hit_stale_and_corrupt(tmp_path, capsys):
    path = chorales.corpus_files()[0]
    first = chorales.load_one(path, tmp_path)
    (file,) = tmp_path.glob("*.npz")
    assert np.array_equal(chorales.load_one(path, tmp_path)[0], first[0])  # a hit
    file.write_bytes(b"not a zip file")  # corrupt: rendered again, with a message
    again = chorales.load_one(path, tmp_path)
    assert np.array_equal(again[0], first[0])
    assert "unreadable" in capsys.readouterr().err
    old = chorales.RECIPE
    try:  # a new recipe is a new cache file: nothing stale is read
        chorales.RECIPE = old + "-changed"
        chorales.load_one(path, tmp_path)
    finally:
        chorales.RECIPE = old
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_load_limit_keeps_splits_disjoint(tmp_path):
    data = chorales.load(limit=3, cache=tmp_path)
    sets = [set(data.names[s]) for s in chorales.SPLIT]
    assert [len(s) for s in sets] == [3, 3, 3]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert all(chorales.split_of(n) == s for s in chorales.SPLIT for n in data.names[s])


def test_frame_nll_masks_padding_and_weighs_frames_equally():
    rolls = [np.eye(88, dtype=np.uint8)[:5], np.eye(88, dtype=np.uint8)[:3]]
    x, y, mask = music.pad(rolls)
    assert x.shape == (2, 4, 88) and mask.sum(1).tolist() == [4.0, 2.0]
    zero = torch.nn.Module()
    zero.forward = lambda x: torch.zeros_like(x)  # p = 1/2 everywhere: 88 ln 2 a frame
    assert math.isclose(music.frame_nll(zero, (x, y, mask)).item(), 88 * math.log(2), rel_tol=1e-6)
    assert math.isclose(music.nll(zero, rolls), 88 * math.log(2), rel_tol=1e-6)


def test_counting_baselines_order_and_range():
    gen = np.random.default_rng(0)
    held = [np.repeat(gen.random((12, 88)) < 0.05, 3, axis=0).astype(np.uint8) for _ in range(20)]
    b = music.baselines(held[:15], held[15:])
    assert b["markov"] < b["bernoulli"] < 88 * math.log(2)  # held notes: the chain knows more


def test_forget_bias_lands_on_the_forget_gate():
    net = music.FrameRNN("lstm", 5, forget_bias=10.0)
    assert net.rnn.bias_ih_l0[5:10].eq(10).all() and net.rnn.bias_hh_l0[5:10].eq(0).all()
    with pytest.raises(ValueError, match="LSTM"):
        music.FrameRNN("gru", 5, forget_bias=1.0)


def _no_network(*args, **kwargs):
    raise AssertionError("the chorales must not touch the network")


def test_topic_page_states_what_the_committed_run_measured():
    """The topic page's table of our data set is what the committed JSB run recorded (pieces,
    frames, length, polyphony, the counting baselines), to the digits the page prints."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    record = json.loads((root / "docs/results/bai2018tcn/result.json").read_text())
    result = record["results"]["bai2018tcn.jsb-chorales"]
    st, values = result["extra"]["data"], result["values"]
    page = (root / "docs/topics/polyphonic-music.md").read_text(encoding="utf-8")
    pieces = " / ".join(f"{st[f'{s}_pieces']:.0f}" for s in chorales.SPLIT)
    expected = [
        f"| {pieces} |",
        f"| {st['frames']:,.0f} |",
        f"| {st['mean_length']:.1f} |",
        f"| {st['mean_polyphony']:.2f} |",
        f"| {values['bernoulli'][0]:.2f} |",
        f"| {values['markov'][0]:.2f} |",
    ]
    missing = [e for e in expected if e not in page]
    assert not missing, missing


def test_epoch_batches_cover_every_piece_once_and_group_lengths():
    rolls = [np.zeros((n, 88), dtype=np.uint8) for n in range(5, 105)]  # lengths 5..104
    gen = torch.Generator().manual_seed(0)
    batches = list(music.epoch_batches(rolls, 4, gen, pool=5))
    sizes = [int(m.sum(1).max()) + 1 for _, _, m in batches]  # longest piece per batch
    frames = sorted(int(n) + 1 for _, _, m in batches for n in m.sum(1))
    assert frames == list(range(5, 105))  # every piece exactly once
    pad = sum(len(m) * s for (_, _, m), s in zip(batches, sizes, strict=True)) / sum(frames)
    assert pad < 1.15  # sorted within pools of 20 pieces: little padding (random: about 1.4)
    again = list(music.epoch_batches(rolls, 4, torch.Generator().manual_seed(0), pool=5))
    assert all(torch.equal(a[2], b[2]) for a, b in zip(batches, again, strict=True))
