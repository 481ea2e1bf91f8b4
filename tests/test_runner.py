"""The runner: discovery, checked overrides, seeds, hashing, cache, staleness, failures."""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakeproject import KEY, MODULE, make_project

from repro.claims import Verdict, load_record
from repro.run.config import apply_overrides, parse_overrides, parse_seeds, resolve_seeds
from repro.run.discover import Paper, discover, find
from repro.run.errors import PaperModuleError, UsageError
from repro.run.provenance import code_files, code_hash, code_name, stale_reason
from repro.run.runner import run_paper
from repro.run.states import source_line
from repro.run.states import states as all_states


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture
def paper(project: Path) -> Paper:
    return discover(project)[KEY]


def quiet(msg: str) -> None:
    pass


# ---- discovery ------------------------------------------------------------------------------


def test_discover_finds_and_checks_paper_modules(project, paper):
    assert list(discover(project)) == [KEY]
    assert [c.id for c in paper.claims] == ["fake2020paper.works", "fake2020paper.later"]
    assert find({KEY: paper}, "fake2020paper.works") is paper
    with pytest.raises(UsageError, match="unknown paper key 'nope' \\(known: fake2020paper\\)"):
        find({KEY: paper}, "nope")
    with pytest.raises(UsageError, match="unknown claim id 'fake2020paper.nope'"):
        find({KEY: paper}, "fake2020paper.nope")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m + "\ndef broken(:\n", r"repro/fake2020paper.py:\d+: cannot import"),
        (
            lambda m: m + "\nraise ImportError('no such thing')\n",
            f"fake2020paper.py:{len(MODULE.splitlines()) + 2}: cannot import: ImportError: no such",
        ),
        (
            lambda m: m.replace('id="fake2020paper.later"', 'id="other2020x.later"'),
            "must start with 'fake2020paper.'",
        ),
        (lambda m: m.replace("@dataclass(frozen=True)", "@dataclass"), "must be frozen"),
        (lambda m: m.replace("def run(", "def walk("), r"run\(config, seeds\) is missing"),
        (lambda m: m.replace("    @classmethod\n    def paper", "    def _p"), "paper()"),
    ],
)
def test_broken_modules_are_reported_with_file_and_line(tmp_path, edit, message):
    make_project(tmp_path, edit(MODULE))
    with pytest.raises(PaperModuleError, match=message):
        discover(tmp_path)


# ---- config overrides -----------------------------------------------------------------------


def test_overrides_are_parsed_and_type_checked(paper):
    cfg = paper.config("quick", {"steps": "7", "lr": "0.5", "mode": "x", "sizes": "3,5"})
    assert (cfg.steps, cfg.lr, cfg.mode, cfg.sizes) == (7, 0.5, "x", (3, 5))
    assert paper.config("full", {"lr": 1}).lr == 1.0  # an int is fine for a float
    bad = [
        ({"nope": "1"}, "unknown config field 'nope' \\(fields: steps, lr"),
        ({"steps": "abc"}, "config field 'steps': expected an int, got 'abc'"),
        ({"steps": "1.5"}, "expected an int"),
        ({"steps": True}, "expected an int"),  # a bool is not an int here
        ({"lr": "fast"}, "expected a float"),
        ({"sizes": "a,b"}, "expected an int"),
    ]
    for overrides, message in bad:
        with pytest.raises(UsageError, match=message):
            paper.config("full", overrides)
    with pytest.raises(UsageError, match="unknown scale 'huge'"):
        paper.config("huge")


