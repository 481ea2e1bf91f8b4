"""Site room, the Python-Markdown extension: citations, bibliographies and claim blocks for any
builder that runs Python-Markdown extensions (Zensical does; it runs no MkDocs plugins).

Named in mkdocs.yml under `markdown_extensions` as `repro.site.markdown`. Under MkDocs the
seqnotes plugin takes it out of the list again (the plugin does the same work on the rendered
HTML, notebooks included, with links relative to each page); every other builder runs it:

- `[@key]` and `[@a; @b]` become author-year citations with the full reference on hover, linked
  to the page's own bibliography, which is appended to the page;
- `{{ bibliography }}` lists every entry of refs.bib with "cited on" backlinks (found by
  scanning the docs' sources, as the joins checker does);
- `{{ claims KEY }}`, `{{ claim ID }}`, `{{ claims_board }}` render the claim blocks and the
  board from the stored results; figures are embedded (a Markdown extension is not told the
  page's URL, so a relative figure link could not be written).

The joins and result checks run once per build; an error stops it, naming file and line.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor

from repro.run.discover import discover
from repro.site import blocks, board, joins
from repro.site.bib import Bibliography, load_bibliography
from repro.site.checks import result_findings

CODE_SPLIT_RE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>|<script\b.*?</script>)", re.S)
PARA_DIRECTIVE_RE = re.compile(r"<p>\s*(" + joins.DIRECTIVE_RE.pattern + r")\s*</p>")


class SeqnotesError(Exception):
    """The build must stop: the message names the file and line to fix."""


@functools.cache
def _project(root: str, bibfile: str, results_dir: str, docs_dir: str) -> tuple[Any, ...]:
    """Bibliography, claim states and "cited on" pages, computed once per build process."""
    base = Path(root).resolve()
    bib = load_bibliography(base / bibfile)
    refs = joins.scan_docs(base, docs_dir)
    papers = discover(base)
    ids = {c.id for p in papers.values() for c in p.claims}
    results = base / results_dir
    findings = joins.check_tree(base, bib, refs, ids, docs_dir)
    findings += result_findings(base, papers, results)
    errors = [str(f) for f in findings if f.level == "error"]
    if errors:
        raise SeqnotesError("seqnotes check failed:\n  " + "\n  ".join(errors))
    labels = {k: e.label() for k, e in bib.entries.items()}
    site = blocks.collect(papers, results, base / docs_dir, labels, inline_figures=True)
    cited_on: dict[str, dict[str, str]] = {}
    for ref in refs:
        if ref.kind == "cite":
            page = ref.path.removeprefix(f"{docs_dir}/")
            cited_on.setdefault(ref.arg, {})[page] = _title(base / ref.path)
    return bib, site, cited_on


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem


class _Pages(Postprocessor):
    def __init__(self, md: Markdown, config: dict[str, str]):
        super().__init__(md)
        self.config = config

    def run(self, text: str) -> str:
        bib, site, cited_on = _project(
            self.config["root"],
            self.config["bibfile"],
            self.config["results_dir"],
            self.config["docs_dir"],
        )
        cited: list[str] = []
        is_references = "{{ bibliography }}" in text
        parts = CODE_SPLIT_RE.split(text)
        for i in range(0, len(parts), 2):  # even parts are outside code and scripts
            parts[i] = joins.CITE_RE.sub(lambda m: _cite(m, bib, cited), parts[i])
            parts[i] = PARA_DIRECTIVE_RE.sub(lambda m: _directive(m, bib, site, cited_on), parts[i])
        text = "".join(parts)
        keys = list(dict.fromkeys(cited))
        if keys and not is_references:
            text += _page_bibliography(keys, bib)
        return text


def _cite(m: re.Match[str], bib: Bibliography, cited: list[str]) -> str:
    items = []
    for part in m.group(1).split(";"):
        key = html.unescape(part.strip())[1:]
        if key not in bib:
            raise SeqnotesError(f"unknown citation key '{key}' (not in refs.bib)")
        entry = bib[key]
        cited.append(key)
        card = f"sn-card-{len(cited)}"
        items.append(
            f'<span class="sn-cite-item"><a class="sn-cite" href="#bib-{html.escape(key)}" '
            f'data-key="{html.escape(key)}" aria-describedby="{card}">'
            f"{html.escape(entry.label())}</a>"
            f'<span class="sn-cite-card" role="tooltip" id="{card}">{entry.html()}</span></span>'
        )
    return '<span class="sn-cite-group">(' + "; ".join(items) + ")</span>"


def _page_bibliography(keys: list[str], bib: Bibliography) -> str:
    items = sorted((bib[k] for k in keys), key=lambda e: (e.label(), e.key))
    lis = "".join(
        f'<li id="bib-{html.escape(e.key)}"><strong>{html.escape(e.label())}</strong>: '
        f"{e.html()}</li>"
        for e in items
    )
    return f'<h2 id="bibliography">Bibliography</h2><ul class="sn-bibliography">{lis}</ul>'


def _directive(m: re.Match[str], bib: Bibliography, site: Any, cited_on: dict) -> str:
    name, arg = m.group(2), m.group(3) or ""
    if name == "bibliography":
        return _all_references(bib, cited_on)
    try:
        if name == "claims":
            return blocks.claims_html(arg, site, "")
        if name == "claim":
            return blocks.claim_html(arg, site, "")
        if name == "claims_board":
            return board.board_html(site, "")
    except blocks.BlockError as exc:
        raise SeqnotesError(str(exc)) from None
    raise SeqnotesError(f"unknown directive '{m.group(1)}'")


def _all_references(bib: Bibliography, cited_on: dict[str, dict[str, str]]) -> str:
    """Every entry, with links to the citing pages as source paths (papers/x.md), which the
    builder turns into page URLs, as it does for the links written in Markdown."""
    out = ['<ul class="sn-references">']
    for e in sorted(bib.entries.values(), key=lambda e: (e.label(), e.key)):
        pages = sorted(cited_on.get(e.key, {}).items())
        links = ", ".join(
            f'<a href="{html.escape(p)}">{html.escape(title)}</a>'
            for p, title in pages
            if p != "references.md"
        )
        more = f'<br><span class="sn-cited-on">Cited on: {links}</span>' if links else ""
        out.append(
            f'<li id="ref-{html.escape(e.key)}"><strong>{html.escape(e.label())}</strong>'
            f" <code>{html.escape(e.key)}</code><br>{e.html()}{more}</li>"
        )
    out.append("</ul>")
    return "".join(out)


class SeqnotesExtension(Extension):
    def __init__(self, **kwargs: Any):
        self.config = {
            "root": [".", "the project root (refs.bib, repro/, docs/)"],
            "bibfile": ["refs.bib", "the bibliography, relative to root"],
            "results_dir": ["docs/results", "the committed results, relative to root"],
            "docs_dir": ["docs", "the pages, relative to root"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.postprocessors.register(_Pages(md, self.getConfigs()), "seqnotes", 5)


def makeExtension(**kwargs: Any) -> SeqnotesExtension:  # noqa: N802 (Python-Markdown's name)
    return SeqnotesExtension(**kwargs)
