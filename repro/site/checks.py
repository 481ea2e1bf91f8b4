"""Site room, result checks: what is wrong with the stored results, for the build and `repro check`.

Errors (an unreadable result.json, a figure it names that is missing) fail the strict build and
`repro check` alike, with the same message; warnings (missing, stale, not at full scale, orphaned,
not yet specified) are advice.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from repro.run.discover import PAPER_SCALE, Paper, committed_dir, rel
from repro.run.states import ClaimState, paper_states, source_line
from repro.site.joins import Finding


def _rel(path: Path, root: Path) -> str:
    return rel(path, root)


def result_findings(
    root: Path,
    papers: Mapping[str, Paper],
    results: Path | None = None,
    computed: Mapping[str, list[ClaimState]] | None = None,
) -> list[Finding]:
    """Findings about stored results: unreadable (error), missing figures (error), missing,
    stale, not at full scale, orphaned, not yet specified (warnings). `computed`: the claim
    states per key where the caller has them already (the build does), else read here."""
    results = results or committed_dir(root)
    out: list[Finding] = []
    for key, paper in papers.items():
        states = computed[key] if computed is not None else paper_states(paper, results)
        rel = f"{_rel(results / key / 'result.json', root)}:1"
        first = states[0] if states else None
        if first is not None and first.error:
            out.append(Finding("error", rel, first.error.split(": ", 1)[-1]))
        if first is not None and first.record is not None:
            rec = first.record
            if first.stale:
                out.append(
                    Finding(
                        "warning",
                        rel,
                        f"result of '{key}' is stale: {first.stale} (rerun: nox -s repro -- {key})",
                    )
                )
            if rec.provenance.get("scale") != "full":
                out.append(
                    Finding(
                        "warning",
                        rel,
                        f"result of '{key}' is at scale '{rec.provenance.get('scale')}', not full",
                    )
                )
            for cid, r in rec.results.items():
                if cid not in {c.id for c in paper.claims}:
                    out.append(
                        Finding(
                            "warning", rel, f"result for '{cid}', which no module defines any more"
                        )
                    )
                for f in r.figures:
                    if not (results / key / f["file"]).exists():
                        out.append(
                            Finding("error", rel, f"figure '{f['file']}' of '{cid}' is missing")
                        )
        for s in states:
            where = source_line(paper, s.claim)
            if not s.specified:
                out.append(
                    Finding("warning", where, f"claim '{s.claim.id}': criterion not yet specified")
                )
            if s.result is None and not s.error:
                out.append(
                    Finding(
                        "warning",
                        where,
                        f"claim '{s.claim.id}' has no stored result (run: nox -s repro -- {key})",
                    )
                )
    if results.is_dir():
        for d in sorted(results.iterdir()):
            if d.is_dir() and d.name not in papers and d.name != PAPER_SCALE:
                out.append(
                    Finding(
                        "warning",
                        f"{_rel(d, root)}/",
                        f"results for '{d.name}', but no module repro/{d.name}.py",
                    )
                )
    return out
