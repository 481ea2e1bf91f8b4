"""He et al. 2016, the figure: training error during training in the layout of Figure 6."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np

from repro.kit import figures


def figure6(
    curves: Mapping[str, list[list[float]]],
    depths: Sequence[int],
    every: int,
    steps: int,
    chance: float,
):
    """Plain nets left, residual nets right, a colour per depth (thin: one seed; thick: the mean
    over seeds). `curves`: arm ("plain-20", "res-56", ...) -> (seeds, points)."""
    with matplotlib.rc_context(figures.RC):
        fig, axes = figures.new_figure(width=8.0, height=3.2, ncols=2)
        for ax, kind, title in zip(axes, ("plain", "res"), ("plain nets", "ResNets")):
            for i, depth in enumerate(depths):
                rows = np.asarray(curves[f"{kind}-{depth}"], dtype=float)  # (seeds, points)
                x = np.minimum(np.arange(rows.shape[1]) * every, steps)  # evals, and the end
                figures.seed_lines(ax, x, rows, figures.PALETTE[i], f"{depth}-layer")
            ax.axhline(chance, color="0.4", ls="--", lw=1, label="chance")
            ax.set(title=title, xlabel="training step", ylabel="training error (%)", ylim=(0, 100))
            ax.legend(frameon=False)
    return fig
