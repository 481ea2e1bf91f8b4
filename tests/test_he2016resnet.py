"""He et al. 2016: model properties the paper relies on; the degradation claim at quick scale."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from repro import he2016resnet as paper
from repro.he2016resnet.model import CifarBlock, CifarNet, WarmUp
from repro.kit import rng
from repro.kit.figures import to_svg
from repro.kit.units import Unit


def test_plain_and_residual_nets_start_from_the_same_weights():
    """Arms are paired: with option-A shortcuts the two nets have the same parameters, so one
    seed's "init" stream gives both the same initial values (only the shortcuts differ)."""
    with rng.scope(3, "init"):
        plain = CifarNet(paper.DEEP, residual=False, widths=(8, 16, 32))
    with rng.scope(3, "init"):
        res = CifarNet(paper.DEEP, residual=True, widths=(8, 16, 32))
    for (name, p), (_, q) in zip(plain.named_parameters(), res.named_parameters(), strict=True):
        assert torch.equal(p, q), name


@pytest.mark.parametrize(("n", "params"), [(3, 0.27e6), (9, 0.85e6), (18, 1.7e6)])
def test_cifar_resnet_depth_and_parameter_counts(n, params):
    """Table 6: ResNet-20 0.27M, ResNet-56 0.85M, ResNet-110 1.7M parameters."""
    net = CifarNet(n, residual=True)
    count = sum(p.numel() for p in net.parameters())
    assert net.depth == 6 * n + 2
    assert abs(count - params) / params < 0.03
    plain = CifarNet(n, residual=False)
    assert sum(p.numel() for p in plain.parameters()) == count  # option A adds no parameters
    assert net(torch.randn(2, 3, 8, 8)).shape == (2, 10)


def test_a_residual_block_can_be_the_identity_but_a_plain_block_cannot():
    """Section 3.1: if the residual branch is driven to zero, the block is an identity map (for
    its non-negative, post-ReLU input), so a deeper net can copy a shallower one; the plain block
    with the same zeroed weights outputs zeros instead."""
    x = torch.relu(torch.randn(4, 8, 6, 6))  # (B, C, H, W), as after a ReLU
    for residual, expected in ((True, x), (False, torch.zeros_like(x))):
        block = CifarBlock(8, 8, 1, residual).eval()
        with torch.no_grad():
            block.bn2.weight.zero_()
            block.bn2.bias.zero_()
            assert torch.allclose(block(x), expected)


def test_downsampling_shortcut_subsamples_and_zero_pads():
    """Option A (Section 4.2): the shortcut that halves the map and doubles the width is x
    subsampled by 2 with zero channels appended; it has no parameters."""
    block = CifarBlock(8, 16, 2, residual=True).eval()
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
        x = torch.relu(torch.randn(2, 8, 8, 8))  # (B, 8, 8, 8)
        y = block(x)  # (B, 16, 4, 4)
    assert torch.allclose(y[:, :8], x[:, :, ::2, ::2]) and not y[:, 8:].any()


def test_probed_layers_are_the_6n_plus_2_weight_layers_in_depth_order():
    for n in (paper.SHALLOW, paper.DEEP):
        net = CifarNet(n, residual=True, widths=(8, 16, 32))
        probed = paper.conv_layers(net)
        assert len(probed) == 6 * n + 2 == net.depth
        assert probed[0].in_channels == 3 and isinstance(probed[-1], torch.nn.Linear)


def test_error_rate_counts_wrong_labels_in_percent():
    y = torch.arange(10).repeat(10)  # (100,)
    x = torch.nn.functional.one_hot(y, 10).float()  # (100, 10): logits that are right
    assert paper.error_rate(torch.nn.Identity(), x, y, chunk=7) == 0.0
    always_zero = torch.zeros(100, 10)
    always_zero[:, 0] = 1.0
    assert paper.error_rate(torch.nn.Identity(), always_zero, y) == 90.0


