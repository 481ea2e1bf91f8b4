"""Claim blocks and the claims board: numbers from results only, states, links, errors."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from fakeproject import KEY, MODULE, make_project

from repro.run.discover import discover
from repro.run.runner import run_paper
from repro.run.states import states as all_states
from repro.site import blocks, board, joins, render
from repro.site.bib import load_bibliography
from repro.site.blocks import BlockError, UnknownClaimError


def site_of(root: Path) -> blocks.SiteStates:
    """The states a build computes once (as the plugin does), for the project at `root`."""
    labels = {k: e.label() for k, e in load_bibliography(root / "refs.bib").entries.items()}
    return blocks.collect(discover(root), root / "docs" / "results", root / "docs", labels)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture
def ran(project: Path) -> Path:
    """The project after a default run (results in docs/results)."""
    run_paper(discover(project)[KEY], log=lambda m: None)
    return project


def test_claim_block_shows_the_stored_result(ran):
    html = blocks.claim_html("fake2020paper.works", site_of(ran), f"papers/{KEY}/")
    assert 'id="claim-fake2020paper-works"' in html
    assert 'class="admonition success sn-claim sn-claim--reproduced"' in html
    assert '<span class="sn-badge sn-badge--reproduced">reproduced</span>' in html
    record = all_states(ran)[0].record
    result = record.results["fake2020paper.works"]
    for arm, summary in result.summary.items():  # every number comes from the result
        assert f"<strong>{arm}</strong>: {summary.text()}" in html
    assert "loss 0.01 vs divergence" in html and "(Table 1)" in html
    assert "good &lt; 1; and bad diverged &gt; 0.5, each in at least 50% of seeds" in html
    fig = result.figures[0]["file"]
    assert f'src="../../results/{KEY}/{fig}"' in html  # relative to the page
    assert "Final loss per seed." in html
    assert "Provenance" in html and record.hash in html and record.provenance["date"] in html
    assert f"<code>nox -s repro -- {KEY}</code>" in html
    assert "sn-badge--stale" not in html


def test_figures_follow_the_page_url_style(ran):
    html = blocks.claim_html("fake2020paper.works", site_of(ran), f"papers/{KEY}.html")
    assert re.search(rf'src="\.\./results/{KEY}/[^"]+\.svg"', html)


def test_stale_result_is_marked(ran):
    module = ran / "repro" / f"{KEY}.py"
    module.write_text(MODULE + "\n# changed\n")
    html = blocks.claim_html("fake2020paper.works", site_of(ran), "")
    assert "sn-claim--stale" in html and "sn-badge--stale" in html
    assert "the code changed since this run" in html


def test_unspecified_and_not_run_states(project):
    html = blocks.claims_html(KEY, site_of(project), f"papers/{KEY}/")
    later = html.split('id="claim-fake2020paper-later"')[1]
    assert "sn-badge--not-yet-specified" in later and "not yet specified" in later
    works = html.split('id="claim-fake2020paper-works"')[1].split("claim-fake2020paper-later")[0]
    assert "not run yet" in works and "No stored result" in works
    assert "sn-badge--reproduced" not in html


def test_unspecified_claim_with_a_result_shows_values_without_verdict(ran):
    html = blocks.claim_html("fake2020paper.later", site_of(ran), "")
    assert "not yet specified" in html and "<strong>x</strong>: 1 [1, 1], n = 5" in html
    assert "reproduced" not in html


def test_paper_without_module_gets_a_note(project):
    html = blocks.claims_html("bai2018tcn", site_of(project), "papers/bai2018tcn/")
    assert "No reproduction yet" in html and "repro/bai2018tcn.py" in html


def test_unknown_claim_id_raises(project):
    with pytest.raises(UnknownClaimError, match="unknown claim id 'fake2020paper.nope'"):
        blocks.claim_html("fake2020paper.nope", site_of(project), "")
    with pytest.raises(UnknownClaimError):
        blocks.claim_html("other2020x.c", site_of(project), "")


def test_unreadable_result_fails_loudly_naming_the_file(ran):
    (ran / "docs" / "results" / KEY / "result.json").write_text("{")
    with pytest.raises(BlockError, match=f"docs/results/{KEY}/result.json"):
        blocks.claims_html(KEY, site_of(ran), "")


def test_check_tree_reports_an_unknown_claim_id_on_a_page(project):
    page = project / "docs" / "papers" / f"{KEY}.md"
    page.write_text(page.read_text() + "\nSee {{ claim fake2020paper.nope }}.\n")
    ids = {c.id for p in discover(project).values() for c in p.claims}
    errors = [f for f in joins.check_tree(project, claim_ids=ids) if f.level == "error"]
    assert [str(e) for e in errors] == [
        f"docs/papers/{KEY}.md:9: error: unknown claim id 'fake2020paper.nope': no module in "
        "repro/ defines it (see `python -m repro list`)"
    ]


def test_board_lists_every_claim_with_links(ran):
    html = board.board_html(site_of(ran), "")
    assert (
        "2 claims: 2 reproductions (1 reproduced, 1 not yet specified). "
        "Replication of the reproductions: 1 not audited." in html
    )
    assert f'href="papers/{KEY}/#claim-fake2020paper-works"' in html
    assert ">Doe, 2020</a>" in html  # author-year label from refs.bib
    assert html.count("<tr>") == 1 and html.count("<tr data-kind=") == 2  # header + two claims
    # Filters for the kinds and the verdicts present, for the board's script to act on.
    for value in ("check", "reproduction", "reproduced", "not yet specified"):
        assert f'data-value="{value}"' in html
    assert 'data-verdict="reproduced"' in html and 'data-replication="not-audited"' in html
    # Nothing only on hover (a touch reader cannot hover): every interval is in a fold.
    assert "title=" not in html and html.count('<details class="sn-more">') >= 1
    state = site_of(ran).by_key[KEY][0]
    arm, summary = next(iter(state.result.summary.items()))
    assert f"{arm}: {summary.text()}" in board.ours_short(state)
    nested = board.board_html(site_of(ran), "notebooks/")
    assert f'href="../papers/{KEY}/#claim-fake2020paper-works"' in nested


def test_board_links_an_experiments_claims_to_its_experiment_page(ran):
    """A key whose `{{ claims KEY }}` sits on a page under docs/experiments/ is linked there,
    not to its paper note; a key shown only on its paper page keeps the paper link."""
    page = ran / "docs" / "experiments" / "question.md"
    page.parent.mkdir()
    page.write_text(f"# A question\n\n{{{{ claims {KEY} }}}}\n", encoding="utf-8")
    refs = joins.scan_docs(ran)
    homes = render.claims_homes(refs)
    assert homes == {KEY: "experiments/question.md"}
    site = dataclasses.replace(site_of(ran), homes=homes)
    assert 'href="experiments/question/#claim-fake2020paper-works"' in board.board_html(site, "")
    assert 'href="../experiments/question.html#claim-fake2020paper-works"' in board.board_html(
        site, "notebooks/results.html"
    )
    site = dataclasses.replace(site, homes=render.claims_homes(refs[:0]))
    assert f'href="papers/{KEY}/#claim-fake2020paper-works"' in board.board_html(site, "")


def test_text_is_escaped(tmp_path):
    make_project(tmp_path, MODULE.replace("Table 1", "<script>alert(1)</script>"))
    html = blocks.claims_html(KEY, site_of(tmp_path), "")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_claim_block_reads_at_a_glance(ran):
    """One verdict line; "paper | ours"; the criterion; a dot-and-interval figure with the
    thresholds drawn; everything else folded away in Details."""
    html = blocks.claim_html("fake2020paper.works", site_of(ran), f"papers/{KEY}/")
    title = html.split('<p class="admonition-title">')[1].split("</p>")[0]
    assert "sn-badge--reproduction" in title and "sn-badge--reproduced" in title
    assert "not audited yet" in title  # the replication, on the same line
    compare = html.split('<table class="sn-compare">')[1].split("</table>")[0]
    assert "<th>paper</th><th>ours</th>" in compare and "loss 0.01 vs divergence" in compare
    svg = html.split('<svg class="sn-dots"')[1].split("</svg>")[0]
    assert svg.count('class="sn-dots-threshold"') == 2  # good < 1, bad diverged > 0.5
    assert svg.count('class="sn-dots-mean"') == 2  # good, bad diverged
    assert "diverged (NaN/inf) on all 5 seeds" in svg  # "bad", shown, not dropped
    details = html.split('<details class="sn-details" data-search-exclude>')[1]  # not searched
    assert "Per seed (0, 1, 2, 3, 4)" in details and "Provenance" in details
    assert "Registered" in details and "explored on seeds 7, 8" in details
    assert html.index('<details class="sn-details"') > html.index('<svg class="sn-dots"')


def test_dots_use_a_log_axis_for_values_spanning_decades():
    from repro.claims import Claim, Result, below
    from repro.site.dots import dots_svg

    claim = Claim("x2020y.c", "s", "p", "w", "m", below("tcn", 0.05), domain="nonnegative")
    result = Result("x2020y.c", {"tcn": [1e-5, 2e-4, 3e-3]})
    result.finish(claim)
    svg = dots_svg(claim, result)
    assert "(log)" in svg and "&lt; 0.05" in svg


def test_the_papers_numbers_in_our_metric_sit_beside_ours(ran):
    """With `paper_arms`, the block's table has one row per arm (paper | ours), the reported
    text and the conversion below it, and the figure marks the paper's value."""
    import dataclasses

    from repro.site.compare import compare_table
    from repro.site.dots import dots_svg

    state = site_of(ran).by_key[KEY][0]
    claim = dataclasses.replace(
        state.claim, paper_arms={"good": 0.01}, paper_arms_from="Table 1 as printed"
    )
    state = dataclasses.replace(state, claim=claim)
    compare = compare_table(state)
    good = state.result.summary["good"].text()
    assert f"<tr><th>good</th><td>0.01</td><td>{good}</td></tr>" in compare
    assert "<tr><th>bad</th><td>—</td>" in compare  # no comparable paper number: a dash
    assert "in our metric: Table 1 as printed" in compare
    svg = dots_svg(claim, state.result)
    assert svg.count('class="sn-dots-paper"') == 1 and "paper: good 0.01" in svg
    assert ">good 0.01</span>" in board.paper_short(state)  # the board's "Paper says" cell
    with pytest.raises(ValueError, match="paper_arms_from"):
        dataclasses.replace(state.claim, paper_arms={"good": 1.0}, paper_arms_from="")


