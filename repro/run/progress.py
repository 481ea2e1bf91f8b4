"""Run room, the progress of a run's units: one line per finished unit with the units done,
running, and the time left at the pace so far."""

from __future__ import annotations

import time
from collections.abc import Callable


class Progress:
    """Units done, running and the ETA, one line per finished unit."""

    def __init__(self, key: str, total: int, done: int, jobs: int, log: Callable[[str], None]):
        self.key, self.total, self.done, self.jobs, self.log = key, total, done, jobs, log
        self.first_done, self.start = done, time.perf_counter()

    def finished(self) -> None:
        self.done += 1
        running = min(self.jobs, self.total - self.done)
        elapsed = time.perf_counter() - self.start
        ran = self.done - self.first_done
        left = (self.total - self.done) * elapsed / ran if ran else 0.0
        self.log(
            f"{self.key}: {self.done}/{self.total} units done, {running} running, "
            f"ETA {_clock(left)}"
        )


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"
