"""Site room, claim-block details: provenance, replication and revision history, as HTML.

Pure functions of a claim's state (no MkDocs, no discovery); repro.site.blocks puts them in the
claim block's folded details.
"""

from __future__ import annotations

import base64
import html
import json
import posixpath
from pathlib import Path

from repro.claims import fmt
from repro.run.states import ClaimState


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def replication_row(s: ClaimState) -> str:
    assert s.audit is not None and s.audit_record is not None
    p = s.audit_record.provenance
    seeds = ", ".join(map(str, p.get("seeds", [])))
    arms = "".join(
        f"<li><strong>{esc(a)}</strong>: {esc(m.text())}</li>" for a, m in s.audit.summary.items()
    )
    why = "".join(f"<li>{esc(line)}</li>" for line in s.audit.detail.splitlines())
    return (
        f"{esc(s.replication())}: <strong>{esc(s.audit.verdict)}</strong> on seeds {esc(seeds)} "
        f"({esc(str(p.get('date', ''))[:10])}, <code>{esc(p.get('command', ''))}</code>)"
        f'<ul class="sn-arms">{arms}</ul><ul class="sn-detail">{why}</ul>'
    )


def history(entries: list[dict]) -> str:
    items = "".join(
        f"<li>{esc(str(h.get('date', ''))[:10])}: {esc(' and '.join(h.get('changed', [])))} "
        f"revised. Was: <em>{esc(h.get('old_criterion', ''))}</em> on seeds "
        f"{esc(', '.join(map(str, h.get('old_seeds', []))))}, verdict "
        f"<strong>{esc(h.get('old_verdict'))}</strong> (commit "
        f"{esc(str(h.get('old_commit', ''))[:12])}). Now: <em>{esc(h.get('new_criterion', ''))}"
        f"</em> on seeds {esc(', '.join(map(str, h.get('new_seeds', []))))}. Reason: "
        f"{esc(h.get('reason', ''))}</li>"
        for h in entries
    )
    return f'<ul class="sn-history">{items}</ul>'


def provenance(s: ClaimState) -> str:
    assert s.result is not None and s.record is not None
    p = s.result.provenance
    dirty = p.get("dirty")
    commit = str(p.get("commit", "unknown"))[:12] + (" (uncommitted changes)" if dirty else "")
    rows = [
        ("date", p.get("date", "?")),
        ("commit", commit),
        ("scale", p.get("scale", "?")),
        ("seeds", ", ".join(map(str, p.get("seeds", [])))),
        ("device", p.get("device", "?")),
        ("torch", p.get("torch", "?")),
        ("wall time", f"{fmt(p.get('wall_time_s'), 3)} s"),
        ("hash", s.record.hash),
    ]
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    config = json.dumps(p.get("config", {}), indent=1)
    body += f"<tr><th>config</th><td><pre><code>{esc(config)}</code></pre></td></tr>"
    if p.get("overrides"):
        body += f"<tr><th>overrides</th><td>{esc(json.dumps(p['overrides']))}</td></tr>"
    return (
        '<details class="info sn-provenance" data-search-exclude><summary>Provenance</summary>'
        f'<table class="sn-provenance-table"><tbody>{body}</tbody></table></details>'
    )


def figure_url(s: ClaimState, file: str, page_url: str, results: Path, docs: Path | None) -> str:
    """The figure's URL relative to the page; with no docs dir (a build that does not tell the
    page's URL, such as Zensical's), the figure itself as a data: URL."""
    if docs is None:
        data = (results / s.paper.key / file).read_bytes()
        kind = "image/svg+xml" if file.endswith(".svg") else "image/png"
        return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
    try:
        rel = (results / s.paper.key / file).resolve().relative_to(docs.resolve()).as_posix()
    except ValueError:
        raise ValueError(f"results dir {results} is outside the docs dir {docs}") from None
    return relurl(rel, page_url)


def relurl(target: str, page_url: str) -> str:
    """`target` (a path from the site root) relative to the page at `page_url`."""
    path, _, frag = target.partition("#")
    base = page_url if page_url.endswith("/") or not page_url else posixpath.dirname(page_url)
    rel = posixpath.relpath(path or ".", base.rstrip("/") or ".")
    if path.endswith("/") and not rel.endswith("/"):
        rel += "/"
    return rel + (f"#{frag}" if frag else "")
