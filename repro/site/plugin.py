"""Site room, the MkDocs plugin: citations, bibliographies, claim blocks and the joins check.

- `[@key]` and `[@a; @b]` become author-year links to the references page with a hover card
  holding the full reference; each page that cites ends with its own bibliography.
- `{{ bibliography }}` (on the references page) lists every entry with "cited on" backlinks.
- `{{ claims KEY }}`, `{{ claim ID }}`, `{{ claims_board }}` render reproduction results
  (repro.site.blocks) from the `results_dir` option (docs/results/), never from numbers typed
  into the page. Every claim's state is computed once per build, in `on_files`.
- Errors (unknown key, malformed refs.bib, broken joins, an unreadable result or a missing
  figure: the same checks and messages as `repro check`) abort the build naming file and line.

All rewriting happens on the rendered HTML (`on_page_content`), because mkdocs-jupyter renders
notebook pages itself and never calls Markdown hooks; code blocks are left untouched. The same
pass strips the CDN scripts nbconvert puts into notebook pages (the site must work offline).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from repro.run.discover import discover
from repro.run.errors import ReproError
from repro.site import blocks, board, joins, render
from repro.site.bib import BibError, Bibliography, Entry, load_bibliography

log = logging.getLogger("mkdocs.plugins.seqnotes")
MARKDOWN_EXTENSION = "repro.site.markdown"

# nbconvert's templates load MathJax 2 (as an empty src="" here), require.js and mermaid from
# CDNs: useless offline, a request to the page itself, and a MathJax 2 that fights the vendored
# MathJax 3 under instant navigation. Notebook pages lose every script that reaches outside.
SCRIPT_RE = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)
EXTERNAL_LINK_RE = re.compile(r"<link\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\"[^>]*>")


def _strip_external(html_text: str) -> str:
    def keep(m: re.Match[str]) -> str:
        attrs, body = m.group(1), m.group(2)
        src = re.search(r'\bsrc="([^"]*)"', attrs)
        if src and (not src.group(1) or re.match(r"(?:https?:)?//", src.group(1))):
            return ""
        if "text/x-mathjax-config" in attrs or re.search(r"https?://", body):
            return ""
        return m.group(0)

    return EXTERNAL_LINK_RE.sub("", SCRIPT_RE.sub(keep, html_text))


class SeqnotesConfig(Config):
    bibfile = c.Type(str, default="refs.bib")
    results_dir = c.Type(str, default="docs/results")
    references_page = c.Type(str, default="references.md")


class SeqnotesPlugin(BasePlugin[SeqnotesConfig]):
    def on_config(self, config):
        # repro.site.markdown does this plugin's work for builders without MkDocs plugins
        # (Zensical); under MkDocs the plugin does it on the rendered HTML (notebooks too).
        config.markdown_extensions = [
            e for e in config.markdown_extensions if e != MARKDOWN_EXTENSION
        ]
        config.mdx_configs.pop(MARKDOWN_EXTENSION, None)
        self.root = Path(config.config_file_path).resolve().parent
        self.bib = self._load_bib()
        self.cited_on: dict[str, list[Page]] = defaultdict(list)
        self.references_page: Page | None = None
        return config

    def _load_bib(self) -> Bibliography:
        try:
            return load_bibliography(self.root / self.config.bibfile)
        except BibError as exc:
            problems = [self._rel(p) for p in exc.problems]
            raise PluginError("refs.bib has errors:\n  " + "\n  ".join(problems)) from None

    def _rel(self, text: str) -> str:
        return text.replace(str(self.root) + "/", "")

    @event_priority(-50)  # after mkdocs-jupyter registered its notebooks
    def on_files(self, files: Files, config) -> Files:
        """Scan every page's source up front: unknown keys and broken joins fail here."""
        docs = Path(config.docs_dir)
        self.refs = joins.scan_docs(self.root, docs.name)
        try:
            papers = discover(self.root)
        except ReproError as exc:  # a broken paper module: its message names file and line
            raise PluginError(str(exc)) from None
        results = self.root / self.config.results_dir
        self.site, errors = render.prepare(self.root, self.bib, self.refs, papers, results, docs)
        if errors:
            raise PluginError("seqnotes check failed:\n  " + "\n  ".join(errors))
        return files

    def on_page_content(self, content: str, page: Page, config, files: Files) -> str:
        if page.file.src_uri.endswith(".ipynb"):
            content = _strip_external(content)
        if page.file.src_uri == self.config.references_page:
            self.references_page = page
        cited: list[str] = []
        content = render.rewrite(
            content,
            lambda m: render.cite_html(m, lambda k: self._entry(k, page), self._href(page), cited),
            lambda m: self._directive(m, page),
        )
        keys = list(dict.fromkeys(cited))
        for key in keys:
            self.cited_on[key].append(page)
        if keys and page is not self.references_page:
            content += self._page_bibliography(keys, page)
        return content

    def on_env(self, env, config, files: Files):
        """All pages are rendered: fill the references page with its "cited on" backlinks."""
        page = self.references_page
        if page is not None:
            page.content = page.content.replace(_MARK, self._all_references(page))
        return env

    # ---- citations -------------------------------------------------------------------

    def _ref_url(self, key: str, page: Page) -> str:
        target = self.config.references_page.removesuffix(".md") + "/"
        return f"{get_relative_url(target, page.url)}#ref-{key}"

    def _entry(self, key: str, page: Page) -> Entry:
        if key not in self.bib:  # on_files already checked; this guards pages it cannot see
            raise PluginError(f"{page.file.src_path}: unknown citation key '{key}'")
        return self.bib[key]

    def _href(self, page: Page):
        return lambda key: self._ref_url(key, page)

    def _page_bibliography(self, keys: list[str], page: Page) -> str:
        return render.page_bibliography(keys, self.bib, self._href(page))

    def _all_references(self, here: Page) -> str:
        def backlinks(key: str) -> list[tuple[str, str]]:
            pages = {p.url: p for p in self.cited_on.get(key, []) if p is not here}
            return [
                (get_relative_url(p.url, here.url), p.title or p.url)
                for p in sorted(pages.values(), key=lambda p: p.url)
            ]

        return render.references_html(self.bib, backlinks)

    # ---- directives ------------------------------------------------------------------

    def _directive(self, m: re.Match[str], page: Page) -> str:
        name, arg = m.group(2), m.group(3) or ""
        if name == "bibliography":
            return _MARK
        try:
            if name == "claims":
                return blocks.claims_html(arg, self.site, page.url)
            if name == "claim":
                return blocks.claim_html(arg, self.site, page.url)
            if name == "claims_board":
                return board.board_html(self.site, page.url)
        except blocks.BlockError as exc:
            raise PluginError(f"docs/{page.file.src_path}: {exc}") from None
        raise PluginError(f"docs/{page.file.src_path}: unknown directive '{m.group(1)}'")


_MARK = '<div class="sn-bibliography-all"></div>'
