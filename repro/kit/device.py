"""Kit room, placement: which device a run uses, moving models and batches there, seeding.

The runner chooses the device once per run (`use`); `train()` moves the model and every batch to
`current()`, and a paper card moves the tensors it makes itself (test sets, probes) with
`to_device`. Each placement is logged (`placements`), so the provenance records the device the
parameters and batches actually lived on, read from the tensors, not from the flag.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "choose",
    "current",
    "placements",
    "seed_everything",
    "set_deterministic",
    "set_threads",
    "to_device",
    "use",
]

_current: torch.device | None = None
_seen: dict[str, set[str]] = {"parameters": set(), "batches": set()}


def choose(want: str | None = None) -> torch.device:
    """`want` (auto, cpu, cuda; default REPRO_DEVICE, else auto): CUDA when present, else CPU."""
    want = (want or os.environ.get("REPRO_DEVICE") or "auto").lower()
    if want == "cpu":
        return torch.device("cpu")
    if want == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device cuda was asked for, but torch sees no CUDA device")
        return torch.device("cuda")
    if want != "auto":
        raise RuntimeError(f"the device must be auto, cpu or cuda, not '{want}'")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def current() -> torch.device:
    """The device of the run in progress (the runner sets it); `choose()` outside a run."""
    return _current if _current is not None else choose()


@contextlib.contextmanager
def use(dev: torch.device) -> Iterator[dict[str, set[str]]]:
    """Make `dev` the current device for the block; yields the placement log of the block."""
    global _current
    saved, saved_seen = _current, {k: set(v) for k, v in _seen.items()}
    _current = dev
    for v in _seen.values():
        v.clear()
    try:
        yield _seen
    finally:
        _current = saved
        for k, v in saved_seen.items():
            _seen[k].clear()
            _seen[k].update(v)


def placements() -> dict[str, list[str]]:
    """The devices parameters and batches were seen on since the current run began."""
    return {k: sorted(v) for k, v in _seen.items()}


def to_device(obj: Any, dev: torch.device | None = None) -> Any:
    """`obj` with every tensor moved to `dev` (default: current()); models are moved in place.

    Walks tuples, lists, dicts and dataclasses (a frozen one is copied with `replace`)."""
    dev = dev or current()
    if isinstance(obj, torch.Tensor):
        return obj.to(dev)
    if isinstance(obj, nn.Module):
        obj.to(dev)
        _seen["parameters"].update(str(p.device) for p in obj.parameters())
        return obj
    if isinstance(obj, tuple | list):
        return type(obj)(to_device(o, dev) for o in obj)
    if isinstance(obj, dict):
        return {k: to_device(v, dev) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: to_device(getattr(obj, f.name), dev) for f in dataclasses.fields(obj)}
        return dataclasses.replace(obj, **changes)
    return obj


def note_batch(batch: Any) -> None:
    """Log the devices of the tensors in `batch` (what `train()` actually fed the model)."""
    if isinstance(batch, torch.Tensor):
        _seen["batches"].add(str(batch.device))
    elif isinstance(batch, tuple | list):
        for b in batch:
            note_batch(b)
    elif isinstance(batch, dict):
        for b in batch.values():
            note_batch(b)
    elif dataclasses.is_dataclass(batch) and not isinstance(batch, type):
        for f in dataclasses.fields(batch):
            note_batch(getattr(batch, f.name))


def seed_everything(seed: int) -> None:
    """Seed every global generator: Python's `random`, NumPy's legacy one, torch (CPU and CUDA).

    Data should still come from named streams (`repro.kit.rng.stream(seed, "train")`); this
    fixes what cannot take one (weight init, dropout masks).
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # seeds the CUDA generators too
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def set_threads(threads: int | None = None) -> int:
    """Intra-op CPU threads: `threads`, else REPRO_THREADS, else 1; returns the number set.

    Called by the runner only. The models here are small and step through time in Python: a
    second thread buys nothing and, on a loaded machine, OpenMP's spinning threads made the same
    run 5-10x slower (measured: 200 steps of the Pascanu addition RNN, 85 s with 2 threads vs
    10 s with 1, machine loaded).
    """
    n = threads if threads is not None else int(os.environ.get("REPRO_THREADS", "1"))
    torch.set_num_threads(n)
    return n


def set_deterministic() -> None:
    """Deterministic kernels where torch has them (a warning, not an error, where it has not)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by deterministic cuBLAS
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
