"""Site room, claim blocks: HTML for the claim blocks and the claims board, from claim states.

The states (`repro.run.states.ClaimState`: a claim, its stored result, staleness, read error) are
computed once per build (`collect`); the renderers are pure functions of them (no MkDocs import,
no discovery, no hashing here):

    claims_html(key, site, page_url)       every claim of one paper (`{{ claims KEY }}`), or a
                                           "no reproduction yet" note when repro/KEY.py is absent
    claim_html(claim_id, site, page_url)   one claim (`{{ claim ID }}`); UnknownClaimError else
    board_html(site, page_url)             the table of every claim (`{{ claims_board }}`,
                                           in repro.site.board)

`page_url` is the page's URL relative to the site root (MkDocs' `page.url`: "" for the home page,
"papers/bai2018tcn/" with directory URLs); figure and page links are made relative to it, so the
site works from any prefix and from file://. Every number shown comes from a stored result;
a result whose code or config hash no longer matches is marked stale; a claim whose criterion is
None is shown as "not yet specified". Markup uses MkDocs Material's admonition classes and this
project's `sn-` classes (styled in docs/stylesheets/claims.css).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from repro.claims import Verdict, fmt
from repro.run.discover import Paper
from repro.run.states import ClaimState, paper_states
from repro.site.badges import (
    badge,
    kind_badge,
    replication_badge,
    scale_badge,
    stale_badge,
    status,
)
from repro.site.compare import compare_table
from repro.site.details import esc, figure_url, history, provenance, replication_row
from repro.site.dots import dots_svg

__all__ = [
    "BlockError",
    "SiteStates",
    "UnknownClaimError",
    "claim_html",
    "claims_html",
    "collect",
]


class BlockError(Exception):
    """A block cannot be rendered; the message names the file (and line) to fix.

    Raised for an unknown claim id, an unreadable result.json, or a broken paper module: the
    plugin turns it into a build error.
    """


class UnknownClaimError(BlockError, LookupError):
    """A `{{ claim ID }}` naming a claim no paper module defines."""


def page_target(key: str, page_url: str, home: str | None = None) -> str:
    """The page that shows the claims of `key` (`home`, a docs-relative Markdown path such as
    experiments/x.md; by default the paper page), in the URL style the current page uses."""
    path = home.removesuffix(".md") if home else f"papers/{key}"
    return f"{path}.html" if page_url.endswith(".html") else f"{path}/"


def anchor(claim_id: str) -> str:
    """The HTML id of a claim block: 'claim-bai2018tcn-copy-memory'."""
    return "claim-" + claim_id.replace(".", "-")


def deciding_part(s: ClaimState) -> str:
    """The part of the criterion that decided the verdict, in one line with how it was judged
    ("tcn < 0.05 (in at least 80% of seeds): 0/5 seeds pass (need 4; ...)"); "" if none."""
    if s.result is None or s.result.verdict is None or not s.result.detail:
        return ""
    verdict = s.result.verdict
    lines = s.result.detail.splitlines()
    if verdict in (Verdict.REPRODUCED, Verdict.HOLDS):
        return "every part holds" if len(lines) > 1 else lines[0].rsplit(" → ", 1)[0]
    for line in lines:
        if line.endswith(f"→ {verdict}") or verdict == Verdict.FAILED:
            return line.rsplit(" → ", 1)[0]
    return lines[0].rsplit(" → ", 1)[0]


def _verdict_line(s: ClaimState) -> str:
    """The verdict, and the part that decided it, in words: visible without opening anything."""
    why = deciding_part(s)
    if not why:
        return ""
    label = str(s.result.verdict).capitalize()
    return f'<p class="sn-verdict"><strong>{esc(label)}:</strong> {esc(why)}</p>'


def _criterion(s: ClaimState) -> str:
    c = s.claim
    if c.criterion is None:
        return (
            '<p class="sn-criterion"><strong>Pass if</strong> <em>not yet specified: the '
            "criterion will be written before the claim is judged, and no verdict is shown "
            "until then</em></p>"
        )
    return (
        f'<p class="sn-criterion"><strong>Pass if</strong> {esc(c.criterion.describe())} '
        "<em>(fixed before the confirmation run)</em></p>"
    )


RAW_SHOWN = 12  # values an arm lists inline; more are summarized, the raw list one click away


def _arm_values(s: ClaimState, arm: str, vs: list[float]) -> str:
    """One arm's values: listed when few; else its summary (k/n or mean and interval) with the
    raw values folded beneath it."""
    raw = esc(", ".join(fmt(v) for v in vs))
    if len(vs) <= RAW_SHOWN:
        return f"<li><strong>{esc(arm)}</strong>: {raw}</li>"
    summary = s.result.summary.get(arm) if s.result is not None else None
    text = summary.text() if summary is not None else f"{len(vs)} values"
    return (
        f"<li><strong>{esc(arm)}</strong>: {esc(text)} "
        f'<details class="sn-raw"><summary>all {len(vs)} values</summary>{raw}</details></li>'
    )


def _details(s: ClaimState) -> str:
    """Everything else, folded: why, per-seed values, replication, notes, registration,
    history, provenance."""
    c = s.claim
    rows = []
    if s.result is not None:
        if s.result.detail and c.criterion is not None:
            lines = "".join(f"<li>{esc(line)}</li>" for line in s.result.detail.splitlines())
            rows.append(("Why", f'<ul class="sn-detail">{lines}</ul>'))
        seeds = s.result.provenance.get("seeds", [])
        per_seed = "".join(_arm_values(s, arm, vs) for arm, vs in s.result.values.items())
        label = f"Per seed ({', '.join(map(str, seeds))})" if seeds else "Per seed"
        if seeds and any(len(vs) > len(seeds) for vs in s.result.values.values()):
            label = f"Per trial (several per seed; seeds {', '.join(map(str, seeds))})"
        rows.append((label, f'<ul class="sn-arms">{per_seed}</ul>'))
        if s.audit is not None and s.audit_record is not None:
            rows.append(("Replication", replication_row(s)))
        if s.result.notes:
            rows.append(("Notes", "<br>".join(esc(n) for n in s.result.notes)))
    reg = s.paper.registration
    if reg is not None and not c.is_check:
        text = (
            f"explored on seeds {', '.join(map(str, reg.exploration)) or 'none'}; confirmed on "
            f"seeds {', '.join(map(str, reg.confirmation))}"
        )
        rows.append(("Registered", esc(text) + (f"<br>{esc(reg.note)}" if reg.note else "")))
    revised = [h for h in (s.record.history if s.record else []) if h["claim_id"] == c.id]
    if revised:
        rows.append(("History", history(revised)))
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    body = f'<table class="sn-claim-table"><tbody>{table}</tbody></table>' if rows else ""
    if s.result is not None:
        body += provenance(s)
    command = (
        s.result.provenance.get("command") if s.result is not None else None
    ) or f"nox -s repro -- {s.paper.key}"
    body += (
        f'<p class="sn-rerun">Rerun: <code>{esc(command)}</code> · replicate on fresh seeds: '
        f"<code>python -m repro audit {esc(s.paper.key)}</code> · on seeds of your own: "
        f"<code>python -m repro run {esc(s.paper.key)} --seeds 7,8,9</code> (written to "
        "scratch/, not over this result)</p>"
    )
    return (
        # kept out of the search index (per-seed numbers, registration): every page loads the
        # index, and these made it the heaviest part of a page's weight
        '<details class="sn-details" data-search-exclude><summary>Details: why, per-seed '
        "values, replication, registration, provenance, rerun</summary>"
        f"{body}</details>"
    )


def _block(s: ClaimState, page_url: str, results: Path, docs: Path | None) -> str:
    """A claim at a glance: one verdict line, "paper | ours", the criterion, the dot-and-
    interval figure and the run's figures; the rest folded in Details."""
    c = s.claim
    if s.error:  # an unreadable result.json fails the build, naming the file
        raise BlockError(s.error)
    label, kind = status(s)
    classes = f"admonition {kind} sn-claim sn-claim--{label.replace(' ', '-')}"
    if s.result is not None and s.stale:
        classes += " sn-claim--stale"
    title = (
        f'<p class="admonition-title"><span class="sn-claim-heading">{esc(c.heading)}</span> '
        f"{kind_badge(s)}{badge(label)}{replication_badge(s)}{stale_badge(s)}{scale_badge(s)}</p>"
    )
    parts = [_verdict_line(s), f'<p class="sn-statement">{esc(c.statement)}</p>']
    if s.paper_scale is not None and s.paper_scale_record is not None:
        prov = s.paper_scale_record.provenance
        why = (s.paper_scale.detail.splitlines() or [""])[0]
        seen = f"{s.paper_scale.verdict or 'no verdict'}" + (f": {why}" if why else "")
        parts.append(
            f'<p class="sn-paper-scale"><strong>Paper scale, {esc(prov.get("device", "?"))}'
            f"</strong> ({esc(str(prov.get('date', ''))[:10])}): {esc(seen)}</p>"
        )
    parts += [f'<div class="sn-scroll">{compare_table(s)}</div>', _criterion(s)]
    trend = s.trend()
    if trend:
        parts.append(f'<p class="sn-trend"><strong>With the budget:</strong> {esc(trend)}</p>')
    if s.result is not None and s.stale:
        parts.append(
            f'<p class="sn-stale-note"><strong>Stale:</strong> {esc(s.stale)}; the numbers '
            "come from the code as it was then.</p>"
        )
    if s.result is None:
        parts.append('<p class="sn-missing">No stored result for this claim yet.</p>')
    else:
        svg = dots_svg(c, s.result)
        if svg:
            parts.append(
                f'<figure class="sn-figure sn-dots-figure">{svg}<figcaption>Each arm: seeds '
                "(small dots), mean and 95% interval (large dot, bar), the criterion's "
                "threshold (dashed)"
                + (", the paper's value in our metric (hollow diamond)" if c.paper_arms else "")
                + "; arms of one kind share an axis, its values below it.</figcaption></figure>"
            )
        for f in s.result.figures:
            url = figure_url(s, f["file"], page_url, results, docs)
            cap = f.get("caption", "")
            parts.append(
                f'<figure class="sn-figure"><img src="{esc(url)}" alt="{esc(cap or c.id)}" '
                f'loading="lazy"><figcaption>{esc(cap)}</figcaption></figure>'
            )
    parts.append(_details(s))
    return f'<div class="{classes}" id="{anchor(c.id)}">{title}{"".join(parts)}</div>'


