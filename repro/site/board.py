"""Site room, the claims board: one row per claim, checks and reproductions counted apart.

A pure function of the claim states the build computed once (repro.site.blocks.SiteStates).
"""

from __future__ import annotations

from collections import Counter

from repro.claims import Verdict, fmt
from repro.run.states import ClaimState
from repro.site.badges import (
    NO_VERDICT,
    NOT_RUN,
    UNSPECIFIED,
    badge,
    kind_badge,
    replication_badge,
    scale_badge,
    stale_badge,
    status,
)
from repro.site.blocks import SiteStates, anchor, page_target
from repro.site.details import esc, relurl


def _more(short: str, full: str) -> str:
    """`short` (HTML) on the claim's one line, `full` (HTML) one click or tap away: nothing on
    the board is hover-only text, which a touch reader could never open."""
    return (
        f'<details class="sn-more"><summary><span class="sn-more-short">{short}</span>'
        f'</summary><div class="sn-more-full">{full}</div></details>'
    )


def ours_short(s: ClaimState, limit: int = 3) -> str:
    """Up to `limit` arms' means at 3 significant digits; every arm's interval one tap away."""
    if s.result is None:
        return "–"
    items = list(s.result.summary.items())
    shown = [f"{esc(arm)} {esc(fmt(m.mean))}" for arm, m in items[:limit]]
    if len(items) > limit:
        shown.append(f"+{len(items) - limit}")
    full = "<br>".join(esc(f"{arm}: {m.text()}") for arm, m in items)
    return _more(" · ".join(shown) or "–", full)


def paper_short(s: ClaimState, limit: int = 3) -> str:
    """The paper's numbers in our metric, arm by arm like `ours_short`, where the claim gives
    them; else its reported text, cut short; the whole text one tap away."""
    arms = list(s.claim.paper_arms.items())
    if not arms:
        return _short(s.claim.paper_value)
    shown = [f"{esc(arm)} {esc(fmt(v))}" for arm, v in arms[:limit]]
    if len(arms) > limit:
        shown.append(f"+{len(arms) - limit}")
    full = f"{s.claim.paper_value} (in our metric: {s.claim.paper_arms_from})"
    return _more(" · ".join(shown), esc(full))


def _short(text: str, width: int = 60) -> str:
    if len(text) <= width:
        return f"<span>{esc(text)}</span>"
    return _more(esc(text[: width - 1].rstrip() + "…"), esc(text))


def _stale(s: ClaimState) -> str:
    """The stale badge with its reason folded beside it."""
    mark = stale_badge(s)
    return _more(mark, esc(s.stale)) if mark else ""


def _filters(states: list[ClaimState]) -> str:
    """Buttons that show only the rows of one kind, verdict or replication (repro-board.js)."""
    seen = dict.fromkeys(status(s)[0] for s in states)
    buttons = [("all", "", "")]
    buttons += [(k + "s", "kind", k) for k in ("check", "reproduction")]
    buttons += [(v, "verdict", v) for v in seen]
    buttons += [("did not replicate", "replication", "not-replicated")]
    html_buttons = "".join(
        f'<button type="button" class="md-button sn-filter" data-field="{esc(f)}" '
        f'data-value="{esc(v)}">{esc(label)}</button>'
        for label, f, v in buttons
    )
    return f'<div class="sn-board-filters" role="group" aria-label="filter">{html_buttons}</div>'


def tally(states: list[ClaimState]) -> str:
    """One line counting checks and reproductions apart, each by verdict, and replications."""
    counts: dict[str, Counter] = {"check": Counter(), "reproduction": Counter()}
    replication: Counter = Counter()
    for s in states:
        counts[s.kind][status(s)[0]] += 1
        if s.kind == "reproduction" and s.result is not None and s.specified:
            replication[
                {True: "replicated", False: "did not replicate"}.get(s.replicated, "not audited")
            ] += 1
    order = [str(v) for v in Verdict] + [NO_VERDICT, NOT_RUN, UNSPECIFIED]
    parts = []
    for kind, plural in (("check", "checks"), ("reproduction", "reproductions")):
        c = counts[kind]
        if c:
            inner = ", ".join(f"{c[k]} {k}" for k in order if c[k])
            total = sum(c.values())
            parts.append(f"{total} {plural if total != 1 else kind} ({inner})")
    rep = ", ".join(
        f"{replication[k]} {k}"
        for k in ("replicated", "did not replicate", "not audited")
        if replication[k]
    )
    return "; ".join(parts) + (f". Replication of the reproductions: {rep}" if rep else "")


def board_html(site: SiteStates, page_url: str) -> str:
    """A table of every claim: paper, claim, kind, verdict and replication, paper value, ours,
    last run; above it, the counts of checks and reproductions apart."""
    rows, every = [], []
    for key, paper_claims in site.by_key.items():
        for s in paper_claims:
            label, _kind = status(s)
            every.append(s)
            page = relurl(page_target(key, page_url, site.homes.get(key)), page_url)
            date = str(s.result.provenance.get("date", ""))[:10] if s.result else "–"
            rep = {True: "replicated", False: "not-replicated", None: "not-audited"}
            attrs = (
                f'data-kind="{esc(s.kind)}" data-verdict="{esc(label)}" '
                f'data-replication="{rep[s.replicated]}"'
            )
            cells = [
                ("Paper", f'<a href="{esc(page)}">{esc(site.labels.get(key, key))}</a>'),
                ("Claim", f'<a href="{esc(page)}#{anchor(s.claim.id)}">{esc(s.claim.heading)}</a>'),
                ("Kind", kind_badge(s)),
                ("Verdict", badge(label) + replication_badge(s) + _stale(s) + scale_badge(s)),
                ("Paper says", paper_short(s)),
                ("Ours", ours_short(s)),
                ("Last run", esc(date)),
            ]
            tds = "".join(f'<td data-label="{h}">{v}</td>' for h, v in cells)
            rows.append(f"<tr {attrs}>{tds}</tr>")
    if not rows:
        return '<p class="sn-board-empty">No claims yet.</p>'
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Paper", "Claim", "Kind", "Verdict", "Paper says", "Ours", "Last run")
    )
    return (
        f'<div class="sn-board"><p class="sn-board-tally">{len(rows)} claims: '
        f"{esc(tally(every))}.</p>{_filters(every)}"
        f'<table class="sn-board-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
