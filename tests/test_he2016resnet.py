"""He et al. 2016: model properties the paper relies on; the degradation claim at quick scale."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def quick_record(tmp_path_factory):
    return run_quick("he2016resnet", tmp_path_factory.mktemp("results"))


def test_quick_deep_plain_net_has_the_higher_training_error(quick_record):
    """Quick scale (2 seeds, 64 steps): measured plain-56 85% and 85%, plain-20 7% and 18%
    (the full run: plain-56 about 45-60%, plain-20 about 0.1%). The band asks for a gap of 30
    points per seed, far above seed-to-seed noise yet far below what was measured."""
    r = quick_record.results["he2016resnet.degradation"]
    for gap in r.values[paper.GAP]:
        assert gap > 30.0, r.values
    assert all(v < 40.0 for v in r.values["plain-20"]), r.values  # the shallow net does learn


def test_quick_shortcuts_remove_most_of_the_degradation(quick_record):
    """Quick scale measured res-20 0.0-0.2% and res-56 12-18% (res-56 has not converged after
    64 steps; at full scale it reaches about 0.1% by step 150): the band asks res-20 below 5%
    and res-56 below half of plain-56, per seed. The third criterion part (res-56 within 2
    points of res-20) is judged at full scale; here the verdict may go either way."""
    r = quick_record.results["he2016resnet.degradation"]
    assert all(v < 5.0 for v in r.values["res-20"]), r.values
    for res, plain in zip(r.values["res-56"], r.values["plain-56"], strict=True):
        assert res < plain / 2, r.values
    assert r.verdict in (Verdict.REPRODUCED, Verdict.NOT_REPRODUCED), r.detail
    assert {f["name"] for f in r.figures} == {"training-error", "gradient-flow"}
