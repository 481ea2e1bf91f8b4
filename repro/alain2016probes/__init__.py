"""Alain & Bengio 2016: Understanding intermediate layers using linear classifier probes.

Question (journal of 10/5, docs/experiments/gradient-visualiser.md): would a gradient visualiser
have shown that a long identity skip leaves the first part of a deep network untrained?
("Untrained" is Smith & Topin's word; the paper says the bypassed half "stays unused", its
weights not zero.)

The paper's pathological experiment (Section 5.1 and Figure 6 of arXiv v4): 128 fully connected
layers of 128 units on MNIST, trainable "through the usual SGD" only with a skip that bypasses the
first half; that half "stays unused". The 0 -> 64 endpoints are Smith & Topin 2016's reading.
Hypothesis (registered before any run): the layers the skip bypasses receive gradients
an order of magnitude or more smaller than the layers above it, and their probes do not improve,
unlike the same net without the skip.

Key equations: h_k = relu(W_k h_{k-1} + b_k) for k = 1..128, except at the skip's end
h_64 = relu(W_64 h_63 + b_64) + h_0; a probe on layer k is softmax(A_k h_k + c_k), trained on the
frozen features h_k (no gradient reaches the net): its test accuracy says how linearly separable
the classes are at depth k.

Task (nothing is downloaded): 10 classes, each a mixture of 3 smooth random 8x8 prototypes plus
noise (model.smooth_prototypes), so the input is not linearly separable and a trained
net's probes have something to gain with depth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from repro.alain2016probes.figures import probe_figure
from repro.alain2016probes.model import (
    Probes,
    SkipMLP,
    gains,
    grad_ratio,
    prototype_images,
    smooth_prototypes,
)
from repro.claims import Claim, Registration, Result, above, below
from repro.kit import figures, rng
from repro.kit.device import to_device
from repro.kit.train import layer_grad_norms, train
from repro.kit.units import Unit, grid, series

ARMS = ("skip", "plain")  # the 0 -> 64 identity skip, and the same net without it
GAIN_MAX = 5.0  # points of probe accuracy: "does not improve" (fixed before any run)
RATIO_MAX = 0.1  # bypassed / upper gradient norm: "an order of magnitude smaller"

CLAIMS = [
    Claim(
        "alain2016probes.bypassed-probes",
        title="Layers under a long skip learn nothing a probe can read",
        setup="paper: MNIST, 128 fully connected layers of 128 units, SGD | ours: "
        "synthetic 8x8 mixtures, width 32, 1500 Adam steps",
        statement="With the 0 -> 64 skip, the probes of the bypassed layers 1-63 gain less than "
        f"{GAIN_MAX:g} points of accuracy over training while the probes above the skip "
        f"(65-128) gain more than {GAIN_MAX:g}; without the skip, layers 1-63 gain more than "
        f"{GAIN_MAX:g} points more than with it (same seed: same data and initial weights).",
        paper_value="half of the model stays unused, a dead segment the skip jumps over: its "
        "weights are not zero but no useful signal passes through it, as the probes show (the "
        "figure's values are not in the text)",
        where="Section 5.1, Figure 6 (arXiv v4); the 0 -> 64 endpoints as Smith & Topin 2016 "
        "quote it",
        metric="probe test accuracy (%), mean over a layer range, after training minus before; "
        "plain - skip paired by seed",
        criterion=below("skip: gain 1-63", GAIN_MAX, seeds=0.8)
        & above("skip: gain 65-128", GAIN_MAX, seeds=0.8)
        & above("plain - skip: gain 1-63", GAIN_MAX, seeds=0.8),
    ),
    Claim(
        "alain2016probes.bypassed-gradients",
        title="Layers under a long skip get gradients 10x smaller",
        setup="as bypassed-probes; gradients read every 100 steps",
        statement="With the skip, the weights of the bypassed layers 1-64 receive gradients at "
        f"least 10x smaller than the layers above it (median norm ratio below {RATIO_MAX:g}), "
        "and a smaller ratio than the same layers of the net without the skip.",
        paper_value="none: the paper reads probes, not gradients; the journal's question is "
        "whether a gradient visualiser would have shown the same thing",
        where="journal of 10/5 (the question); the paper's experiment as above",
        metric="median gradient norm of layers 1-64 / median of layers 65-128, averaged over "
        "the training steps read",
        domains={arm: "nonnegative" for arm in ("skip", "plain")},
        criterion=below("skip", RATIO_MAX, seeds=0.8) & below("skip", "plain", seeds=0.8),
    ),
]

REGISTRATION = Registration(
    exploration=(0, 1),
    confirmation=(200, 201, 202, 203, 204),
    note="Criteria written before any run, unchanged. Seed 0: noise 1.0 left the net underfit "
    "(35% test accuracy at 600 steps), lr 3e-3 killed the plain net (loss stuck at ln 10), so "
    "noise 0.7, lr 1e-3, 1500 steps; seeds 0-1 there: skip gain 1-63 8.8 and 6.9 points (the "
    "first part of bypassed-probes failed on both), gradient ratio 0.035/0.023 (plain 0.86/0.71).",
    quick=(0, 1),
)

MEMORY_MB = 550.0  # one worker's peak at full scale: 525 MB (the committed run's provenance)


@dataclass(frozen=True)
class Config:
    depth: int = 128  # the paper's depth
    skip: tuple[int, int] = (0, 64)  # identity from h_0 to h_64, as in the paper
    width: int = 32  # paper: 128 (Section 5.1); 32 keeps 2 arms x 5 seeds in budget
    image: int = 8  # 1x8x8 inputs, 64 features (MNIST: 28x28)
    classes: int = 10  # as MNIST
    clusters: int = 3  # prototypes per class: a mixture, so the input is not linearly separable
    noise: float = 0.7  # pixel noise around unit-variance prototypes; at 1.0 the net's test
    # accuracy was 35% after 600 steps on seed 0 (underfit), at 0.7 62-72% after 1500
    steps: int = 1500  # training steps (fresh mini-batches every step); 10 ms each on one core
    batch: int = 64
    lr: float = 1e-3  # Adam (paper: "the usual SGD", rate not given). At 3e-3 the plain net
    # died on seed 0 (loss stuck at ln 10), so the control arm would not have trained
    n_probe: int = 512  # probe training set; as many again held out for its test accuracy
    probe_steps: int = 100  # full-batch Adam steps per probe (all layers' probes at once):
    # 0.9 s for the 129 probes at 512 examples, 2.7 s at 1024 and 150 steps (measured)
    probe_lr: float = 0.05
    probe_every: int = 500  # probes at step 0, every this many steps, and at the end
    grad_every: int = 100  # per-layer gradient norms (the heatmap's rows)

    @classmethod
    def quick(cls) -> Config:
        return cls(steps=400, probe_every=200)

    @classmethod
    def paper(cls) -> Config:
        # The paper's depth and skip on 28x28 inputs, width and length as for MNIST nets.
        return cls(width=128, image=28, steps=20_000, probe_every=2000, grad_every=500)


GAINS = ("skip: gain 1-63", "skip: gain 65-128", "plain: gain 1-63", "plain: gain 65-128")
PAIRED = "plain - skip: gain 1-63"


def arms(config: Config) -> dict[str, tuple[str, ...]]:
    """bypassed-probes: each arm's probe gain below and above the skip's end, then the paired
    difference; bypassed-gradients: each arm's gradient ratio."""
    return {CLAIMS[0].id: (*GAINS, PAIRED), CLAIMS[1].id: ARMS}


