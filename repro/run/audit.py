"""Run room, the audit: replication of each reproduction on seeds never used for it before.

`audit_paper` draws fresh seeds at random (repro.claims.audit_seeds) from a range that no
exploration or confirmation uses, avoiding every seed this paper has ever run on (exploration,
confirmation, earlier audits), reruns the paper at full scale on them into scratch/, and appends
the replication (values, verdicts, provenance; no figures) to docs/results/<key>/audit.json,
beside the confirmation result. Checks are deterministic and are not audited.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.claims import Record, audit_seeds, load_audit, save_audit
from repro.run.costs import quiet_load
from repro.run.discover import Paper, committed_dir, scratch_dir
from repro.run.errors import UsageError
from repro.run.guard import refuse_dirty
from repro.run.runner import run_paper


@dataclass
class AuditOutcome:
    paper: Paper
    status: str  # "audited", "skipped" (checks only), "failed" (run() raised)
    record: Record | None = None
    path: Path | None = None
    error: str = ""


def used_seeds(paper: Paper, results: Path) -> set[int]:
    """Every seed this paper has been explored, confirmed or audited on."""
    reg = paper.registration
    used = set(reg.exploration) | set(reg.confirmation) if reg is not None else set()
    stored = quiet_load(results, paper.key)
    if stored is not None:
        used |= set(stored.provenance.get("seeds", []))
        for h in stored.history:
            used |= set(h.get("old_seeds", []))
    for audit in load_audit(results, paper.key):
        used |= set(audit.provenance.get("seeds", []))
    return used


def audit_paper(
    paper: Paper,
    *,
    n: int | None = None,
    log: Callable[[str], None] = print,
    device: str | None = None,
    rng: random.Random | None = None,
    results_dir: Path | None = None,
    **pool: Any,
) -> AuditOutcome:
    """Replicate `paper`'s reproductions at full scale on `n` fresh seeds (default: as many as
    its confirmation) and store the replication beside the committed result."""
    reg = paper.registration
    if reg is None or not paper.has_reproductions:
        return AuditOutcome(paper, "skipped")
    results = results_dir or committed_dir(paper.root)
    if results_dir is None:
        refuse_dirty(paper)
    count = n or len(reg.confirmation)
    if count < 1:
        raise UsageError(f"{paper.key}: an audit needs at least one seed")
    seeds = audit_seeds(used_seeds(paper, results), count, rng)
    log(f"{paper.key}: audit on fresh seeds {seeds}")
    out = run_paper(
        paper,
        seeds=seeds,
        results_dir=scratch_dir(paper.root) / "audit",
        force=True,
        log=log,
        device=device,
        **pool,  # jobs, backend, address (repro.run.pool)
    )
    if out.status != "ran" or out.record is None:
        return AuditOutcome(paper, "failed", error=out.error)
    record = out.record
    for r in record.results.values():
        r.figures = []  # the confirmation's figures are the ones shown
    audits = [*load_audit(results, paper.key), record]
    path = save_audit(audits, results, paper.key)
    return AuditOutcome(paper, "audited", record, path)
