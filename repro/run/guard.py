"""Run room, guards: what a committed run refuses, before anything trains.

A run that writes the committed results (docs/results/) must be a confirmation:
- on seeds disjoint from the paper's exploration seeds (REGISTRATION);
- from a paper module (and everything it imports) with no uncommitted changes, so that the
  criterion that judged the result is in the commit the result names;
- and, where a criterion or the seeds differ from the stored result's, with a stated reason
  (`--revise "why"`), which goes into the result's history and onto the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from repro.claims import Record, revisions, stamp
from repro.run.discover import Paper, committed_dir, paper_scale_dir, rel
from repro.run.errors import UsageError
from repro.run.provenance import code_files, git_state


def is_committed(paper: Paper, results_dir: Path) -> bool:
    here = Path(results_dir).resolve()
    return here in (committed_dir(paper.root).resolve(), paper_scale_dir(paper.root).resolve())


def refuse_exploration_seeds(paper: Paper, seeds: Sequence[int]) -> None:
    reg = paper.registration
    used = reg.overlap(seeds) if reg is not None else []
    if used:
        raise UsageError(
            f"{paper.key}: seeds {used} were used to explore this paper ({paper.rel}, "
            "REGISTRATION.exploration); a committed result is confirmed on other seeds "
            "(run on them into scratch/ with --results-dir, or leave --seeds out)"
        )


def refuse_dirty(paper: Paper) -> None:
    files = code_files(paper)
    _, dirty = git_state(paper.root, files)
    if dirty:
        names = ", ".join(rel(f, paper.root) for f in files)
        raise UsageError(
            f"{paper.key}: uncommitted changes in the code this result would depend on "
            f"({names}): commit them first, so the result names the commit that judged it"
        )


def history_for(
    paper: Paper, old: Record | None, seeds: Sequence[int], revise: str | None
) -> list[dict[str, Any]]:
    """The history the new committed record carries: the old one plus this run's revisions.
    UsageError when something changed and no reason was given."""
    if old is None:
        return []
    changes = revisions(old, paper.claims, seeds)
    if changes and not revise:
        lines = "\n  ".join(
            f"{c['claim_id']}: {' and '.join(c['changed'])} changed "
            f"(was: {c['old_criterion']} on seeds {c['old_seeds']}; verdict {c['old_verdict']})"
            for c in changes
        )
        raise UsageError(
            f"{paper.key}: this run revises a stored result:\n  {lines}\n"
            'say why with --revise "..." (the page shows the old criterion, its verdict, the '
            "new one, the reason and the date)"
        )
    return list(old.history) + (stamp(changes, revise) if changes and revise else [])
