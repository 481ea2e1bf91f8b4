"""The claim model: intervals, verdict logic, JSON with NaN, atomic saves that survive kills."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from repro.claims import (
    Claim,
    Record,
    Result,
    ResultError,
    Verdict,
    above,
    atomic_write,
    below,
    between,
    load_record,
    mean_interval,
    save_record,
    summarize,
    t_quantile,
    wilson_interval,
    within,
)
from repro.claims import store as claims

ROOT = Path(__file__).resolve().parents[1]
NAN, INF = math.nan, math.inf

# ---- intervals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "t"),
    # Two-sided 95% critical values from standard t tables.
    [(1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (30, 2.0423), (1000, 1.9623)],
)
def test_t_quantile_matches_tables(df, t):
    assert t_quantile(0.975, df) == pytest.approx(t, abs=1e-4)
    assert t_quantile(0.025, df) == pytest.approx(-t, abs=1e-4)


def test_mean_interval_student_t():
    mean, lo, hi = mean_interval([1, 2, 3, 4, 5])
    half = 2.7764451 * math.sqrt(2.5 / 5)  # t(0.975, 4) * s / sqrt(n)
    assert mean == 3
    assert (lo, hi) == pytest.approx((3 - half, 3 + half), abs=1e-6)
    assert mean_interval([7.0])[0] == 7.0 and math.isnan(mean_interval([7.0])[1])


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    # Wilson score intervals (z = 1.95996), computed independently.
    [(0, 5, 0.0, 0.4345), (5, 5, 0.5655, 1.0), (4, 5, 0.3755, 0.9638), (50, 100, 0.4038, 0.5962)],
)
def test_wilson_interval(k, n, lo, hi):
    assert wilson_interval(k, n) == pytest.approx((lo, hi), abs=1e-4)


@pytest.mark.parametrize("n", [1, 5, 12, 100])
def test_wilson_interval_holds_its_point_estimate_and_is_exact_at_the_ends(n):
    ends = [wilson_interval(k, n) for k in range(n + 1)]
    assert ends[0][0] == 0.0 and ends[n][1] == 1.0  # exact, not 2.8e-17 away
    assert all(lo <= k / n <= hi for k, (lo, hi) in enumerate(ends))


def test_summaries_count_divergence_and_proportions():
    s = summarize([1.0, 2.0, 3.0, NAN])
    assert (s.n, s.nonfinite, s.mean) == (4, 1, 2.0)
    assert "1 of 4 diverged" in s.text() and "n = 3" in s.text()
    assert summarize([NAN, INF]).mean is None
    p = summarize([1, 0, 1, 1], proportion=True)
    assert (p.k, p.n, p.kind) == (3, 4, "proportion") and p.text().startswith("3/4 [")
    with pytest.raises(ValueError, match="0/1"):
        summarize([0.5], proportion=True)


# ---- verdicts -------------------------------------------------------------------------------


def test_per_seed_fraction():
    crit = below("tcn", 0.05, seeds=0.8)  # "in >= 4 of 5 seeds"
    assert crit.evaluate({"tcn": [0.01, 0.02, 0.03, 0.04, 0.9]}).verdict == Verdict.REPRODUCED
    ev = crit.evaluate({"tcn": [0.01, 0.02, 0.03, 0.9, 0.9]})
    assert ev.verdict == Verdict.NOT_REPRODUCED and "3/5 seeds pass (need 4" in ev.detail


def test_mean_interval_decides_or_is_inconclusive():
    crit = below("a", 1.0)
    assert crit.evaluate({"a": [0.1, 0.2, 0.15]}).verdict == Verdict.REPRODUCED
    assert crit.evaluate({"a": [2.0, 2.1, 1.9]}).verdict == Verdict.NOT_REPRODUCED
    # mean 1.0, wide interval: straddles the threshold.
    assert crit.evaluate({"a": [0.5, 1.5, 1.0]}).verdict == Verdict.INCONCLUSIVE


def test_too_few_seeds_is_inconclusive():
    crit = below("a", 1.0, min_seeds=3)
    ev = crit.evaluate({"a": [0.1, 0.1]})
    assert ev.verdict == Verdict.INCONCLUSIVE and "needs 3" in ev.detail


def test_missing_arm_or_mismatched_seeds_fail():
    assert below("a", 1.0).evaluate({"b": [1.0]}).verdict == Verdict.FAILED
    assert below("a", 1.0).evaluate({"a": []}).verdict == Verdict.FAILED
    ev = below("a", "b").evaluate({"a": [1.0, 2.0], "b": [3.0]})
    assert ev.verdict == Verdict.FAILED and "different seed counts" in ev.detail


def test_a_diverged_seed_fails_every_part_whatever_its_direction():
    # Seed by seed: a NaN seed is never inside the band, below or above.
    assert above("lstm", 0.9, seeds=1.0).evaluate({"lstm": [NAN, 1.0]}).verdict == (
        "not reproduced"
    )
    assert below("tcn", 0.05, seeds=1.0).evaluate({"tcn": [NAN, 0.01]}).verdict == (
        "not reproduced"
    )
    # On the mean: one diverged seed fails the part (no interval, no dropping it).
    assert below("a", 1.0).evaluate({"a": [0.1, 0.2, NAN]}).verdict == "not reproduced"
    assert above("a", 1.0).evaluate({"a": [5.0, 6.0, NAN]}).verdict == "not reproduced"
    # A reproduction's infinity is a divergence too; a check keeps it as a measurement.
    assert below("a", 1.0).evaluate({"a": [0.1, 0.2, -INF]}).verdict == "not reproduced"
    assert below("a", 1.0).evaluate({"a": [-INF]}, exact=True).verdict == "reproduced"
    # Paired: a NaN on either side makes the seed's difference NaN.
    for values in ({"a": [1.0, NAN], "b": [2.0, 3.0]}, {"a": [1.0, 2.0], "b": [2.0, NAN]}):
        assert below("a", "b", seeds=0.5).evaluate(values).verdict == "reproduced"
        assert below("a", "b", seeds=1.0).evaluate(values).verdict == "not reproduced"
        assert above("a", "b", seeds=0.5).evaluate(values).verdict == "not reproduced"
        assert below("a", "b").evaluate(values).verdict == "not reproduced"


def test_paired_comparison_between_arms():
    crit = below("clipped", "unclipped", factor=0.5, seeds=0.8)
    values = {"clipped": [0.1, 0.1, 0.1, 0.1, 0.1], "unclipped": [1.0, 1.0, 1.0, 1.0, 0.1]}
    # seed 4: 0.1 < 0.05 fails -> 4 of 5.
    assert crit.evaluate(values).verdict == Verdict.REPRODUCED
    mean_crit = below("a", "b")  # paired differences, t-interval
    assert mean_crit.evaluate({"a": [1.0, 2.0, 3.0], "b": [2.0, 3.1, 4.0]}).verdict == (
        Verdict.REPRODUCED
    )


def test_all_of_takes_the_worst_part():
    crit = below("a", 1.0) & above("b", 1.0) & below("c", 1.0)
    assert len(crit.parts) == 3
    ok = {"a": [0.5], "b": [2.0], "c": [0.5]}
    assert crit.evaluate(ok).verdict == Verdict.REPRODUCED
    assert crit.evaluate({**ok, "c": [0.5, 1.5, 1.0]}).verdict == Verdict.INCONCLUSIVE
    assert crit.evaluate({**ok, "b": [0.0], "c": [0.5, 1.5, 1.0]}).verdict == "not reproduced"
    assert crit.evaluate({"a": [0.5], "b": [2.0]}).verdict == Verdict.FAILED
    assert len(crit.evaluate(ok).detail.splitlines()) == 3


def test_bands_and_descriptions():
    band = within("x", 88.72, 0.01, label="ln FLT_MAX")
    assert band.evaluate({"x": [88.7228]}).verdict == Verdict.REPRODUCED
    assert band.evaluate({"x": [89.5]}).verdict == Verdict.NOT_REPRODUCED
    assert band.evaluate({"x": [NAN]}).verdict == Verdict.NOT_REPRODUCED
    assert "ln FLT_MAX" in band.describe()
    assert between("x", 0, 1).describe() == "x within [0, 1] (on the 95% interval of the mean)"
    assert below("tcn", 0.05, seeds=0.8).describe() == "tcn < 0.05 (in at least 80% of seeds)"
    both = below("a", 1, seeds=0.8) & above("b", 2, seeds=0.8)
    assert both.describe() == "a < 1; and b > 2, each in at least 80% of seeds"
    with pytest.raises(ValueError):
        between("x", 1, 0)
    with pytest.raises(ValueError):
        below("x", 1, seeds=1.5)


def test_claim_ids_are_checked():
    with pytest.raises(ValueError, match="<key>.<slug>"):
        Claim("NoDot", "s", "p", "w", "m", None)
    c = Claim("bai2018tcn.copy-memory", "s", "p", "w", "m", None)
    assert (c.key, c.slug, c.evaluate({})) == ("bai2018tcn", "copy-memory", None)


# ---- storage --------------------------------------------------------------------------------


def _record(value: float = 1.0, key: str = "demo2020x") -> Record:
    claim = Claim(f"{key}.c", "s", "p", "w", "m", below("a", 2.0))
    r = Result(claim.id, {"a": [value, NAN], "b": [INF, -INF]}, notes=["n"], extra={"x": [NAN]})
    r.finish(claim)
    prov = {"commit": "abc", "dirty": False, "scale": "full", "seeds": [0, 1]}
    return Record(key, f"hash{value}", {"code": "c"}, prov, {claim.id: r})


def test_json_round_trip_keeps_nan_and_inf_and_is_strict(tmp_path):
    path = save_record(_record(), tmp_path)

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    json.loads(path.read_text(), parse_constant=no_constants)  # strict JSON on disk
    rec = load_record(tmp_path, "demo2020x")
    r = rec.results["demo2020x.c"]
    assert r.values["a"][0] == 1.0 and math.isnan(r.values["a"][1])
    assert r.values["b"] == [INF, -INF] and math.isnan(r.extra["x"][0])
    assert r.verdict == Verdict.NOT_REPRODUCED  # a diverged seed fails the part
    assert r.summary["a"].nonfinite == 1 and r.provenance["commit"] == "abc"
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


def test_invalid_result_file_names_the_path(tmp_path):
    (tmp_path / "demo2020x").mkdir()
    (tmp_path / "demo2020x" / "result.json").write_text("{ not json")
    with pytest.raises(ResultError, match="demo2020x/result.json"):
        load_record(tmp_path, "demo2020x")
    assert load_record(tmp_path, "absent") is None


def test_figures_get_content_names_and_old_ones_go_after_commit(tmp_path):
    rec = _record()
    rec.results["demo2020x.c"].add_figure("curve", b"<svg>one</svg>", "first")
    save_record(rec, tmp_path)
    first = rec.results["demo2020x.c"].figures[0]["file"]
    assert first.startswith("c-curve-") and (tmp_path / "demo2020x" / first).exists()
    rec2 = _record(1.5)
    rec2.results["demo2020x.c"].add_figure("curve", b"<svg>two</svg>", "second")
    save_record(rec2, tmp_path)
    second = rec2.results["demo2020x.c"].figures[0]["file"]
    assert second != first and (tmp_path / "demo2020x" / second).exists()
    assert not (tmp_path / "demo2020x" / first).exists()


def test_crash_during_save_keeps_the_old_result_and_its_figures(tmp_path, monkeypatch):
    rec = _record()
    rec.results["demo2020x.c"].add_figure("curve", b"<svg>one</svg>")
    save_record(rec, tmp_path)
    old_json = (tmp_path / "demo2020x" / "result.json").read_bytes()
    old_fig = rec.results["demo2020x.c"].figures[0]["file"]

    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst).endswith("result.json"):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(claims.os, "replace", failing_replace)
    rec2 = _record(1.5)
    rec2.results["demo2020x.c"].add_figure("curve", b"<svg>two</svg>")
    with pytest.raises(OSError, match="disk full"):
        save_record(rec2, tmp_path)
    out = tmp_path / "demo2020x"
    assert (out / "result.json").read_bytes() == old_json
    assert (out / old_fig).exists()  # the old result's figure is still there
    assert not [p for p in out.iterdir() if p.suffix == ".tmp"]  # temp file cleaned up
    assert load_record(tmp_path, "demo2020x").hash == "hash1.0"


def test_sigkill_mid_write_leaves_the_old_result_loadable(tmp_path):
    """A writer killed (SIGKILL: no cleanup possible) while writing a large result."""
    save_record(_record(), tmp_path)
    target = tmp_path / "demo2020x" / "result.json"
    old = target.read_bytes()
    marker = tmp_path / "writing"
    child = textwrap.dedent(
        f"""
        import os, time
        from pathlib import Path
        from repro.claims import store as claims
        real_fsync = os.fsync
        def slow_fsync(fd):  # the data is in the temp file, not yet renamed: "mid-write"
            Path({str(marker)!r}).write_text("now")
            time.sleep(60)
        claims.os.fsync = slow_fsync
        claims.atomic_write(Path({str(target)!r}), "x" * 20_000_000)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, "writer exited early"
            assert time.monotonic() < deadline, "writer never started writing"
            time.sleep(0.02)
        temps = list(target.parent.glob(".result.json.*.tmp"))
        assert temps and temps[0].stat().st_size > 0  # a half-finished write is on disk
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == old
    assert load_record(tmp_path, "demo2020x").hash == "hash1.0"
    save_record(_record(2.0), tmp_path)  # the next save clears the orphaned temp file
    assert not list(target.parent.glob(".*.tmp"))


def test_ctrl_c_during_save_is_held_until_the_save_is_complete(tmp_path, monkeypatch):
    real = claims.atomic_write

    def interrupted(path, data):
        if str(path).endswith("result.json"):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives mid-save
        real(path, data)

    monkeypatch.setattr(claims, "atomic_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_record(_record(3.0), tmp_path)
    assert load_record(tmp_path, "demo2020x").hash == "hash3.0"  # whole and new


def test_atomic_write_creates_parents(tmp_path):
    atomic_write(tmp_path / "a" / "b.txt", "hi")
    assert (tmp_path / "a" / "b.txt").read_text() == "hi"
