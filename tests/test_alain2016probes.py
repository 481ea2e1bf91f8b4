"""Alain & Bengio 2016: the skip architecture, the task, the probes; both claims at quick scale."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from repro import alain2016probes as paper
from repro.alain2016probes.model import prototype_images, smooth_prototypes
from repro.kit import rng
from repro.kit.units import Unit


def gen(k: int) -> torch.Generator:
    return torch.Generator().manual_seed(k)


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
    x, y = draw(600, gen(1))  # (600, 64), (600,)
    assert x.shape == (600, c.image**2) and int(y.min()) == 0 and int(y.max()) == c.classes - 1
    x2, y2 = paper.make_task(c, 3)(600, gen(1))
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

    sets = (draw(512, gen(1)), draw(512, gen(2)))  # (train, test) for the probes
    acc = paper.probe_accuracy(c, Fixed(), sets)
    assert acc[0] == 100.0 and acc[1] < 20.0


def test_gain_and_ratio_read_the_layer_ranges():
    out = {"probes": [[0.0] * 5, [1.0, 2.0, 3.0, 4.0, 5.0]], "grads": [[9, 1, 1, 10, 10, 9]]}
    assert paper.gains(out, 1, 2) == 2.5 and paper.gains(out, 3, 4) == 4.5
    assert paper.grad_ratio(out, 2, 4) == pytest.approx(0.1)


@pytest.mark.parametrize("scale", ["quick", "full", "paper"])
def test_combine_writes_exactly_the_declared_arms(scale):
    """Every arm each criterion reads is declared and written (made-up unit outputs: probes that
    gain 10 points everywhere without the skip, only above it with the skip)."""
    c = {"quick": paper.Config.quick, "full": paper.Config, "paper": paper.Config.paper}[scale]()
    layers, done = c.depth + 1, {}
    for s in (0, 1):
        for arm in paper.ARMS:
            last = [10.0 * (arm == "plain" or k > c.skip[1]) for k in range(layers)]
            grads = [[0.01 if arm == "skip" and 0 < k <= c.skip[1] else 1.0] for k in range(layers)]
            out = {"probes": [[0.0] * layers, last], "probe_steps": [0, 1], "grad_steps": [0]}
            out |= {"grads": [sum(grads, [])], "test_accuracy": 50.0, "diverged": None}
            done[Unit("probes", arm, s)] = out
    results = paper.combine(c, [0, 1], done)
    declared = paper.arms(c)
    for claim, r in zip(paper.CLAIMS, results, strict=True):
        assert r.claim_id == claim.id and list(r.values) == list(declared[claim.id])
        assert set(claim.criterion.arms()) <= set(declared[claim.id])
    probes, grads = (r.values for r in results)
    assert probes["skip: gain 1-63"] == [0.0, 0.0] and probes["skip: gain 65-128"] == [10.0] * 2
    assert probes["plain - skip: gain 1-63"] == [10.0, 10.0]
    assert grads["skip"] == [pytest.approx(0.01)] * 2 and grads["plain"] == [1.0, 1.0]


@pytest.fixture(scope="module")
def quick_record(quick):
    return quick("alain2016probes")


def test_quick_the_skip_starves_the_bypassed_layers(quick_record):
    """Quick scale (400 steps): the parts of both claims that read the skip net alone hold on
    every seed with the criteria's own thresholds: the bypassed layers receive gradients more
    than 10x smaller (ratio below RATIO_MAX) than the layers above the skip, and the probes above
    the skip gain more than GAIN_MAX points (the net learns, through its upper half). The paired
    parts (plain vs skip) need a plain control that trains, which a run of this size does not
    promise: in the committed full run the control failed to train on 3 of the 5 confirmation
    seeds (docs/results/alain2016probes), so they are judged at full scale only."""
    grads = quick_record.results["alain2016probes.bypassed-gradients"].values
    probes = quick_record.results["alain2016probes.bypassed-probes"].values
    assert all(r < paper.RATIO_MAX for r in grads["skip"]), grads
    assert all(g > paper.GAIN_MAX for g in probes["skip: gain 65-128"]), probes
    assert all(math.isfinite(r) for r in grads["plain"]), grads  # the control ran to the end


def test_prototype_images_share_prototypes_across_generators():
    protos = smooth_prototypes(10, (3, 8, 8), rng.stream(0, "prototypes"))
    assert protos.shape == (10, 3, 8, 8)
    assert torch.equal(protos, smooth_prototypes(10, (3, 8, 8), rng.stream(0, "prototypes")))
    x, labels = prototype_images(64, protos, rng.stream(1, "test"), noise=0.0)
    assert torch.equal(x, protos[labels])
