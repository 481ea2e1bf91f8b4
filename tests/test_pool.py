"""The pool of parallel units: the same numbers for any number of workers, a killed worker named
with its unit, finished units kept and only the missing ones rerun, budgets, Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakeproject import KEY, MODULE, make_project

from repro.claims import load_record
from repro.kit.units import Unit, grid
from repro.run import costs
from repro.run.discover import ROOT, discover
from repro.run.pool import Cache, Workers
from repro.run.runner import run_paper

# The fake card of fakeproject, split into units: one fit per (arm, seed). With mode "kill" the
# unit bad/seed 8 SIGKILLs its own worker while the file named by REPRO_TEST_KILL exists (it
# removes the file first, so the rerun goes through); every unit that runs appends its name to
# the file named by REPRO_TEST_LOG.
UNITS = """

from repro.kit.units import Unit, grid, series

MEMORY_MB = 1e-3  # a cap no run can meet, for the test


def units(config, seeds):
    return grid("works", ("good", "bad"), seeds)


def unit(config, u):
    import os, signal
    from pathlib import Path

    with open(os.environ["REPRO_TEST_LOG"], "a") as f:
        f.write(f"{u}|{os.getpid()}\\n")
    flag = Path(os.environ.get("REPRO_TEST_KILL", "/nonexistent"))
    if config.mode == "kill" and str(u) == "works/bad/seed 8" and flag.exists():
        flag.unlink()
        os.kill(os.getpid(), signal.SIGKILL)
    if config.mode == "slow":  # holds its worker until the test stops the run
        import time
        time.sleep(120)
    if config.mode == "raise" and str(u) == "works/good/seed 7":
        raise RuntimeError("boom in a unit")
    lr = config.lr if u.arm == "good" else config.bad_lr
    h = fit(lr, u.seed, config.steps, config.sizes[0])
    return {"final": h.final_loss(), "diverged": h.diverged, "step": h.diverged_step,
            "loss": h.loss}


def combine(config, seeds, done):
    runs = {a: series(done, "works", a, seeds) for a in ("good", "bad")}
    values = {a: [o["final"] for o in outs] for a, outs in runs.items()}
    values["bad diverged"] = [float(o["diverged"]) for o in runs["bad"]]
    notes = [f"bad seed {s} diverged at step {o['step']}" for s, o in zip(seeds, runs["bad"])]
    extra = {"good": [o["loss"] for o in runs["good"]]}
    result = Result("fake2020paper.works", values, notes=notes, extra=extra)
    result.add_figure("values", arm_values({"good": values["good"]}), "Final loss per seed.")
    return [result, Result("fake2020paper.later", {"x": [1.0] * len(seeds)})]
