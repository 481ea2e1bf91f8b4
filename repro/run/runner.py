"""Run room, the runner: run a paper's claims reproducibly at a scale, judge, record, save.

`run_paper` resolves the config (scale + overrides checked against the dataclass), the seeds and
the device; hashes code, config, environment and seeds; skips the run when the stored result has
that very hash (unless forced); sets the threads and the device in one place, seeds every
generator, turns on deterministic algorithms, runs, renders the figures, judges each claim by its
criterion, records provenance (the device read from the parameters and batches that were
trained), and saves atomically. A run that raises leaves the stored result untouched.

Where results go: the committed docs/results/ only for the default run (full scale, default
seeds, no overrides); anything else goes to scratch/results/ (git-ignored) unless a results_dir
is given, so checking a verdict on other seeds never overwrites what the site shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.claims import Record, Result, save_record
from repro.kit import device as placement
from repro.kit.figures import to_svg
from repro.run import costs, guard, pool
from repro.run.config import DEFAULT_SCALE, resolve_seeds
from repro.run.discover import Paper, committed_dir, paper_scale_dir, scratch_dir
from repro.run.errors import PaperModuleError
from repro.run.provenance import (
    code_files,
    code_name,
    config_dict,
    environment,
    git_state,
    hashes,
    rerun_command,
)


@dataclass
class Outcome:
    """What happened to one paper in a run."""

    paper: Paper
    status: str  # "ran", "cached" (up-to-date result kept), "failed" (run() raised)
    record: Record | None = None
    path: Path | None = None
    wall_time_s: float = 0.0
    error: str = ""
    scale: str = DEFAULT_SCALE
    results_dir: Path | None = None


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _normalize(paper: Paper, raw: Any) -> dict[str, Result]:
    if isinstance(raw, Result):
        items = [raw]
    elif isinstance(raw, Mapping):
        items = list(raw.values())
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise PaperModuleError(
            f"{paper.rel}:{paper.line_of('def run')}: run() returned {type(raw).__name__}; "
            "expected a Result, a list of Results or a dict of them"
        )
    ids = {c.id for c in paper.claims}
    out: dict[str, Result] = {}
    for r in items:
        if not isinstance(r, Result):
            raise PaperModuleError(f"{paper.rel}: run() returned a {type(r).__name__}, not Result")
        if r.claim_id not in ids:
            raise PaperModuleError(
                f"{paper.rel}: run() returned a result for unknown claim '{r.claim_id}'"
            )
        out[r.claim_id] = r
    for c in paper.claims:  # a claim without a result fails its criterion (missing arms)
        out.setdefault(c.id, Result(c.id, {}, notes=["run() returned no result for this claim"]))
    return {c.id: out[c.id] for c in paper.claims}


def _check_arms(paper: Paper, config: Any, results: Mapping[str, Result]) -> None:
    """combine/run wrote every arm the card declares for each claim (`arms(config)`)."""
    for claim_id, declared in paper.arms(config).items():
        missing = sorted(set(declared) - set(results[claim_id].values))
        if missing:
            raise PaperModuleError(
                f"{paper.rel}:{paper.line_of('def arms')}: {claim_id}: arms() declares "
                f"{missing}, which the run did not produce"
            )


def run_paper(
    paper: Paper,
    *,
    scale: str = DEFAULT_SCALE,
    seeds: int | Sequence[int] | None = None,
    overrides: Mapping[str, Any] | None = None,
    results_dir: Path | None = None,
    force: bool = False,
    log: Callable[[str], None] = _stderr,
    device: str | None = None,
    revise: str | None = None,
    jobs: int | None = None,
    backend: str = "process",
    address: str | None = None,
    workers: pool.Workers | None = None,
) -> Outcome:
    """Run one paper's claims (or keep its up-to-date result) and save the record atomically.

    `results_dir` None: docs/results for the default run, docs/results/paper-scale for the
    paper scale on a GPU (on the registered seeds), scratch/results otherwise. Raises
    UsageError for a bad scale/override; KeyboardInterrupt passes through (nothing is written).
    `device`: auto, cpu or cuda (None: REPRO_DEVICE, else auto); threads: REPRO_THREADS, else 1.
    A run into the committed results must pass the guards (repro.run.guard): no exploration
    seed, no uncommitted change to its code, and a `revise` reason when a criterion or the seeds
    changed since the stored result.
    """
    config = paper.config(scale, overrides)
    dev = placement.choose(device)
    # The paper's sizes on a GPU, on the registered seeds: committed beside the full-scale run.
    gpu_paper = scale == "paper" and dev.type == "cuda" and not overrides and seeds is None
    default = paper.default_seeds(config, DEFAULT_SCALE if gpu_paper else scale)
    seed_list = resolve_seeds(seeds, default)
    is_default = scale == DEFAULT_SCALE and not overrides and seed_list == default
    if results_dir is None:
        results_dir = (
            committed_dir(paper.root)
            if is_default
            else paper_scale_dir(paper.root)
            if gpu_paper
            else scratch_dir(paper.root)
        )
    committed = guard.is_committed(paper, results_dir)
    # Unreadable counts as none: replaced by this run (`repro check` reports it).
    stored = costs.quiet_load(results_dir, paper.key)
    same = Path(results_dir).resolve() == committed_dir(paper.root).resolve()
    last = stored if same else costs.quiet_load(committed_dir(paper.root), paper.key)
    placement.set_threads()  # the one place threads are set (paper modules never do)
    env = environment(dev)
    hs = hashes(paper, config, seed_list, env)
    out = Outcome(paper, "ran", scale=scale, results_dir=results_dir)
    if not force and stored is not None and stored.hash == hs["all"]:
        out.status, out.record = "cached", stored
        out.path = results_dir / paper.key / "result.json"
        return out
    history: list[dict[str, Any]] = []
    if committed:
        guard.refuse_exploration_seeds(paper, seed_list)
        guard.refuse_dirty(paper)
        history = guard.history_for(paper, stored, seed_list, revise)
    if scale == "paper" and dev.type == "cpu":
        log(
            f"warning: {paper.key}: scale 'paper' uses the paper's sizes and is meant for a GPU; "
            "on this CPU it may take hours"
        )
    log(f"{paper.key}: running at scale {scale} on {env['device_name']}, seeds {seed_list}")
    jobs = jobs if jobs is not None else default_jobs()
    if committed and workers is not None:  # its own peak memory, not earlier papers' residue:
        workers.close()  # fresh workers (britz: 1,002 MB on the shared pool, 433 MB on fresh)
    cache = pool.Cache(units_dir(paper.root, paper.key, hs))
    placement.set_deterministic()
    placement.seed_everything(seed_list[0])
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        if paper.has_units:
            job = pool.Job(
                str(paper.root), paper.key, scale, tuple((overrides or {}).items()), device
            )
            units = paper.module.units(config, list(seed_list))
            done = pool.run_units(
                job,
                units,
                jobs=jobs,
                cache=cache,
                log=log,
                backend=backend,
                address=address,
                expected=costs.unit_costs(stored, last),
                workers=workers,
            )
            placement.seed_everything(seed_list[0])  # as a serial run() would start
            combine_start = time.process_time()
            with placement.use(dev):
                raw = paper.module.combine(config, list(seed_list), done.outputs)
                seen = _merge(done.placements, placement.placements())
            cpu_s = done.cpu_s + time.process_time() - combine_start
            peak_mb = done.peak_mb
            unit_cpu = done.unit_cpu_s
        else:
            pool.reset_peak()
            with placement.use(dev):
                raw = paper.module.run(config, list(seed_list))
                seen = placement.placements()
            cpu_s, peak_mb = time.process_time() - cpu_start, pool.peak_mb()
            unit_cpu = {}
        results = _normalize(paper, raw)
        _check_arms(paper, config, results)
        for r in results.values():
            r.render_figures(to_svg)
    except Exception as exc:
        out.status, out.wall_time_s = "failed", time.perf_counter() - start
        out.error = f"{type(exc).__name__}: {exc}"
        # A scaffold's run() is not written yet, or units failed (the message names them):
        # say what to do, without a traceback.
        plain = isinstance(exc, NotImplementedError | pool.UnitFailure)
        detail = str(exc) if plain else traceback.format_exc()
        log(f"error: {paper.key}: the run failed; the stored result is untouched\n{detail}")
        return out
    wall = time.perf_counter() - start
    if scale == DEFAULT_SCALE:
        for over in costs.warnings(costs.measured(last), cpu_s, peak_mb, paper.memory_cap_mb):
            log(f"warning: {paper.key}: {over}")
    for claim in paper.claims:
        results[claim.id].finish(claim)
    files = code_files(paper)
    commit, dirty = git_state(paper.root, files)
    args = [] if is_default else _args(scale, seeds, overrides)
    provenance = {
        "commit": commit,
        "dirty": dirty,
        "torch": env["torch"],
        "numpy": env["numpy"],
        "python": env["python"],
        "device": placed_on(seen, env),
        "placements": seen,
        "scale": scale,
        "seeds": seed_list,
        "config": config_dict(config),
        "overrides": dict(overrides or {}),
        "wall_time_s": round(wall, 3),
        "cpu_time_s": round(cpu_s, 3),
        "peak_memory_mb": round(peak_mb, 1),
        "jobs": jobs if paper.has_units else 1,
        "backend": backend if paper.has_units else "in-process",
        "unit_cpu_s": unit_cpu,  # CPU seconds of each unit (one thread), cached ones included
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": rerun_command(paper.key, args),
        "code_files": [code_name(f, paper) for f in files],
    }
    record = Record(paper.key, hs["all"], hs, provenance, results, history=history)
    for r in results.values():
        r.provenance, r.hash = provenance, hs["all"]
    out.path = save_record(record, results_dir)
    out.record, out.wall_time_s = record, wall
    cache.clear()  # the units are in the saved result now
    return out


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def units_dir(root: Path, key: str, hs: Mapping[str, str]) -> Path:
    """scratch/units/<key>/<hash of code, config and environment>/: the per-unit cache."""
    digest = hashlib.sha256((hs["code"] + hs["config"] + hs["env"]).encode()).hexdigest()[:16]
    return scratch_dir(root).parent / "units" / key / digest


def _merge(*logs: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    merged: dict[str, set[str]] = {}
    for log in logs:
        for k, v in log.items():
            merged.setdefault(k, set()).update(v)
    return {k: sorted(v) for k, v in merged.items()}


def placed_on(seen: Mapping[str, Sequence[str]], env: Mapping[str, str]) -> str:
    """The device the trained parameters lived on, read from them (the placement log), with
    the machine's details; the chosen device when the run trained no parameters."""
    params = list(seen.get("parameters", []))
    if not params:
        return f"{env['device_name']} (no trained parameters; tensors made on the chosen device)"
    if params == [env["device"]] or all(p.startswith(env["device"]) for p in params):
        return env["device_name"]
    return f"parameters on {', '.join(params)} (chosen: {env['device_name']})"


def _args(scale: str, seeds: Any, overrides: Mapping[str, Any] | None) -> list[str]:
    args = []
    if scale != DEFAULT_SCALE:
        args += ["--scale", scale]
    if seeds is not None:
        args += ["--seeds", str(seeds) if isinstance(seeds, int) else ",".join(map(str, seeds))]
    for k, v in (overrides or {}).items():
        args += ["--set", f"{k}={v}"]
    return args
