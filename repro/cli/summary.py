"""Command-line room, the closing table of a run: claim, verdict, paper value, ours, time; then
where each paper's results went."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from repro.claims import fmt
from repro.run.runner import Outcome


def rel_path(path: Path | None, root: Path) -> str:
    if path is None:
        return "-"
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


# ---- list -----------------------------------------------------------------------------------


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_summary(outcomes: Sequence[Outcome], root: Path) -> None:
    """The closing table: claim, verdict, paper value, ours, time; then where results went."""
    rows = [("claim", "kind · verdict", "paper", "ours", "time")]
    for o in outcomes:
        if o.status == "failed":
            for c in o.paper.claims:
                rows.append(
                    (
                        c.id,
                        "failed (run raised)",
                        _cut(c.paper_value, 36),
                        _cut(o.error, 40),
                        f"{o.wall_time_s:.1f} s",
                    )
                )
            continue
        assert o.record is not None
        time_s = o.record.provenance.get("wall_time_s", 0.0)
        when = "cached" if o.status == "cached" else f"{fmt(time_s, 3)} s"
        for c in o.paper.claims:
            r = o.record.results.get(c.id)
            if r is None:
                rows.append((c.id, "no result", _cut(c.paper_value, 36), "", when))
                continue
            verdict = str(r.verdict) if r.verdict is not None else "not yet specified"
            verdict = f"{c.kind} · {verdict}"
            ours = "; ".join(f"{a}: {s.text()}" for a, s in r.summary.items())
            rows.append((c.id, verdict, _cut(c.paper_value, 36), _cut(ours, 40), when))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    print("\n".join(lines))
    for o in outcomes:
        if o.path is not None:
            note = " (kept: up to date; --force reruns)" if o.status == "cached" else ""
            print(f"{o.paper.key}: {rel_path(o.path, root)}{note}")
