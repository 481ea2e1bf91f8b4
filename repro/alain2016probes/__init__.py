"""Alain & Bengio 2016: Understanding intermediate layers using linear classifier probes.

Question (journal of 10/5, docs/experiments/gradient-visualiser.md): would a gradient visualiser
have shown that a long identity skip leaves the first part of a deep network untrained?

The paper's pathological experiment (Section 5.1 and Figure 6 of arXiv v4): 128 fully connected
layers of 128 units on MNIST, trainable "through the usual SGD" only with a skip that bypasses the
first half; that half "stays unused". The 0 -> 64 endpoints are Smith & Topin 2016's reading.
Hypothesis (issue 19's, registered before any run): the layers the skip bypasses receive gradients
an order of magnitude or more smaller than the layers above it, and their probes do not improve,
unlike the same net without the skip.

Key equations: h_k = relu(W_k h_{k-1} + b_k) for k = 1..128, except at the skip's end
h_64 = relu(W_64 h_63 + b_64) + h_0; a probe on layer k is softmax(A_k h_k + c_k), trained on the
frozen features h_k (no gradient reaches the net): its test accuracy says how linearly separable
the classes are at depth k.

Task (nothing is downloaded): 10 classes, each a mixture of 3 smooth random 8x8 prototypes plus
noise (repro.kit.tasks.smooth_prototypes), so the input is not linearly separable and a trained
net's probes have something to gain with depth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from repro.claims import Claim, Registration, Result, above, below
from repro.kit import figures, tasks
from repro.kit.device import to_device
from repro.kit.train import layer_grad_norms, train
from repro.kit.units import Budget, Unit, grid

ARMS = ("skip", "plain")  # the 0 -> 64 identity skip, and the same net without it
GAIN_MAX = 5.0  # points of probe accuracy: "does not improve" (fixed before any run)
RATIO_MAX = 0.1  # bypassed / upper gradient norm: "an order of magnitude smaller"

CLAIMS = [
    Claim(
        "alain2016probes.bypassed-probes",
        setup="paper: MNIST, 128 fully connected layers of 128 units, SGD | ours: "
        "synthetic 8x8 mixtures, width 32, 1500 Adam steps",
        statement="With the 0 -> 64 skip, the probes of the bypassed layers 1-63 gain less than "
        f"{GAIN_MAX:g} points of accuracy over training while the probes above the skip "
        f"(65-128) gain more than {GAIN_MAX:g}; without the skip, layers 1-63 gain more than "
        f"{GAIN_MAX:g} points more than with it (same seed: same data and initial weights).",
        paper_value="half of the model stays unused, a dead segment the skip jumps over: its "
        "probes do not improve (the figure's values are not in the text)",
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
)

# Measured: seeds 0-1 at full scale, one thread: 20-21 CPU s per unit (2 helpers sharing the
# machine), so about 210 for ten units.
BUDGET = Budget(cpu_s=240, memory_mb=500, measured="full run, seeds 200-204, 2 cores: 236 CPU s")


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # quick and paper scale; full scale confirms on REGISTRATION
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
        return cls(2, steps=400, probe_every=200)

    @classmethod
    def paper(cls) -> Config:
        # The paper's depth and skip on 28x28 inputs, width and length as for MNIST nets.
        return cls(width=128, image=28, steps=20_000, probe_every=2000, grad_every=500)


class SkipMLP(nn.Module):
    """h_0 = relu(W_0 x); h_k = relu(W_k h_{k-1}) for k = 1..depth, plus h_i at layer j when
    skip = (i, j); a linear classifier on h_depth. He initialisation (ReLU nets)."""

    def __init__(self, d_in: int, width: int, depth: int, classes: int, skip=None) -> None:
        super().__init__()
        self.embed = nn.Linear(d_in, width)  # layer 0
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))  # 1..depth
        self.out = nn.Linear(width, classes)
        self.skip = skip
        for lin in (self.embed, *self.layers):
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)

    def forward(self, x: torch.Tensor, keep: bool = False):
        h = torch.relu(self.embed(x))  # (B, W): h_0
        hs = [h]
        for k, layer in enumerate(self.layers, start=1):
            h = torch.relu(layer(h))  # (B, W): h_k
            if self.skip is not None and k == self.skip[1]:
                h = h + hs[self.skip[0]]
            hs.append(h)  # autograd keeps them anyway
        logits = self.out(h)  # (B, classes)
        return (logits, hs) if keep else logits

    def weight_layers(self) -> list[nn.Module]:
        return [self.embed, *self.layers, self.out]  # depth order: 0..depth, then the classifier


def make_task(config: Config, seed: int):
    shape = (1, config.image, config.image)
    protos = tasks.smooth_prototypes(config.classes * config.clusters, shape, seed)  # (KC,1,H,W)

    def draw(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x, c = tasks.prototype_images(n, protos, gen, config.noise)  # (n, 1, H, W), (n,)
        return x.flatten(1), c % config.classes  # (n, H*W), (n,): cluster -> its class

    return draw


class Probes(nn.Module):
    """One linear classifier per layer, trained together: A (L, W, K), c (L, 1, K)."""

    def __init__(self, n_layers: int, width: int, classes: int) -> None:
        super().__init__()
        self.A = nn.Parameter(torch.zeros(n_layers, width, classes))
        self.c = nn.Parameter(torch.zeros(n_layers, 1, classes))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.c, feats, self.A)  # (L, N, K)


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
    draw = make_task(config, seed)
    probe_set = to_device((draw(config.n_probe, tasks.generator(10_000 + seed)),
                           draw(config.n_probe, tasks.generator(20_000 + seed))))  # fmt: skip
    order = tasks.generator(30_000 + seed)  # the same mini-batches for both arms
    torch.manual_seed(seed)  # both arms start from the same weights
    model = to_device(SkipMLP(config.image**2, config.width, config.depth, config.classes,
                              config.skip if arm == "skip" else None))  # fmt: skip
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


def gains(out: dict, lo: int, hi: int) -> float:
    """Mean probe gain (points) over layers lo..hi inclusive, last checkpoint minus first."""
    first, last = np.asarray(out["probes"][0]), np.asarray(out["probes"][-1])
    return float((last - first)[lo : hi + 1].mean())


def grad_ratio(out: dict, skip_end: int, depth: int) -> float:
    """Median gradient norm of layers 1..skip_end over that of skip_end+1..depth, averaged over
    the reads (NaN if a run left no reads)."""
    g = np.asarray(out["grads"], dtype=float)  # (reads, depth + 2)
    if g.size == 0:
        return math.nan
    low, up = np.median(g[:, 1 : skip_end + 1], 1), np.median(g[:, skip_end + 1 : depth + 1], 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # a dead net: 0 / 0 is NaN, data
        return float(np.mean(low / up))


def probe_figure(runs: Mapping[str, dict], skip: tuple[int, int]):
    """The paper's layout: probe accuracy against layer, one line per checkpoint, one panel per
    arm (lighter: earlier in training); the skip's span shaded."""
    with matplotlib.rc_context(figures.RC):
        fig, axes = figures.new_figure(width=8.0, height=3.2, ncols=len(runs))
        for ax, (arm, out) in zip(axes, runs.items()):
            acc = np.asarray(out["probes"])  # (checkpoints, depth + 1)
            cmap = matplotlib.colormaps["viridis"]
            for i, (step, row) in enumerate(zip(out["probe_steps"], acc)):
                ax.plot(row, color=cmap(i / max(1, len(acc) - 1)), lw=1.2, label=f"step {step}")
            if arm == "skip":
                ax.axvspan(skip[0] + 0.5, skip[1] - 0.5, color="0.85", zorder=0, label="bypassed")
            ax.set(title=f"{arm}", xlabel="layer k (probe on h_k)", ylabel="probe accuracy (%)")
            ax.legend(frameon=False, fontsize=7)
    return fig


