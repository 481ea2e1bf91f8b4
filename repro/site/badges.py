"""Site room, badges: a claim's state in words on its block's first line (verdict, kind,
replication, staleness, scale), and the admonition type each verdict gets."""

from __future__ import annotations

from repro.claims import Verdict
from repro.run.states import ClaimState
from repro.site.details import esc

# verdict -> (Material admonition type, sn- modifier)
_ADMONITION = {
    Verdict.REPRODUCED: "success",
    Verdict.NOT_REPRODUCED: "failure",
    Verdict.INCONCLUSIVE: "warning",
    Verdict.FAILED: "danger",
    Verdict.HOLDS: "success",
    Verdict.FAILS: "failure",
}
KIND_LABEL = {"check": "check", "reproduction": "reproduction"}
UNSPECIFIED = "not yet specified"
NOT_RUN = "not run yet"
NO_VERDICT = "no verdict"


def status(s: ClaimState) -> tuple[str, str]:
    """(label, admonition type) for a claim's state."""
    if not s.specified:
        return UNSPECIFIED, "abstract"
    if s.result is None:
        return NOT_RUN, "info"
    if s.result.verdict is None:
        return NO_VERDICT, "info"
    return str(s.result.verdict), _ADMONITION[s.result.verdict]


def badge(label: str) -> str:
    mod = label.replace(" ", "-")
    return f'<span class="sn-badge sn-badge--{esc(mod)}">{esc(label)}</span>'


def stale_badge(s: ClaimState) -> str:
    """ "stale" where the result's code or config hash no longer matches; the reason is printed
    beside it (the block's stale note, the board's fold), never in a hover-only title."""
    if s.result is None or not s.stale:
        return ""
    return '<span class="sn-badge sn-badge--stale">stale</span>'


def scale_badge(s: ClaimState) -> str:
    """The scale in words where the result is not the full-scale run ("quick scale")."""
    scale = s.result.provenance.get("scale") if s.result else None
    if not scale or scale == "full":
        return ""
    return f'<span class="sn-badge sn-badge--scale">{esc(scale)} scale</span>'


def kind_badge(s: ClaimState) -> str:
    kind = KIND_LABEL[s.claim.kind]
    return f'<span class="sn-badge sn-badge--kind sn-badge--{kind}">{kind}</span>'


def replication_badge(s: ClaimState) -> str:
    text = s.replication()
    if not text:
        return ""
    mod = {True: "replicated", False: "not-replicated", None: "not-audited"}[s.replicated]
    return f'<span class="sn-badge sn-badge--{mod}">{esc(text)}</span>'
