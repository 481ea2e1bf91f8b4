"""Alain & Bengio 2016, the figure: probe accuracy against depth, in the paper's layout."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib
import numpy as np

from repro.kit import figures


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
