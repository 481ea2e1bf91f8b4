"""Kit room, figures: built on matplotlib's object API (no pyplot state, no display).

Every function returns a `matplotlib.figure.Figure`; the runner turns it into SVG bytes
with `to_svg`, which fixes the SVG's random ids and drops its date so the same figure always gives
the same bytes (stable file names, quiet diffs). Shared pieces:

- `loss_curves`: per-step curves per arm, one thin line per seed, divergence marked;
- `arm_values`: every seed's value per arm with the mean and its 95% interval;
- `gradient_flow_heatmap`: gradient norms per time step (or per layer) over training steps,
  one panel per arm, on one shared log colour scale, NaN/inf shown as "diverged".
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot; we never do, but a notebook might

import numpy as np  # noqa: E402
from matplotlib import colors  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from repro.claims import mean_interval  # noqa: E402

# Colour-blind-safe (Okabe-Ito), one per arm in order.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
RC = {
    "svg.hashsalt": "seqnotes",  # deterministic element ids
    "svg.fonttype": "none",  # text stays text: small, searchable files
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def new_figure(width: float = 6.0, height: float = 3.2, ncols: int = 1) -> tuple[Figure, list]:
    """A figure with `ncols` axes side by side (inches), laid out tightly."""
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def to_svg(fig: Figure) -> bytes:
    """SVG bytes, identical for identical figures (no date, fixed ids)."""
    buf = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def seed_lines(ax, x, rows, color: str, label: str, *, marker: str = "") -> None:
    """One arm on `ax`: a thin line per seed and a thick line for the mean over seeds (a NaN of a
    diverged seed leaves a gap in its own line and drops out of the mean at that point only).
    `rows`: (seeds, points)."""
    rows = np.asarray(rows, dtype=float)  # (seeds, points)
    for row in rows:
        ax.plot(x, row, color=color, lw=0.6, alpha=0.35)
    with np.errstate(all="ignore"):
        mean = np.nanmean(np.where(np.isfinite(rows), rows, np.nan), axis=0)  # (points,)
    ax.plot(x, mean, marker or "-", color=color, lw=2, label=label)


def loss_curves(
    curves: Mapping[str, Sequence[Sequence[float]]],
    *,
    every: int = 1,
    title: str = "",
    ylabel: str = "loss",
    logy: bool = True,
    baseline: float | None = None,
    baseline_label: str = "baseline",
) -> Figure:
    """Loss per training step: arm -> one curve per seed. A curve that ends in NaN/inf (a
    diverged seed) stops at its last finite point, marked with a cross."""
    with matplotlib.rc_context(RC):
        fig, (ax,) = new_figure()
        for i, (arm, seeds) in enumerate(curves.items()):
            color = PALETTE[i % len(PALETTE)]
            for j, curve in enumerate(seeds):
                y = np.asarray(curve, dtype=float)
                x = np.arange(len(y)) * every
                finite = np.isfinite(y)
                ax.plot(
                    x[finite],
                    y[finite],
                    color=color,
                    lw=1,
                    alpha=0.8,
                    label=arm if j == 0 else None,
                )
                if not finite.all() and finite.any():
                    last = np.flatnonzero(finite)[-1]
                    ax.plot(x[last], y[last], "x", color=color, ms=7, mew=2)
        if baseline is not None:
            ax.axhline(baseline, color="0.4", ls="--", lw=1, label=baseline_label)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        ax.legend(frameon=False)
    return fig


def arm_values(
    values: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    ylabel: str = "value",
    logy: bool = False,
    reference: float | None = None,
    reference_label: str = "paper",
) -> Figure:
    """Each seed's value per arm (dots), with the mean and its 95% Student-t interval (bar)."""
    with matplotlib.rc_context(RC):
        fig, (ax,) = new_figure(width=max(3.0, 1.2 * len(values) + 1.5))
        for i, (arm, vs) in enumerate(values.items()):
            color = PALETTE[i % len(PALETTE)]
            ys = np.asarray(vs, dtype=float)
            finite = ys[np.isfinite(ys)]
            jitter = np.linspace(-0.12, 0.12, len(ys)) if len(ys) > 1 else np.zeros(1)
            ax.plot(i + jitter[np.isfinite(ys)], finite, "o", color=color, alpha=0.6, ms=4)
            if len(finite):
                mean, lo, hi = mean_interval(finite)
                if math.isnan(lo):
                    lo = hi = mean
                ax.errorbar(
                    i + 0.3,
                    mean,
                    yerr=[[mean - lo], [hi - mean]],
                    fmt="s",
                    color=color,
                    capsize=4,
                    ms=5,
                )
            if len(finite) < len(ys):
                ax.annotate(
                    f"{len(ys) - len(finite)} diverged",
                    (i, 1.0),
                    xycoords=("data", "axes fraction"),
                    ha="center",
                    va="top",
                    color=color,
                    fontsize=8,
                )
        if reference is not None:
            ax.axhline(reference, color="0.4", ls="--", lw=1, label=reference_label)
            ax.legend(frameon=False)
        ax.set_xticks(range(len(values)), list(values))
        ax.set_xlim(-0.5, len(values) - 0.2)
        if logy:
            ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
    return fig


def gradient_flow_heatmap(
    panels: Mapping[str, Sequence[Sequence[float]] | np.ndarray],
    steps: Sequence[int],
    *,
    position_label: str = "time step",
    title: str = "",
) -> Figure:
    """Gradient norms as heatmaps, one panel per arm: rows are training steps (`steps`, where
    they were probed), columns the positions (time steps back from the loss, or layers).

    Each array is (len(steps), positions). The colour is log10 of the norm on a scale shared by
    all panels, so vanishing (dark) and exploding (bright) gradients compare across arms at a
    glance; NaN/inf cells (a diverged run) are drawn grey.
    """
    arrays = {arm: np.asarray(a, dtype=float) for arm, a in panels.items()}
    for arm, a in arrays.items():
        if a.ndim != 2 or a.shape[0] != len(steps):
            raise ValueError(f"panel '{arm}': expected ({len(steps)}, positions), got {a.shape}")
    finite = np.concatenate([a[np.isfinite(a) & (a > 0)].ravel() for a in arrays.values()])
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (1e-8, 1.0)
    if vmin == vmax:
        vmin, vmax = vmin / 10, vmax * 10
    norm = colors.LogNorm(vmin=vmin, vmax=vmax)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.75")
    with matplotlib.rc_context(RC):
        fig, axes = new_figure(width=3.2 * len(arrays) + 1.0, height=3.0, ncols=len(arrays))
        image = None
        for ax, (arm, a) in zip(axes, arrays.items()):
            masked = np.ma.masked_invalid(np.where(a > 0, a, np.nan))
            image = ax.imshow(
                masked,
                aspect="auto",
                origin="lower",
                cmap=cmap,
                norm=norm,
                extent=(-0.5, a.shape[1] - 0.5, -0.5, a.shape[0] - 0.5),
                interpolation="nearest",
            )
            ticks = np.linspace(0, len(steps) - 1, min(len(steps), 5)).round().astype(int)
            ax.set_yticks(ticks, [str(steps[t]) for t in ticks])
            ax.set_title(arm)
            ax.set_xlabel(position_label)
        axes[0].set_ylabel("training step")
        if image is not None:
            fig.colorbar(image, ax=axes, label="gradient norm (log scale)")
        if title:
            fig.suptitle(title)
    return fig
