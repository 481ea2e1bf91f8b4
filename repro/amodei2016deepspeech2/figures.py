"""Deep Speech 2's figures, each as (name, figure, caption) for `Result.add_figure`: training
curves with and without BN (the paper's Figure 2), held-out CER per depth (Table 1's layout),
and the held-out loss per epoch of SortaGrad against shuffled minibatches (Table 2's cells)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure

from repro.kit.figures import PALETTE, arm_values, loss_curves, new_figure


def bn_curves(
    curves: Mapping[str, Sequence[Sequence[float | None]]], lo: int, hi: int, every: int
) -> tuple[str, Figure, str]:
    """Training loss per step: arm -> one curve per seed (None where a step was not finite)."""
    rows = {a: [[math.nan if x is None else x for x in c] for c in cs] for a, cs in curves.items()}
    return (
        "bn-curves",
        loss_curves(rows, every=every, ylabel="training CTC loss"),
        f"Training CTC loss per step, {lo} and {hi} bidirectional layers at the same parameter "
        "budget, with and without sequence-wise BN (one line per seed; cf. the paper's "
        "training-curve figure).",
    )


def bn_cer(cer: Mapping[str, Sequence[float]], eval_size: int) -> tuple[str, Figure, str]:
    """Held-out CER per simple-RNN arm: each seed and the mean with its interval."""
    return (
        "bn-cer",
        arm_values(cer, ylabel="held-out CER"),
        f"Greedy CER on {eval_size} held-out utterances (running BN statistics) per depth with "
        "and without BN: Table 1's layout, each seed and the mean with its 95% interval.",
    )


def sortagrad_curves(
    evals: Mapping[str, Sequence[Sequence[Sequence[float]]]], n_batches: int, depth: int
) -> tuple[str, Figure, str]:
    """Held-out loss per epoch: arm -> one [(step, loss), ...] per seed; no-BN arms on the left,
    BN arms on the right, SortaGrad and shuffled in two colours, the end of epoch 1 dotted."""
    fig, axes = new_figure(width=8.0, ncols=2)
    for arm, rows in evals.items():
        ax = axes[arm.endswith("_bn")]
        color = PALETTE[arm.startswith("shuffled")]
        for j, row in enumerate(rows):
            steps, losses = zip(*row)
            ax.plot(steps, losses, color=color, lw=1, label=arm if j == 0 else None)
    for ax, title in zip(axes, ("no BN", "BN")):
        ax.axvline(n_batches, color="0.5", ls=":", lw=1)  # end of the (sorted) first epoch
        ax.set(xlabel="training step", ylabel="held-out CTC loss", yscale="log", title=title)
        ax.legend(frameon=False)
    return (
        "sortagrad-curves",
        fig,
        f"Held-out CTC loss at the start and after each epoch of {n_batches} minibatches "
        f"(dotted: end of the first epoch), {depth} bidirectional layers, without (left) and "
        "with (right) BN; one line per seed (Table 2's four cells).",
    )
