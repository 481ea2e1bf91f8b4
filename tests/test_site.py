"""The site: strict build of the real project, citations in pages and notebooks, no CDN,
and every bad input failing the build with file and line."""

from __future__ import annotations

import json
import posixpath
import re
from html import unescape
from pathlib import Path

import pytest

from repro.site import joins
from repro.site.bib import load_bibliography

from conftest import CORE, MINI_BIB, ROOT

# What a browser would fetch: scripts, images, frames, stylesheets/icons/preloads. A canonical
# link (from site_url) is a name, not a request.
EXTERNAL_ASSET = re.compile(
    r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=\"(?:https?:)?//"
    r"|<link\b(?![^>]*rel=\"canonical\")[^>]*\bhref=\"(?:https?:)?//",
    re.I,
)


def test_build_is_strict(built_site: Path):
    assert (built_site / "index.html").exists()
    assert (built_site / "search" / "search_index.json").exists()


def test_no_page_loads_anything_from_the_network(built_site: Path):
    offenders = []
    for page in built_site.rglob("*.html"):
        offenders += [
            f"{page.relative_to(built_site)}: {m.group(0)[:80]}"
            for m in EXTERNAL_ASSET.finditer(page.read_text())
        ]
    assert offenders == []
    assert (built_site / "javascripts/vendor/mathjax/tex-mml-chtml.js").exists()
    assert (built_site / "javascripts/vendor/mathjax/output/chtml/fonts/woff-v2").is_dir()


def test_core_paper_pages_cite_their_paper(built_site: Path):
    bib = load_bibliography(ROOT / "refs.bib")
    for key in CORE:
        html = (built_site / "papers" / key / "index.html").read_text()
        assert f'data-key="{key}"' in html, key
        assert f">{bib[key].label()}</a>" in html
        assert 'id="bibliography"' in html  # the page's own bibliography
        assert "[@" not in re.sub(r"<(pre|code)\b.*?</\1>", "", html, flags=re.S)


def test_references_page_lists_every_entry_with_backlinks(built_site: Path):
    bib = load_bibliography(ROOT / "refs.bib")
    html = (built_site / "references" / "index.html").read_text()
    for key in bib.entries:
        assert f'id="ref-{key}"' in html
    item = re.search(r'<li id="ref-bai2018tcn">.*?</li>', html, re.S).group(0)
    assert "Cited on:" in item and 'href="../papers/bai2018tcn/"' in item


def test_notebook_pages_get_citations_and_no_cdn_scripts(built_site: Path):
    notebooks = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))
    assert notebooks, "the site has at least one notebook page"
    cited = [nb for nb in notebooks if "[@" in nb.read_text()]
    assert cited, "a notebook cites a paper, so notebook citation rendering is exercised"
    for nb in cited:
        html = (built_site / "notebooks" / nb.stem / "index.html").read_text()
        assert 'class="sn-cite"' in html
        assert "cdnjs" not in html and "mathjax@2" not in html.lower()
        assert '<script src="">' not in html  # nbconvert's empty MathJax 2 loader


def test_check_finds_no_errors_in_the_tree():
    errors = [f for f in joins.check_tree(ROOT) if f.level == "error"]
    assert errors == []


# ---- bad input: each fails the build and names the file and line -----------------------


def test_mini_project_builds(mini_project):
    proc = mini_project()
    assert proc.returncode == 0, proc.stderr
    html = (mini_project.root / "site" / "index.html").read_text()
    assert ">Elman, 1990</a>" in html


def test_unknown_citation_key_fails_with_file_and_line(mini_project):
    proc = mini_project(index="One.\n\nTwo [@elman1990finding; @nosuch2020key].\n")
    assert proc.returncode != 0
    assert (
        "docs/index.md:5: error: unknown citation key 'nosuch2020key': not in refs.bib"
        in proc.stderr
    )


def test_citation_in_code_is_left_alone(mini_project):
    proc = mini_project(index="Write `[@nosuch]` to cite.\n\n```\n[@nosuch2]\n```\n")
    assert proc.returncode == 0, proc.stderr
    assert "[@nosuch]" in (mini_project.root / "site" / "index.html").read_text()


