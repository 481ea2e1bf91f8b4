"""Run room, the Ray backend of the unit pool: the same `execute`, on a Ray cluster.

`ray.init(address)` joins an existing cluster (every node needs this project installed, e.g.
`pip install -e .[ray]` in a shared checkout); with no address it starts a local instance on
127.0.0.1 with `jobs` CPUs and stops it afterwards. Each unit is a task with one CPU and no
retry, so a unit whose worker dies is reported by name instead of silently run twice.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from repro.kit.units import Unit
from repro.run.errors import UsageError

try:
    import ray
except ImportError:  # the optional group is not installed
    ray = None


def stream(
    execute: Callable[..., dict[str, Any]],
    job: Any,
    todo: Sequence[Unit],
    jobs: int,
    address: str | None,
) -> Iterator[tuple[Unit, dict[str, Any] | None, str | None]]:
    """Yield (unit, record, error) as Ray finishes the units; `execute(job, u)` runs one
    (repro.run.pool.execute, passed in so this module does not import the pool)."""
    if ray is None:
        raise UsageError(
            "--backend ray needs Ray: pip install -e '.[ray]' (or: nox -s repro "
            "installs it when you pass --backend ray)"
        )
    if not todo:
        return
    started_here = not ray.is_initialized()
    if started_here:
        package_root = str(Path(__file__).resolve().parents[2])  # so workers import repro
        ray.init(
            address=address,
            num_cpus=None if address else jobs,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": package_root}},
        )
    task = ray.remote(num_cpus=1, max_retries=0)(execute)
    try:
        refs = {task.remote(job, u): u for u in todo}
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                u = refs.pop(ref)
                try:
                    yield u, ray.get(ref), None
                except ray.exceptions.RayTaskError as exc:
                    yield u, None, str(exc.cause) if exc.cause else str(exc)
                except ray.exceptions.RayError as exc:  # the worker died (killed, OOM, node lost)
                    yield u, None, f"its Ray worker died: {type(exc).__name__}: {exc}"
                except Exception:
                    yield u, None, traceback.format_exc().rstrip()
    finally:
        if started_here:
            ray.shutdown()
