"""Shared figures: deterministic SVG bytes, divergence drawn, the gradient-flow heatmap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from repro.kit.figures import arm_values, gradient_flow_heatmap, loss_curves, to_svg


def test_svg_is_deterministic_and_dateless():
    a = to_svg(arm_values({"x": [1.0, 2.0, 3.0], "y": [2.0, math.nan]}))
    b = to_svg(arm_values({"x": [1.0, 2.0, 3.0], "y": [2.0, math.nan]}))
    assert a == b and a.startswith(b"<?xml") and b"<dc:date>" not in a


def test_loss_curves_stop_at_divergence():
    fig = loss_curves({"ok": [[1.0, 0.5, 0.1]], "bad": [[1.0, 10.0, math.nan]]}, baseline=0.3)
    (ax,) = fig.axes
    bad = [line for line in ax.lines if line.get_marker() == "x"]
    assert len(bad) == 1  # the diverged curve is marked where it ended


def test_gradient_flow_heatmap_shares_a_log_scale_and_greys_out_nan():
    steps = [0, 10, 20]
    vanishing = np.array([[0.9**t for t in range(8)]] * 3)  # (S, T)
    exploding = np.array([[1.2**t for t in range(8)]] * 2 + [[math.nan] * 8])  # (S, T)
    fig = gradient_flow_heatmap({"rnn": vanishing, "clipped": exploding}, steps)
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 2 and images[0].norm is images[1].norm  # one colour scale
    assert images[0].norm.vmin == pytest.approx(0.9**7) and images[0].norm.vmax > 1.2**6
    assert images[1].get_array().mask[-1].all()  # the diverged row is masked (grey)
    assert to_svg(fig).startswith(b"<?xml")
    with pytest.raises(ValueError, match="expected"):
        gradient_flow_heatmap({"rnn": vanishing}, [0, 1])
