"""Verdicts that can fail: kinds, pre-registration the runner enforces, replication on fresh
seeds, and intervals that stay in their metric's domain."""

from __future__ import annotations

import math
import random
import subprocess
from pathlib import Path

import pytest
from fakeproject import KEY, MODULE, make_project

from repro.claims import (
    Claim,
    Registration,
    Verdict,
    above,
    audit_seeds,
    below,
    load_audit,
    load_record,
    summarize,
)
from repro.run.audit import audit_paper
from repro.run.discover import discover
from repro.run.errors import PaperModuleError, UsageError
from repro.run.runner import run_paper
from repro.site import blocks, board
from repro.site.bib import load_bibliography


def quiet(msg: str) -> None:
    pass


def site_of(root: Path) -> blocks.SiteStates:
    labels = {k: e.label() for k, e in load_bibliography(root / "refs.bib").entries.items()}
    return blocks.collect(discover(root), root / "docs" / "results", root / "docs", labels)


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture
def repo(project: Path) -> Path:
    """The fake project as a git checkout with everything committed."""
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "fake")
    return project


# ---- kinds ----------------------------------------------------------------------------------


def test_a_check_holds_or_fails_and_is_never_reproduced():
    check = Claim("x2020y.c", "s", "p", "w", "m", below("v", 1.0), kind="check")
    assert check.evaluate({"v": [0.5]}).verdict == Verdict.HOLDS
    assert check.evaluate({"v": [2.0]}).verdict == Verdict.FAILS
    repro = Claim("x2020y.r", "s", "p", "w", "m", below("v", 1.0))
    assert repro.evaluate({"v": [0.5]}).verdict == Verdict.REPRODUCED
    with pytest.raises(ValueError, match="kind"):
        Claim("x2020y.k", "s", "p", "w", "m", None, kind="proof")


def test_identical_outcomes_of_a_reproduction_are_a_sample_not_an_exact_value():
    """5 of 5 seeds diverging: Wilson 95% [0.57, 1]; "above 0.8" cannot be claimed from 5 seeds,
    while for a check (a deterministic measurement) the same values are exact."""
    values = {"diverged": [1.0] * 5}
    crit = above("diverged", 0.8)
    repro = Claim("x2020y.r", "s", "p", "w", "m", crit, proportion=True)
    assert repro.evaluate(values).verdict == Verdict.INCONCLUSIVE
    check = Claim("x2020y.c", "s", "p", "w", "m", crit, kind="check", proportion=True)
    assert check.evaluate(values).verdict == Verdict.HOLDS


def test_board_counts_checks_and_reproductions_apart(project):
    module = MODULE.replace(
        'id="fake2020paper.works",', 'id="fake2020paper.works",\n        kind="check",'
    )
    make_project(project, module)
    run_paper(discover(project)[KEY], log=quiet)
    html = board.board_html(site_of(project), "")
    assert "2 claims: 1 check (1 holds); 1 reproduction (1 not yet specified)" in html
    assert html.count("sn-badge--check") == 1 and html.count("sn-badge--reproduction") == 1


# ---- intervals ------------------------------------------------------------------------------


def test_a_zero_one_metric_gets_a_wilson_interval_inside_zero_one():
    s = summarize([1.0, 1.0, 1.0, 1.0, 1.0], proportion=True)
    assert s.kind == "proportion" and s.hi == 1.0 and 0.5 < s.lo < 0.6  # 5/5: [0.57, 1]
    s = summarize([0.0] * 5, proportion=True)
    assert s.lo == 0.0 and s.hi < 0.5


def test_a_loss_near_zero_never_gets_a_negative_lower_end():
    losses = [1e-6, 2e-6, 1.5e-6, 4e-4, 3e-6]  # one heavy tail, as TCN losses have
    t = summarize(losses, domain="real")
    assert t.lo < 0  # what a Student-t interval does here: it leaves the domain
    s = summarize(losses, domain="nonnegative")
    assert s.kind == "bootstrap" and 0 <= s.lo <= s.mean <= s.hi <= max(losses)


def test_an_accuracy_near_one_stays_below_one():
    acc = [0.99, 1.0, 0.73, 1.0, 1.0]
    assert summarize(acc, domain="real").hi > 1.0  # the recall accuracy of [0.73, 1.10]
    s = summarize(acc, domain="probability")
    assert 0.0 <= s.lo and s.hi <= 1.0


def test_a_difference_keeps_its_two_sided_interval():
    diffs = [0.4, -0.1, 0.3, 0.2, 0.05]
    s = summarize(diffs, domain="real")
    assert s.kind == "mean" and s.lo < 0 < s.hi


def test_an_unknown_domain_is_an_error():
    with pytest.raises(ValueError, match="domain"):
        Claim("x2020y.d", "s", "p", "w", "m", None, domain="positive")


# ---- pre-registration -----------------------------------------------------------------------


def test_registration_needs_five_confirmation_seeds_disjoint_from_exploration():
    with pytest.raises(ValueError, match="at least 5"):
        Registration(exploration=(0,), confirmation=(1, 2, 3))
    with pytest.raises(ValueError, match=r"\[3\] were used for exploration"):
        Registration(exploration=(3,), confirmation=(1, 2, 3, 4, 5))


def test_a_paper_with_reproductions_must_declare_its_registration(tmp_path):
    make_project(tmp_path, MODULE.replace("REGISTRATION = ", "_UNDECLARED = "))
    with pytest.raises(PaperModuleError, match="REGISTRATION"):
        discover(tmp_path)


