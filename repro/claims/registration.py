"""Claims room, pre-registration: exploration and confirmation seeds, revisions, audit seeds.

A paper whose claims include a reproduction declares, before its confirmation run, the seeds it
was explored on (used to choose configs, budgets and criteria) and the disjoint seeds that
confirm it. A committed run on seeds that overlap the exploration seeds is refused; a criterion
or a confirmation seed set that changes while a result exists is a revision, which needs a
stated reason and is kept in the result's history; `repro audit` reruns a reproduction on seeds
drawn at random from a range that no exploration or confirmation uses, never one used before.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from repro.claims.model import Claim, Record

# At least 5 seeds per stochastic reproduction: a t interval on fewer is too wide to decide.
MIN_CONFIRMATION_SEEDS = 5
AUDIT_RANGE = (10_000_000, 2_000_000_000)  # far from every registered seed; under 2**31


@dataclass(frozen=True)
class Registration:
    """The seeds of a paper's reproductions, fixed before the confirmation run.

    exploration: every seed looked at while choosing configs, budgets and criteria.
    confirmation: the committed run's seeds (full scale, and paper scale); disjoint from
    exploration, at least 5.
    quick: the seeds of the quick scale (tests, CI): exploration seeds, never confirmation ones.
    note: what was explored and decided on those seeds, in a sentence or two (shown on the page).
    """

    exploration: tuple[int, ...]
    confirmation: tuple[int, ...]
    note: str = ""
    quick: tuple[int, ...] = (0, 1)

    def __post_init__(self) -> None:
        for name in ("exploration", "confirmation"):
            seeds = getattr(self, name)
            if len(set(seeds)) != len(seeds) or any(s < 0 for s in seeds):
                raise ValueError(f"{name} seeds must be distinct non-negative integers: {seeds}")
        if len(self.confirmation) < MIN_CONFIRMATION_SEEDS:
            raise ValueError(
                f"confirmation needs at least {MIN_CONFIRMATION_SEEDS} seeds, "
                f"got {len(self.confirmation)}"
            )
        both = sorted(set(self.exploration) & set(self.confirmation))
        if both:
            raise ValueError(f"confirmation seeds {both} were used for exploration")
        if not self.quick or not set(self.quick) <= set(self.exploration):
            raise ValueError(f"quick seeds {self.quick} must be exploration seeds")

    def overlap(self, seeds: Iterable[int]) -> list[int]:
        return sorted(set(seeds) & set(self.exploration))


def revisions(old: Record, claims: Sequence[Claim], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """What a new committed run would change against the stored record: one entry per claim
    whose criterion or seeds differ (a result stored without its criterion counts as changed)."""
    out = []
    old_seeds = list(old.provenance.get("seeds", []))
    for claim in claims:
        r = old.results.get(claim.id)
        if r is None:
            continue
        criterion_changed = r.criterion_key != claim.criterion_key()
        seeds_changed = old_seeds != list(seeds)
        if criterion_changed or seeds_changed:
            out.append(
                {
                    "claim_id": claim.id,
                    "old_criterion": r.criterion or _parts(r.detail) or "(not recorded)",
                    "old_verdict": None if r.verdict is None else str(r.verdict),
                    "old_seeds": old_seeds,
                    "old_commit": old.provenance.get("commit", "unknown"),
                    "new_criterion": "" if claim.criterion is None else claim.criterion.describe(),
                    "new_seeds": list(seeds),
                    "changed": [
                        w
                        for w, c in (("criterion", criterion_changed), ("seeds", seeds_changed))
                        if c
                    ],
                }
            )
    return out


def _parts(detail: str) -> str:
    """The criterion as an old result's detail lines name it (before criteria were stored)."""
    heads = [line.split(": ", 1)[0] for line in detail.splitlines() if ": " in line]
    return "; and ".join(heads)


def stamp(entries: list[dict[str, Any]], reason: str) -> list[dict[str, Any]]:
    date = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    return [{**e, "reason": reason, "date": date} for e in entries]


def audit_seeds(used: Iterable[int], n: int, rng: random.Random | None = None) -> list[int]:
    """`n` seeds drawn at random from AUDIT_RANGE, none in `used` and none repeated: nobody
    chooses them, and no seed is ever reused for the same paper."""
    rng = rng or random.SystemRandom()
    taken = set(used)
    out: list[int] = []
    while len(out) < n:
        s = rng.randrange(*AUDIT_RANGE)
        if s not in taken:
            taken.add(s)
            out.append(s)
    return out