def combine(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> list[Result]:
    end, depth = config.skip[1], config.depth
    probe_v, grad_v, test, notes = {}, {"skip": [], "plain": []}, {a: [] for a in ARMS}, []
    for name in ("skip: gain 1-63", "skip: gain 65-128", "plain: gain 1-63",
                 "plain: gain 65-128", "plain - skip: gain 1-63"):  # fmt: skip
        probe_v[name] = []
    for seed in seeds:
        run = {arm: done[Unit("probes", arm, seed)] for arm in ARMS}
        for arm in ARMS:
            probe_v[f"{arm}: gain 1-63"].append(gains(run[arm], 1, end - 1))
            probe_v[f"{arm}: gain 65-128"].append(gains(run[arm], end + 1, depth))
            grad_v[arm].append(grad_ratio(run[arm], end, depth))
            test[arm].append(run[arm]["test_accuracy"])
            if run[arm]["diverged"]:
                notes.append(f"{arm} seed {seed} diverged {run[arm]['diverged']}")
        probe_v["plain - skip: gain 1-63"].append(
            probe_v["plain: gain 1-63"][-1] - probe_v["skip: gain 1-63"][-1]
        )
    notes.append("net test accuracy (%, not judged): " + "; ".join(
        f"{a} {np.mean(v):.1f}" for a, v in test.items()))  # fmt: skip
    first = {arm: done[Unit("probes", arm, seeds[0])] for arm in ARMS}
    extra = {"test_accuracy": test, "runs_seed": seeds[0], "runs": first}
    probes = Result("alain2016probes.bypassed-probes", probe_v, notes=notes, extra=extra)
    probes.add_figure(
        "probes",
        probe_figure(first, config.skip),
        f"Linear-probe test accuracy on every layer before, during and after training (seed "
        f"{seeds[0]}), with the 0 -> {end} skip (left, bypassed layers shaded) and without it.",
    )
    grads = Result("alain2016probes.bypassed-gradients", grad_v)
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