def test_the_default_run_confirms_on_the_registered_seeds(project):
    out = run_paper(discover(project)[KEY], log=quiet)
    assert out.record.provenance["seeds"] == [0, 1, 2, 3, 4]
    assert out.path == project / "docs" / "results" / KEY / "result.json"


def test_a_committed_run_on_exploration_seeds_is_refused(project):
    paper = discover(project)[KEY]
    committed = project / "docs" / "results"
    with pytest.raises(UsageError, match=r"seeds \[7\] were used to explore"):
        run_paper(paper, seeds=[7, 0, 1, 2, 3], results_dir=committed, log=quiet)
    assert not (committed / KEY).exists()
    # The same seeds into scratch are fine: exploring is allowed, confirming on it is not.
    assert run_paper(paper, seeds=[7, 8], log=quiet).status == "ran"


def test_a_committed_run_refuses_a_dirty_paper_module(repo):
    module = repo / "repro" / f"{KEY}.py"
    module.write_text(module.read_text() + "\n# an uncommitted change\n")
    with pytest.raises(UsageError, match="uncommitted changes"):
        run_paper(discover(repo)[KEY], log=quiet)
    assert not (repo / "docs" / "results" / KEY).exists()
    git(repo, "commit", "-qam", "the change")
    out = run_paper(discover(repo)[KEY], log=quiet)
    assert out.status == "ran" and out.record.provenance["dirty"] is False


def test_a_changed_criterion_needs_a_reason_and_the_page_shows_the_history(project):
    first = run_paper(discover(project)[KEY], log=quiet)
    assert first.record.results[f"{KEY}.works"].verdict == Verdict.REPRODUCED
    stricter = MODULE.replace('below("good", 1.0, seeds=0.5)', 'below("good", 1e-12, seeds=0.5)')
    make_project(project, stricter)
    paper = discover(project)[KEY]
    with pytest.raises(UsageError, match=r"revises a stored result[\s\S]*--revise"):
        run_paper(paper, log=quiet)
    before = load_record(project / "docs" / "results", KEY)
    assert before.hash == first.record.hash  # refused before anything was written
    out = run_paper(paper, log=quiet, revise="the band was too loose")
    (entry,) = [h for h in out.record.history if h["claim_id"] == f"{KEY}.works"]
    assert entry["reason"] == "the band was too loose" and entry["old_verdict"] == "reproduced"
    assert "good < 1" in entry["old_criterion"] and "good < 1e-12" in entry["new_criterion"]
    assert entry["changed"] == ["criterion"]
    html = blocks.claim_html(f"{KEY}.works", site_of(project), "")
    assert "History" in html and "the band was too loose" in html
    assert "good &lt; 1 " in html or "good &lt; 1," in html or "good &lt; 1;" in html
    assert "<strong>reproduced</strong>" in html  # the old verdict, shown beside the new one


# ---- replication ----------------------------------------------------------------------------


class Rigged(random.Random):
    """Draws the given values first, then behaves like a seeded Random."""

    def __init__(self, first: list[int]):
        super().__init__(0)
        self.first = list(first)

    def randrange(self, *args, **kwargs):  # type: ignore[override]
        return self.first.pop(0) if self.first else super().randrange(*args, **kwargs)


def test_audit_seeds_never_repeat_a_used_seed():
    used = {10_000_001, 10_000_002}
    seeds = audit_seeds(used, 3, Rigged([10_000_001, 10_000_002, 10_000_001, 10_000_005]))
    assert seeds[0] == 10_000_005 and len(set(seeds)) == 3 and not set(seeds) & used


def test_audits_replicate_on_fresh_seeds_and_the_page_shows_both_verdicts(project):
    paper = discover(project)[KEY]
    run_paper(paper, log=quiet)
    first = audit_paper(paper, log=quiet, rng=random.Random(1))
    second = audit_paper(paper, log=quiet, rng=random.Random(1))  # same rng: must still differ
    assert first.status == second.status == "audited"
    audits = load_audit(project / "docs" / "results", KEY)
    a, b = (set(x.provenance["seeds"]) for x in audits)
    assert len(a) == len(b) == 5 and not a & b
    assert not (a | b) & {0, 1, 2, 3, 4, 7, 8}  # never an exploration or confirmation seed
    html = blocks.claim_html(f"{KEY}.works", site_of(project), "")
    assert "replication on 5 fresh seeds: reproduced again" in html and "Replication" in html
    text = board.board_html(site_of(project), "")
    assert "Replication of the reproductions: 1 replicated" in text


def test_a_replication_that_disagrees_is_shown_as_such(project):
    """Make the 'good' arm fail on the audit's seeds only: the block must say so."""
    module = MODULE.replace(
        "good = [fit(config.lr, s,", "good = [fit(config.lr if s < 1000 else 1e6, s,"
    )
    make_project(project, module)
    paper = discover(project)[KEY]
    run_paper(paper, log=quiet)
    audit_paper(paper, log=quiet, rng=random.Random(2))
    html = blocks.claim_html(f"{KEY}.works", site_of(project), "")
    assert "replication on 5 fresh seeds: not reproduced (the confirmation was reproduced)" in html
    assert math.isnan(
        load_audit(project / "docs" / "results", KEY)[0].results[f"{KEY}.works"].values["good"][0]
    )