def make_task(config: Config, seed: int):
    """draw(n, gen) -> (x (n, H*W), y (n,)): the seed's mixture task, drawn from `gen`."""
    shape = (1, config.image, config.image)
    task = rng.stream(seed, "prototypes")
    protos = smooth_prototypes(config.classes * config.clusters, shape, task)  # (KC,1,H,W)

    def draw(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x, c = prototype_images(n, protos, gen, config.noise)  # (n, 1, H, W), (n,)
        return x.flatten(1), c % config.classes  # (n, H*W), (n,): cluster -> its class

    return draw


def probe_accuracy(config: Config, model: SkipMLP, probe_set) -> list[float]:
    """Test accuracy (%) of a linear probe on each of h_0..h_depth (frozen features)."""
    (x, y), (xt, yt) = probe_set
    with torch.no_grad():
        feats = torch.stack(model(torch.cat([x, xt]), keep=True)[1])  # (L, 2N, W)
        mu, sd = feats[:, : len(y)].mean(1, keepdim=True), feats[:, : len(y)].std(1, keepdim=True)
        feats = (feats - mu) / (sd + 1e-6)  # standardised per unit: the scale varies with depth
    tr, te = feats[:, : len(y)], feats[:, len(y) :]  # (L, N, W) each
    probes = Probes(feats.shape[0], feats.shape[2], config.classes)
    opt = torch.optim.Adam(probes.parameters(), lr=config.probe_lr)
    labels = y.expand(feats.shape[0], -1)  # (L, N)

    def loss_fn(p: nn.Module, _) -> torch.Tensor:
        return F.cross_entropy(p(tr).transpose(1, 2), labels)  # (L, K, N) vs (L, N)

    with torch.enable_grad():  # also when called from train()'s no-grad eval
        train(probes, lambda _: (), loss_fn, opt, config.probe_steps, progress=False)
    with torch.no_grad():
        right = probes(te).argmax(-1) == yt  # (L, N)
    return (100.0 * right.float().mean(1)).tolist()


def one_run(config: Config, seed: int, arm: str) -> dict:
    """One arm on one seed; both arms share the task, the probe sets, the mini-batches and the
    initial weights (the same named streams of the seed)."""
    draw = make_task(config, seed)
    probe_set = to_device(
        (
            draw(config.n_probe, rng.stream(seed, "probe-train")),
            draw(config.n_probe, rng.stream(seed, "probe-test")),
        )
    )
    order = rng.stream(seed, "train")  # the same mini-batches for both arms
    skip = config.skip if arm == "skip" else None
    with rng.scope(seed, "init"):  # both arms start from the same weights
        model = SkipMLP(config.image**2, config.width, config.depth, config.classes, skip)
    model = to_device(model)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    start = probe_accuracy(config, model, probe_set)
    hist = train(
        model,
        lambda _: draw(config.batch, order),
        lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        opt,
        config.steps,
        probe=lambda step, m: layer_grad_norms(m.weight_layers()),
        probe_every=config.grad_every,
        eval_fn=lambda m: probe_accuracy(config, m, probe_set),
        eval_every=config.probe_every,
        desc=f"seed {seed} {arm}",
    )
    with torch.no_grad():
        (xt, yt) = probe_set[1]
        test = 100.0 * float((model(xt).argmax(1) == yt).float().mean())
    return {
        "probe_steps": [0] + [s for s, _ in hist.evals],
        "probes": [start] + [acc for _, acc in hist.evals],  # (checkpoints, depth + 1)
        "grad_steps": [s for s, _ in hist.probes],
        "grads": [g for _, g in hist.probes],  # (reads, depth + 2): layers 0..depth, classifier
        "test_accuracy": test,
        "loss": hist.loss[:: max(1, config.steps // 100)],
        "diverged": f"at step {hist.diverged_step}: {hist.reason}" if hist.diverged else None,
    }


def combine(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> list[Result]:
    end, depth = config.skip[1], config.depth
    runs = {arm: series(done, "probes", arm, seeds) for arm in ARMS}
    ranges = {"gain 1-63": (1, end - 1), "gain 65-128": (end + 1, depth)}
    values = {
        f"{arm}: {name}": [gains(r, lo, hi) for r in runs[arm]]
        for arm in ARMS
        for name, (lo, hi) in ranges.items()
    }
    values[PAIRED] = [
        p - q for p, q in zip(values["plain: gain 1-63"], values["skip: gain 1-63"], strict=True)
    ]
    values |= {arm: [grad_ratio(r, end, depth) for r in runs[arm]] for arm in ARMS}
    test = {arm: [r["test_accuracy"] for r in runs[arm]] for arm in ARMS}
    notes = [
        f"{arm} seed {s} diverged {runs[arm][i]['diverged']}"
        for i, s in enumerate(seeds)
        for arm in ARMS
        if runs[arm][i]["diverged"]
    ]
    notes.append(
        "net test accuracy (%, not judged): "
        + "; ".join(f"{a} {np.mean(v):.1f}" for a, v in test.items())
    )
    declared = arms(config)
    first = {arm: runs[arm][0] for arm in ARMS}
    extra = {"test_accuracy": test, "runs_seed": seeds[0], "runs": first}
    probe_v = {name: values[name] for name in declared[CLAIMS[0].id]}
    probes = Result(CLAIMS[0].id, probe_v, notes=notes, extra=extra)
    probes.add_figure(
        "probes",
        probe_figure(first, config.skip),
        f"Linear-probe test accuracy on every layer before, during and after training (seed "
        f"{seeds[0]}), with the 0 -> {end} skip (left, bypassed layers shaded) and without it.",
    )
    grads = Result(CLAIMS[1].id, {name: values[name] for name in declared[CLAIMS[1].id]})
    grads.add_figure(
        "gradient-flow",
        figures.gradient_flow_heatmap(
            {arm: np.asarray(first[arm]["grads"])[:, : depth + 1] for arm in ARMS},
            first["skip"]["grad_steps"],
            position_label=f"layer (0 to {depth}); skip 0 -> {end}",
        ),
        f"Gradient norm of each layer's weights during training (seed {seeds[0]}): with the "
        "skip (left) and without it, on one log colour scale.",
    )
    return [probes, grads]


def units(config: Config, seeds: Sequence[int]) -> list[Unit]:
    return grid("probes", ARMS, seeds)


def unit(config: Config, u: Unit) -> dict:
    return one_run(config, u.seed, u.arm)
