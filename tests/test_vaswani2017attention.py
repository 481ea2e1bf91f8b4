"""Vaswani et al. 2017: the retrieval task, the attention reader (eq. 1) and its variants, the
LSTM baseline; the three claims at quick scale."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from repro import vaswani2017attention as paper
from repro.claims import Verdict
from repro.kit.units import Unit
from repro.vaswani2017attention.model import sinusoid, sparsemax


def test_retrieval_marks_one_early_position_and_asks_for_its_symbol():
    tokens, marks, pos, y = paper.retrieval(64, 40, torch.Generator().manual_seed(0), 8, 0.25)
    assert tokens.shape == marks.shape == (64, 40) and pos.shape == y.shape == (64,)
    assert (tokens[:, -1] == 8).all() and (tokens[:, :-1] < 8).all()  # query token last
    assert (marks.sum(1) == 1).all() and (marks.argmax(1) == pos).all()
    assert pos.min() >= 0 and pos.max() < 10  # the first quarter: >= 30 steps from the query
    assert torch.equal(y, tokens[torch.arange(64), pos])
    again = paper.retrieval(64, 40, torch.Generator().manual_seed(0), 8, 0.25)
    assert all(torch.equal(a, b) for a, b in zip(again, (tokens, marks, pos, y)))


def test_sinusoids_are_section_3_5s():
    pe = sinusoid(50, 8)  # (T, d)
    t = torch.arange(50.0)
    assert torch.allclose(pe[:, 0], torch.sin(t)) and torch.allclose(pe[:, 1], torch.cos(t))
    assert torch.allclose(pe[:, 6], torch.sin(t / 10000 ** (6 / 8)))


def test_sparsemax_projects_onto_the_simplex_with_exact_zeros():
    """Worked by hand: z = (1, 0.5, -1) has support 2, tau = (1.5 - 1) / 2, so (0.75, 0.25, 0)."""
    w = sparsemax(torch.tensor([[1.0, 0.5, -1.0], [3.0, 0.0, 0.0], [0.2, 0.2, 0.2]]))
    expected = torch.tensor([[0.75, 0.25, 0.0], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    assert torch.allclose(w, expected)
    z = torch.randn(5, 30, requires_grad=True)
    w = sparsemax(z)
    assert torch.allclose(w.sum(-1), torch.ones(5)) and (w >= 0).all() and (w == 0).any()
    (w[:, 0] * 1.0).sum().backward()  # differentiable almost everywhere
    assert z.grad is not None and torch.isfinite(z.grad).all()


def test_the_reader_is_scaled_dot_product_attention_read_at_the_last_position():
    """Eq. 1, exactly: the reader's output is W_o softmax(q K^T / sqrt(d)) V for the query of
    the last position (torch's own scaled_dot_product_attention as the reference)."""
    torch.manual_seed(0)
    m = paper.AttentionReader(8, 16).eval()
    tokens, marks, _, _ = paper.retrieval(4, 20, torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits, w = m(tokens, marks)  # (B, K), (B, T)
        x = m.tok(tokens) + m.mark(marks) + sinusoid(20, 16)  # (B, T, d)
        q, k, v = m.q(x[:, -1:]), m.k(x), m.v(x)  # (B, 1, d), (B, T, d), (B, T, d)
        ref = m.out(F.scaled_dot_product_attention(q, k, v)[:, 0])  # (B, K)
    assert torch.allclose(logits, ref, atol=1e-5)
    assert torch.allclose(w.sum(-1), torch.ones(4))


def test_the_sharp_arm_is_the_softmax_at_temperature_one_quarter():
    """Same weights, same input: softmax(s / 0.25) = softmax(4 log softmax(s))."""
    torch.manual_seed(0)
    plain = paper.AttentionReader(8, 16, "softmax")
    torch.manual_seed(0)
    sharp = paper.AttentionReader(8, 16, "sharp", temperature=0.25)
    tokens, marks, _, _ = paper.retrieval(4, 30, torch.Generator().manual_seed(2))
    with torch.no_grad():
        _, w = plain(tokens, marks)
        _, ws = sharp(tokens, marks)
    assert torch.allclose(ws, torch.softmax(4 * torch.log(w), -1), atol=1e-6)
    assert (paper.entropy(ws) < paper.entropy(w)).item()


def test_entropy_is_ln_T_for_uniform_weights_and_zero_for_one_hot():
    assert math.isclose(
        paper.entropy(torch.full((3, 256), 1 / 256)).item(), math.log(256), rel_tol=1e-5
    )
    assert paper.entropy(F.one_hot(torch.tensor([3, 0]), 10).float()).item() == 0.0


def test_parameter_counts_match_within_five_percent():
    """The LSTM is sized to the reader: 4 (d H + H^2 + 2 H) + embeddings + readout."""
    c = paper.Config()
    att = sum(p.numel() for p in paper.AttentionReader(c.symbols, c.d_model).parameters())
    lstm = paper.LSTMReader(c.symbols, c.d_model, c.lstm_hidden)
    n = sum(p.numel() for p in lstm.parameters())
    d, H, K = c.d_model, c.lstm_hidden, c.symbols
    assert n == 4 * (d * H + H * H + 2 * H) + (K + 1) * d + 2 * d + H * K + K
    assert abs(n - att) / att < 0.05, (n, att)
    assert (n, att) == (3688, 3784)
    p = paper.Config.paper()  # the paper's width: 797,704 vs 796,168
    att = sum(q.numel() for q in paper.AttentionReader(p.symbols, p.d_model).parameters())
    n = sum(q.numel() for q in paper.LSTMReader(p.symbols, p.d_model, p.lstm_hidden).parameters())
    assert abs(n - att) / att < 0.05, (n, att)


def test_lstm_forget_gate_starts_at_bias_one():
    m = paper.LSTMReader(8, 32, 16, forget_bias=1.0)
    f = m.lstm.bias_ih_l0[16:32] + m.lstm.bias_hh_l0[16:32]
    assert torch.allclose(f, torch.ones(16))


def _fake(config: paper.Config, seeds, acc: dict) -> dict:
    """Unit outputs with the given accuracy per (arm, T), mass = accuracy (attention arms)."""
    T_max = config.lengths[-1]
    done = {}
    for s in seeds:
        for a in paper.ARMS:
            for T in config.lengths:
                o = {"accuracy": acc[a, T], "params": 1, "diverged": None}
                if a != "lstm":
                    o |= {"mass": acc[a, T], "entropy": 1.0}
                    if T == T_max:
                        o |= {"heat": [[1 / T] * T] * 2, "answer": [0, 1]}
                done[Unit("retrieval", a, s, T)] = o
    return done


@pytest.mark.parametrize("variants_win", [True, False])
def test_combine_feeds_every_criterion_and_the_verdicts_can_go_either_way(variants_win):
    c = paper.Config(lengths=(8, 16), heat_rows=2)
    seeds = [0, 1, 2, 3, 4]
    acc = {(a, T): 1.0 for a in paper.ARMS for T in c.lengths}
    acc["lstm", 16] = 0.1 if variants_win else 0.95
    for a in ("sharp", "sparsemax", "entropy"):
        acc[a, 16] = 0.9
    acc["softmax", 16] = 0.5 if variants_win else 1.0
    results = {r.claim_id: r for r in paper.combine(c, seeds, _fake(c, seeds, acc))}
    claims = {cl.id: cl for cl in paper.CLAIMS}
    assert set(results) == set(claims)
    for cid, r in results.items():
        assert list(r.values) == list(paper.arms(c)[cid]), cid
    # variants_win: the LSTM collapses, softmax halves (its drop fails), the variants beat it;
    # else: the LSTM holds up (its drop fails) and softmax beats the variants
    v = {cid: claims[cid].evaluate(r.values).verdict for cid, r in results.items()}
    assert v["vaswani2017attention.path-length"] == Verdict.NOT_REPRODUCED
    reshaped = Verdict.REPRODUCED if variants_win else Verdict.NOT_REPRODUCED
    assert v["vaswani2017attention.sharpened-weights"] == reshaped
    assert v["vaswani2017attention.entropy-penalty"] == reshaped


def test_path_length_claim_reproduces_when_the_lstm_alone_collapses():
    c = paper.Config(lengths=(8, 16), heat_rows=2)
    seeds = [0, 1, 2, 3, 4]
    acc = {(a, T): 1.0 for a in paper.ARMS for T in c.lengths} | {("lstm", 16): 0.12}
    (r, *_) = paper.combine(c, seeds, _fake(c, seeds, acc))
    assert paper.CLAIMS[0].evaluate(r.values).verdict == Verdict.REPRODUCED
    assert r.values["softmax - lstm"] == pytest.approx([0.88] * 5)


def test_units_are_one_per_arm_length_and_seed():
    c = paper.Config()
    us = paper.units(c, [200, 201])
    assert len(us) == len(set(us)) == len(paper.ARMS) * len(c.lengths) * 2
    assert Unit("retrieval", "sparsemax", 201, T=512) in us


@pytest.fixture(scope="module")
def quick_record(quick):
    return quick("vaswani2017attention")


def test_quick_lstm_falls_with_T_and_attention_does_not(quick_record):
    """Quick scale (T = 8 and 64, 300 steps): each part of the claim's criterion holds on every
    seed with its own threshold (attention above the LSTM by MARGIN at the longest T, the LSTM
    falling by MARGIN, softmax falling by less than DROP), and with room: the LSTM solves T = 8
    (above 0.8) and is near chance 1/8 at T = 64 (below 0.4), attention stays above 0.9."""
    r = quick_record.results["vaswani2017attention.path-length"]
    v = r.values
    assert all(d > paper.MARGIN for d in v["softmax - lstm"] + v["lstm drop"]), v
    assert all(d < paper.DROP for d in v["softmax drop"]), v
    assert all(x > 0.8 for x in v["lstm T=8"]) and all(x < 0.4 for x in v["lstm T=64"]), v
    assert all(x > 0.9 for x in v["softmax T=64"]), v
    assert {f["name"] for f in r.figures} == {"accuracy-vs-length"}


def test_quick_reshaped_weights_do_not_beat_plain_softmax(quick_record):
    """Quick scale at T = 64: the direction is the opposite of H2/H3 (the committed full run
    too: neither reshaping claim reproduced), so the band asks each variant's accuracy on every
    seed to stay below softmax's + 0.05 (the criterion asks for above + 0) and softmax to
    put most of its weight on the answer already (mass above 0.6), which leaves the variants
    little to gain."""
    for cid, arms in (
        ("sharpened-weights", ("sharp", "sparsemax")),
        ("entropy-penalty", ("entropy",)),
    ):
        r = quick_record.results[f"vaswani2017attention.{cid}"]
        for a in arms:
            assert all(d < 0.05 for d in r.values[f"{a} - softmax accuracy"]), r.values
        assert all(m > 0.6 for m in r.values["softmax mass"]), r.values
        assert {f["name"] for f in r.figures} == {"attention-heatmaps"}
