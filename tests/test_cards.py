"""Every card, without training: the arms its criteria read exist at every scale, a diverged arm
never reproduces a claim, and its randomness comes from named streams.

These hold each card to the protocol (repro.run.discover) rather than testing one paper's
science; the per-paper files test the science.
"""

from __future__ import annotations

import ast
import math

import pytest

from repro.claims import Verdict, load_record
from repro.run.config import SCALES
from repro.run.discover import ROOT, committed_dir, discover

PAPERS = discover(ROOT)
REPRODUCTIONS = [
    (paper, claim)
    for paper in PAPERS.values()
    for claim in paper.claims
    if not claim.is_check and claim.criterion is not None
]


def test_every_card_with_reproductions_declares_its_arms():
    missing = [
        p.key
        for p in PAPERS.values()
        if any(not c.is_check for c in p.claims) and not callable(getattr(p.module, "arms", None))
    ]
    assert not missing, f"cards without arms(config): {missing}"


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("key", sorted(PAPERS))
def test_every_arm_a_criterion_reads_is_produced_at_every_scale(key, scale):
    paper = PAPERS[key]
    declared = paper.arms(paper.config(scale))
    assert set(declared) == {c.id for c in paper.claims}, sorted(declared)
    problems = []
    for claim in paper.claims:
        if claim.criterion is None:
            continue
        missing = sorted(set(claim.criterion.arms()) - set(declared.get(claim.id, ())))
        if missing:
            problems.append(f"{claim.id} at scale {scale}: criterion reads {missing}, not declared")
    assert not problems, "\n".join(problems)


def _values(paper, claim) -> dict[str, list[float]]:
    """The committed run's values for the claim, or 5 seeds of 1.0 per arm where none exist."""
    record = load_record(committed_dir(ROOT), paper.key)
    result = record.results.get(claim.id) if record is not None else None
    if result is not None and result.values:
        return {a: [float(x) for x in v] for a, v in result.values.items()}
    return {a: [1.0] * 5 for a in claim.criterion.arms()}


@pytest.mark.parametrize("paper, claim", REPRODUCTIONS, ids=[c.id for _, c in REPRODUCTIONS])
def test_a_diverged_arm_never_reproduces_a_claim(paper, claim):
    """Replace any one arm the criterion reads by NaN on every seed (the run diverged): the
    verdict is never "reproduced", whatever the direction of the part that reads it."""
    values = _values(paper, claim)
    flipped = []
    for arm in claim.criterion.arms():
        n = len(values.get(arm, [])) or 5
        broken = {**values, arm: [math.nan] * n}
        for other in values:  # the paired arms keep their seed count
            if len(broken[other]) != n:
                broken[other] = (broken[other] * n)[:n]
        if claim.evaluate(broken).verdict == Verdict.REPRODUCED:
            flipped.append(arm)
    assert not flipped, f"{claim.id}: all-NaN arm(s) {flipped} still give 'reproduced'"


def _calls(tree: ast.AST, name: str) -> list[int]:
    return [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute | ast.Name)
        and getattr(n.func, "attr", getattr(n.func, "id", None)) == name
    ]


@pytest.mark.parametrize("key", sorted(PAPERS))
def test_no_card_seeds_a_global_generator(key):
    """The runner seeds each unit once; a card draws from named streams (repro.kit.rng)."""
    paper = PAPERS[key]
    files = [paper.path] if paper.path.is_file() else sorted(paper.path.rglob("*.py"))
    found = []
    for f in files:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for name in ("manual_seed", "seed", "seed_everything", "manual_seed_all"):
            found += [f"{f.relative_to(ROOT)}:{line} calls {name}" for line in _calls(tree, name)]
    assert not found, "\n".join(found)
