"""Site room, the dot-and-interval figure of a claim block, as inline SVG (no matplotlib).

One row per arm: every seed's value (small dots), the mean (a large dot) and its 95% interval
(a bar), the criterion's threshold for that arm where the criterion compares the arm with a
number (a dashed tick, labelled), and the paper's own number in our metric where the claim gives
one (`Claim.paper_arms`: a hollow diamond). Arms that measure the same thing share one axis,
with tick values under it, so arms 3x apart look 3x apart: the arms of one domain (accuracies,
losses, differences) share it, and so do arms the criterion compares with each other. An axis
is logarithmic when its values are positive and span more than two decades. The figure is drawn at
build time from the stored result: no number in it is typed by hand, and nothing is retrained.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator

from repro.claims import AllOf, Band, Claim, Criterion, Result, fmt

WIDTH, LABEL, ROW, PAD, TICKS = 600, 170, 30, 20, 34
MAX_OUTCOME_DOTS = 30  # a proportion arm with more 0/1 values than this shows no per-value dots


def thresholds(criterion: Criterion | None) -> Iterator[tuple[str, float, str]]:
    """(arm, value, "<" or ">") for every part that compares an arm with a number."""
    parts = criterion.parts if isinstance(criterion, AllOf) else (criterion,)
    for p in parts:
        if isinstance(p, Band):
            for bound, sign in ((p.lo, ">"), (p.hi, "<")):
                if isinstance(bound, int | float) and math.isfinite(bound):
                    yield p.arm, float(bound), sign


def groups(claim: Claim, arms: list[str]) -> list[list[str]]:
    """Arms that share an axis, in the order the values list them: one group per domain, joined
    where a part compares an arm with an arm of another domain."""
    parts = claim.criterion.parts if isinstance(claim.criterion, AllOf) else (claim.criterion,)
    # A part comparing two arms reads both (Band.arms: the arm, then the other arm).
    paired = [p.arms() for p in parts if isinstance(p, Band) and len(p.arms()) == 2]
    key: dict[str, str] = {}
    for arm in arms:
        key[arm] = claim.domain_of(arm)
    for a, b in paired:  # compared arms share an axis (their group takes the first's key)
        if a in key and b in key:
            old, new = key[b], key[a]
            key = {k: (new if v == old else v) for k, v in key.items()}
    out: dict[str, list[str]] = {}
    for arm in arms:
        out.setdefault(key[arm], []).append(arm)
    return list(out.values())


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    """Three to five round values inside [lo, hi] (powers of ten on a log axis)."""
    if log:
        return [10.0**e for e in range(math.ceil(lo), math.floor(hi) + 1)]
    raw = (hi - lo) / 4
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _axis(points: list[float]) -> tuple[float, float, bool]:
    """(lo, hi, log) covering every point, with a little room."""
    pos = [p for p in points if p > 0]
    log = len(pos) == len(points) and max(pos) / min(pos) > 100
    if log:
        lo, hi = math.log10(min(pos)), math.log10(max(pos))
    else:
        lo, hi = min(points), max(points)
    if hi == lo:
        lo, hi = lo - (abs(lo) or 1) * 0.5, hi + (abs(hi) or 1) * 0.5
    room = (hi - lo) * 0.06
    return lo - room, hi + room, log


def dots_svg(claim: Claim, result: Result) -> str:
    """The figure for one stored result ("" when no arm has a finite value)."""
    marks = list(thresholds(claim.criterion))
    rows, diverged = [], []
    for arm, vs in result.values.items():
        finite = [v for v in vs if math.isfinite(v)]
        summary = result.summary.get(arm)
        if finite and summary is not None:
            rows.append((arm, finite, summary, [(v, s) for a, v, s in marks if a == arm]))
        elif vs:
            diverged.append((arm, len(vs)))
    if not rows and not diverged:
        return ""
    by_arm = {r[0]: r for r in rows}
    grouped = groups(claim, [r[0] for r in rows])
    height = PAD * 2 + ROW * (len(rows) + len(diverged)) + TICKS * len(grouped)
    out = [
        f'<svg class="sn-dots" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="each arm: seeds, mean and 95% interval, threshold, the paper\'s value">'
    ]
    y0 = PAD
    for group in grouped:
        pts: list[float] = []
        for arm in group:
            _, vals, s, ticks = by_arm[arm]
            paper = claim.paper_arms.get(arm)
            pts += vals + [t for t, _ in ticks] + ([paper] if paper is not None else [])
            if s.lo is not None and s.hi is not None and math.isfinite(s.lo):
                pts += [s.lo, s.hi]
        lo, hi, log = _axis(pts)

        def x(v: float, lo: float = lo, hi: float = hi, log: bool = log) -> float:
            v = math.log10(v) if log else v
            return LABEL + (WIDTH - LABEL - 110) * (v - lo) / (hi - lo)

        for i, arm in enumerate(group):
            out += _row(claim, by_arm[arm], y0 + ROW * i + ROW / 2, x, log)
        y = y0 + ROW * len(group) + 4
        out.append(
            f'<line x1="{LABEL}" x2="{WIDTH - 110}" y1="{y}" y2="{y}" class="sn-dots-axis"/>'
        )
        for t in _ticks(lo, hi, log):
            out.append(
                f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y}" y2="{y + 4}" '
                f'class="sn-dots-axis"/><text x="{x(t):.1f}" y="{y + 15}" text-anchor="middle" '
                f'class="sn-dots-tick">{fmt(t)}</text>'
            )
        if log:
            out.append(f'<text x="{WIDTH - 104}" y="{y + 15}" class="sn-dots-tick">(log)</text>')
        y0 += ROW * len(group) + TICKS
    for j, (arm, n) in enumerate(diverged):
        y = y0 + ROW * j + ROW / 2
        out.append(
            f'<text x="{LABEL - 8}" y="{y + 4}" text-anchor="end" class="sn-dots-arm">'
            f'{html.escape(arm)}</text><text x="{LABEL}" y="{y + 4}" class="sn-dots-label">'
            f"no finite value: diverged (NaN/inf) on all {n} seeds</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _row(claim: Claim, row: tuple, y: float, x, log: bool) -> list[str]:
    """One arm on its group's axis: name, threshold ticks, seeds, paper's value, interval, mean."""
    arm, vals, s, ticks = row
    paper = claim.paper_arms.get(arm)
    out = [
        f'<text x="{LABEL - 8}" y="{y + 4}" text-anchor="end" class="sn-dots-arm">'
        f"{html.escape(arm)}</text>"
        f'<line x1="{LABEL}" x2="{WIDTH - 110}" y1="{y}" y2="{y}" class="sn-dots-guide"/>'
    ]
    for t, sign in ticks:
        out.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y - 11}" y2="{y + 11}" '
            f'class="sn-dots-threshold"><title>pass if {html.escape(arm)} {html.escape(sign)} '
            f"{fmt(t)}</title></line>"
            f'<text x="{x(t):.1f}" y="{y - 12}" text-anchor="middle" '
            f'class="sn-dots-label">{html.escape(sign)} {fmt(t)}</text>'
        )
    # 0/1 outcomes pile up on two points: past a few dozen the dots say nothing the mean and
    # interval do not (and a 200-trial arm would add 200 circles), so only the counts.
    if not (claim.proportion and len(vals) > MAX_OUTCOME_DOTS):
        out += [f'<circle cx="{x(v):.1f}" cy="{y}" r="2.5" class="sn-dots-seed"/>' for v in vals]
    if paper is not None and (paper > 0 or not log):
        px = x(paper)
        diamond = f"M{px:.1f} {y - 6} L{px + 6:.1f} {y} L{px:.1f} {y + 6} L{px - 6:.1f} {y} Z"
        out.append(
            f'<path d="{diamond}" class="sn-dots-paper"><title>paper: {html.escape(arm)} '
            f"{fmt(paper)} ({html.escape(claim.paper_arms_from)})</title></path>"
        )
    if s.lo is not None and s.hi is not None and math.isfinite(s.lo):
        out.append(
            f'<line x1="{x(s.lo):.1f}" x2="{x(s.hi):.1f}" y1="{y}" y2="{y}" '
            f'class="sn-dots-interval"/>'
        )
    if s.mean is not None:
        out.append(
            f'<circle cx="{x(s.mean):.1f}" cy="{y}" r="4.5" class="sn-dots-mean">'
            f"<title>{html.escape(arm)}: {html.escape(s.text())}</title></circle>"
            f'<text x="{WIDTH - 104}" y="{y + 4}" class="sn-dots-label">{fmt(s.mean)}</text>'
        )
    return out
