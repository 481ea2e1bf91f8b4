"""Alain & Bengio 2016: the skip architecture, the task, the probes; both claims at quick scale."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from repro import alain2016probes as paper
from repro.kit import tasks

from conftest import run_quick


def _net(skip, depth: int = 128, width: int = 8) -> paper.SkipMLP:
    torch.manual_seed(0)
    return paper.SkipMLP(16, width, depth, 10, skip)


def test_the_skip_spans_64_of_128_layers():
    """h_64 = relu(W_64 h_63) + h_0: with every weight and bias of layers 1..64 zeroed, h_64 is
    exactly h_0 (the 64 bypassed layers contribute nothing), and the net's output is what layers
    65..128 and the classifier make of h_0; without the skip the same zeroing leaves h_64 = 0."""
    c = paper.Config()
    assert c.depth == 128 and c.skip == (0, 64) and c.skip[1] - c.skip[0] == 64
    x = torch.randn(5, 16)  # (B, D)
    for skip in (c.skip, None):
        net = _net(skip)
        with torch.no_grad():
            for layer in net.layers[:64]:  # layers 1..64
                layer.weight.zero_()
                layer.bias.zero_()
            logits, hs = net(x, keep=True)
        assert len(hs) == 129  # h_0 .. h_128
        h0 = torch.relu(net.embed(x))
        assert torch.equal(hs[64], h0 if skip else torch.zeros_like(h0))
        assert not hs[63].any()  # inside the span: nothing
    # Layer 65 is the first to see the skip's sum: perturbing layer 64 moves h_64 and h_65.
    net = _net(c.skip)
    with torch.no_grad():
        base = net(x, keep=True)[1]
        net.layers[63].bias.add_(1.0)  # layer 64
        moved = net(x, keep=True)[1]
    assert torch.equal(base[63], moved[63]) and not torch.equal(base[64], moved[64])


def test_the_bypassed_layers_gradient_path_is_the_plain_chain():
    """The skip adds a path from h_0 to h_64 only: the gradient reaching layer 1 still passes
    through layers 2..64 (it is the same as in the plain net when the upstream gradient at h_64
    is the same), and the embedding gets the extra direct path."""
    x = torch.randn(4, 16)  # (B, D)
    grads = {}
    for skip in ((0, 64), None):
        net = _net(skip, width=16)
        _, hs = net(x, keep=True)
        hs[64].retain_grad()
        hs[64].sum().backward()  # the same upstream gradient (ones) at h_64 for both nets
        grads[skip] = net.layers[0].weight.grad.clone()
    assert torch.allclose(grads[(0, 64)], grads[None])


def test_the_mixture_task_labels_clusters_by_class():
    c = paper.Config()
    draw = paper.make_task(c, 3)
    x, y = draw(600, tasks.generator(1))  # (600, 64), (600,)
    assert x.shape == (600, c.image**2) and int(y.min()) == 0 and int(y.max()) == c.classes - 1
    x2, y2 = paper.make_task(c, 3)(600, tasks.generator(1))
    assert torch.equal(x, x2) and torch.equal(y, y2)  # a seed gives the same task and draws


def test_probes_read_separable_features_and_not_noise():
    """A probe on features that are a one-hot of the label reaches 100%; on pure noise it stays
    near chance (10%): the probe measures linear separability, nothing else."""
    c = dataclasses.replace(paper.Config(), depth=1, probe_steps=100)

    class Fixed(torch.nn.Module):
        def forward(self, x, keep=False):
            return None, [x[:, :10], x[:, 10:]]  # layer 0: one-hot label; layer 1: noise

    def draw(n, gen):
        y = torch.randint(0, 10, (n,), generator=gen)  # (n,)
        noise = torch.randn(n, 10, generator=gen)  # (n, 10)
        return torch.cat([torch.nn.functional.one_hot(y, 10).float(), noise], 1), y

    acc = paper.probe_accuracy(c, Fixed(), (draw(512, tasks.generator(1)),
                                            draw(512, tasks.generator(2))))  # fmt: skip
    assert acc[0] == 100.0 and acc[1] < 20.0


def test_gain_and_ratio_read_the_layer_ranges():
    out = {"probes": [[0.0] * 5, [1.0, 2.0, 3.0, 4.0, 5.0]], "grads": [[9, 1, 1, 10, 10, 9]]}
    assert paper.gains(out, 1, 2) == 2.5 and paper.gains(out, 3, 4) == 4.5
    assert paper.grad_ratio(out, 2, 4) == pytest.approx(0.1)


@pytest.fixture(scope="module")
def quick_record(tmp_path_factory):
    return run_quick("alain2016probes", tmp_path_factory.mktemp("results"))


def test_quick_the_skip_starves_the_bypassed_layers(quick_record):
    """Quick scale (2 seeds, 400 steps), measured: gradient ratio (layers 1-64 / 65-128) with the
    skip 0.105 and 0.072, without 1.03 and 0.72; probe gain on layers 1-63 with the skip 6.6 and
    1.8 points, without 30.5 and 18.9. Band: on every seed the skip's ratio is at least 3x smaller
    than the plain net's (measured 7-10x), and the plain net's bypassed-range probes gain at least
    5 points more (measured gaps 17.0 and 23.9)."""
    grads = quick_record.results["alain2016probes.bypassed-gradients"].values
    probes = quick_record.results["alain2016probes.bypassed-probes"].values
    for skip, plain in zip(grads["skip"], grads["plain"], strict=True):
        assert skip < plain / 3
    assert all(d > 5.0 for d in probes["plain - skip: gain 1-63"])
