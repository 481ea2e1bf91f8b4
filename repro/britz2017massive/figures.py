"""Britz et al. 2017, the figure: how often each arm diverged, with its Wilson interval."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

from repro.claims.stats import wilson_interval
from repro.kit import figures


def divergence_figure(div: Mapping[str, list[float]]):
    """k/n diverged per arm with its Wilson 95% interval; dashed: the paper's 3 of 4."""
    with matplotlib.rc_context(figures.RC):
        fig, (ax,) = figures.new_figure(width=4.8)
        for i, (arm, vs) in enumerate(div.items()):
            k, n = round(sum(vs)), len(vs)
            lo, hi = wilson_interval(k, n)
            yerr = [[k / n - lo], [hi - k / n]]
            ax.errorbar(i, k / n, yerr=yerr, fmt="o", color=figures.PALETTE[i], capsize=4, ms=6)
            ax.annotate(f"{k}/{n}", (i, hi), xytext=(0, 4), textcoords="offset points", ha="center")
        ax.axhline(0.75, color="0.4", ls="--", lw=1, label="paper: 3 of 4 runs (not verified)")
        ax.set(
            xticks=range(len(div)),
            xticklabels=list(div),
            ylim=(-0.05, 1.12),
            ylabel="fraction of runs that diverged",
        )
        ax.legend(frameon=False, loc="upper right")
    return fig