def test_override_types_beyond_the_basics():
    @dataclass(frozen=True)
    class C:
        flag: bool = False
        kind: typing.Literal["a", "b"] = "a"
        maybe: int | None = None
        pair: tuple[int, float] = (1, 2.0)

    c = apply_overrides(C(), {"flag": "true", "kind": "b", "maybe": "none", "pair": "3,4"})
    assert c == C(True, "b", None, (3, 4.0))
    assert apply_overrides(C(), {"maybe": "5"}).maybe == 5
    for overrides in ({"flag": "maybe"}, {"kind": "c"}, {"pair": "1"}):
        with pytest.raises(UsageError):
            apply_overrides(C(), overrides)
    assert parse_overrides(["a=1", "b = x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(UsageError, match="FIELD=VALUE"):
        parse_overrides(["novalue"])


def test_seeds_are_a_count_or_a_list():
    assert parse_seeds("5") == 5
    assert parse_seeds("7,8,9") == [7, 8, 9]
    for bad in ("0", "-1", "a", "1,1", "1,-2"):
        with pytest.raises(UsageError, match="--seeds"):
            parse_seeds(bad)
    assert resolve_seeds(3, [0]) == [0, 1, 2]
    assert resolve_seeds([7, 9], [0]) == [7, 9]
    assert resolve_seeds(None, [0, 1]) == [0, 1]


# ---- running, cache, staleness --------------------------------------------------------------


def test_run_judges_claims_and_records_divergence_as_data(project, paper):
    out = run_paper(paper, scale="quick", results_dir=project / "r", log=quiet)
    assert out.status == "ran" and out.path == project / "r" / KEY / "result.json"
    rec = load_record(project / "r", KEY)
    works = rec.results["fake2020paper.works"]
    assert works.verdict == Verdict.REPRODUCED
    assert all(math.isnan(v) for v in works.values["bad"])  # diverged: NaN kept as data
    assert works.summary["bad"].nonfinite == 2 and "diverged at step" in works.notes[0]
    assert works.figures and (project / "r" / KEY / works.figures[0]["file"]).exists()
    later = rec.results["fake2020paper.later"]
    assert later.verdict is None and later.detail == "criterion not yet specified"
    prov = rec.provenance
    for field in (
        "commit",
        "dirty",
        "torch",
        "device",
        "scale",
        "seeds",
        "config",
        "wall_time_s",
        "date",
    ):
        assert field in prov
    assert prov["scale"] == "quick" and prov["seeds"] == [7, 8] and prov["config"]["steps"] == 10
    assert rec.hash == rec.hashes["all"] and set(rec.hashes) >= {"code", "config", "env", "seeds"}


def test_same_seed_twice_gives_identical_numbers(project, paper):
    a = run_paper(paper, scale="quick", results_dir=project / "a", log=quiet)
    b = run_paper(paper, scale="quick", results_dir=project / "b", log=quiet)
    c = run_paper(paper, scale="quick", seeds=[5, 6], results_dir=project / "c", log=quiet)
    va = a.record.results["fake2020paper.works"].values["good"]
    assert va == b.record.results["fake2020paper.works"].values["good"]
    assert va != c.record.results["fake2020paper.works"].values["good"]
    assert a.record.hash == b.record.hash != c.record.hash


def test_cache_skips_an_up_to_date_result_and_force_reruns(project, paper):
    first = run_paper(paper, scale="quick", results_dir=project / "r", log=quiet)
    stamp = first.path.stat().st_mtime_ns
    again = run_paper(paper, scale="quick", results_dir=project / "r", log=quiet)
    assert again.status == "cached" and first.path.stat().st_mtime_ns == stamp
    other = run_paper(paper, scale="quick", seeds=3, results_dir=project / "r", log=quiet)
    assert other.status == "ran"  # other seeds: another hash
    forced = run_paper(
        paper, scale="quick", seeds=3, results_dir=project / "r", force=True, log=quiet
    )
    assert forced.status == "ran"


def test_staleness_follows_code_and_config_not_environment(project):
    paper = discover(project)[KEY]
    out = run_paper(paper, scale="quick", results_dir=project / "r", log=quiet)
    rec = out.record
    assert stale_reason(paper, rec) is None
    rec.hashes["env"] = "another-machine"  # other torch or device: still current for the site
    assert stale_reason(paper, rec) is None

    module = project / "repro" / f"{KEY}.py"
    module.write_text(MODULE + "\n# a comment changes the code hash\n")
    assert stale_reason(discover(project)[KEY], rec) == ("the code changed since this run")
    rec.hashes["code"] = code_hash(discover(project)[KEY])
    module.write_text(MODULE.replace("cls(steps=10)", "cls(steps=11)") + "\n# a comment\n")
    paper2 = discover(project)[KEY]
    rec.hashes["code"] = code_hash(paper2)
    assert stale_reason(paper2, rec) == "the config changed since this run"


def test_code_hash_covers_the_framework_modules_a_paper_imports(paper):
    names = {code_name(p, paper) for p in code_files(paper)}
    want = {
        "repro/fake2020paper.py",
        "repro/claims/criteria.py",  # through repro/claims/__init__.py
        "repro/claims/stats.py",
        "repro/kit/train.py",
        "repro/kit/device.py",  # imported by train.py: transitively
        "repro/kit/figures.py",
    }
    assert want <= names, want - names
    assert not any(n.startswith(("repro/cli/", "repro/site/", "repro/run/")) for n in names)


def test_a_run_that_raises_leaves_the_stored_result_untouched(project, paper):
    good = run_paper(paper, results_dir=project / "r", log=quiet)
    before = good.path.read_bytes()
    logged: list[str] = []
    out = run_paper(
        paper, overrides={"mode": "raise"}, results_dir=project / "r", log=logged.append
    )
    assert out.status == "failed" and "RuntimeError: boom" in out.error
    assert "untouched" in logged[-1]
    assert good.path.read_bytes() == before


def test_only_the_default_run_writes_the_committed_results(project, paper):
    out = run_paper(paper, seeds=[7, 8], log=quiet)
    assert out.path == project / "scratch" / "results" / KEY / "result.json"
    assert not (project / "docs" / "results").exists()
    assert out.record.provenance["command"] == f"nox -s repro -- {KEY} --seeds 7,8"
    quick = run_paper(paper, scale="quick", log=quiet)
    assert quick.path.parent.parent == project / "scratch" / "results"
    default = run_paper(paper, log=quiet)
    assert default.path == project / "docs" / "results" / KEY / "result.json"
    assert default.record.provenance["command"] == f"nox -s repro -- {KEY}"


def test_paper_scale_warns_on_cpu(project, paper, monkeypatch):
    monkeypatch.setenv("REPRO_DEVICE", "cpu")
    logged: list[str] = []
    run_paper(paper, scale="paper", results_dir=project / "r", log=logged.append)
    assert any(m.startswith("warning") and "meant for a GPU" in m for m in logged)


def test_states_report_missing_and_unspecified(project, paper):
    states = all_states(project)
    assert [(s.claim.id, s.result, s.specified) for s in states] == [
        ("fake2020paper.works", None, True),
        ("fake2020paper.later", None, False),
    ]
    assert source_line(paper, paper.claims[1]) == f"repro/{KEY}.py:26"
