"""Vaswani et al. 2017, the figures: accuracy and mass on the answer against T, and the
attention weights of a few test sequences at the longest T."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib import colors
from matplotlib.figure import Figure

from repro.kit import figures


def accuracy_figure(
    acc: Mapping, mass: Mapping, lengths: Sequence[int], chance: float, arms: Sequence[str]
):
    """Accuracy (all arms), mass on the answer (attention) against T: thin one seed, thick mean.
    `acc`, `mass`: arm -> (len(lengths), seeds); `arms` fixes each arm's colour."""
    with matplotlib.rc_context(figures.RC):
        fig, axes = figures.new_figure(width=8.0, height=3.2, ncols=2)
        x = np.log2(lengths)  # T on a log scale
        for ax, data, label in zip(axes, (acc, mass), ("test accuracy", "weight on the answer")):
            for arm, c in data.items():
                rows = np.asarray(c, dtype=float).T  # (seeds, len(lengths))
                color = figures.PALETTE[list(arms).index(arm)]
                figures.seed_lines(ax, x, rows, color, arm, marker="o-")
            ax.set(xticks=x, xticklabels=lengths, xlabel="T (log)", ylabel=label, ylim=(0, 1.02))
        axes[0].axhline(chance, color="0.4", ls="--", lw=1, label="chance")
        axes[0].legend(frameon=False)
    return fig


def heatmaps(heat: Mapping[str, list], answers: Mapping[str, list]):
    """Attention weights (rows: test examples, columns: positions, log colours), answers ringed."""
    norm = colors.LogNorm(vmin=1e-4, vmax=1.0)
    with matplotlib.rc_context(figures.RC):
        fig = Figure(figsize=(9.0, 1.2 + 0.9 * len(heat)), layout="constrained")
        axes = fig.subplots(len(heat), 1, squeeze=False)[:, 0]
        for ax, (arm, w) in zip(axes, heat.items()):
            a = np.maximum(np.asarray(w, dtype=float), 1e-4)  # (rows, T)
            image = ax.imshow(a, aspect="auto", cmap="viridis", norm=norm, interpolation="nearest")
            ax.plot(answers[arm], range(len(a)), "o", mfc="none", mec="red", ms=6, mew=1.2)
            ax.set(ylabel=arm, yticks=[])
        axes[-1].set_xlabel("position (red ring: the answer)")
        fig.colorbar(image, ax=list(axes), label="attention weight (log)")
    return fig
