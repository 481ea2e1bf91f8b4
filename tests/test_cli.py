"""`python -m repro`: errors exit 2 with a clear message; run, list, check and Ctrl-C."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fakeproject import KEY, make_project

from repro.claims import load_record
from repro.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


def cli(project: Path, *args: str) -> int:
    return main(["--root", str(project), *args])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "nope"], "unknown paper key 'nope' (known: fake2020paper)"),
        (["run", "fake2020paper.nope"], "unknown claim id 'fake2020paper.nope'"),
        (["run", "--scale", "huge"], "argument --scale: invalid choice: 'huge'"),
        (["run", "--seeds", "0"], "argument --seeds: expected a positive count"),
        (["run", "--seeds", "7,x"], "argument --seeds: expected a positive count"),
        (["run", "--set", "nope=1"], "unknown config field 'nope'"),
        (["run", "--set", "steps=many"], "config field 'steps': expected an int, got 'many'"),
        (["run", "--set", "steps"], "--set expects FIELD=VALUE, got 'steps'"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message(project, capsys, args, message):
    assert cli(project, *args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not (project / "docs" / "results").exists()  # nothing ran


@pytest.mark.slow  # a subprocess importing torch
def test_the_module_entry_point_exits_2_on_an_unknown_key():
    proc = subprocess.run(
        [sys.executable, "-m", "repro", "run", "no_such_key"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "python -m repro run: error: unknown paper key 'no_such_key'" in proc.stderr


def test_help_shows_examples(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "--seeds 7,8,9" in out and "nox -s repro" in out


def test_run_prints_a_summary_then_caches_then_forces(project, capsys):
    assert cli(project, "run", "-q") == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header == ["claim", "kind", "·", "verdict", "paper", "ours", "time"]
    assert "fake2020paper.works" in out and "reproduced" in out and "not yet specified" in out
    assert f"docs/results/{KEY}/result.json" in out
    assert cli(project, "run", "-q") == 0
    assert "cached" in capsys.readouterr().out
    assert cli(project, "run", "-q", "--force") == 0
    assert "cached" not in capsys.readouterr().out


def test_seed_list_goes_to_scratch(project, capsys):
    assert cli(project, "run", "-q", KEY, "--seeds", "7,8", "--scale", "quick") == 0
    out = capsys.readouterr().out
    assert f"scratch/results/{KEY}/result.json" in out
    assert not (project / "docs" / "results").exists()
    assert load_record(project / "scratch" / "results", KEY).provenance["seeds"] == [7, 8]


def test_ctrl_c_stops_cleanly_keeps_results_and_exits_130(project, capsys):
    assert cli(project, "run", "-q") == 0
    path = project / "docs" / "results" / KEY / "result.json"
    before = path.read_bytes()
    capsys.readouterr()
    results = str(project / "docs" / "results")
    code = cli(project, "run", "-q", "--set", "mode=interrupt", "--results-dir", results)
    assert code == 130
    err = capsys.readouterr().err
    assert f"interrupted during {KEY}: nothing was written" in err and "kept:" in err
    assert path.read_bytes() == before


def test_a_failing_run_exits_1_and_says_so(project, capsys):
    assert cli(project, "run", "-q", "--set", "mode=raise") == 1
    captured = capsys.readouterr()
    assert "failed (run raised)" in captured.out and "RuntimeError: boom" in captured.err


def test_list_shows_claims_and_states(project, capsys):
    assert cli(project, "list") == 0
    out = capsys.readouterr().out
    assert "fake2020paper.works" in out and "not run yet" in out and "not yet specified" in out


def test_check_reports_results_and_unknown_claim_ids(project, capsys):
    assert cli(project, "check") == 0  # warnings only
    out = capsys.readouterr().out
    assert f"repro/{KEY}.py:16: warning: claim 'fake2020paper.works' has no stored result" in out
    assert "criterion not yet specified" in out

    page = project / "docs" / "papers" / f"{KEY}.md"
    page.write_text(page.read_text() + "\n{{ claim fake2020paper.nope }}\n")
    assert cli(project, "check") == 1
    out = capsys.readouterr().out
    assert f"docs/papers/{KEY}.md:9: error: unknown claim id 'fake2020paper.nope'" in out


def test_check_flags_stale_and_unreadable_results(project, capsys):
    assert cli(project, "run", "-q") == 0
    module = project / "repro" / f"{KEY}.py"
    module.write_text(module.read_text() + "\n# changed\n")
    capsys.readouterr()
    assert cli(project, "check") == 0
    assert "is stale: the code changed since this run" in capsys.readouterr().out
    (project / "docs" / "results" / KEY / "result.json").write_text("{")
    assert cli(project, "check") == 1
    out = capsys.readouterr().out
    assert f"docs/results/{KEY}/result.json:1: error: not a valid result file" in out


MINI_SITE = """\
site_name: fake
strict: true
theme:
  name: material
  font: false
