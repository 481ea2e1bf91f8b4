"""refs.bib parsing, labels, LaTeX decoding and escaping, and every bad-input case."""

from __future__ import annotations

import pytest

from repro.site.bib import BibError, load_bibliography, parse_bibtex

from conftest import CORE, ROOT

ENTRY = """\
@article{mueller2020x,
  author = {M{\\"u}ller, J{\\"o}rg and van den Oord, A{\\"a}ron and Smith, Ann},
  title = {{LSTM}s \\& <script>alert(1)</script> on {GPU}s},
  journal = {Journal of {Tests}},
  volume = {5},
  number = {2},
  pages = {157--166},
  year = {2020},
  doi = {10.1000/xyz},
}
"""


def test_real_refs_bib_parses_cleanly():
    bib = load_bibliography(ROOT / "refs.bib")
    assert all(k in bib for k in CORE)
    assert len(bib.entries) >= 30  # every reference the seed notes mention


def test_core_labels_are_author_year():
    bib = load_bibliography(ROOT / "refs.bib")
    assert bib["bai2018tcn"].label() == "Bai et al., 2018"
    assert bib["bengio1994learning"].label() == "Bengio et al., 1994"
    assert bib["elman1990finding"].label() == "Elman, 1990"


def test_latex_is_decoded_and_every_field_escaped():
    e = parse_bibtex(ENTRY)["mueller2020x"]
    assert e.authors[0].full == "Jörg Müller"
    assert e.authors[1].last == "van den Oord" and e.authors[1].first == "Aäron"
    assert e.label() == "Müller et al., 2020"
    assert e.title == "LSTMs & <script>alert(1)</script> on GPUs"
    out = e.html()
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "LSTMs &amp; " in out
    assert "5(2), 157–166" in out
    assert 'href="https://doi.org/10.1000/xyz"' in out


def test_two_authors_use_ampersand():
    bib = parse_bibtex(
        "@article{a2000b, author={Salimans, Tim and Kingma, Diederik P.},"
        " title={W}, year={2016}, eprint={1602.07868}}"
    )
    assert bib["a2000b"].label() == "Salimans & Kingma, 2016"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "@article{ok2000a, author={A, B}, title={T}, year={2000}}\n\n"
            "@article{ok2000a, author={C, D}, title={U}, year={2001}}\n",
            "refs.bib:3: duplicate key 'ok2000a' (first defined on line 1)",
        ),
        (
            "@article{ok2000a, author={A, B}, title={T}, year={2000}}\n\n"
            "@article{bad2000b, author = {A, B}, title = {unclosed\n  year = 2000}\n\n"
            "@misc{ok2000c, author={E, F}, title={V}, year={2000}}\n",
            "refs.bib:3: malformed entry '@article{bad2000b",
        ),
        (
            "\n@article{x2000a, author={A, B}, title={T}, title={U}, year={2000}}\n",
            "refs.bib:2: Duplicate field keys on entry: 'title'",
        ),
        (
            "@article{nauthor2000, title={T}, year={2000}}\n",
            "refs.bib:1: entry 'nauthor2000' lacks required field(s): author",
        ),
        (
            "@article{Bad-Key/1, author={A, B}, title={T}, year={2000}}\n",
            "refs.bib:1: key 'Bad-Key/1' must be lowercase letters, digits and '_'",
        ),
        (
            "@article{y2000a, author={A, B}, title={T}, year={circa 2000}}\n",
            "refs.bib:1: entry 'y2000a' has year 'circa 2000', expected four digits",
        ),
    ],
    ids=["duplicate-key", "malformed", "duplicate-field", "missing-field", "bad-key", "bad-year"],
)
def test_bad_input_names_file_and_line(text, message):
    with pytest.raises(BibError) as info:
        parse_bibtex(text, "refs.bib")
    assert any(p.startswith(message) for p in info.value.problems), info.value.problems


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(BibError, match=r"refs\.bib:1: bibliography file not found"):
        load_bibliography(tmp_path / "refs.bib")


def test_arxiv_era_entry_without_id_is_a_warning():
    bib = parse_bibtex("@article{w2017a, author={A, B}, title={T}, year={2017}}", "refs.bib")
    assert bib.warnings == ["refs.bib:1: 'w2017a' (2017) has neither an arXiv id nor a DOI"]