def test_a_paper_scale_result_is_a_second_line(ran):
    """A run at the paper's sizes stored in docs/results/paper-scale/ (what a GPU run on the
    registered seeds writes) shows as its own line, with the device it ran on."""
    from repro.run.discover import paper_scale_dir

    paper = discover(ran)[KEY]
    out = run_paper(paper, scale="paper", results_dir=paper_scale_dir(ran), log=lambda m: None)
    assert out.status == "ran", out.error
    assert (ran / "docs" / "results" / "paper-scale" / KEY / "result.json").exists()
    html = blocks.claim_html("fake2020paper.works", site_of(ran), f"papers/{KEY}/")
    line = html.split('<p class="sn-paper-scale">')[1].split("</p>")[0]
    assert "Paper scale, cpu" in line and out.record.results[f"{KEY}.works"].verdict in line
    assert not joins_findings_about(ran, "paper-scale")


def joins_findings_about(root: Path, name: str) -> list:
    from repro.site.checks import result_findings

    return [f for f in result_findings(root, discover(root)) if name in f.where]


def test_many_zero_one_outcomes_are_summarised_not_dotted():
    from repro.claims import Claim, Result, above
    from repro.site.dots import dots_svg

    claim = Claim("x2020y.c", "s", "p", "w", "m", above("a", 0.5), proportion=True)
    few, many = Result("x2020y.c", {"a": [1.0, 0.0, 1.0]}), Result("x2020y.c", {"a": [1.0] * 200})
    for r in (few, many):
        r.finish(claim)
    assert dots_svg(claim, few).count('class="sn-dots-seed"') == 3
    assert dots_svg(claim, many).count('class="sn-dots-seed"') == 0
    assert 'class="sn-dots-mean"' in dots_svg(claim, many)


