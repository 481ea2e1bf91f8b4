"""Claims room, storage: result.json with NaN/inf kept as data, written atomically.

Saving is atomic: a temp file in the same directory, fsync, `os.replace`; figures get content-
hashed names and old ones are deleted only after the new result.json is in place, so a crash or a
kill at any point leaves the previous result whole and loadable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from repro.claims.model import SCHEMA, Record

RESULT_FILE = "result.json"
AUDIT_FILE = "audit.json"  # the replications (`repro audit`), beside the confirmation result
FIGURE_EXTS = (".svg", ".png")
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: mkstemp creates 0600 files, results should be 0644 like any other


class ResultError(Exception):
    """A stored result that cannot be read (the message names the file)."""


# ---- JSON with NaN/inf kept as data ------------------------------------------------------------

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _encode(obj: Any) -> Any:
    """Strict JSON has no NaN/inf: store them as the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, Mapping):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode(v) for v in obj]
    if isinstance(obj, StrEnum):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item):  # numpy / torch scalars
        return _encode(obj.item())
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, str) and obj in _NONFINITE:
        return _NONFINITE[obj]
    if isinstance(obj, dict):
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(_encode(obj), indent=2, sort_keys=False, allow_nan=False) + "\n"


def loads(text: str) -> Any:
    return _decode(json.loads(text))


# ---- atomic files ---------------------------------------------------------------------------


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C until the block is done (main thread only), then raise it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[tuple[int, Any]] = []
    previous = signal.signal(signal.SIGINT, lambda sig, frame: caught.append((sig, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write `path` so that readers only ever see the old or the new content, whole.

    A temp file (a dot-file, so MkDocs ignores it) in the same directory is written, flushed and
    fsynced, then moved over `path` with `os.replace` (atomic on POSIX); the directory is fsynced
    so the rename itself survives a power cut. On any error the temp file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def save_record(record: Record, results_dir: Path) -> Path:
    """Write docs-style results: <results_dir>/<key>/result.json plus its figures, atomically.

    Order: new figures (content-hashed names, so an old figure is never overwritten), then
    result.json (the commit point), then removal of figures the new record no longer uses.
    Ctrl-C during the save is held back until it is complete.
    """
    out = Path(results_dir) / record.key
    with _sigint_deferred():
        out.mkdir(parents=True, exist_ok=True)
        for result in record.results.values():
            slug = result.claim_id.split(".", 1)[1]
            named = {f["name"]: f for f in result.figures if "name" in f}
            for name, (data, ext, caption) in result.pending_figures().items():
                digest = hashlib.sha256(data).hexdigest()[:10]
                fname = f"{slug}-{name}-{digest}{ext}"
                if not (out / fname).exists():
                    atomic_write(out / fname, data)
                named[name] = {"name": name, "file": fname, "caption": caption}
            result.figures = list(named.values())
            result._pending = {}
        path = out / RESULT_FILE
        atomic_write(path, dumps(record.to_dict()))
        keep = {f["file"] for r in record.results.values() for f in r.figures}
        for p in out.iterdir():
            # Old figures, and temp files a killed writer left (one writer at a time).
            if (p.suffix in FIGURE_EXTS and p.name not in keep) or (
                p.name.startswith(".")
                and p.suffix == ".tmp"
                and not p.name.startswith(f".{AUDIT_FILE}")  # an audit may be writing its own
            ):
                p.unlink(missing_ok=True)
    return path


def save_audit(audits: list[Record], results_dir: Path, key: str) -> Path:
    """Write <results_dir>/<key>/audit.json: every replication run of the paper, oldest first
    (figures are not kept: the confirmation result's are the ones shown)."""
    path = Path(results_dir) / key / AUDIT_FILE
    data = {"schema": SCHEMA, "key": key, "audits": [a.to_dict() for a in audits]}
    with _sigint_deferred():
        atomic_write(path, dumps(data))
    return path


def load_audit(results_dir: Path, key: str) -> list[Record]:
    """Every stored replication of `key` (oldest first); [] when none; ResultError if unreadable."""
    path = Path(results_dir) / key / AUDIT_FILE
    if not path.exists():
        return []
    try:
        data = loads(path.read_text(encoding="utf-8"))
        return [Record.from_dict(a) for a in data["audits"]]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultError(f"{path}: not a valid audit file ({type(exc).__name__}: {exc})") from exc


def load_record(results_dir: Path, key: str) -> Record | None:
    """The stored record for `key`, or None when there is none; ResultError if unreadable."""
    path = Path(results_dir) / key / RESULT_FILE
    if not path.exists():
        return None
    try:
        data = loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA:
            raise ResultError(f"{path}: schema {data.get('schema')!r}, expected {SCHEMA}")
        return Record.from_dict(data)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultError(f"{path}: not a valid result file ({type(exc).__name__}: {exc})") from exc


def load_all(results_dir: Path) -> dict[str, Record]:
    """Every record under results_dir (a directory per key)."""
    out: dict[str, Record] = {}
    base = Path(results_dir)
    for d in sorted(base.iterdir()) if base.is_dir() else []:
        if d.is_dir() and (d / RESULT_FILE).exists():
            rec = load_record(base, d.name)
            if rec is not None:
                out[d.name] = rec
    return out
