"""Bai et al. 2018, Section 5.4's memory-size study (Figure 5): copy-memory recall accuracy
against T for each arm, and per seed the longest T of the grid at which the arm still recalls."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from repro.claims import Result
from repro.kit.figures import PALETTE, new_figure, seed_lines
from repro.kit.units import Unit, series


@dataclass(frozen=True)
class Memory:
    """Section 5.4's memory-size study (Figure 5): copy memory at growing T, `copy`'s models."""

    lengths: tuple[int, ...] = (10, 20, 40)  # paper: Figure 5's lengths (not given in the text;
    # the LSTM is below 20% before T = 50, the GRU before T = 200, Sec 5.4); the runs at copy.T
    # are shared with the copy-memory claim
    acc: float = 0.5  # "recalls": halfway from the TCN's 100% to chance (1/8), paper Sec 5.4


def reach(accs: Sequence[float], Ts: Sequence[int], threshold: float) -> float:
    """The largest T whose recall accuracy is at least `threshold` (0 where none is); NaN where
    any length's run diverged, so a diverged seed never passes as one that did not recall."""
    if any(math.isnan(a) for a in accs):
        return math.nan
    return float(max((T for T, a in zip(Ts, accs) if a >= threshold), default=0))


def reach_arms(arms: Sequence[str]) -> tuple[str, ...]:
    """The value names `memory_result` gives these arms."""
    return tuple(f"{a}_reach" for a in arms)


def memory_result(
    claim_id: str,
    arms: Sequence[str],
    seeds: Sequence[int],
    done: Mapping[Unit, dict],
    part: str,
    lengths: Sequence[int],
    threshold: float,
    steps: int,
) -> Result:
    """Values `reach_arms(arms)` per seed, from the copy-memory runs of `part` at every T of
    `lengths`."""
    Ts = list(lengths)
    acc = {
        a: {T: [out["acc"] for out in series(done, part, a, seeds, T)] for T in Ts} for a in arms
    }
    values = {
        name: [reach([acc[a][T][i] for T in Ts], Ts, threshold) for i in range(len(seeds))]
        for a, name in zip(arms, reach_arms(arms))
    }
    notes = [
        f"{a} T = {T}: recall accuracy per seed " + ", ".join(f"{v:.2f}" for v in acc[a][T])
        for a in arms
        for T in Ts
    ]
    result = Result(
        claim_id,
        values,
        notes=notes,
        extra={"acc": {a: {str(T): v for T, v in d.items()} for a, d in acc.items()}},
    )
    fig, (ax,) = new_figure(width=5.0)
    for i, a in enumerate(arms):
        rows = [[acc[a][T][j] for T in Ts] for j in range(len(seeds))]  # (seeds, lengths)
        seed_lines(ax, Ts, rows, PALETTE[i], a, marker="o-")
    ax.axhline(1 / 8, color="0.4", ls=":", lw=1, label="chance (1/8)")
    ax.axhline(threshold, color="0.4", ls="--", lw=1, label="recalls")
    ax.set(xlabel="T (blank steps)", ylabel="recall accuracy", ylim=(0, 1.05))
    ax.legend(frameon=False)
    result.add_figure(
        "memory",
        fig,
        "Copy memory: accuracy on the 10 recalled symbols against T, a thin line per seed and "
        f"their mean ({steps} steps per run), as in the paper's Figure 5.",
    )
    return result
