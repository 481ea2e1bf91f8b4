"""Run room, scales: each claim at quick scale beside the full run, part by part.

A full run that is committed also runs the card at quick scale (seconds; into scratch/) and keeps,
beside the result, how each part of each reproduction's criterion fared there: the verdict and,
per part, the seeds inside its band. A page can then say whether the deciding part moves toward
the paper's claim as the budget grows ("not reproduced at this budget; the gap narrows") or not
("not reproduced; no trend"). docs/results/<key>/scales.json names the full result it goes with.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from repro.claims import AllOf, Band, Claim, Record, Result, atomic_write

SCALES_FILE = "scales.json"
# A share of seeds inside the band that moves by less than this between the scales is no trend:
# quick scale runs 1-2 seeds, so its share moves in steps of a half or a whole.
CLEAR = 0.1


def parts(claim: Claim, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each part of the claim's criterion: its text and how many seeds fall inside its band."""
    crit = claim.criterion
    bands = crit.parts if isinstance(crit, AllOf) else (crit,)
    out = []
    for b in bands:
        if isinstance(b, Band):
            k, n = b.share(values)
            out.append({"part": b.core(), "inside": k, "seeds": n})
    return out


def summary(claims: list[Claim], record: Record) -> dict[str, Any]:
    """claim id -> verdict and parts, for every reproduction with a criterion and a result."""
    out = {}
    for c in claims:
        r = record.results.get(c.id)
        if c.is_check or c.criterion is None or r is None:
            continue
        out[c.id] = {"verdict": str(r.verdict), "parts": parts(c, r.values)}
    return out


def write(results: Path, claims: list[Claim], full: Record, quick: Record) -> Path:
    """docs/results/<key>/scales.json: the quick run's summary, for the full record's hash."""
    prov = quick.provenance
    doc = {
        "for": full.hash,
        "quick": summary(claims, quick),
        "provenance": {
            "commit": prov.get("commit"),
            "seeds": prov.get("seeds"),
            "config": prov.get("config"),
            "cpu_time_s": prov.get("cpu_time_s"),
            "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        },
    }
    path = results / full.key / SCALES_FILE
    atomic_write(path, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return path


def load(results: Path, key: str) -> dict[str, Any] | None:
    """The stored quick-scale summary, or None (absent or unreadable: the page says nothing)."""
    try:
        return json.loads((results / key / SCALES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def trend(claim: Claim, full: Result, quick: Mapping[str, Any] | None) -> str:
    """One sentence: how the deciding part moved from quick to full scale ("" without both)."""
    if quick is None or full.verdict is None or claim.criterion is None:
        return ""
    now, then = parts(claim, full.values), quick.get("parts", [])
    if len(now) != len(then) or not now:
        return ""
    q_verdict = quick.get("verdict", "")
    if str(full.verdict) == "reproduced":
        if q_verdict == "reproduced":
            return "It holds at quick scale too."
        return f"At quick scale it was {q_verdict}: the effect needs the full budget."
    # The deciding part: the one with the smallest share of seeds inside its band at full scale.
    i = min(range(len(now)), key=lambda j: now[j]["inside"] / max(now[j]["seeds"], 1))
    a, b = then[i], now[i]
    share_q, share_f = a["inside"] / max(a["seeds"], 1), b["inside"] / max(b["seeds"], 1)
    moved = (
        "the gap narrows as the budget grows"
        if share_f - share_q > CLEAR
        else "the gap widens as the budget grows"
        if share_q - share_f > CLEAR
        else "no clear trend between the two budgets"
    )
    return (
        f"'{b['part']}' held on {a['inside']} of {a['seeds']} at quick scale and "
        f"{b['inside']} of {b['seeds']} at full scale: {moved}."
    )