def test_values_of_several_trials_per_seed_are_labelled_as_trials():
    """Bengio's span claims keep 40 trials per seed: the details say trials, not seeds."""
    root = Path(__file__).resolve().parents[1]
    html = blocks.claim_html("bengio1994learning.gd-span", site_of(root), "papers/x/")
    assert "Per trial (several per seed; seeds 100, 101, 102, 103, 104)" in html
    assert "Per seed (" not in html


def test_arms_of_one_kind_share_an_axis_with_tick_values():
    """Arms 3x apart must look 3x apart: the losses share one axis with values under it, the
    differences another; a part comparing two arms keeps them on one axis."""
    from repro.claims import Claim, Result, above, below
    from repro.site.dots import dots_svg, groups

    crit = below("a", "b") & above("a - b", 0.0)
    claim = Claim(
        "x2020y.c", "s", "p", "w", "m", crit, domain="nonnegative", domains={"a - b": "real"}
    )
    assert groups(claim, ["a", "b", "a - b"]) == [["a", "b"], ["a - b"]]
    result = Result(claim.id, {"a": [1.0, 1.1, 0.9], "b": [3.0, 3.2, 2.9], "a - b": [-2, -2.1, -2]})
    result.finish(claim)
    svg = dots_svg(claim, result)
    assert svg.count('class="sn-dots-axis"/><text') >= 6  # tick marks with values, two axes
    assert svg.count('class="sn-dots-tick"') >= 6
    mixed = Claim(
        "x2020y.d", "s", "p", "w", "m", below("acc", "loss"), domains={"acc": "probability"}
    )
    assert groups(mixed, ["acc", "loss"]) == [["acc", "loss"]]  # compared: one axis
