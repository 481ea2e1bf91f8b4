"""Shared model parts against properties the papers state."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from repro.kit import layers


def test_tcn_is_causal():
    torch.manual_seed(0)
    net = layers.TCN(3, [8, 8, 8], kernel_size=3).eval()
    x = torch.randn(2, 3, 40, requires_grad=True)  # (B, C, T)
    y = net(x)  # (B, 8, T)
    t = 20
    y[:, :, t].sum().backward()
    later = x.grad[:, :, t + 1 :]
    assert later.abs().max() == 0  # no output depends on a later input
    assert x.grad[:, :, t].abs().max() > 0


@pytest.mark.parametrize(("k", "n"), [(2, 1), (3, 3), (4, 6), (7, 8)])
def test_tcn_receptive_field_formula(k, n):
    """The gradient of one output reaches exactly 1 + 2 (k - 1)(2^n - 1) inputs back."""
    rf = layers.tcn_receptive_field(k, n)
    assert rf == 1 + 2 * (k - 1) * (2**n - 1)
    torch.manual_seed(0)
    net = layers.TCN(1, [4] * n, kernel_size=k).double().eval()
    for p in net.parameters():  # positive weights: no accidental cancellation in the gradient
        p.data = p.data.abs() + 0.1
    length = rf + 10
    x = torch.randn(1, 1, length, dtype=torch.float64, requires_grad=True)
    net(x)[0, :, -1].sum().backward()
    reached = (x.grad[0, 0] != 0).nonzero().flatten()
    assert length - reached.min().item() == rf
    assert net.receptive_field == rf


def test_tcn_uses_weight_norm_parametrization_and_keeps_init_scale():
    conv = layers.CausalConv1d(4, 4, 3, 1)
    assert hasattr(conv.conv, "parametrizations")  # the parametrization API, not the old hook
    assert conv.conv.weight.std().item() < 0.03  # N(0, 0.01) survived weight_norm


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize(("d", "t"), [(1, 9), (2, 9), (4, 10), (3, 7)])
def test_dilated_layer_equals_step_by_step(cell, d, t):
    """Interleaving into d sub-sequences equals h_t = cell(x_t, h_{t-d}) run step by step."""
    torch.manual_seed(0)
    layer = layers.DilatedRNNLayer(3, 5, d, cell).double()
    x = torch.randn(2, t, 3, dtype=torch.float64)  # (B, T, C)
    fast = layer(x)  # (B, T, H)
    cells = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}
    ref = cells[cell](3, 5).double()
    ref.weight_ih.data, ref.weight_hh.data = (
        layer.rnn.weight_ih_l0.data,
        layer.rnn.weight_hh_l0.data,
    )
    ref.bias_ih.data, ref.bias_hh.data = layer.rnn.bias_ih_l0.data, layer.rnn.bias_hh_l0.data
    zeros = torch.zeros(2, 5, dtype=torch.float64)
    states, outs = [], []
    for step in range(t):
        prev = states[step - d] if step >= d else ((zeros, zeros) if cell == "lstm" else zeros)
        state = ref(x[:, step], prev)
        states.append(state)
        outs.append(state[0] if cell == "lstm" else state)
    assert torch.allclose(fast, torch.stack(outs, 1), atol=1e-12)


def test_dilated_rnn_default_dilations():
    net = layers.DilatedRNN(2, 4, layers=4)
    assert [layer.dilation for layer in net.layers] == [1, 2, 4, 8]
    assert net(torch.randn(3, 17, 2)).shape == (3, 17, 4)


def test_seq_bn_ignores_padding_and_clips():
    torch.manual_seed(0)
    layer = layers.SeqBNRNNLayer(3, 6, batch_norm=True)
    x = torch.randn(4, 10, 3)
    lengths = torch.tensor([10, 7, 5, 2])
    y = layer(x, lengths)
    x2 = x.clone()
    x2[1, 7:] = 1e6  # garbage in the padding must not change the statistics or the outputs
    y2 = layers.SeqBNRNNLayer(3, 6, batch_norm=True)
    y2.load_state_dict(layer.state_dict())
    assert torch.allclose(y, y2(x2, lengths), atol=1e-6)
    assert y.min() >= 0 and y.max() <= 20
    assert (y[3, 2:] == 0).all()


@pytest.mark.parametrize(("n", "params"), [(3, 0.27e6), (9, 0.85e6), (18, 1.7e6)])
def test_cifar_resnet_depth_and_parameter_counts(n, params):
    """He et al. Table 6: ResNet-20 0.27M, ResNet-56 0.85M, ResNet-110 1.7M parameters."""
    net = layers.CifarNet(n, residual=True)
    count = sum(p.numel() for p in net.parameters())
    assert net.depth == 6 * n + 2
    assert abs(count - params) / params < 0.03
    plain = layers.CifarNet(n, residual=False)
    assert sum(p.numel() for p in plain.parameters()) == count  # option A adds no parameters
    assert net(torch.randn(2, 3, 8, 8)).shape == (2, 10)
