"""Deep Speech 2's runs: one net of Tables 1 and 3 on fresh minibatches, and one order of
Table 2's SortaGrad comparison on a fixed pool of utterances (Section 3.3)."""

from __future__ import annotations

import math

import torch
from torch import nn

from repro.amodei2016deepspeech2.config import Net, Speech, Training
from repro.amodei2016deepspeech2.data import held_out, minibatches, pool, sample, schedule
from repro.amodei2016deepspeech2.model import Arm, SpeechNet, ctc, evaluate, width
from repro.kit import rng
from repro.kit.device import to_device
from repro.kit.layers import n_params
from repro.kit.train import train

DIVERGED = 50.0  # a training CTC loss per label above this is a divergence (NaN in every value
# it feeds): an untrained net scores 3-6, and the runs that blew up in exploration reached 1e3-1e4


def build(task: Speech, net: Net, arm: Arm, seed: int) -> tuple[nn.Module, int]:
    """The arm's net at the budget's width, and that width; the initial weights come from the
    seed's "init" stream, so the two orders of a SortaGrad pair start from the same weights."""
    hidden = width(task, net, arm.depth, arm.cell)
    with rng.scope(seed, "init"):
        model = SpeechNet(task, net, hidden, arm)
    return to_device(model), hidden


def optimizer(model: nn.Module, lr: float, fit: Training) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=fit.momentum, nesterov=True)


def depth_unit(task: Speech, net: Net, fit: Training, arm: Arm, lr: float, seed: int) -> dict:
    """One net on fresh minibatches from the seed's "train" stream (the same for every arm of a
    seed); held-out loss and CER are NaN where the run diverged."""
    model, hidden = build(task, net, arm, seed)
    data = rng.stream(seed, "train")
    hist = train(
        model,
        lambda _: sample(task, fit.batch, data),
        ctc,
        optimizer(model, lr, fit),
        fit.steps,
        diverge_above=DIVERGED,
        desc=f"{arm.name} lr {lr} seed {seed}",
    )
    diverged = (math.nan,) * 3
    loss, cer, wer = diverged if hist.diverged else evaluate(model, held_out(task))
    curve = [x if math.isfinite(x) else None for x in hist.loss[:: fit.every]]
    out = {"loss": loss, "cer": cer, "wer": wer, "hidden": hidden, "params": n_params(model)}
    return out | {"curve": curve}


def sorta_unit(
    task: Speech,
    net: Net,
    fit: Training,
    arm: Arm,
    lr: float,
    pool_size: int,
    steps: int,
    sorted_first: bool,
    seed: int,
) -> dict:
    """One order (SortaGrad or shuffled) on one seed: the pool, the initial weights and the later
    epochs come from the seed's streams, so the two orders of a pair differ in epoch 1 alone."""
    utterances = pool(task, pool_size, rng.stream(seed, "pool"))
    batches = minibatches(utterances, fit.batch)  # the same minibatches for both orders
    later = rng.stream(seed, "epochs")  # the same later epochs for both orders
    order = schedule(len(batches), steps, sorted_first, later)
    model, test = build(task, net, arm, seed)[0], held_out(task)
    start = evaluate(model, test)[0]  # the untrained model, for the figure
    hist = train(
        model,
        lambda step: batches[order[step]],
        ctc,
        optimizer(model, lr, fit),
        steps,
        diverge_above=DIVERGED,
        eval_fn=lambda m: evaluate(m, test)[0],
        eval_every=len(batches),
        desc=f"{'sortagrad' if sorted_first else 'shuffled'} {arm.name} seed {seed}",
    )
    evals = [(0, start), *hist.evals]  # (step, held-out loss): untrained, then per epoch
    return {
        "evals": evals,
        # judged: NaN for a diverged run, whatever it measured before diverging
        "epoch1": math.nan if hist.diverged else evals[1][1],
        "final": math.nan if hist.diverged else evals[-1][1],
        "diverged": f"at step {hist.diverged_step}: {hist.reason}" if hist.diverged else None,
    }
