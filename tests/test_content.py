"""The content: facts from the five seed notes show up, as text a reader sees, on the built site.

Each fact is (seed file prefix, distinctive phrase or number, page path). The page path is the
docs path without `.md` (`papers/bai2018tcn` is built to `<site>/papers/bai2018tcn/index.html`;
`journal` means `journal/index.md`). Phrases are chosen from plain text, not from inside math,
whose MathJax source is not what a reader sees. Matching is case-sensitive, on the page's main
content with tags stripped and whitespace collapsed.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from conftest import CORE, ROOT

DOCS = ROOT / "docs"

FACTS: list[tuple[str, str, str]] = [
    # seed 000: the undated journal (10/3, 10/4, 10/5)
    ("000", "2.64", "open-questions"),
    ("000", "3 out of 4", "papers/britz2017massive"),
    ("000", "MEONMTA", "journal"),
    ("000", "identity skip of length 64", "journal"),
    ("000", "depth 128", "papers/alain2016probes"),
    ("000", "open secret", "open-questions"),
    ("000", "1709.02755", "journal"),
    ("000", "1M words", "journal"),
    ("000", "summarise entire books", "journal"),
    ("000", "the year is not recorded", "journal"),
    ("000", "TensorBoard", "journal"),
    ("000", "log-loss", "open-questions"),
    # seed 001: the January 2022 journal (Bengio '94, NYU lectures)
    ("001", "2022-01-28", "journal"),
    ("001", "2022-01-29", "journal"),
    ("001", "NYU lecture 4.2", "journal"),
    ("001", "natural signals", "journal"),
    ("001", "Colab", "journal"),
    ("001", "trainable inputs", "papers/bengio1994learning"),
    ("001", "open ball", "papers/bengio1994learning"),
    ("001", "latching", "papers/bengio1994learning"),
    ("001", "not a determinant", "topics/vanishing-exploding-gradients"),
    ("001", "hyperbolic attractor", "topics/vanishing-exploding-gradients"),
    ("001", "disproven", "open-questions"),
    # seed 002: paper reading notes
    ("002", "0.002", "papers/bai2018tcn"),
    ("002", "[0.3, 1]", "papers/bai2018tcn"),
    ("002", "0.0204", "papers/bai2018tcn"),
    ("002", "3.5e-5", "papers/bai2018tcn"),
    ("002", "0.1767", "papers/bai2018tcn"),
    ("002", "spatial dropout", "papers/bai2018tcn"),
    ("002", "github.com/locuslab/TCN", "papers/bai2018tcn"),
    ("002", "12000 hours", "papers/amodei2016deepspeech2"),
    ("002", "7x", "papers/amodei2016deepspeech2"),
    ("002", "43%", "papers/amodei2016deepspeech2"),
    ("002", "8 or 16 GPUs", "papers/amodei2016deepspeech2"),
    ("002", "up to 11 layers", "papers/amodei2016deepspeech2"),
    ("002", "3.57%", "papers/he2016resnet"),
    ("002", "152 layers", "papers/he2016resnet"),
    ("002", "half to ten times", "papers/pascanu2013difficulty"),
    ("002", "single point attractor", "papers/pascanu2013difficulty"),
    ("002", "mean recurrent length", "papers/chang2017dilated"),
    ("002", "six-fold", "papers/yu2017skim"),
    ("002", "top 6", "papers/subakan2017diagonal"),
    ("002", "3 of the 4 datasets", "papers/subakan2017diagonal"),
    ("002", "main GRU paper", "papers/cho2014learning"),
    ("002", "original GRU paper", "papers/cho2014properties"),
    ("002", "gas market", "papers/werbos1988generalization"),
    ("002", "TODO: Clockwork RNN", "papers/koutnik2014clockwork"),
    # corrections and the papers' own results, as a careful reader with the papers open finds them
    ("002", "5.3e-5", "papers/bai2018tcn"),  # the GRU cell of the adding row, better than the TCN
    ("002", "78.93", "papers/bai2018tcn"),  # word-level PTB: the LSTM wins
    ("002", "88.68", "papers/bai2018tcn"),
    ("002", "114.50", "papers/bai2018tcn"),  # the RNN column
    ("002", "RMSprop", "papers/bai2018tcn"),  # the code's copy-memory default, not the paper's Adam
    ("002", "music_test.py", "papers/bai2018tcn"),  # only two scripts clip before backward()
    # the GRU came from Learning Phrase Representations
    ("002", "1406.1078", "papers/cho2014properties"),
    ("002", "the main GRU paper", "papers/cho2014learning"),
    ("002", "accuracy gains from greatly increased depth", "papers/he2016resnet"),
    ("002", "1202", "papers/he2016resnet"),  # the inconvenient CIFAR-10 row
    ("002", "December 2015", "papers/he2016resnet"),
    ("002", "Microsoft", "papers/he2016resnet"),
    ("002", "Carnegie Mellon University", "papers/bai2018tcn"),
    ("002", "Adobe Systems", "papers/subakan2017diagonal"),
    ("002", "Baidu", "papers/amodei2016deepspeech2"),
    ("002", "14.40", "papers/amodei2016deepspeech2"),  # BN is worse with one recurrent layer
    ("002", "99.2%", "papers/chang2017dilated"),
    ("000", "ResD", "papers/britz2017massive"),
    ("000", "1.96", "papers/britz2017massive"),
    ("000", "dense residual", "open-questions"),
    ("001", "1991", "papers/bengio1994learning"),  # Hochreiter's thesis precedes Bengio et al.
    ("001", "1991", "topics/vanishing-exploding-gradients"),
    ("001", "readings make the conclusion true", "topics/vanishing-exploding-gradients"),
    ("001", "the latest Jacobian on the left", "papers/bengio1994learning"),
    ("003", "Assignment overview with Jens", "topics/evaluating-embeddings"),
    ("004", "such as 3", "topics/sequence-model-design-patterns"),  # echo state radii above 1
    ("004", "lecture slides", "topics/numerical-computation"),
    # seed 003: RNN reading notes and the study group (LeNet, TensorBoard)
    ("003", "trustworthiness", "topics/evaluating-embeddings"),
    ("003", "continuity", "topics/evaluating-embeddings"),
    ("003", "Euclidean", "topics/evaluating-embeddings"),
    ("003", "cosine distance", "topics/evaluating-embeddings"),
    ("003", "Sprites", "topics/evaluating-embeddings"),
    ("003", "variational autoencoder", "topics/evaluating-embeddings"),
    ("003", "open loop", "topics/teacher-forcing"),
    ("003", "output-to-hidden connections", "topics/teacher-forcing"),
    ("003", "parameter sharing", "topics/sequence-model-design-patterns"),
    ("003", "photos", "topics/sequence-model-design-patterns"),
    ("003", "sparse outputs of ReLU", "topics/optimization-and-regularization"),
    ("003", "LeNet", "open-questions"),
    # seed 004: the book and lecture notes (numerical computation, ML basics, regularization, RNNs)
    ("004", "88.7", "topics/numerical-computation"),
    ("004", "exp(89)", "topics/numerical-computation"),
    ("004", "line search", "topics/numerical-computation"),
    ("004", "condition number", "topics/numerical-computation"),
    ("004", "weighted average of the eigenvalues", "topics/numerical-computation"),
    ("004", "means a local minimum", "topics/numerical-computation"),
    ("004", "at 0 is not 0 but infinite", "topics/numerical-computation"),
    ("004", "the curvature becomes larger and larger", "topics/numerical-computation"),
    ("004", "softplus", "topics/numerical-computation"),
    ("004", "100 binary variables", "topics/optimization-and-regularization"),
    ("004", "Vapnik-Chervonenkis", "topics/optimization-and-regularization"),
    ("004", "Occam's razor", "topics/optimization-and-regularization"),
    ("004", "credit card fraud", "topics/optimization-and-regularization"),
    ("004", "quadratic approximation", "topics/optimization-and-regularization"),
    ("004", "fast gradient sign method", "topics/optimization-and-regularization"),
    ("004", "cleverhans", "topics/optimization-and-regularization"),
    ("004", "inertia", "topics/optimization-and-regularization"),
    ("004", "where it is steep it stays steep", "topics/optimization-and-regularization"),
    ("004", "multiplicative", "topics/optimization-and-regularization"),
    ("004", "zhihu.com/question/24015486", "topics/optimization-and-regularization"),
    ("004", "colah.github.io", "topics/optimization-and-regularization"),
    ("004", "interactive whiteboard", "topics/sequence-model-design-patterns"),
    ("004", "Susan", "topics/sequence-model-design-patterns"),
    ("004", "extra Bernoulli output", "topics/sequence-model-design-patterns"),
]


class _TextExtractor(HTMLParser):
    """Collects the text a reader sees: character data outside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(site: Path, page: str) -> str:
    """The main content of a built page as plain text: tags stripped, whitespace collapsed."""
    html_file = site / page / "index.html"
    assert html_file.exists(), f"{page}: no built page at {html_file}"
    source = html_file.read_text(encoding="utf-8")
    article = re.search(r"<article\b.*?</article>", source, re.S)  # skip the nav and the footer
    parser = _TextExtractor()
    parser.feed(article.group(0) if article else source)
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


