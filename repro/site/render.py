"""Site room, page rendering shared by the MkDocs plugin and the Markdown extension.

Both builders hand over a page's HTML; this module finds the citations and directives outside
code, renders citations with their hover cards, a page's bibliography and the site-wide list of
references, and prepares the claim states once per build (after the joins and result checks).
What differs between the builders is only how a link is written, so every link is a parameter.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from repro.run.discover import Paper
from repro.site import blocks, joins
from repro.site.bib import Bibliography, Entry
from repro.site.checks import result_findings

CODE_SPLIT_RE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>|<script\b.*?</script>)", re.S)
PARA_DIRECTIVE_RE = re.compile(r"<p>\s*(" + joins.DIRECTIVE_RE.pattern + r")\s*</p>")


def rewrite(
    content: str,
    cite: Callable[[re.Match[str]], str],
    directive: Callable[[re.Match[str]], str],
) -> str:
    """`content` with citations and `{{ ... }}` paragraphs replaced, code and scripts untouched."""
    parts = CODE_SPLIT_RE.split(content)
    for i in range(0, len(parts), 2):  # even parts are outside code and scripts
        parts[i] = joins.CITE_RE.sub(cite, parts[i])
        parts[i] = PARA_DIRECTIVE_RE.sub(directive, parts[i])
    return "".join(parts)


def cite_html(
    m: re.Match[str],
    entry: Callable[[str], Entry],
    href: Callable[[str], str],
    cited: list[str],
) -> str:
    """One `[@a; @b]` group: author-year links with the full reference on hover; the keys are
    appended to `cited` (in order, repeats kept: each card gets a unique id on the page)."""
    items = []
    for part in m.group(1).split(";"):
        key = html.unescape(part.strip())[1:]
        e = entry(key)
        cited.append(key)
        card = f"sn-card-{len(cited)}"
        items.append(
            f'<span class="sn-cite-item"><a class="sn-cite" href="{href(key)}"'
            f' data-key="{html.escape(key)}" aria-describedby="{card}">'
            f"{html.escape(e.label())}</a>"
            f'<span class="sn-cite-card" role="tooltip" id="{card}" data-search-exclude>'
            f"{e.html()}</span></span>"
        )
    return '<span class="sn-cite-group">(' + "; ".join(items) + ")</span>"


def page_bibliography(
    keys: Sequence[str], bib: Bibliography, href: Callable[[str], str] | None = None
) -> str:
    """The page's own bibliography; each label links to `href(key)` when given."""
    items = sorted((bib[k] for k in keys), key=lambda e: (e.label(), e.key))

    def label(e: Entry) -> str:
        text = html.escape(e.label())
        return f'<a href="{href(e.key)}">{text}</a>' if href else f"<strong>{text}</strong>"

    lis = "".join(f'<li id="bib-{html.escape(e.key)}">{label(e)}: {e.html()}</li>' for e in items)
    return f'<h2 id="bibliography">Bibliography</h2><ul class="sn-bibliography">{lis}</ul>'


def references_html(
    bib: Bibliography, backlinks: Callable[[str], Sequence[tuple[str, str]]]
) -> str:
    """Every entry of refs.bib, with "cited on" links: `backlinks(key)` -> [(href, title)]."""
    out = ['<ul class="sn-references">']
    for e in sorted(bib.entries.values(), key=lambda e: (e.label(), e.key)):
        links = ", ".join(
            f'<a href="{href}">{html.escape(title)}</a>' for href, title in backlinks(e.key)
        )
        cited = f'<br><span class="sn-cited-on">Cited on: {links}</span>' if links else ""
        out.append(
            f'<li id="ref-{html.escape(e.key)}"><strong>{html.escape(e.label())}</strong>'
            f" <code>{html.escape(e.key)}</code><br>{e.html()}{cited}</li>"
        )
    out.append("</ul>")
    return "".join(out)


def claims_homes(refs: Sequence[joins.Ref], docs_dir: str = "docs") -> dict[str, str]:
    """key -> the docs-relative page whose `{{ claims key }}` shows a key's claims, where that
    is an experiment's page (docs/experiments/) rather than the paper's note."""
    prefix = f"{docs_dir}/experiments/"
    return {
        r.arg: r.path.removeprefix(f"{docs_dir}/")
        for r in refs
        if r.kind == "claims" and r.path.startswith(prefix)
    }


def prepare(
    root: Path,
    bib: Bibliography,
    refs: list[joins.Ref],
    papers: Mapping[str, Paper],
    results: Path,
    docs: Path,
    inline_figures: bool = False,
) -> tuple[blocks.SiteStates, list[str]]:
    """Every claim's state, computed once, and the errors of the joins and result checks (the
    same checks and messages as `repro check`)."""
    labels = {k: e.label() for k, e in bib.entries.items()}
    site = blocks.collect(papers, results, docs, labels, inline_figures)
    site = dataclasses.replace(site, homes=claims_homes(refs, docs.name))
    ids = {c.id for p in papers.values() for c in p.claims}
    findings = joins.check_tree(root, bib, refs, ids, docs.name)
    findings += result_findings(root, papers, results, site.by_key)
    return site, [str(f) for f in findings if f.level == "error"]