plugins:
  - seqnotes:
      results_dir: {results}
nav:
  - papers/fake2020paper.md
"""


@pytest.mark.slow  # two strict builds
def test_the_build_makes_the_same_result_checks_as_repro_check(project, capsys, tmp_path):
    """One data flow: a figure the result names but that is missing fails `repro check` and the
    strict build with the same message; the plugin reads the `results_dir` option it declares."""
    from conftest import mkdocs_build

    assert cli(project, "run", "-q") == 0
    record = load_record(project / "docs" / "results", KEY)
    figure = record.results[f"{KEY}.works"].figures[0]["file"]
    (project / "docs" / "results" / KEY / figure).unlink()
    capsys.readouterr()
    assert cli(project, "check") == 1
    message = f"figure '{figure}' of '{KEY}.works' is missing"
    assert message in capsys.readouterr().out
    (project / "mkdocs.yml").write_text(MINI_SITE.format(results="docs/results"))
    build = mkdocs_build(project / "mkdocs.yml", tmp_path / "site")
    assert build.returncode != 0 and message in build.stdout + build.stderr
    # Pointing results_dir at a folder with the whole result: the build passes and shows it.
    whole = project / "docs" / "other-results"
    assert cli(project, "run", "-q", "--results-dir", str(whole)) == 0
    (project / "mkdocs.yml").write_text(MINI_SITE.format(results="docs/other-results"))
    build = mkdocs_build(project / "mkdocs.yml", tmp_path / "site2")
    assert build.returncode == 0, build.stdout + build.stderr
    page = (tmp_path / "site2" / "papers" / KEY / "index.html").read_text()
    assert "sn-badge--reproduced" in page and "other-results/" in page


def test_a_committed_run_keeps_the_quick_scale_beside_it(project, capsys):
    """The full run that is committed also runs quick scale and keeps each part's seeds inside
    its band (scales.json, for that result's hash); the claim's state reads the trend."""
    from repro.run import scales
    from repro.run.states import states

    assert cli(project, "run", KEY) == 0
    results = project / "docs" / "results"
    beside = scales.load(results, KEY)
    record = load_record(results, KEY)
    assert beside is not None and beside["for"] == record.hash
    quick = beside["quick"]["fake2020paper.works"]
    assert [p["part"] for p in quick["parts"]] == ["good < 1", "bad diverged > 0.5"]
    assert all(p["seeds"] == 2 for p in quick["parts"])  # the registration's quick seeds
    works = next(s for s in states(project) if s.claim.id == "fake2020paper.works")
    assert works.trend() == "It holds at quick scale too."
    capsys.readouterr()
    assert cli(project, "run", KEY) == 0  # up to date: nothing runs again
    assert "quick scale beside" not in capsys.readouterr().err


def test_the_trend_names_the_deciding_part_and_its_direction():
    from repro.claims import Claim, Result, below
    from repro.run.scales import trend

    claim = Claim("x2020y.c", "s", "p", "w", "m", below("tcn", 0.05, seeds=0.8))
    full = Result(claim.id, {"tcn": [0.01, 0.02, 0.3, 0.4, 0.5]})
    full.finish(claim)  # 2 of 5 inside: not reproduced
    quick = {
        "verdict": "not reproduced",
        "parts": [{"part": "tcn < 0.05", "inside": 0, "seeds": 2}],
    }
    assert trend(claim, full, quick) == (
        "'tcn < 0.05' held on 0 of 2 at quick scale and 2 of 5 at full scale: the gap narrows "
        "as the budget grows."
    )
    quick["parts"][0]["inside"] = 2
    assert trend(claim, full, quick).endswith("the gap widens as the budget grows.")
    quick["parts"][0].update(inside=4, seeds=10)  # 0.4 against 0.4: no trend
    assert trend(claim, full, quick).endswith("no clear trend between the two budgets.")