def test_paper_scale_drops_the_learning_rate_where_the_paper_does():
    """Section 4.2: lr 0.1, divided by 10 at 32k and 48k iterations, stopped at 64k."""
    c = paper.Config.paper()
    assert (c.lr, c.steps, c.batch, c.widths) == (0.1, 64_000, 128, (16, 32, 64))
    assert [round(f * c.steps) for f in c.lr_drops] == [32_000, 48_000]
    assert (c.momentum, c.weight_decay) == (0.9, 1e-4)


def test_the_sweep_is_figure_6s_depths_plain_and_residual():
    """Figure 6: plain and residual nets of 20, 32, 44 and 56 layers (n = 3, 5, 7, 9)."""
    assert [name for name, _, _ in paper.ARMS] == [
        f"{k}-{d}" for k in ("plain", "res") for d in (20, 32, 44, 56)
    ]


class _Opt:
    """Just the optimizer's param_groups, which is all the warm-up hook touches."""

    def __init__(self, lr: float):
        self.param_groups = [{"lr": lr}, {"lr": lr}]


def test_warm_up_hook_switches_to_the_rate_once_the_running_error_is_below_80():
    """Section 4.2's rule on a running mean (decay 0.9, from 100%) of the batch error: with a 0%
    error on every batch the mean is 90, 81, 72.9, below 80 at the third step; the step that ends
    the warm-up already runs at lr, divided by 10 for each milestone passed; later steps leave
    the rate to the schedule; a net below warmup_from never warms up."""
    opt, warm = _Opt(0.01), WarmUp(0.1, 80.0, [5, 10])
    rates = []
    for step in range(6):
        warm(step, None, opt, 1.0, 0.0)
        rates.append([g["lr"] for g in opt.param_groups])
    assert rates == [[0.01] * 2] * 2 + [[0.1] * 2] * 4 and warm.ended == 3 and not warm.on
    opt, warm = _Opt(0.5), WarmUp(0.1, 80.0, [2, 10])  # ends at step 3, past the drop at 2
    for step in range(3):
        warm(step, None, opt, 1.0, 0.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01) and warm.ended == 3
    opt, warm = _Opt(0.01), WarmUp(0.1, 80.0, [100])
    for step in range(40):
        warm(step, None, opt, 1.0, 90.0)  # a batch error of 90% never brings the mean below 80
    assert warm.ended is None and opt.param_groups[0]["lr"] == 0.01
    opt, warm = _Opt(0.05), WarmUp(0.1, 80.0, [100], on=False)
    warm(0, None, opt, 1.0, 0.0)
    assert warm.ended is None and opt.param_groups[0]["lr"] == 0.05


def _fake_done(config: paper.Config, seeds) -> dict:
    """Unit outputs of the right shape: every net, each seed; errors that differ by arm."""
    points = math.ceil(config.steps / config.eval_every) + 1
    done = {}
    for i, (name, n, residual) in enumerate(paper.ARMS):
        for s in seeds:
            out = {"train_error": 10.0 + i + s, "test_error": 20.0, "curve": [90.0] * points}
            out |= {"warmup_until": None, "diverged": None, "probe_steps": [0, 1]}
            done[Unit("degradation", name, s)] = out | {"probes": [[1.0] * (6 * n + 2)] * 2}
    return done


@pytest.mark.parametrize("scale", ["quick", "full", "paper"])
def test_combine_writes_exactly_the_declared_arms_and_pairs_the_differences(scale):
    c = {"quick": paper.Config.quick, "full": paper.Config, "paper": paper.Config.paper}[scale]()
    seeds = [0, 1, 2]
    (r,) = paper.combine(c, seeds, _fake_done(c, seeds))
    declared = paper.arms(c)[r.claim_id]
    assert list(r.values) == list(declared)
    assert set(paper.CLAIMS[0].criterion.arms()) <= set(declared)
    assert r.values[paper.GAP] == [3.0] * 3  # plain-56 (i = 3) minus plain-20 (i = 0)
    assert r.values[paper.GAIN] == [-4.0] * 3  # plain-56 minus res-56 (i = 7)
    assert r.values["res-56 - res-20"] == [3.0] * 3
    r.render_figures(to_svg)
    assert set(r.pending_figures()) == {"training-error", "gradient-flow"}


