"""Kit room, timing: how long a call takes, for callables measured side by side.

A shared machine changes speed from one second to the next: on a loaded 2-core machine a ratio of
two medians measured one after the other swung from 0.77 to 2.35 (the speed issue's measurement).
The protocol here: `warmup` untimed calls of each callable, then `rounds` rounds; in each round
`calls` calls of every callable in turn, the order rotated from round to round, so a change of
load falls on all of them alike. A comparison is the median over rounds of the per-round ratio,
never a ratio of medians taken at different moments.

Used by benchmarks/ (step_speed.py, peers.py) and by cards whose claim is a speed (lei2017sru).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping


def interleaved(
    fns: Mapping[str, Callable[[], object]], *, rounds: int, calls: int, warmup: int
) -> dict[str, list[float]]:
    """Seconds per call of each callable, one value per round (name -> `rounds` values)."""
    if rounds < 1 or calls < 1 or warmup < 0:
        raise ValueError(f"rounds and calls must be >= 1, warmup >= 0: {rounds}, {calls}, {warmup}")
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    out: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:  # rotated: no callable always runs first
            start = time.perf_counter()
            for _ in range(calls):
                fns[name]()
            out[name].append((time.perf_counter() - start) / calls)
    return out


def ratios(times: Mapping[str, list[float]], num: str, den: str) -> list[float]:
    """times[num] / times[den], round by round (each ratio of two measurements made together)."""
    return [a / b for a, b in zip(times[num], times[den], strict=True)]


def median_ratio(times: Mapping[str, list[float]], num: str, den: str) -> float:
    """The median over rounds of times[num] / times[den]: the protocol's one comparison."""
    return statistics.median(ratios(times, num, den))