"""
UNIT_MODULE = MODULE.replace("def run(", "def _run_unused(") + UNITS


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_project(tmp_path / "p", UNIT_MODULE)
    monkeypatch.setenv("REPRO_TEST_LOG", str(tmp_path / "ran.txt"))
    monkeypatch.setenv("REPRO_TEST_KILL", str(tmp_path / "kill"))
    return root


def ran(project: Path) -> list[str]:
    path = Path(os.environ["REPRO_TEST_LOG"])
    lines = path.read_text().splitlines() if path.exists() else []
    return [line.split("|")[0] for line in lines]


def pids() -> set[str]:
    lines = Path(os.environ["REPRO_TEST_LOG"]).read_text().splitlines()
    return {line.split("|")[1] for line in lines}


def numbers(record) -> str:
    return json.dumps(
        {k: (r.values, r.notes, r.extra) for k, r in record.results.items()}, sort_keys=True
    )


def test_units_are_named_and_cached_one_file_each(tmp_path):
    assert grid("p", ("a", "b"), [3, 4]) == [
        Unit("p", "a", 3),
        Unit("p", "b", 3),
        Unit("p", "a", 4),
        Unit("p", "b", 4),
    ]
    assert str(Unit("copy-memory", "lstm", 101)) == "copy-memory/lstm/seed 101"
    assert str(Unit("memory", "tcn", 3, T=600)) == "memory/tcn/T=600/seed 3"
    assert Unit("memory", "tcn", 3, T=600).file != Unit("memory", "tcn", 3, T=800).file
    cache = Cache(tmp_path / "c")
    u = Unit("x/y", "a b", 1)
    assert cache.get(u) is None
    cache.put(u, {"output": {"v": float("nan")}})
    assert cache.get(u)["output"]["v"] != cache.get(u)["output"]["v"]  # NaN survives
    (tmp_path / "c" / u.file).write_text("{not json")
    assert cache.get(u) is None  # a corrupt file counts as missing: the unit runs again
    last = costs.Cost(cpu_s=100, memory_mb=50, machine="m", date="2026-12-06")
    assert costs.warnings(last, 149, 74, cap_mb=None) == []
    assert len(costs.warnings(last, 151, 76, cap_mb=75)) == 2
    assert costs.warnings(None, 1e9, 1e9, cap_mb=None) == []  # nothing measured yet


@pytest.mark.slow  # worker processes start (torch imports): seconds each
def test_one_worker_and_two_give_identical_numbers(project):
    paper = discover(project)[KEY]
    one = run_paper(paper, scale="quick", results_dir=project / "a", jobs=1, log=lambda m: None)
    two = run_paper(paper, scale="quick", results_dir=project / "b", jobs=2, log=lambda m: None)
    assert one.status == two.status == "ran", (one.error, two.error)
    assert numbers(one.record) == numbers(two.record)
    assert (one.record.provenance["jobs"], two.record.provenance["jobs"]) == (1, 2)
    assert one.record.provenance["cpu_time_s"] > 0
    # The unit cache is gone once the result is saved.
    assert not any((project / "scratch" / "units" / KEY).glob("*/*.json"))


@pytest.mark.slow  # worker processes start (torch imports): seconds each
def test_one_pool_serves_every_paper_of_a_command(project):
    """The workers start once per command (importing torch takes seconds), not once per paper."""
    paper = discover(project)[KEY]
    with Workers(2) as workers:
        for name in ("a", "b"):
            out = run_paper(
                paper,
                scale="quick",
                results_dir=project / name,
                jobs=2,
                workers=workers,
                log=lambda m: None,
            )
            assert out.status == "ran", out.error
    assert len(ran(project)) == 8 and len(pids()) <= 2, pids()


@pytest.mark.slow  # worker processes start (torch imports): seconds each
def test_a_committed_run_starts_workers_of_its_own(project):
    """A shared worker keeps what earlier papers left in its resident set, so the peak memory a
    committed record stores would be the pool's high-water mark: a committed run's units run on
    fresh workers, a scratch run's on the command's pool."""
    paper = discover(project)[KEY]
    with Workers(2) as workers:
        options = {"jobs": 2, "workers": workers, "log": lambda m: None}
        scratch = run_paper(paper, scale="quick", results_dir=project / "a", **options)
        shared, n = pids(), len(ran(project))
        committed = run_paper(paper, force=True, **options)
    assert scratch.status == committed.status == "ran", (scratch.error, committed.error)
    assert committed.path == project / "docs" / "results" / KEY / "result.json"
    lines = Path(os.environ["REPRO_TEST_LOG"]).read_text().splitlines()[n:]
    fresh = {line.split("|")[1] for line in lines}
    assert lines and not fresh & shared, (fresh, shared)


@pytest.mark.slow  # worker processes start (torch imports): seconds each
def test_a_killed_worker_is_named_and_a_rerun_runs_only_the_missing_units(project, tmp_path):
    paper = discover(project)[KEY]
    results = project / "r"
    first = run_paper(paper, scale="quick", results_dir=results, jobs=2, log=lambda m: None)
    assert first.status == "ran"
    before = (results / KEY / "result.json").read_bytes()
    (tmp_path / "kill").touch()
    log: list[str] = []

    def attempt():  # the same command both times: mode "kill", forced, two workers
        options = {"scale": "quick", "results_dir": results, "jobs": 2, "force": True}
        return run_paper(paper, log=log.append, overrides={"mode": "kill"}, **options)

    killed = attempt()
    assert killed.status == "failed"
    message = "\n".join(log)
    assert "unit works/bad/seed 8: worker process" in message and "SIGKILL" in message, message
    assert "the same command runs only the missing ones" in message
    assert (results / KEY / "result.json").read_bytes() == before  # the stored result is intact
    kept = {line for line in ran(project)[4:] if line != "works/bad/seed 8"}
    cached = {p.name for p in (project / "scratch" / "units" / KEY).glob("*/*.json")}
    assert cached and len(cached) < 4, cached  # some units finished, not all
    Path(os.environ["REPRO_TEST_LOG"]).unlink()
    log.clear()
    again = attempt()
    assert again.status == "ran", again.error
    rerun = ran(project)
    assert "works/bad/seed 8" in rerun and len(rerun) == 4 - len(cached), (rerun, cached)
    assert any(f"{len(cached)} of 4 units kept" in m for m in log), log
    assert kept  # the first attempt got somewhere before the kill
    clean = run_paper(paper, scale="quick", results_dir=project / "c", jobs=1, log=lambda m: None)
    assert numbers(again.record) == numbers(clean.record)  # resumed = uninterrupted


@pytest.mark.slow  # worker processes start (torch imports): seconds each
def test_a_unit_that_raises_is_named_and_the_others_are_kept(project):
    paper = discover(project)[KEY]
    log: list[str] = []
    out = run_paper(
        paper,
        scale="quick",
        results_dir=project / "r",
        jobs=2,
        log=log.append,
        overrides={"mode": "raise"},
    )
    assert out.status == "failed"
    message = "\n".join(log)
    assert "unit works/good/seed 7:" in message and "boom in a unit" in message, message
    assert load_record(project / "r", KEY) is None
    assert len(list((project / "scratch" / "units" / KEY).glob("*/*.json"))) == 3


def test_a_run_over_its_memory_cap_warns(project):
    paper = discover(project)[KEY]
    log: list[str] = []
    out = run_paper(paper, results_dir=project / "r", jobs=1, log=log.append)
    assert out.status == "ran", out.error
    warned = [m for m in log if m.startswith("warning") and "peak memory" in m]
    assert warned and "MEMORY_MB" in warned[0], log


@pytest.mark.slow
@pytest.mark.xdist_group("chung2014empirical")  # the worker that holds chung's quick run
def test_ray_gives_the_numbers_of_the_process_pool(tmp_path, quick):
    """A paper at quick scale on a local Ray instance (127.0.0.1), against the process pool's
    run of it that the paper's own tests share (`quick`)."""
    pytest.importorskip("ray", reason="the test dependency group installs Ray")
    key = "chung2014empirical"  # its units read the chorales, cached per worker
    pool_record = quick(key)  # first, so Ray's workers read the chorales it parsed to disk
    ray = run_paper(
        discover()[key],
        scale="quick",
        results_dir=tmp_path / "ray",
        jobs=2,
        backend="ray",
        force=True,
        log=lambda m: None,
    )
    assert ray.status == "ran", ray.error
    assert numbers(pool_record) == numbers(ray.record)
    assert ray.record.provenance["backend"] == "ray"
    assert pool_record.provenance["backend"] == "process"