def test_unknown_key_in_notebook_fails_with_file_and_line(mini_project):
    nb = {
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# NB\n", "[@ghost]\n"]}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    proc = mini_project(extra={"docs/nb.ipynb": json.dumps(nb, indent=1)})
    assert proc.returncode != 0
    assert "docs/nb.ipynb:8: error: unknown citation key 'ghost'" in proc.stderr


@pytest.mark.parametrize(
    ("bib", "message"),
    [
        (
            MINI_BIB + "\n@article{elman1990finding, author={X, Y}, title={Z}, year={1991}}\n",
            "refs.bib:17: duplicate key 'elman1990finding' (first defined on line 1)",
        ),
        (
            "@article{broken1999a, author = {A, B}, title = {oops\n  year = 1999}\n\n" + MINI_BIB,
            "refs.bib:1: malformed entry '@article{broken1999a",
        ),
    ],
    ids=["duplicate", "malformed"],
)
def test_bad_bib_fails_the_build_with_file_and_line(mini_project, bib, message):
    proc = mini_project(bib=bib)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_paper_note_without_entry_fails(mini_project):
    proc = mini_project(extra={"docs/papers/nobody2020x.md": "# Nobody\n"})
    assert proc.returncode != 0
    assert (
        "docs/papers/nobody2020x.md:1: error: paper note 'nobody2020x' has no entry" in proc.stderr
    )


def test_unused_entries_and_missing_arxiv_ids_are_warnings(mini_project):
    mini_project(index="No citations.\n")
    found = joins.check_tree(mini_project.root)
    assert {f.level for f in found} == {"warning"}
    messages = [str(f) for f in found]
    assert "refs.bib:1: warning: entry 'elman1990finding' is cited nowhere" in messages


def test_unknown_claim_id_fails_the_build_with_file_and_line(mini_project):
    proc = mini_project(index="Intro.\n\n{{ claim nobody2020x.no-such-claim }}\n")
    assert proc.returncode != 0
    assert "docs/index.md:5: error: unknown claim id 'nobody2020x.no-such-claim'" in proc.stderr


def test_unknown_directive_fails_the_build(mini_project):
    proc = mini_project(index="{{ claimz bai2018tcn }}\n")
    assert proc.returncode != 0
    assert "docs/index.md:3: error: unknown directive '{{ claimz }}'" in proc.stderr


RAW_CITE_RE = re.compile(r"\[@[A-Za-z]")
CODE_RE = re.compile(r"<(pre|code|script)\b.*?</\1>", re.S)


def _raw_citations(site: Path) -> list[str]:
    """Pages with a `[@key]` left as text outside code (a citation nothing rendered)."""
    out = []
    for page in sorted(site.rglob("*.html")):
        text = CODE_RE.sub("", page.read_text(encoding="utf-8"))
        if RAW_CITE_RE.search(text):
            out.append(str(page.relative_to(site)))
    return out


def test_no_raw_citation_is_left_by_mkdocs(built_site):
    assert _raw_citations(built_site) == []


def test_zensical_renders_citations_bibliographies_and_claim_blocks(zensical_site):
    """The same pages under Zensical, notebook pages included: citations with hover cards, a
    per-page bibliography, the references page with its "cited on" backlinks, claim blocks
    with embedded figures, the board."""
    assert _raw_citations(zensical_site) == []
    bai = (zensical_site / "papers" / "bai2018tcn" / "index.html").read_text()
    assert 'class="sn-cite"' in bai and 'id="bib-bai2018tcn"' in bai
    assert 'id="claim-bai2018tcn-copy-memory"' in bai and 'src="data:image/svg+xml;base64,' in bai
    refs = (zensical_site / "references" / "index.html").read_text()
    assert 'id="ref-bai2018tcn"' in refs and "Cited on:" in refs
    assert 'href="../papers/bai2018tcn/"' in refs
    home = (zensical_site / "index.html").read_text()
    assert "sn-board-tally" in home and "{{" not in CODE_RE.sub("", home)


def test_search_indexes_what_pages_say_not_hover_cards_or_provenance(built_site: Path):
    """A citation's hover card (the full reference) and a claim's provenance are marked
    data-search-exclude: a search preview shows the page's text, not a reference glued to it."""
    docs = json.loads((built_site / "search" / "search_index.json").read_text())["docs"]
    title = "An Empirical Evaluation of Generic Convolutional"  # Bai et al. 2018
    glued = [
        d["location"]
        for d in docs
        if title in d["text"] and d["title"] not in ("Bibliography", "References")
    ]
    assert not glued, glued
    results = ROOT / "docs" / "results"
    hashes = [json.loads(f.read_text())["hash"] for f in results.glob("*/result.json")]
    assert hashes  # a committed result's hash is printed only in its provenance fold
    provenance = [d["location"] for d in docs if any(h in d["text"] for h in hashes)]
    assert not provenance, provenance
    cited = [
        d
        for d in docs
        if d["location"].startswith("papers/bai2018tcn/") and "Bai et al., 2018" in d["text"]
    ]
    assert cited  # the citation itself stays searchable


# ---- notebook pages in both builds -------------------------------------------------------

NOTEBOOKS = ROOT / "docs" / "notebooks"
RESULTS_NB = NOTEBOOKS / "results.ipynb"
LINK_RE = re.compile(r"""\b(?:href|src)="([^"#?]*)""")


def _links(site: Path) -> list[tuple[str, str]]:
    """(page, link) for every href and src in the site's HTML, fragments and queries cut."""
    return [
        (str(page.relative_to(site)), m.group(1))
        for page in sorted(site.rglob("*.html"))
        for m in LINK_RE.finditer(page.read_text(encoding="utf-8"))
    ]


def test_zensical_links_to_no_raw_notebook(zensical_site: Path):
    """Zensical runs no mkdocs-jupyter: without the pre-build every menu linked the raw .ipynb
    and the jupytext .py notebooks instead of their pages."""
    raw = {p.name for p in NOTEBOOKS.glob("*.py")}
    assert raw, "docs/notebooks has a jupytext notebook, so .py links are checked too"
    found = [
        f"{page}: {link}"
        for page, link in _links(zensical_site)
        if link.endswith(".ipynb") or link.rsplit("/", 1)[-1] in raw
    ]
    assert found == [], f"{len(found)} links to raw notebooks, e.g. {found[:5]}"


def _visible_text(html_text: str) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", html_text, flags=re.S)
    return " ".join(unescape(text).split())


def _assert_the_results_notebook_is_a_page(site: Path) -> None:
    """Its title, a section heading and a line its code printed, all taken from the notebook
    itself; every stored figure shown; and a link to the page in the home page's menu."""
    nb = json.loads(RESULTS_NB.read_text(encoding="utf-8"))
    markdown = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    headings = [line for cell in markdown for line in cell.splitlines() if line.startswith("#")]
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    printed = next("".join(o["text"]).splitlines()[0] for o in outputs if o.get("text"))
    figures = sum("image/svg+xml" in o.get("data", {}) for o in outputs)
    assert headings[0].startswith("# ") and len(headings) > 1 and figures > 0
    page = site / "notebooks" / "results" / "index.html"
    assert page.exists(), f"no page for {RESULTS_NB.name} in {site}"
    html_text = page.read_text(encoding="utf-8")
    text = _visible_text(html_text)
    for expected in (headings[0].lstrip("# "), headings[1].lstrip("# "), printed):
        assert " ".join(expected.split()) in text, expected
    shown = re.findall(r'<img\b[^>]*\bsrc="(data:image/svg\+xml[^"]*|[^"]+\.svg)"', html_text)
    assert len(shown) >= figures, f"{len(shown)} of {figures} figures shown"
    files = [src for src in shown if not src.startswith("data:")]
    assert [src for src in files if not (page.parent / src).resolve().is_file()] == []
    home = (site / "index.html").read_text(encoding="utf-8")
    menu = {posixpath.normpath(href) for href in LINK_RE.findall(home)}
    assert "notebooks/results" in menu, "the results notebook is not in the home page's menu"


def test_the_results_notebook_is_a_page_under_mkdocs(built_site: Path):
    _assert_the_results_notebook_is_a_page(built_site)


def test_the_results_notebook_is_a_page_under_zensical(zensical_site: Path):
    _assert_the_results_notebook_is_a_page(zensical_site)
