"""Run room, the pool of parallel units: a paper's units on local worker processes or on Ray.

Each unit (repro.kit.units) runs in `repro.run.worker.execute`. The serial path (`jobs=1`) calls
the same function in this process, so the numbers are bit-identical whatever the number of
workers or the order in which units finish. A stopped run (a dead worker, Ctrl-C, SIGTERM,
SIGHUP) ends every worker at once; no worker outlives the runner.

Finished units are cached one file each under scratch/units/<key>/<hash>/, where the hash
covers the code, the config and the environment. A run that is interrupted, or whose worker
dies, keeps them: the same command again runs only the missing units. The runner deletes the
cache once the paper's result is saved.

Backends: "process" (a spawn pool of `jobs` processes on this machine; the default) and "ray"
(`ray.init(address)`: an existing cluster, or a local instance with `jobs` CPUs when no address
is given). Ray is an optional dependency group (`pip install -e .[ray]`).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import shutil
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.claims import ResultError
from repro.claims.store import atomic_write
from repro.kit.units import Unit
from repro.run import cluster
from repro.run.progress import Progress
from repro.run.worker import Job, execute, peak_mb, reset_peak, worker_init

__all__ = [
    "BACKENDS",
    "Cache",
    "Done",
    "Job",
    "UnitFailure",
    "Workers",
    "execute",
    "peak_mb",
    "reset_peak",
    "run_units",
]

BACKENDS = ("process", "ray")


class UnitFailure(Exception):
    """Units failed or a worker died; the finished units are cached. The message names them."""


@dataclass
class Done:
    """Every unit's measurements, where they ran, and what the units cost."""

    outputs: dict[Unit, Any] = field(default_factory=dict)
    placements: dict[str, set[str]] = field(
        default_factory=lambda: {"parameters": set(), "batches": set()}
    )
    cpu_s: float = 0.0  # summed over units (each on one thread)
    unit_cpu_s: dict[str, float] = field(default_factory=dict)  # what each unit cost
    peak_mb: float = 0.0  # the largest resident set of any one unit (its worker's, from a reset)
    cached: int = 0  # units read from the cache instead of run

    def add(self, u: Unit, rec: Mapping[str, Any]) -> None:
        self.outputs[u] = rec["output"]
        for k, v in rec["placements"].items():
            self.placements.setdefault(k, set()).update(v)
        self.cpu_s += rec["cpu_s"]
        self.unit_cpu_s[str(u)] = round(rec["cpu_s"], 2)
        self.peak_mb = max(self.peak_mb, rec["peak_mb"])


class Cache:
    """One JSON file per finished unit; a corrupt file counts as missing."""

    def __init__(self, folder: Path):
        self.folder = folder

    def get(self, u: Unit) -> dict[str, Any] | None:
        path = self.folder / u.file
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return rec if isinstance(rec, dict) and "output" in rec else None

    def put(self, u: Unit, rec: Mapping[str, Any]) -> None:
        atomic_write(self.folder / u.file, json.dumps(rec, allow_nan=True))

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def run_units(
    job: Job,
    units: Sequence[Unit],
    *,
    jobs: int,
    cache: Cache,
    log: Callable[[str], None],
    backend: str = "process",
    address: str | None = None,
    expected: Mapping[str, float] | None = None,
    workers: Workers | None = None,
) -> Done:
    """Every unit's record, from the cache or run now; UnitFailure when any unit failed.

    `expected`: CPU seconds per unit name from an earlier run; the longest start first (units
    with no figure before them, in their declared order). The order never changes a number."""
    if len(set(units)) != len(units):
        raise ResultError(f"repro/{job.key}.py: units() lists a unit twice")
    done, todo = Done(), []
    for u in units:
        rec = cache.get(u)
        if rec is None:
            todo.append(u)
        else:
            done.add(u, rec)
            done.cached += 1
    if expected:
        todo.sort(key=lambda u: -expected.get(str(u), math.inf))  # stable: ties keep the order
    if done.cached:
        log(
            f"{job.key}: {done.cached} of {len(units)} units kept from an unfinished run; "
            f"running the {len(todo)} missing"
        )
    progress = Progress(job.key, [str(u) for u in todo], done.cached, max(1, jobs), log, expected)
    owned: Workers | None = None  # a pool made for this call only, closed at its end
    if backend == "ray":
        stream = cluster.stream(execute, job, todo, jobs, address)
    elif jobs <= 1 or len(todo) <= 1:
        stream = _serial(job, todo)
    else:
        if workers is None or workers.jobs != jobs:
            workers = owned = Workers(jobs)
        stream = _processes(job, todo, workers, cache.folder)
    failures = []
    try:
        for u, rec, error in stream:
            if error is None:
                cache.put(u, rec)
                done.add(u, rec)
            else:
                failures.append(f"  unit {u}: {error}")
            progress.finished(str(u))
    except BaseException:  # Ctrl-C, SIGTERM: no worker outlives the run
        if owned is not None:
            owned.close(broken=True)
        raise
    if owned is not None:
        owned.close()
    if failures:
        raise UnitFailure(
            f"{job.key}: {len(failures)} unit(s) did not finish:\n"
            + "\n".join(failures)
            + f"\n{len(done.outputs)} of {len(units)} units are kept in {cache.folder}; the same "
            "command runs only the missing ones"
        )
    return done


