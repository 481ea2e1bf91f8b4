"""Claims room, verdicts: what a criterion can say of a claim, and the evaluation it returns.

| verdict          | when                                                                   |
|------------------|------------------------------------------------------------------------|
| reproduced       | every part holds                                                       |
| not reproduced   | some part clearly fails (a diverged run fails every part that reads it) |
| inconclusive     | too few seeds, or a 95% interval straddles the threshold               |
| failed           | the run did not produce what the criterion needs (missing arm, ...)    |

A check (exact or deterministic) holds or fails instead (repro.claims.model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    # reproductions: an experimental outcome that could come out either way
    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "not reproduced"
    INCONCLUSIVE = "inconclusive"
    FAILED = "failed"  # the run did not produce what the criterion needs (either kind)
    # checks: exact or deterministic (an identity, a bound, an IEEE limit)
    HOLDS = "holds"
    FAILS = "fails"


Domains = Mapping[str, str]  # arm -> stats.DOMAINS, or "proportion" (0/1 outcomes: Wilson)


@dataclass(frozen=True)
class Evaluation:
    verdict: Verdict
    detail: str  # why, one line per part


def worst(verdicts: Sequence[Verdict]) -> Verdict:
    """A criterion's verdict from its parts': the worst part decides."""
    for v in (Verdict.FAILED, Verdict.NOT_REPRODUCED, Verdict.INCONCLUSIVE):
        if v in verdicts:
            return v
    return Verdict.REPRODUCED
