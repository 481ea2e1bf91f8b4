"""Bengio et al. 1994: the span experiment's figure, success frequency against the span T."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from repro.claims import wilson_interval
from repro.kit.figures import PALETTE, new_figure


def span_figure(
    trials: Callable[[str, str, int], list[float]],
    problems: Mapping[str, str],
    algos: Sequence[str],
    spans: Sequence[int],
    oracle: str,
):
    """One panel per problem (task and noise reading; `problems`: name -> panel title), one
    line per algorithm: the fraction of trials that succeeded at each span, with 95% Wilson
    intervals on the trials."""
    fig, axes = new_figure(width=12.0, height=3.0, ncols=len(problems))
    for ax, (problem, title) in zip(axes, problems.items()):
        for i, algo in enumerate(algos):
            outcomes = [trials(problem, algo, T) for T in spans]  # 0/1 per trial, per span
            rate = np.array([sum(o) / len(o) for o in outcomes])  # (len(spans),)
            ci = np.array([wilson_interval(round(sum(o)), len(o)) for o in outcomes]).T
            err = np.maximum(0.0, [rate - ci[0], ci[1] - rate])  # Wilson's end can pass the rate
            style = {"fmt": "*" if algo == oracle else "o-", "color": PALETTE[i], "capsize": 3}
            ax.errorbar(list(spans), rate, yerr=err, label=algo, **style)
        ax.set(xscale="log", xlabel="span T", title=title, ylim=(-0.05, 1.05))
    axes[0].set_ylabel("frequency of success (95% Wilson)")
    axes[0].legend(frameon=False)
    return fig
