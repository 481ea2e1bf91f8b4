"""Site room, the Python-Markdown extension: citations, bibliographies and claim blocks for any
builder that runs Python-Markdown extensions (Zensical does; it runs no MkDocs plugins).

Named in mkdocs.yml under `markdown_extensions` as `repro.site.markdown`. Under MkDocs the
seqnotes plugin takes it out of the list again (the plugin does the same work on the rendered
HTML, notebooks included, with links relative to each page); every other builder runs it:

- `[@key]` and `[@a; @b]` become author-year citations with the full reference on hover, linked
  to the page's own bibliography, which is appended to the page;
- `{{ bibliography }}` lists every entry of refs.bib with "cited on" backlinks (found by
  scanning the pages, as the joins checker does: the docs' sources, or with `pages_dir` the
  tree a pre-build wrote, where notebooks are Markdown pages; see repro.site.zensical);
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
from repro.site import blocks, board, joins, render
from repro.site.bib import Bibliography, Entry, load_bibliography


class SeqnotesError(Exception):
    """The build must stop: the message names the file and line to fix."""


@functools.cache
def _project(
    root: str, bibfile: str, results_dir: str, docs_dir: str, pages_dir: str = ""
) -> tuple[Any, ...]:
    """Bibliography, claim states and "cited on" pages, computed once per build process. The
    checks read the sources under `docs_dir`; the backlinks name the pages actually built,
    under `pages_dir` where it is given."""
    base = Path(root).resolve()
    bib = load_bibliography(base / bibfile)
    refs = joins.scan_docs(base, docs_dir)
    site, errors = render.prepare(
        base, bib, refs, discover(base), base / results_dir, base / docs_dir, inline_figures=True
    )
    if errors:
        raise SeqnotesError("seqnotes check failed:\n  " + "\n  ".join(errors))
    pages, prefix = base / docs_dir, docs_dir
    if pages_dir:  # a pre-build's tree (repro.site.zensical): notebooks are Markdown there
        pages = Path(pages_dir).resolve()
        refs, prefix = joins.scan_docs(pages.parent, pages.name), pages.name
    cited_on: dict[str, dict[str, str]] = {}
    for ref in refs:
        if ref.kind == "cite":
            page = ref.path.removeprefix(f"{prefix}/")
            cited_on.setdefault(ref.arg, {})[page] = _title(pages / page)
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
            self.config["pages_dir"],
        )
        cited: list[str] = []
        is_references = "{{ bibliography }}" in text
        text = render.rewrite(
            text,
            lambda m: render.cite_html(m, lambda k: _entry(bib, k), _local, cited),
            lambda m: _directive(m, bib, site, cited_on),
        )
        keys = list(dict.fromkeys(cited))
        if keys and not is_references:
            text += render.page_bibliography(keys, bib)
        return text


def _entry(bib: Bibliography, key: str) -> Entry:
    if key not in bib:
        raise SeqnotesError(f"unknown citation key '{key}' (not in refs.bib)")
    return bib[key]


def _local(key: str) -> str:
    """A citation links to the page's own bibliography (the page's URL is not known here)."""
    return f"#bib-{html.escape(key)}"


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

    def backlinks(key: str) -> list[tuple[str, str]]:
        pages = sorted(cited_on.get(key, {}).items())
        return [(html.escape(p), title) for p, title in pages if p != "references.md"]

    return render.references_html(bib, backlinks)


class SeqnotesExtension(Extension):
    def __init__(self, **kwargs: Any):
        self.config = {
            "root": [".", "the project root (refs.bib, repro/, docs/)"],
            "bibfile": ["refs.bib", "the bibliography, relative to root"],
            "results_dir": ["docs/results", "the committed results, relative to root"],
            "docs_dir": ["docs", "the pages, relative to root"],
            "pages_dir": ["", "the pages as built, if a pre-build wrote them elsewhere"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.postprocessors.register(_Pages(md, self.getConfigs()), "seqnotes", 5)


def makeExtension(**kwargs: Any) -> SeqnotesExtension:  # noqa: N802 (Python-Markdown's name)
    return SeqnotesExtension(**kwargs)
