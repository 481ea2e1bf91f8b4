"""Run room, the worker: one unit of a paper run where it lands (a pool worker, a Ray task, or
the runner's own process), seeded, on one thread, its output through JSON.

`execute` loads the paper card, rebuilds the config from the scale and overrides, sets one
thread, deterministic kernels and every generator from the unit's seed, and returns the unit's
measurements after a JSON round trip, so the numbers do not depend on where or in what order
the unit ran. `worker_init` ends a pool worker with the runner, however the runner ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.claims import ResultError
from repro.kit import device as placement
from repro.kit.units import Unit
from repro.run.discover import Paper, load


@dataclass(frozen=True)
class Job:
    """What a worker needs to rebuild a paper's config: plain values only (picklable)."""

    root: str
    key: str
    scale: str
    overrides: tuple[tuple[str, Any], ...]
    device: str | None


_PAPERS: dict[tuple[str, str], Paper] = {}


def execute(job: Job, u: Unit, marker_dir: str | None = None) -> dict[str, Any]:
    """Run one unit here (in a worker, or in the runner's process) and return its record."""
    if marker_dir is not None:  # tells the parent which unit this process holds, if it dies
        Path(marker_dir, u.file + ".pid").write_text(str(os.getpid()))
    paper = _PAPERS.get((job.root, job.key))
    if paper is None:
        paper = _PAPERS[(job.root, job.key)] = load(Path(job.root), job.key)
    config = paper.config(job.scale, dict(job.overrides))
    dev = placement.choose(job.device)
    placement.set_threads()
    placement.set_deterministic()
    placement.seed_everything(u.seed)
    reset_peak()  # this unit's own peak, not the worker's since it started
    start = time.process_time()
    with placement.use(dev):
        output = paper.module.unit(config, u)
        seen = placement.placements()
    try:
        text = json.dumps(output, allow_nan=True)
    except TypeError as exc:
        raise ResultError(f"{paper.rel}: unit() for {u} returned a non-JSON value: {exc}") from None
    return {
        "output": json.loads(text),
        "placements": seen,
        "cpu_s": time.process_time() - start,
        "peak_mb": peak_mb(),
    }


def reset_peak() -> None:
    """Start a new resident-memory high-water mark for this process (Linux: clear_refs 5)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    """This process's resident-memory high-water mark since `reset_peak` (VmHWM), in MB; the
    lifetime peak (ru_maxrss) where /proc is not there."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def worker_init() -> None:
    os.environ["REPRO_QUIET"] = "1"  # no progress bars from workers: the pool prints progress
    with contextlib.suppress(OSError, AttributeError):  # Linux: end with the runner, however
        libc = ctypes.CDLL(None, use_errno=True)  # it ends (even SIGKILL): PR_SET_PDEATHSIG
        libc.prctl(1, signal.SIGTERM)