def test_checklist_covers_every_seed_file():
    counts = Counter(seed for seed, _, _ in FACTS)
    assert len(FACTS) >= 45
    assert set(counts) == {"000", "001", "002", "003", "004"}
    assert min(counts.values()) >= 6, counts
    seeds = sorted((ROOT.parent / "shared" / "seeds").glob("*.txt"))
    if seeds:  # the seed notes live beside the repository on the authors' machines
        assert {p.name[:3] for p in seeds} == set(counts)


@pytest.mark.parametrize(
    ("seed", "phrase", "page"), FACTS, ids=[f"{s}-{pg}-{ph}" for s, ph, pg in FACTS]
)
def test_seed_fact_appears_on_page(built_site: Path, seed: str, phrase: str, page: str):
    text = page_text(built_site, page)
    assert phrase in text, f"seed {seed}: {phrase!r} not found in the text of {page}"


def _front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---\s*\n(.*?)\n---\s*\n", text, re.S)
    assert match, f"{path.relative_to(ROOT)}: no front matter"
    return yaml.safe_load(match.group(1)) or {}


CONTENT_PAGES = sorted((DOCS / "papers").glob("*.md")) + sorted((DOCS / "topics").glob("*.md"))


@pytest.mark.parametrize("path", CONTENT_PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_paper_and_topic_pages_have_tags(path: Path):
    tags = _front_matter(path).get("tags")
    assert isinstance(tags, list) and tags, f"{path.relative_to(ROOT)}: empty or missing tags"
    assert all(isinstance(t, str) and t.strip() for t in tags), tags


@pytest.mark.parametrize("key", CORE)
def test_core_pages_have_a_reproduction_section_with_claims(key: str):
    text = (DOCS / "papers" / f"{key}.md").read_text(encoding="utf-8")
    section = text.split("\n## Reproduction\n", 1)
    assert len(section) == 2, f"papers/{key}.md: no '## Reproduction' heading"
    assert re.search(r"^\{\{ claims " + key + r" \}\}$", section[1], re.M)


PAPERS = sorted((DOCS / "papers").glob("*.md"))

# A number as a paper reports it: scientific notation (3.5e-5), a percentage (3.57%), or a decimal
# with two or more places (78.93, 0.0204). Integers and one-place decimals are too often counts,
# sizes or our own settings to tell apart from a paper's result.
PAPER_NUMBER = re.compile(r"(?<![\w.])(?:\d+(?:\.\d+)?(?:e-?\d+|\s?%)|\d+\.\d{2,})(?![\w])")
# The number is attributed to a paper: a citation, or "the paper".
ATTRIBUTED = re.compile(r"\[@[^\]]+\]|\bthe paper\b", re.I)
# A pinpoint: where in the paper. "Section" and "Table" need a number; "abstract" and
# "introduction" are places in a paper too.
PINPOINT = re.compile(
    r"\bTables?\s+\d|\bFig(?:ure|s?\.)\s*\d|\bFigures?\b|\bSections?\s+\d|§|\bEq(?:\.|uation)"
    r"|\bTheorem\b|\babstract\b|\bintroduction\b",
    re.I,
)


def _units(text: str) -> list[tuple[int, str]]:
    """A page's paragraphs and tables, each with its first line number.

    Front matter, fenced code, display math and the "## Reproduction" section (our numbers, from
    docs/results) are left out. A table is one unit together with the paragraph just before it, its
    caption, so that "From Table 1:" above a table pins every row.
    """
    text = re.sub(r"\A---\n.*?\n---\n", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    blank = lambda m: "\n" * m.group(0).count("\n")  # noqa: E731 (keep line numbers)
    text = re.sub(r"```.*?```", blank, text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", blank, text, flags=re.S)
    text = re.sub(r"\n## Reproduction\n.*?(?=\n## |\Z)", blank, text, flags=re.S)
    blocks: list[tuple[int, list[str]]] = []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            blocks.append((n + 1, []))
        elif blocks and blocks[-1][1] is not None:
            blocks[-1][1].append(line)
        else:
            blocks.append((n, [line]))
    units: list[tuple[int, str]] = []
    for start, lines in blocks:
        if not lines:
            continue
        body = "\n".join(lines)
        if lines[0].lstrip().startswith("|") and units:
            prev_start, prev = units.pop()
            units.append((prev_start, prev + "\n" + body))
        else:
            units.append((start, body))
    return units


def unpinned_numbers(text: str) -> list[int]:
    """Line numbers of paragraphs or tables that quote a paper's number with no pinpoint."""
    bad = []
    for line, unit in _units(text):
        plain = re.sub(r"\$[^$\n]*\$", "", unit)  # inline math: our arithmetic, not a quoted number
        plain = re.sub(r"\b\d{4}\.\d{4,5}(?:v\d)?\b", "", plain)  # arXiv identifiers
        plain = re.sub(r"\]\([^)]*\)", "]", plain)  # link targets
        if PAPER_NUMBER.search(plain) and ATTRIBUTED.search(plain) and not PINPOINT.search(plain):
            bad.append(line)
    return bad


def test_pinpoint_check_catches_an_unpinned_number_and_passes_a_pinned_one():
    page = (
        "---\ntags: [x]\n---\n\n"
        "The LSTM reaches a perplexity of 78.93 [@bai2018tcn].\n\n"  # line 5: no pinpoint
        "The LSTM reaches 78.93 in Table 1 [@bai2018tcn].\n\n"
        "From Table 1 [@bai2018tcn]:\n\n| a | b |\n|---|---|\n| 3.5e-5 | 0.0204 |\n\n"
        "Accuracy [@chang2017dilated]:\n\n| c |\n|---|\n| 57% |\n\n"  # line 15: no pinpoint
        "We chose a rate of 5e-3 for our runs.\n\n"  # our number, not attributed to a paper
        "$$\nx = 0.1767 [@bai2018tcn]\n$$\n\n"  # display math is skipped
        "The paper says 12.5% of runs fail.\n"  # line 27: "the paper" attributes it
    )
    assert unpinned_numbers(page) == [5, 15, 27]


@pytest.mark.parametrize("path", PAPERS, ids=lambda p: p.name)
def test_paper_numbers_carry_a_pinpoint(path: Path):
    bad = unpinned_numbers(path.read_text(encoding="utf-8"))
    where = ", ".join(f"{path.relative_to(ROOT)}:{n}" for n in bad)
    assert not bad, f"a paper's number without Table/Figure/Section/Eq./Theorem/abstract: {where}"


@pytest.mark.parametrize("key", CORE)
def test_core_pages_report_the_papers_own_results(key: str):
    text = (DOCS / "papers" / f"{key}.md").read_text(encoding="utf-8")
    section = re.search(r"\n## What the paper reports[^\n]*\n(.*?)(?=\n## |\Z)", text, re.S)
    assert section, f"papers/{key}.md: no '## What the paper reports' section"
    body = section.group(1)
    named = re.search(r"\b(Table|Figure|figure|table|Theorem)\b", body)
    assert named, f"papers/{key}.md: no table or figure named"
    assert re.search(r"\bread\b", body), f"papers/{key}.md: does not say where it was read"


def test_bengio_norm_or_determinant_is_not_marked_answered():
    """The question stays open until the proof is read (Bengio et al. 1994, Sec. 4)."""
    oq = (DOCS / "open-questions.md").read_text(encoding="utf-8")
    heading = re.search(r"^### Is \|M'\(z\)\|.*$", oq, re.M)
    assert heading and "answered" not in heading.group(0)
    topic = (DOCS / "topics" / "vanishing-exploding-gradients.md").read_text(encoding="utf-8")
    assert "**Answer: a norm" not in topic


def test_topic_and_paper_pages_link_both_ways():
    """Every topic page links to at least one paper, and every paper page to at least one topic."""
    for path in CONTENT_PAGES:
        if path.stem == "index":
            continue
        text = path.read_text(encoding="utf-8")
        other = "../papers/" if path.parent.name == "topics" else "../topics/"
        assert other in text, f"{path.relative_to(ROOT)}: no link to {other}"