def _warm_run(warmup_from: int, steps: int) -> dict:
    c = paper.Config.quick()
    c = dataclasses.replace(c, steps=steps, warmup_from=warmup_from, n_train=256, n_test=64)
    c = dataclasses.replace(c, lr=0.1, warmup_lr=0.01)  # the paper's rates: the rule, quickly
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the runner's units; several threads on a busy machine: 20x
    try:
        return paper.one_run(dataclasses.replace(c, eval_subset=64), 0, paper.SHALLOW, True)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.slow  # two short training runs: seconds, more on a busy machine
def test_warm_up_follows_the_papers_rule_and_only_for_the_deep_nets():
    """Section 4.2: lr 0.01 until the training error is below 80%, then back to 0.1 (paper
    scale); at full scale the same tenth of our 0.05. Only depths >= warmup_from warm up (at paper
    scale: 110 layers only). Forced on for a 20-layer net at lr 0.1, the running error must cross
    80% within 16 steps: the rule fires in a real run, after at least 5 steps (the running mean
    needs 3 steps even at a 0% batch error, and a net at initialisation is near chance)."""
    assert paper.Config().warmup_from == 56 and paper.Config.paper().warmup_from == 110
    p, c = paper.Config.paper(), paper.Config()
    assert (p.warmup_lr, p.warmup_until, p.lr) == (0.01, 80.0, 0.1)
    assert (c.warmup_lr, c.warmup_until, c.lr) == (0.005, 80.0, 0.05)
    assert _warm_run(999, 2)["warmup_until"] is None  # a 20-layer net does not warm up
    assert 5 <= _warm_run(20, 16)["warmup_until"] <= 16


@pytest.fixture(scope="module")
def quick_record(quick):
    return quick("he2016resnet")


def test_quick_plain_nets_degrade_with_depth(quick_record):
    """Quick scale (64 steps of batch 32 on 512 images; 64 unconverged steps amplify a CPU's
    floating-point differences, so the bands are wide). The criterion's first part, plain-56
    above plain-20 by MARGIN (2 points) on each seed, is asked with a 20-point band; every deeper
    plain net ends above plain-20 by 10 points, and plain-20 learns (below 50%; chance is 90%)."""
    r = quick_record.results["he2016resnet.degradation"]
    assert all(gap > max(paper.MARGIN, 20.0) for gap in r.values[paper.GAP]), r.values
    for depth in (32, 44):
        for deep, shallow in zip(r.values[f"plain-{depth}"], r.values["plain-20"], strict=True):
            assert deep > shallow + 10.0, r.values
    assert all(v < 50.0 for v in r.values["plain-20"]), r.values  # the shallow net does learn


def test_quick_shortcuts_remove_most_of_the_degradation(quick_record):
    """Quick scale: the criterion's last part, plain-56 above res-56 by MARGIN on each seed, is
    asked with a 20-point band, and the shallow residual nets train to near 0% (res-20 and
    res-32 below 5%). The parts that keep each deeper residual net within MARGIN of res-20 are
    left to full scale: in 64 steps res-56, which warms up, may not have converged yet."""
    r = quick_record.results["he2016resnet.degradation"]
    assert all(gain > max(paper.MARGIN, 20.0) for gain in r.values[paper.GAIN]), r.values
    assert all(v < 5.0 for v in r.values["res-20"] + r.values["res-32"]), r.values
    assert {f["name"] for f in r.figures} == {"training-error", "gradient-flow"}


def test_zero_init_of_the_last_bn_gamma_is_off_it_is_not_the_papers_recipe():
    """A departure probed in exploration (it made res-56 train on the seeds where warm-up did
    not); the registered card follows the paper and leaves it off at every scale."""
    assert not paper.Config().zero_gamma and not paper.Config.paper().zero_gamma
