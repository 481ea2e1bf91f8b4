"""Kit room, units of work and budgets: the grain the runner spreads over cores or a cluster.

A seed is the unit of statistics, not of cost. A paper card that declares three functions lets
the runner run its work in parallel, cache it unit by unit, and resume after a crash:

    units(config, seeds) -> list[Unit]          every independent piece (one seed of one arm)
    unit(config, u) -> dict                     one piece's measurements (JSON values only)
    combine(config, seeds, done) -> [Result]    the claims' results from {Unit: measurements}

A unit's axes are typed fields (`part`, `arm`, `seed`, and `T`, a sequence length, where a card
sweeps one); combine reads a series by its axes with `series`, never by parsing a string. The
runner seeds every generator with `u.seed` before each unit and round-trips every output
through JSON, so a unit's numbers do not depend on which process ran it or in what order (the
parallel and serial paths give bit-identical results). A card with only `run(config, seeds)`
runs as one piece in the runner's own process.

What a full run costs is measured, not declared: `repro list`, the ETA and the budget warning read
the committed provenance (`repro.run.costs`). A card may declare `MEMORY_MB`, a cap on one worker's
peak memory, where it knows one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Unit", "grid", "series"]


@dataclass(frozen=True, order=True)
class Unit:
    """One independent piece of a paper's work: `part` (a claim's short name, or any group
    the card uses), `arm`, `seed`, and `T` (the sequence length where a card sweeps one; 0
    where it does not)."""

    part: str
    arm: str
    seed: int
    T: int = 0

    def __str__(self) -> str:
        length = f"/T={self.T}" if self.T else ""
        return f"{self.part}/{self.arm}{length}/seed {self.seed}"

    @property
    def file(self) -> str:
        """A file name for the per-unit cache (a name only: never parsed back)."""
        name = f"{self.part}--{self.arm}--{self.seed}" + (f"--T{self.T}" if self.T else "")
        return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name) + ".json"


def grid(
    part: str, arms: Iterable[str], seeds: Sequence[int], Ts: Iterable[int] = (0,)
) -> list[Unit]:
    """One unit per (arm, seed, T) of `part`, seeds outermost (the order a serial run took)."""
    arms, Ts = list(arms), list(Ts)
    return [Unit(part, arm, int(seed), T) for seed in seeds for T in Ts for arm in arms]


def series(
    done: Mapping[Unit, Any], part: str, arm: str, seeds: Sequence[int], T: int = 0
) -> list[Any]:
    """The outputs of one arm (at one T), one per seed in `seeds`' order."""
    return [done[Unit(part, arm, int(seed), T)] for seed in seeds]