@dataclass(frozen=True)
class SiteStates:
    """Every claim's state, computed once per build, and where results and pages live."""

    by_key: dict[str, list[ClaimState]]
    results: Path
    docs: Path
    labels: Mapping[str, str] = field(default_factory=dict)  # key -> "Bai et al., 2018"
    inline_figures: bool = False  # figures as data: URLs (the page's URL is not known)
    homes: Mapping[str, str] = field(default_factory=dict)  # key -> the page of its claims
    # blocks when that is not papers/<key>.md (an experiment's page, docs/experiments/)

    @property
    def figure_docs(self) -> Path | None:
        return None if self.inline_figures else self.docs

    def find(self, claim_id: str) -> ClaimState | None:
        for s in self.by_key.get(claim_id.split(".", 1)[0], []):
            if s.claim.id == claim_id:
                return s
        return None


def collect(
    papers: Mapping[str, Paper],
    results: Path,
    docs: Path,
    labels: Mapping[str, str],
    inline_figures: bool = False,
) -> SiteStates:
    """The states of every claim of every paper (one stored-result read and hash per paper)."""
    by_key = {key: paper_states(paper, results) for key, paper in papers.items()}
    return SiteStates(by_key, Path(results), Path(docs), dict(labels), inline_figures)


def claims_html(key: str, site: SiteStates, page_url: str) -> str:
    """Every claim of paper `key` as claim blocks; a "no reproduction yet" note if no module."""
    if key not in site.by_key:
        return (
            '<div class="admonition info sn-claims-none">'
            '<p class="admonition-title">No reproduction yet</p>'
            f"<p>No module <code>repro/{esc(key)}.py</code> reproduces a claim of this paper "
            "yet. When one exists, its claims, our measured values and verdicts appear "
            "here.</p></div>"
        )
    blocks = [_block(s, page_url, site.results, site.figure_docs) for s in site.by_key[key]]
    return f'<div class="sn-claims">{"".join(blocks)}</div>'


def claim_html(claim_id: str, site: SiteStates, page_url: str) -> str:
    """One claim block; UnknownClaimError when no paper module defines `claim_id`."""
    s = site.find(claim_id)
    if s is not None:
        return _block(s, page_url, site.results, site.figure_docs)
    known = ", ".join(s.claim.id for ss in site.by_key.values() for s in ss) or "none"
    raise UnknownClaimError(
        f"unknown claim id '{claim_id}': no module in repro/ defines it (known: {known})"
    )
