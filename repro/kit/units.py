"""Kit room, units of work and budgets: the grain the runner spreads over cores or a cluster.

A seed is the unit of statistics, not of cost. A paper card that declares three functions lets
the runner run its work in parallel, cache it unit by unit, and resume after a crash:

    units(config, seeds) -> list[Unit]          every independent piece (one seed of one arm)
    unit(config, u) -> dict                     one piece's measurements (JSON values only)
    combine(config, seeds, done) -> [Result]    the claims' results from {Unit: measurements}

The runner seeds every generator with `u.seed` before each unit and round-trips every output
through JSON, so a unit's numbers do not depend on which process ran it or in what order (the
parallel and serial paths give bit-identical results). A card with only `run(config, seeds)`
runs as one piece in the runner's own process.

`BUDGET` is what the card's full-scale run is expected to cost on one core: the runner warns when
a run exceeds it by half, and `repro list` shows it before anyone starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Budget", "Unit", "grid"]


@dataclass(frozen=True, order=True)
class Unit:
    """One independent piece of a paper's work: `part` (a claim's short name, or any group
    the card uses), `arm`, `seed`."""

    part: str
    arm: str
    seed: int

    def __str__(self) -> str:
        return f"{self.part}/{self.arm}/seed {self.seed}"

    @property
    def file(self) -> str:
        """A file name for the per-unit cache."""
        safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", f"{self.part}--{self.arm}--{self.seed}")
        return f"{safe}.json"


def grid(part: str, arms: Iterable[str], seeds: Sequence[int]) -> list[Unit]:
    """One unit per (arm, seed) of `part`, seeds outermost (the order a serial run took)."""
    arms = list(arms)
    return [Unit(part, arm, int(seed)) for seed in seeds for arm in arms]


@dataclass(frozen=True)
class Budget:
    """Expected cost of the full-scale run on the default seeds: CPU seconds summed over all
    units on one thread each, and the peak resident memory of one worker."""

    cpu_s: float
    memory_mb: float
    measured: str  # where the figures come from (a run's provenance, a machine, a date)

    def exceeded(self, cpu_s: float, memory_mb: float) -> list[str]:
        """What went over the budget by more than half, in words (empty when nothing did)."""
        over = []
        if cpu_s > 1.5 * self.cpu_s:
            over.append(f"CPU time {cpu_s:.0f} s against a budget of {self.cpu_s:.0f} s")
        if memory_mb > 1.5 * self.memory_mb:
            over.append(f"peak memory {memory_mb:.0f} MB against {self.memory_mb:.0f} MB")
        return over

    def __str__(self) -> str:
        minutes = self.cpu_s / 60
        cpu = f"{minutes:.0f} CPU min" if minutes >= 1 else f"{self.cpu_s:.0f} CPU s"
        return f"{cpu}, {self.memory_mb:.0f} MB"
