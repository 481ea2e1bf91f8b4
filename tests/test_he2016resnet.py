"""He et al. 2016: model properties the paper relies on; the degradation claim at quick scale."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from repro import he2016resnet as paper
from repro.claims import Verdict
from repro.kit import layers

from conftest import run_quick


def test_plain_and_residual_nets_start_from_the_same_weights():
    """Arms are paired: with option-A shortcuts the two nets have the same parameters, so one seed
    gives both the same initial values (only the shortcuts differ)."""
    torch.manual_seed(3)
    plain = layers.CifarNet(paper.DEEP, residual=False, widths=(8, 16, 32))
    torch.manual_seed(3)
    res = layers.CifarNet(paper.DEEP, residual=True, widths=(8, 16, 32))
    for (name, p), (_, q) in zip(plain.named_parameters(), res.named_parameters(), strict=True):
        assert torch.equal(p, q), name


def test_a_residual_block_can_be_the_identity_but_a_plain_block_cannot():
    """Section 3.1: if the residual branch is driven to zero, the block is an identity map (for
    its non-negative, post-ReLU input), so a deeper net can copy a shallower one; the plain block
    with the same zeroed weights outputs zeros instead."""
    x = torch.relu(torch.randn(4, 8, 6, 6))  # (B, C, H, W), as after a ReLU
    for residual, expected in ((True, x), (False, torch.zeros_like(x))):
        block = layers.CifarBlock(8, 8, 1, residual).eval()
        with torch.no_grad():
            block.bn2.weight.zero_()
            block.bn2.bias.zero_()
            assert torch.allclose(block(x), expected)


def test_downsampling_shortcut_subsamples_and_zero_pads():
    """Option A (Section 4.2): the shortcut that halves the map and doubles the width is x
    subsampled by 2 with zero channels appended; it has no parameters."""
    block = layers.CifarBlock(8, 16, 2, residual=True).eval()
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
        x = torch.relu(torch.randn(2, 8, 8, 8))  # (B, 8, 8, 8)
        y = block(x)  # (B, 16, 4, 4)
    assert torch.allclose(y[:, :8], x[:, :, ::2, ::2]) and not y[:, 8:].any()


def test_probed_layers_are_the_6n_plus_2_weight_layers_in_depth_order():
    for n in (paper.SHALLOW, paper.DEEP):
        net = layers.CifarNet(n, residual=True, widths=(8, 16, 32))
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
    scale: 110 layers only). Forced on for a 20-layer net, the running error crossed 80% at step
    13 of 16 at lr 0.1 (seed 0; 12 on seeds 1 and 2)."""
    assert paper.Config().warmup_from == 56 and paper.Config.paper().warmup_from == 110
    p, c = paper.Config.paper(), paper.Config()
    assert (p.warmup_lr, p.warmup_until, p.lr) == (0.01, 80.0, 0.1)
    assert (c.warmup_lr, c.warmup_until, c.lr) == (0.005, 80.0, 0.05)
    assert _warm_run(999, 2)["warmup_until"] is None  # a 20-layer net does not warm up
    assert 5 <= _warm_run(20, 16)["warmup_until"] <= 16


@pytest.fixture(scope="module")
def quick_record(tmp_path_factory):
    return run_quick("he2016resnet", tmp_path_factory.mktemp("results"))


def test_quick_plain_nets_degrade_with_depth(quick_record):
    """Quick scale (2 seeds, 64 steps of batch 32 on 512 images), measured on two machines (the
    same code and seeds; 64 unconverged steps amplify the CPU's floating-point differences):
    plain-20 10.7/19.5% and 3.1/41.6%, plain-32 55/54% and 52/61%, plain-44 81/72% and 76/64%,
    plain-56 78/76% and 82/85% (chance 90%). The band asks, on each seed, every deeper plain net
    above plain-20 by 10 points (smallest gap measured: 19), plain-56 above it by 20 (smallest:
    44), and plain-20 to learn (below 50%)."""
    r = quick_record.results["he2016resnet.degradation"]
    for depth, margin in ((32, 10.0), (44, 10.0), (56, 20.0)):
        for deep, shallow in zip(r.values[f"plain-{depth}"], r.values["plain-20"], strict=True):
            assert deep > shallow + margin, r.values
    assert all(v < 50.0 for v in r.values["plain-20"]), r.values  # the shallow net does learn


def test_quick_shortcuts_remove_most_of_the_degradation(quick_record):
    """Quick scale, measured: res-20 0.0/0.2%, res-32 0.0/0.2%, res-44 2.5/2.7%, res-56 42/2.7%
    (res-56 warms up and has not converged after 64 steps on seed 0). The band asks res-20 and
    res-32 below 5%, and res-56 below plain-56 by 20 points per seed (measured 35 and 73); the
    full criterion (each residual net within 2 points of res-20) is judged at full scale, so the
    quick verdict may go either way."""
    r = quick_record.results["he2016resnet.degradation"]
    assert all(v < 5.0 for v in r.values["res-20"] + r.values["res-32"]), r.values
    for res, plain in zip(r.values["res-56"], r.values["plain-56"], strict=True):
        assert res < plain - 20.0, r.values
    assert r.verdict in (Verdict.REPRODUCED, Verdict.NOT_REPRODUCED), r.detail
    assert {f["name"] for f in r.figures} == {"training-error", "gradient-flow"}


def test_zero_init_of_the_last_bn_gamma_is_off_it_is_not_the_papers_recipe():
    """A departure probed in exploration (it made res-56 train on the seeds where warm-up did
    not); the registered card follows the paper and leaves it off at every scale."""
    assert not paper.Config().zero_gamma and not paper.Config.paper().zero_gamma
