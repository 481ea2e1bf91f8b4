"""Run room, the progress of a run's units: one line per finished unit with the units done,
running, and the time left.

The time left weighs each remaining unit by its CPU seconds in the last committed run (the
provenance's `unit_cpu_s`) at the pace measured so far, so one slow arm left at the end is not
mistaken for a quick one; units with no measured cost count as the mean of those that have one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence


class Progress:
    """Units done, running and the ETA, one line per finished unit."""

    def __init__(
        self,
        key: str,
        todo: Sequence[str],
        done: int,
        jobs: int,
        log: Callable[[str], None],
        expected: Mapping[str, float] | None = None,
    ):
        self.key, self.done, self.jobs, self.log = key, done, jobs, log
        self.total = done + len(todo)
        known = [expected[u] for u in todo if expected and u in expected]
        mean = sum(known) / len(known) if known else 1.0
        self.weight = {u: (expected or {}).get(u, mean) for u in todo}  # unit -> expected CPU s
        self.all = self.left = sum(self.weight.values())
        self.start = time.perf_counter()

    def finished(self, unit: str) -> None:
        self.done += 1
        running = min(self.jobs, self.total - self.done)
        self.left -= self.weight.pop(unit, 0.0)
        ran = self.all - self.left  # expected CPU s of the units finished in this run
        elapsed = time.perf_counter() - self.start
        eta = self.left * elapsed / ran if ran > 0 else 0.0
        self.log(
            f"{self.key}: {self.done}/{self.total} units done, {running} running, ETA {_clock(eta)}"
        )


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"
