"""Britz et al. 2017 (deep residual encoders): the task, the model's parts, the divergence rule,
the registered criteria on made-up outcomes, and the claims at quick scale."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from repro import britz2017massive as paper
from repro.britz2017massive.figures import divergence_figure
from repro.claims import Verdict
from repro.claims.stats import wilson_interval
from repro.kit import rng
from repro.kit.units import Unit

TINY = dataclasses.replace(
    paper.Config(), width=8, depth=2, batch=8, steps=12, warm_steps=4, n_test=16
)


def gen(k: int) -> torch.Generator:
    return torch.Generator().manual_seed(k)


def test_reversal_targets_are_the_sources_reversed():
    x, y = paper.reversal(5, 8, 10, gen(0))  # (5, 8), (5, 8)
    assert x.shape == y.shape == (5, 8) and 0 <= int(x.min()) and int(x.max()) < 10
    assert torch.equal(y[:, 0], x[:, -1]) and torch.equal(y.flip(1), x)
    again, _ = paper.reversal(5, 8, 10, gen(0))
    assert torch.equal(x, again)  # a seed fixes the data: the arms of a seed share it


def test_encoder_layers_are_residual():
    """x_{l+1} = LSTM_l(x_l) + x_l: with every LSTM weight and bias zero, c_t = 0 and h_t = 0,
    so the stack's output is exactly the embeddings."""
    model = paper.Seq2Seq(10, 8, 3)
    with torch.no_grad():
        for p in model.encoder.parameters():
            p.zero_()
        x = torch.randint(0, 10, (4, 6))  # (B, T)
        assert torch.equal(model.encode(x), model.src(x))  # (B, T, H)


def test_teacher_forcing_on_the_greedy_outputs_reproduces_greedy_decoding():
    """The decoder feeds back its own argmax when y is None; fed those same tokens as targets
    (teacher forcing), it must compute exactly the same logits."""
    torch.manual_seed(0)
    model = paper.Seq2Seq(10, 16, 2).eval()
    x = torch.randint(0, 10, (6, 7))  # (B, T)
    with torch.no_grad():
        greedy = model(x)  # (B, T, V)
        forced = model(x, greedy.argmax(-1))
    assert greedy.shape == (6, 7, 10) and torch.allclose(greedy, forced, atol=1e-6)


def test_orthogonal_arm_changes_only_the_recurrent_matrices():
    """Paired arms: one seed's "init" stream gives both models the same weights; the orthogonal
    arm replaces each gate's H x H block of every W_hh by an orthogonal matrix, nothing else."""
    with rng.scope(3, "init"):
        default = paper.Seq2Seq(10, 8, 3)
    with rng.scope(3, "init"):
        ortho = paper.Seq2Seq(10, 8, 3)
    paper.orthogonalise(ortho, gen(1))
    recurrent = {id(w) for w in ortho.recurrent()}
    for (name, p), q in zip(ortho.named_parameters(), default.parameters(), strict=True):
        if id(p) in recurrent:
            for block in p.detach().view(4, 8, 8):  # (H, H) per gate
                assert torch.allclose(block.T @ block, torch.eye(8), atol=1e-5), name
            assert not torch.equal(p, q), name
        else:
            assert torch.equal(p, q), name
    assert len(recurrent) == 3 + 1  # the encoder's layers and the decoder's cell


def test_the_initial_loss_is_about_a_uniform_guess():
    """The bound 1.5 ln V is read against a uniform guess: at initialisation the loss is ln V."""
    torch.manual_seed(0)
    model = paper.Seq2Seq(10, 32, 8)
    x, y = paper.reversal(256, 8, 10, gen(0))
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(x, y).flatten(0, 1), y.flatten())
    assert abs(float(loss) - math.log(10)) < 0.1


def test_accuracy_counts_correct_tokens_of_greedy_decoding():
    class Oracle(torch.nn.Module):
        def forward(self, x):  # (B, T) -> (B, T, V): the right answer, one-hot
            return torch.nn.functional.one_hot(x.flip(1), 10).float()

    x, y = paper.reversal(20, 8, 10, gen(1))
    assert paper.accuracy(Oracle(), x, y) == 1.0
    assert paper.accuracy(Oracle(), x, y.roll(1, dims=0)) < 0.5


def test_divergence_rule_applies_the_loss_bound_only_after_warm_up():
    """A bound below any loss: the run goes through warm-up (where the bound does not apply)
    and diverges at the first step after it; a bound above any loss never fires."""
    out = paper.one_run(dataclasses.replace(TINY, bound=1e-3), 0, "default")
    assert out["diverged"] == 1.0 and out["step"] == TINY.warm_steps, out
    assert "above" in out["reason"] and math.isnan(out["accuracy"])
    out = paper.one_run(dataclasses.replace(TINY, bound=100.0), 0, "clip")
    assert out["diverged"] == 0.0 and out["step"] is None and 0.0 <= out["accuracy"] <= 1.0
    assert len(out["loss"]) == math.ceil(TINY.steps / TINY.curve_every)


def test_the_arms_are_the_registered_ones_and_the_paper_scale_uses_the_papers_sizes():
    assert paper.ARMS == ("default", "orthogonal", "clip", "small-lr")
    p = paper.Config.paper()
    assert (p.width, p.batch, p.lr, p.depth) == (512, 128, 1e-4, 8)
    assert paper.REGISTRATION.confirmation == tuple(range(200, 212))
    assert max(paper.REGISTRATION.exploration) < 20


