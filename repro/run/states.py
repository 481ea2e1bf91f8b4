"""Run room, states: every claim with its stored result, staleness and read error, computed once.

The site computes these once per build and renders blocks from them; `repro list` and
`repro check` read the same states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from repro.claims import Claim, Record, Result, ResultError, load_audit, load_record
from repro.run import scales
from repro.run.discover import PAPER_SCALE, Paper, committed_dir, discover
from repro.run.provenance import stale_reason


@dataclass
class ClaimState:
    paper: Paper
    claim: Claim
    record: Record | None
    result: Result | None  # None: no stored result for this claim
    stale: str | None  # why the stored result is stale, None when current (or absent)
    error: str = ""  # the stored result (or its audit) could not be read
    audit: Result | None = None  # the latest replication on fresh seeds (`repro audit`)
    audit_record: Record | None = None
    audit_stale: str | None = None  # why the replication no longer matches the code/config
    paper_scale: Result | None = None  # the paper's sizes on a GPU (docs/results/paper-scale/)
    paper_scale_record: Record | None = None
    quick: dict | None = None  # the claim at quick scale beside this result (repro.run.scales)

    def trend(self) -> str:
        """How the deciding part moved from quick to full scale, in a sentence ("" if unknown)."""
        if self.result is None or self.claim.is_check or self.stale:
            return ""
        return scales.trend(self.claim, self.result, self.quick)

    @property
    def specified(self) -> bool:
        return self.claim.criterion is not None

    @property
    def kind(self) -> str:
        return self.claim.kind

    @property
    def replicated(self) -> bool | None:
        """Whether the replication gave the confirmation's verdict (None: no replication)."""
        if self.claim.is_check or not self.specified or self.audit is None or not self.result:
            return None
        return self.audit.verdict == self.result.verdict

    def replication(self) -> str:
        """One line that cannot be misread beside the verdict: "replication on 5 fresh seeds:
        not reproduced again", "replication on 5 fresh seeds: reproduced (the confirmation was
        not reproduced)", "not audited yet"; "" for a check (nothing to replicate)."""
        if self.claim.is_check or not self.specified or self.result is None:
            return ""
        if self.audit is None or self.audit_record is None:
            return "not audited yet"
        n = len(self.audit_record.provenance.get("seeds", []))
        stale = " (stale)" if self.audit_stale else ""
        head = f"replication on {n} fresh seeds{stale}: {self.audit.verdict}"
        if self.replicated:
            return f"{head} again"
        return f"{head} (the confirmation was {self.result.verdict})"


def states(
    root: Path | None = None,
    results: Path | None = None,
    papers: Mapping[str, Paper] | None = None,
) -> list[ClaimState]:
    """Every claim of every paper module, with its stored result (if any) and staleness."""
    papers = discover(root) if papers is None else papers
    base = results or committed_dir(root)
    out = []
    for paper in papers.values():
        out += paper_states(paper, base)
    return out


def paper_states(paper: Paper, results: Path) -> list[ClaimState]:
    try:
        record = load_record(results, paper.key)
        error = ""
    except ResultError as exc:
        record, error = None, str(exc)
    try:
        audits = load_audit(results, paper.key)
    except ResultError as exc:
        audits, error = [], error or str(exc)
    audit = audits[-1] if audits else None
    try:
        big = load_record(results / PAPER_SCALE, paper.key)
    except ResultError as exc:
        big, error = None, error or str(exc)
    stale = stale_reason(paper, record) if record is not None else None
    beside = scales.load(results, paper.key)
    quick = (
        (beside or {}).get("quick", {})
        if record and beside and beside.get("for") == record.hash
        else {}
    )
    audit_stale = stale_reason(paper, audit) if audit is not None else None
    return [
        ClaimState(
            paper,
            c,
            record,
            record.results.get(c.id) if record else None,
            stale,
            error,
            audit.results.get(c.id) if audit else None,
            audit,
            audit_stale,
            big.results.get(c.id) if big else None,
            big,
            quick.get(c.id),
        )
        for c in paper.claims
    ]


def claim_state(claim_id: str, root: Path | None = None, results: Path | None = None) -> ClaimState:
    """The state of one claim; KeyError when no paper module defines it."""
    key = claim_id.split(".", 1)[0]
    papers = discover(root)
    if key not in papers:
        raise KeyError(claim_id)
    for s in paper_states(papers[key], results or committed_dir(root)):
        if s.claim.id == claim_id:
            return s
    raise KeyError(claim_id)


def source_line(paper: Paper, claim: Claim) -> str:
    return f"{paper.rel}:{paper.line_of(repr(claim.id)[1:-1])}"