def test_the_default_install_has_no_ray(monkeypatch):
    """Ray is an optional extra (and test group); without it --backend ray says how to get it."""
    import tomllib

    from repro.run import cluster
    from repro.run.errors import UsageError
    from repro.run.pool import Job

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert not any(d.startswith("ray") for d in project["project"]["dependencies"])
    assert project["project"]["optional-dependencies"]["ray"]
    monkeypatch.setattr(cluster, "ray", None)
    job = Job(".", KEY, "quick", (), None)
    with pytest.raises(UsageError, match=r"pip install -e '\.\[ray\]'"):
        next(cluster.stream(lambda *a: {}, job, [Unit("p", "a", 0)], 2, None))


@pytest.mark.slow  # a fresh process imports torch: 3.5 s, the fast tier's dearest test
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux /proc only")
def test_a_units_peak_memory_is_its_own():
    """A worker runs many units (of several papers): each unit's peak starts from a reset, so a
    big earlier unit does not inflate the next one's figure (or its budget warning). Measured in
    a fresh process, as a worker is one: pytest's own process, after hundreds of tests, can hold
    its resident memory near its high-water mark (seen once in CI)."""
    code = (
        "import numpy as np\n"
        "from repro.run.pool import peak_mb, reset_peak\n"
        "big = np.ones(40_000_000)  # 320 MB touched\n"
        "del big\n"
        "before = peak_mb()\n"
        "reset_peak()\n"
        "print(before, peak_mb())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = map(float, out.stdout.split())
    assert after < before - 200, (before, after)


@pytest.mark.slow  # a runner and its workers start (torch imports): seconds
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_ends_every_worker_and_keeps_the_stored_result(project, sig):
    """SIGTERM (timeout, a scheduler, a CI cancel) and SIGHUP stop a run as Ctrl-C does: no
    worker outlives the runner, the stored result is as it was, and the run says so."""
    results = project / "r"
    paper = discover(project)[KEY]
    assert run_paper(paper, scale="quick", results_dir=results, jobs=1, log=print).status == "ran"
    before = (results / KEY / "result.json").read_bytes()
    Path(os.environ["REPRO_TEST_LOG"]).unlink()  # the pids of the stopped run's workers only
    argv = ["--root", str(project), "run", KEY, "--scale", "quick", "--jobs", "2", "--force"]
    argv += ["--results-dir", str(results), "--set", "mode=slow"]
    runner = subprocess.Popen(
        [sys.executable, "-m", "repro", *argv], stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    log = Path(os.environ["REPRO_TEST_LOG"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(pids() if log.exists() else ()) < 2:
        time.sleep(0.2)  # both workers hold a unit
    workers = {int(p) for p in pids()}
    assert len(workers) == 2, workers
    runner.send_signal(sig)
    _, err = runner.communicate(timeout=30)
    assert runner.returncode == 128 + sig, err
    assert f"stopped by {sig.name}" in err and "no worker is left running" in err, err
    time.sleep(0.5)
    alive = [p for p in workers if _alive(p)]
    assert not alive, f"workers {alive} outlived the runner"
    assert (results / KEY / "result.json").read_bytes() == before


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status waits to be read
