"""Site room, the "paper | ours" table of a claim block: per arm the paper's number in our
metric where the claim gives one (`Claim.paper_arms`), beside ours at 3 significant digits; what
the paper reports in its own terms; the setup difference; the metric.
"""

from __future__ import annotations

from repro.claims import fmt
from repro.run.states import ClaimState
from repro.site.details import esc


def _arms(s: ClaimState) -> str:
    assert s.result is not None
    items = []
    for arm, summary in s.result.summary.items():
        items.append(f"<li><strong>{esc(arm)}</strong>: {esc(summary.text())}</li>")
    return f'<ul class="sn-arms">{"".join(items)}</ul>' if items else "no values"


def _setup(text: str) -> tuple[str, str]:
    """("paper: T = 1000 | ours: T = 100") -> ("T = 1000", "T = 100")."""
    paper, _, ours = text.partition("|")
    return paper.strip().removeprefix("paper:").strip(), ours.strip().removeprefix("ours:").strip()


def compare_table(s: ClaimState) -> str:
    """The "paper | ours" table: per arm the paper's number in our metric where one is
    comparable, beside ours; what the paper reports in its own terms; the setup gap."""
    c = s.claim
    where = f' <span class="sn-where">({esc(c.where)})</span>'
    rows = []
    if s.result is None:
        rows.append(
            f"<tr><th>result</th><td>{esc(c.paper_value)}{where}</td>"
            "<td><em>no stored result yet</em></td></tr>"
        )
    elif c.paper_arms:
        for arm, summary in s.result.summary.items():
            theirs = fmt(c.paper_arms[arm]) if arm in c.paper_arms else "—"
            rows.append(
                f"<tr><th>{esc(arm)}</th><td>{theirs}</td><td>{esc(summary.text())}</td></tr>"
            )
        rows.append(
            f'<tr><th>reported</th><td colspan="2">{esc(c.paper_value)}{where}<br>'
            f'<span class="sn-where">in our metric: {esc(c.paper_arms_from)}</span>'
            "</td></tr>"
        )
    else:
        rows.append(
            f"<tr><th>result</th><td>{esc(c.paper_value)}{where}</td><td>{_arms(s)}</td></tr>"
        )
    if c.setup:
        paper_setup, our_setup = _setup(c.setup)
        rows.append(f"<tr><th>setup</th><td>{esc(paper_setup)}</td><td>{esc(our_setup)}</td></tr>")
    rows.append(f'<tr><th>metric</th><td colspan="2">{esc(c.metric)}</td></tr>')
    head = "<thead><tr><th></th><th>paper</th><th>ours</th></tr></thead>"
    return f'<table class="sn-compare">{head}<tbody>{"".join(rows)}</tbody></table>'
