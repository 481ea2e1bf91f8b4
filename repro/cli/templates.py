"""Command-line room, the scaffold's templates: a paper's note, card and test (`repro new`).

Each is a `str.format` template: `{key}` and the entry's fields are filled in, `{{` is a brace.
The card follows the protocol of repro.run.discover: claims, registration, config, arms, units.
"""

NOTE = """\
---
tags:
  - to read
---

# {title}

{authors} ({year}). {venue_line}{links}

!!! warning "Stub"
    A new note: fill in the sections below, then state the claim's pass criterion in
    `repro/{key}.py`.

## The problem

What question does the paper answer, and why was it open [@{key}]?

## The idea

The method in a paragraph, then the equation that matters, typeset:

$$
y = f(x)
$$

## Experiments and headline numbers

Each number with the table or figure it comes from, cited [@{key}].

## Reproduction

{{{{ claims {key} }}}}

## Related

Links to related papers and topics.

## Open questions

What the paper leaves open, and what a reproduction here could check.
"""

MODULE = '''\
"""{citation}

Claim: (one sentence, in our words).

Key equation: (the one that matters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from repro.claims import Claim, Registration, Result
from repro.kit import rng
from repro.kit.units import Unit, grid, series

CLAIMS = [
    Claim(
        id="{key}.main",
        title="(what the paper claims, in a few words: the claim block's heading)",
        statement="(the claim in one sentence)",
        paper_value="(the paper's number, and every other arm of that table row or figure)",
        where="(table, figure or section)",
        metric="(what one value per seed and arm measures)",
        kind="reproduction",  # or "check": exact or deterministic (an identity, a bound)
        domain="real",  # or "nonnegative" (a loss) or "probability" (an accuracy)
        setup="(paper: its setup | ours: what differs, e.g. T = 1000 | T = 100)",
        # State the pass criterion BEFORE the first full run, e.g.
        # below("new", "baseline", seeds=0.8) & below("new", 0.05) (see repro/claims/).
        criterion=None,
    ),
]

# The seeds you explore with (quick runs, choosing sizes and the criterion) are never the seeds
# the committed result is confirmed on; declare both before the first full run.
REGISTRATION = Registration(
    exploration=(0, 1),
    confirmation=(100, 101, 102, 103, 104),
    note="(what was chosen while looking at the exploration seeds)",
    quick=(0, 1),  # the quick scale's seeds (tests, CI): exploration seeds
)

ARMS = ("baseline", "new")  # every arm of the paper's table row or figure


@dataclass(frozen=True)
class Config:
    steps: int = 1000  # (why this value; where it departs from the paper)

    @classmethod
    def quick(cls) -> Config:
        return cls(steps=50)

    @classmethod
    def paper(cls) -> Config:
        return cls(steps=100_000)


def arms(config: Config) -> dict[str, tuple[str, ...]]:
    """Claim id -> every arm the run writes (what the criterion may read), at this config."""
    return {{"{key}.main": ARMS}}


def units(config: Config, seeds: Sequence[int]) -> list[Unit]:
    return grid("main", ARMS, seeds)  # one unit per (arm, seed): the runner spreads them


def unit(config: Config, u: Unit) -> dict:
    data = rng.stream(u.seed, "train")  # named streams: every arm of a seed sees the same data
    with rng.scope(u.seed, "init"):  # and starts from the same weights
        ...
    raise NotImplementedError(
        "repro/{key}.py: write unit(): train arm u.arm on seed u.seed with "
        "repro.kit.train.train and return its measurements, e.g. {{'final': loss}}"
    )


def combine(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> list[Result]:
    values = {{arm: [o["final"] for o in series(done, "main", arm, seeds)] for arm in ARMS}}
    return [Result("{key}.main", values)]
'''

TEST = '''\
"""{key}: the model parts against what the paper states, and each claim at quick scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.run.discover import discover
from repro.run.runner import run_paper

ROOT = Path(__file__).resolve().parents[1]


def test_every_claim_is_specified():
    paper = discover(ROOT)["{key}"]
    missing = [claim.id for claim in paper.claims if claim.criterion is None]
    if missing:
        pytest.fail(
            f"claim not yet specified: {{', '.join(missing)}}: state its pass criterion "
            "in repro/{key}.py (CLAIMS) before the first full run",
            pytrace=False,
        )


@pytest.mark.slow  # it trains: the fast loop (`-m "not slow"`) skips it, CI runs it
def test_claims_at_quick_scale(tmp_path):
    paper = discover(ROOT)["{key}"]
    out = run_paper(paper, scale="quick", results_dir=tmp_path, force=True)
    if out.status != "ran":
        pytest.fail(f"the run did not finish: {{out.error}}", pytrace=False)
    values = out.record.results["{key}.main"].values
    # The direction of the effect at quick scale, in a band whose comment says why (never a
    # pinned verdict or an exact number: those change with the machine).
    assert sum(values["new"]) < sum(values["baseline"]), values
'''