def _verdict(claim_index: int, values: dict[str, list[float]]) -> Verdict:
    return paper.CLAIMS[claim_index].evaluate(values).verdict


def test_the_registered_criteria_can_come_out_either_way_with_12_seeds():
    """What each outcome of 12 seeds would give (the reasons in the card's comments)."""
    ones = lambda k: [1.0] * k + [0.0] * (12 - k)  # noqa: E731
    assert _verdict(0, {"default": ones(7)}) == Verdict.REPRODUCED
    assert _verdict(0, {"default": ones(3)}) == Verdict.INCONCLUSIVE
    assert _verdict(0, {"default": ones(0)}) == Verdict.NOT_REPRODUCED
    assert _verdict(0, {"default": ones(7)[:9]}) == Verdict.INCONCLUSIVE  # < 10 seeds
    for i, arm in enumerate(paper.REMEDIES, start=1):
        assert _verdict(i, {"default": ones(6), arm: ones(0)}) == Verdict.REPRODUCED
        assert _verdict(i, {"default": ones(6), arm: ones(6)}) == Verdict.NOT_REPRODUCED
        assert _verdict(i, {"default": ones(6), arm: ones(3)[::-1]}) == Verdict.INCONCLUSIVE


def _runs(diverged: dict[str, list[float]]) -> dict:
    """Unit outputs with the given divergences per arm and seed (the rest of no interest)."""
    done = {}
    for arm, flags in diverged.items():
        for s, d in enumerate(flags):
            out = {"diverged": d, "step": 60 if d else None, "reason": "", "clipped": 0}
            out |= {"accuracy": math.nan if d else 0.9, "final_loss": 0.1, "warm_max": 2.0}
            done[Unit("runs", arm, s)] = out | {"max_grad_norm": 1.0, "loss": [2.0, 1.0]}
    return done


def test_combine_pairs_each_remedy_with_default_and_writes_the_declared_arms():
    ones = lambda k: [1.0] * k + [0.0] * (12 - k)  # noqa: E731
    flags = {"default": ones(8), "orthogonal": ones(8), "clip": ones(1), "small-lr": ones(0)}
    config, seeds = paper.Config(), list(range(12))
    results = {r.claim_id: r for r in paper.combine(config, seeds, _runs(flags))}
    for cid, arms in paper.arms(config).items():
        assert list(results[cid].values) == list(arms), cid
        assert all(results[cid].values[a] == flags[a] for a in arms), cid
    verdicts = {c.id: c.evaluate(results[c.id].values).verdict for c in paper.CLAIMS}
    assert verdicts == {
        "britz2017massive.default-diverges": Verdict.REPRODUCED,
        "britz2017massive.orthogonal-helps": Verdict.NOT_REPRODUCED,
        "britz2017massive.clip-helps": Verdict.REPRODUCED,
        "britz2017massive.small-lr-helps": Verdict.REPRODUCED,
    }


@pytest.fixture(scope="module")
def quick_record(quick):
    return quick("britz2017massive")


def test_quick_the_base_rate_learns_without_diverging_and_the_small_rate_learns_faster(
    quick_record,
):
    """Quick scale (120 steps at the base rate 0.05). The base rate was registered as the largest
    rate at which no exploration run diverged, and the committed full run saw none of its 48 runs
    diverge, so the default arm's divergence rate stays far from the claim's threshold: the band
    allows at most 1 of the 8 quick runs to diverge, and the default arm at most 1/4 of its
    runs (the claim's own threshold, which it must not pass here). Every run that did not
    diverge learned (final training loss below ln V = 2.30, a uniform guess's loss), and the
    10x smaller rate (small-lr) ends more accurate than default by 0.3 on each seed: at 120
    steps the base rate is still noisy, the smaller one has converged (token accuracy near 1)."""
    first = quick_record.results["britz2017massive.default-diverges"]
    div = first.values
    assert sum(sum(div[arm]) for arm in paper.ARMS) <= 1, first.notes
    assert sum(div["default"]) / len(div["default"]) <= 0.25, first.notes
    final = first.extra["final_loss"]
    assert all(v < math.log(10) for arm in paper.ARMS for v in final[arm] if not math.isnan(v))
    acc = first.extra["accuracy"]
    for small, default in zip(acc["small-lr"], acc["default"], strict=True):
        assert math.isnan(default) or small > default + 0.3, acc
    assert {f["name"] for f in first.figures} == {"divergence", "loss-curves", "accuracy"}


def test_the_divergence_figure_draws_every_count_of_12_inside_its_wilson_interval():
    """Each arm gets one error bar from the Wilson interval's lower to its upper end, through
    k/n, and its "k/n" label, also at 0/12 and 12/12 where the interval touches 0 or 1 (a bar
    with a negative length there would make matplotlib refuse to draw)."""
    for k in (0, 1, 6, 12):
        fig = divergence_figure({"default": [1.0] * k + [0.0] * (12 - k), "clip": [0.0] * 12})
        (ax,) = fig.axes
        assert [t.get_text() for t in ax.texts] == [f"{k}/12", "0/12"]
        for container, kk in zip(ax.containers, (k, 0), strict=True):
            (point, _, (bars,)) = container.lines[0], container.lines[1], container.lines[2]
            assert point.get_ydata()[0] == pytest.approx(kk / 12)
            (segment,) = bars.get_segments()  # [(x, lo), (x, hi)]
            lo, hi = wilson_interval(kk, 12)
            assert segment[0][1] == pytest.approx(lo) and segment[1][1] == pytest.approx(hi)
            assert segment[0][1] <= kk / 12 <= segment[1][1]
