"""Chang et al. 2017, the figures of the checks: recurrent lengths against span and depth,
dilated against regular skips, and the gradient at initialization against T."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from repro.kit.figures import PALETTE, new_figure, seed_lines


def lengths_figure(curve: tuple[list[int], list[int]], table: Sequence[tuple]) -> Figure:
    """Left: d(n) of the deepest stack, dilated and flat; right: the mean against depth.
    `table` rows: (L, m, dilated mean, flat mean)."""
    L, m = table[-1][:2]
    fig, (ax1, ax2) = new_figure(width=8.0, ncols=2)
    ns = np.arange(1, m + 1)
    ax1.plot(ns, curve[1], color=PALETTE[1], label="flat: d(n) = n")
    ax1.plot(ns, curve[0], ".", color=PALETTE[0], ms=3, label="dilated: digit sum")
    ax1.plot(ns, np.floor(np.log2(ns)) + 1, "--", color="0.4", lw=1, label="floor(log2 n) + 1")
    ax1.set(xscale="log", yscale="log", xlabel="span n", ylabel="recurrent edges d(n)")
    ax1.set_title(f"L = {L}, dilations 1..{m}")
    ax1.legend(frameon=False)
    Ls = [row[0] for row in table]
    ax2.plot(Ls, [row[3] for row in table], "o-", color=PALETTE[1], label="flat: (m + 1)/2")
    ax2.plot(Ls, [row[2] for row in table], "o-", color=PALETTE[0], label="dilated")
    ax2.set(yscale="log", xlabel="layers L (m = 2^(L-1))", ylabel="mean recurrent length")
    ax2.legend(frameon=False)
    return fig


def skip_figure(
    rows: Sequence[tuple], copy_skip: int, ns: np.ndarray, d_skip: np.ndarray, d_dil: np.ndarray
) -> Figure:
    """Left: mean recurrent length against the period m; right: d(n) at the deepest stack,
    regular skips at their best s against dilations. `rows`: (L, m, dilated, best regular,
    best s, regular at copy_skip, flat)."""
    L, m, s_best = rows[-1][0], rows[-1][1], rows[-1][4]
    fig, (ax1, ax2) = new_figure(width=8.0, ncols=2)
    ms = [r[1] for r in rows]
    ax1.plot(ms, [r[6] for r in rows], "o-", color=PALETTE[2], label="no skips: (m + 1)/2")
    copy_label = f"regular skip, s = {copy_skip} (copy arm)"
    ax1.plot(ms, [r[5] for r in rows], "s--", color=PALETTE[1], ms=3, label=copy_label)
    ax1.plot(ms, [r[3] for r in rows], "s-", color=PALETTE[1], label="regular skip, best s")
    ax1.plot(ms, [r[2] for r in rows], "o-", color=PALETTE[0], label="dilated 1, 2, ..., m")
    ax1.set(xscale="log", yscale="log", xlabel="period m = 2^(L-1)")
    ax1.set(ylabel="mean recurrent length")
    ax1.legend(frameon=False)
    ax2.plot(ns, d_skip, color=PALETTE[1], lw=1, label=f"regular skip s = {s_best}")
    ax2.plot(ns, d_dil, ".", color=PALETTE[0], ms=3, label="dilated")
    ax2.set(xlabel="span n", ylabel="recurrent edges d(n)", title=f"L = {L}, m = {m}")
    ax2.legend(frameon=False)
    return fig


def gradient_figure(norms: Mapping[str, Mapping[int, list[float]]], lengths: list[int]) -> Figure:
    """||dy_T / dx_1|| against T, a thin line per seed and their mean per arm; an exact float64
    underflow (0.0) is drawn at 1e-320, the bottom of the axis."""
    tiny = 1e-320
    fig, (ax,) = new_figure(width=5.0)
    for i, (arm, by_T) in enumerate(norms.items()):
        n_seeds = len(by_T[lengths[0]])
        rows = [[max(by_T[T][j], tiny) for T in lengths] for j in range(n_seeds)]  # (seeds, T)
        seed_lines(ax, lengths, rows, PALETTE[i], arm, marker="o-")
    ax.set(xscale="log", yscale="log", xlabel="T", ylabel="||dy_T / dx_1|| at init")
    ax.legend(frameon=False)
    return fig
