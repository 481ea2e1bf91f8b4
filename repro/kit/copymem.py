"""Kit room, the copy-memory experiment that Bai et al. 2018 and Chang et al. 2017 both run.

One loss, one score, one unit (one arm, one seed, one length T) and one way to gather the units
into a claim: every arm of a seed sees the same training stream `rng.stream(seed, "train", T)`
and the same test set `rng.stream(seed, "test", T)`, trains for the same number of steps, and is
scored by its test loss relative to the memoryless baseline 10 ln 8 / (T + 20) (Bai et al.,
Section 5) and by its accuracy on the recalled positions only (the reference code counts all
T + 20 positions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from repro.claims import Result
from repro.kit import rng, tasks
from repro.kit.device import to_device
from repro.kit.figures import loss_curves
from repro.kit.layers import n_params
from repro.kit.train import train
from repro.kit.units import Unit, series

N_TOKENS = 10  # blank 0, symbols 1..8, delimiter 9 (tasks.copy_memory)


def copy_loss(model: nn.Module, batch: tasks.CopyBatch) -> torch.Tensor:
    """Cross-entropy over all T + 20 positions, the loss Bai et al. report."""
    logits = model(batch.x)  # (B, L, N_TOKENS)
    return F.cross_entropy(logits.reshape(-1, N_TOKENS), batch.y.reshape(-1))


def copy_scores(model: nn.Module, batch: tasks.CopyBatch) -> tuple[float, float]:
    """(loss over all T + 20 positions, accuracy on the 10 recalled positions only)."""
    model.eval()
    with torch.no_grad():
        logits = model(batch.x)  # (B, L, N_TOKENS)
        loss = F.cross_entropy(logits.reshape(-1, N_TOKENS), batch.y.reshape(-1)).item()
        hits = logits.argmax(-1)[batch.recall] == batch.y[batch.recall]  # (B * 10,)
    return loss, hits.float().mean().item()


def copy_unit(
    model: nn.Module,
    seed: int,
    *,
    T: int,
    steps: int,
    lr: float,
    batch: int,
    clip: float | None,
    test_size: int,
    curve_every: int,
    desc: str,
) -> dict:
    """Train one arm for one seed at length T; its test loss / baseline, recall accuracy, curve.

    Every arm of a seed at this T sees the same training stream and the same test set; a
    diverged run scores NaN in both judged values."""
    baseline = tasks.copy_memory_baseline(T)
    test = to_device(tasks.copy_memory(test_size, T, rng.stream(seed, "test", T)))
    data = rng.stream(seed, "train", T)
    hist = train(
        model,
        lambda _: tasks.copy_memory(batch, T, data),
        copy_loss,
        torch.optim.Adam(model.parameters(), lr=lr),
        steps,
        clip=clip,
        desc=desc,
    )
    loss, acc = (math.nan, math.nan) if hist.diverged else copy_scores(model, test)
    return {
        "value": loss / baseline,
        "acc": acc,
        "loss": loss,
        "curve": [v / baseline for v in hist.loss[::curve_every]],
        "params": n_params(model),
        "diverged_step": hist.diverged_step if hist.diverged else None,
    }


def copy_arms(arms: Sequence[str]) -> tuple[str, ...]:
    """The value names `copy_result` gives these arms: each arm's test loss / baseline, then
    each arm's recall accuracy `<arm>_acc`."""
    return (*arms, *(f"{a}_acc" for a in arms))


def copy_result(
    claim_id: str,
    arms: Sequence[str],
    seeds: Sequence[int],
    done: Mapping[Unit, dict],
    *,
    part: str,
    T: int,
    curve_every: int,
    caption: str,
) -> Result:
    """The claim's Result from the `copy_unit` outputs of `part` at length T, one per (arm,
    seed): values `copy_arms(arms)`, curves, parameter counts, the curve figure."""
    baseline = tasks.copy_memory_baseline(T)
    runs = {arm: series(done, part, arm, seeds, T) for arm in arms}
    values = {arm: [out["value"] for out in runs[arm]] for arm in arms}
    values |= {f"{arm}_acc": [out["acc"] for out in runs[arm]] for arm in arms}
    curves = {arm: [out["curve"] for out in runs[arm]] for arm in arms}
    params = {arm: runs[arm][0]["params"] for arm in arms}
    notes = [
        f"T = {T}: baseline 10 ln 8 / (T + 20) = {baseline:.4f}; parameters "
        + ", ".join(f"{a} {n}" for a, n in params.items())
    ]
    for i, seed in enumerate(seeds):
        for arm in arms:
            out = runs[arm][i]
            notes.append(
                f"{arm} seed {seed}: test loss {out['loss']:.3g}, recall accuracy {out['acc']:.3f}"
            )
            if out["diverged_step"] is not None:
                notes.append(f"{arm} seed {seed} diverged at step {out['diverged_step']}")
    result = Result(claim_id, values, notes=notes, extra={"params": params, "curves": curves})
    result.add_figure(
        "curves",
        loss_curves(
            curves,
            every=curve_every,
            ylabel="training loss / memoryless baseline",
            baseline=1.0,
            baseline_label="memoryless baseline",
        ),
        caption,
    )
    return result
