"""Lei & Zhang 2017: the SRU layer against Section 2's equations, the timing protocol of
kit.timing, the registered criteria on made-up outcomes, and both claims at quick scale."""

from __future__ import annotations

import math

import pytest
import torch

from repro import lei2017sru as paper
from repro.claims import Verdict
from repro.kit import music, timing


def test_sru_layer_is_section_2s_equations():
    """c_t = f c_{t-1} + (1 - f) W x_t, h_t = r tanh(c_t) + (1 - r) x_t, step by step."""
    torch.manual_seed(0)
    sru = paper.SRU(5).double()
    with torch.no_grad():
        sru.b.normal_()  # non-zero gate biases, so their placement is checked too
    x = torch.randn(3, 7, 5, dtype=torch.float64)  # (B, L, d)
    W, Wf, Wr = sru.w.weight.split(5)  # (d, d) each
    bf, br = sru.b[:5], sru.b[5:]
    c = torch.zeros(3, 5, dtype=torch.float64)
    want = []
    for t in range(7):
        f = torch.sigmoid(x[:, t] @ Wf.T + bf)
        r = torch.sigmoid(x[:, t] @ Wr.T + br)
        c = f * c + (1 - f) * (x[:, t] @ W.T)
        want.append(r * torch.tanh(c) + (1 - r) * x[:, t])
    torch.testing.assert_close(sru(x), torch.stack(want, 1))


def test_the_chorale_nets_have_about_the_same_parameters():
    m = paper.Music()
    sru = paper.SRUFrames(m.sru_width, m.sru_layers)
    lstm = music.FrameRNN("lstm", m.lstm_hidden)
    n_sru, n_lstm = (sum(p.numel() for p in n.parameters()) for n in (sru, lstm))
    assert (n_sru, n_lstm) == (22600, 21400)  # the Music section's comments
    assert abs(n_sru - n_lstm) / n_lstm < 0.1


def test_a_load_spike_moves_both_timings_and_not_their_ratio(monkeypatch):
    """Fake clock: `slow` costs 2 units, `fast` 1; in one round the machine runs 10x slower for
    both. Each round's ratio is 2, so is the median; the order rotates round by round."""
    clock, order, spike = [0.0], [], {"round": 1}
    calls = {"n": 0}

    def ticking(name: str, cost: float):
        def fn() -> None:
            calls["n"] += 1
            order.append(name)
            slow_round = calls["n"] > 2 and (calls["n"] - 3) // 2 == spike["round"]
            clock[0] += cost * (10 if slow_round else 1)

        return fn

    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    times = timing.interleaved(
        {"slow": ticking("slow", 2.0), "fast": ticking("fast", 1.0)}, rounds=3, calls=1, warmup=1
    )
    assert timing.ratios(times, "slow", "fast") == [2.0, 2.0, 2.0]
    assert timing.median_ratio(times, "slow", "fast") == 2.0
    assert max(times["slow"]) == 20.0  # the spike is in the times, not in the ratio
    assert order[2:] == ["slow", "fast", "fast", "slow", "slow", "fast"]  # rotated


def test_the_protocol_refuses_an_empty_measurement():
    with pytest.raises(ValueError, match="rounds"):
        timing.interleaved({"a": lambda: None}, rounds=0, calls=1, warmup=0)


def verdict(claim_id: str, values: dict[str, list[float]]) -> Verdict:
    return next(c for c in paper.CLAIMS if c.id == claim_id).evaluate(values).verdict


def test_the_criteria_read_the_papers_bound_and_a_nan_fails():
    speed = "lei2017sru.faster"
    ms = {"sru_ms": [1.0] * 5, "lstm_ms": [6.0] * 5}
    assert verdict(speed, {"speedup": [6.0] * 5, **ms}) == Verdict.REPRODUCED
    assert verdict(speed, {"speedup": [2.5] * 5, **ms}) == Verdict.NOT_REPRODUCED
    acc = "lei2017sru.accuracy"
    nll = {"sru": [8.7] * 5, "lstm": [8.6] * 5}
    assert verdict(acc, {**nll, "gap": [0.1] * 5}) == Verdict.REPRODUCED
    assert verdict(acc, {**nll, "gap": [0.5] * 5}) == Verdict.NOT_REPRODUCED
    assert verdict(acc, {**nll, "gap": [math.nan] * 5}) != Verdict.REPRODUCED  # diverged


def test_units_time_both_nets_together():
    c = paper.Config.quick()
    us = paper.units(c, [0])
    assert [u.arm for u in us if u.part == paper.SPEED] == ["both"]
    assert sorted(u.arm for u in us if u.part == paper.JSB) == sorted(paper.NETS)


@pytest.fixture(scope="module")
def quick_record(quick):
    return quick("lei2017sru")


def test_quick_directions(quick_record):
    """Quick: a 128-wide layer over 64 steps of 32, five rounds; 24 pieces a split, 8 epochs.
    At this size the SRU pass took 1.86-1.99x less time than the LSTM's on 4 seeds (measured,
    one thread), so > 1 is the band; at 64 wide over 16 steps of 8 the ratio read 0.93-1.21 and
    this test failed about one run in two under the suite's load.
    After 8 epochs the LSTM is still on the independent-keys plateau (about 13.5 nats on seed 0)
    while the SRU net has left it (11.6), so the SRU is not worse than the LSTM by the claim's
    0.2 nats; both finite and below the know-nothing 88 ln 2 = 61 nats."""
    speed = quick_record.results["lei2017sru.faster"].values
    assert speed["speedup"][0] > 1.0, speed
    acc = quick_record.results["lei2017sru.accuracy"].values
    assert all(math.isfinite(acc[n][0]) and acc[n][0] < 88 * math.log(2) for n in paper.NETS)
    assert acc["gap"][0] < 0.2, acc