Stream = Iterator[tuple[Unit, dict[str, Any] | None, str | None]]


def _serial(job: Job, todo: Sequence[Unit]) -> Stream:
    for u in todo:
        try:
            yield u, execute(job, u), None
        except Exception as exc:
            yield u, None, _why(exc)


class Workers:
    """A spawn pool of `jobs` processes kept across the papers of one command, so each worker
    starts (imports torch and the cards) once; replaced after a worker dies, and closed before
    a committed run (`run_paper`), whose recorded peak memory must be its paper's alone."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")  # fork after torch's threads can hang
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=ctx, initializer=worker_init)
        return self._pool

    def close(self, broken: bool = False) -> None:
        """Shut the pool down; `broken` (a dead worker, Ctrl-C, SIGTERM): end every worker now
        instead of letting it finish the unit it holds."""
        if self._pool is not None:
            procs = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=not broken, cancel_futures=True)
            if broken:
                for p in procs:
                    if p.is_alive():
                        p.terminate()
                for p in procs:
                    p.join(timeout=5)
            self._pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(broken=exc[0] is not None)


def _processes(job: Job, todo: Sequence[Unit], workers: Workers, folder: Path) -> Stream:
    markers = folder / "running"
    markers.mkdir(parents=True, exist_ok=True)
    jobs, pending = workers.jobs, list(reversed(todo))
    pool = workers.get()
    running: dict[Any, Unit] = {}
    while pending or running:
        while pending and len(running) < jobs:  # never more in flight than workers
            u = pending.pop()
            running[pool.submit(execute, job, u, str(markers))] = u
        procs = dict(getattr(pool, "_processes", None) or {})  # pid -> Process
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for fut in finished:
            u = running.pop(fut)
            try:
                yield u, fut.result(), None
            except BrokenProcessPool:
                procs |= getattr(pool, "_processes", None) or {}  # any started since the copy
                workers.close(broken=True)  # a fresh pool for whatever runs next
                yield u, None, _death(u, markers, procs)
                for rest in running:  # the pool is gone: every unit in flight ends with it
                    yield running[rest], None, _death(running[rest], markers, procs)
                for rest in pending:
                    yield rest, None, "not started: the worker pool broke"
                running.clear()
                pending.clear()
                break
            except Exception as exc:
                yield u, None, _why(exc)
    shutil.rmtree(markers, ignore_errors=True)


def _why(exc: BaseException) -> str:
    """A unit's failure: its traceback, or one line for a card's unwritten part (a scaffold)."""
    if isinstance(exc, NotImplementedError):
        return f"NotImplementedError: {exc}"
    return "".join(traceback.format_exception(exc)).rstrip()


def _death(u: Unit, markers: Path, procs: Mapping[int, Any]) -> str:
    """Why a unit's worker went: the signal or exit code of the process that held it."""
    try:
        pid = int((markers / (u.file + ".pid")).read_text())
    except (OSError, ValueError):
        return "its worker process died before the unit began (stopped with the pool)"
    proc = procs.get(pid)
    code = None
    if proc is not None:
        deadline = time.monotonic() + 5  # one wait in all, for the join and the exit code
        proc.join(timeout=5)
        # The pool's own thread reaps its dead workers too: when it wins the race, our join
        # sees no child left and returns at once, and the exit code appears a moment later.
        while (code := proc.exitcode) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        cause = " (out of memory?)" if name == "SIGKILL" else ""
        return f"worker process {pid} was killed by {name}{cause} while running it"
    if code is not None:
        return f"worker process {pid} exited with status {code} while running it"
    return f"worker process {pid} died while running it (stopped with the pool)"
