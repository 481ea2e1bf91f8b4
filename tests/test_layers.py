"""Shared model parts against what the papers state: the last-step regressor and its loss, the
parameter count every comparison across arms is matched on."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from repro.kit import layers


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_read_last_reads_the_last_step_only(cell):
    """The adding problem's answer is read after the whole sequence: outputs depend on every
    step through the recurrence, and the read-out sees only the final state."""
    torch.manual_seed(0)
    net = layers.ReadLast(cell, hidden=6).double()
    x = torch.randn(3, 12, 2, dtype=torch.float64, requires_grad=True)  # (B, T, 2)
    y = net(x)  # (B,)
    assert y.shape == (3,)
    y.sum().backward()
    assert x.grad[:, 0].abs().max() > 0  # the first step reaches the answer
    out, _ = net.rnn(x)  # (B, T, H)
    assert torch.allclose(y, net.head(out[:, -1]).squeeze(-1))


def test_mse_and_parameter_count_by_hand():
    pred, y = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.0, 0.0, 1.0])
    assert layers.mse(pred, y).item() == pytest.approx((0 + 4 + 9) / 3)
    assert layers.n_params(nn.Linear(3, 2)) == 3 * 2 + 2
    assert layers.n_params(layers.ReadLast("lstm", 4)) == 4 * (2 * 4 + 4 * 4 + 2 * 4) + 4 + 1
