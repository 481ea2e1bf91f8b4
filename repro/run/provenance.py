"""Run room, provenance: hashes of code, config, environment and seeds; git state; staleness.

The "code" hashed is the module's own source plus every repro module it imports, transitively
(a change to repro/kit/train.py stales every paper that trains; a change to the CLI stales none).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from repro.claims import Record
from repro.run.config import DEFAULT_SCALE
from repro.run.discover import PACKAGE_DIR, Paper, rel
from repro.run.errors import ReproError


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=4096)
def _import_targets(
    path: Path, source: str
) -> tuple[tuple[tuple[str, ...], ...], tuple[Path, ...]]:
    """What `source` (the text of `path`) imports from repro: dotted names inside the package,
    as parts, and the targets of relative imports. Memoised on the text: a test run or a
    `repro run` of every card asks for the same files hundreds of times (the parse was about a
    fifth of the fast tests' time)."""
    modules: list[tuple[str, ...]] = []
    stems: list[Path] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules += [
                tuple(a.name.split(".")[1:]) for a in node.names if a.name.startswith("repro.")
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
                parts = node.module.split(".") if node.module else []
                stems += [base.joinpath(*parts)] if parts else []
                stems += [base.joinpath(*parts, a.name) for a in node.names]
            elif node.module == "repro":
                modules += [(a.name,) for a in node.names]
            elif node.module and node.module.startswith("repro."):
                parts = tuple(node.module.split(".")[1:])
                modules += [parts] + [(*parts, a.name) for a in node.names]
    return tuple(modules), tuple(stems)


def _imported_files(path: Path, local: Path) -> list[Path]:
    """The repro source files `path` imports: `import repro.x`, `from repro import x`,
    `from repro.x import y`, and relative imports; looked up in the project's own repro/ first
    (`local`), then in this package."""
    modules, relative = _import_targets(path, path.read_text(encoding="utf-8"))
    stems = list(relative)
    for parts in modules:
        for d in (local, PACKAGE_DIR):
            stem = d.joinpath(*parts)
            if stem.with_suffix(".py").is_file() or (stem / "__init__.py").is_file():
                stems.append(stem)
                break
    files = [f for stem in stems for f in (stem.with_suffix(".py"), stem / "__init__.py")]
    return [f.resolve() for f in files if f.is_file()]


def code_files(paper: Paper) -> list[Path]:
    """The module's own files and every repro module they import, transitively."""
    local = paper.root / "repro"
    todo = sorted(paper.path.rglob("*.py")) if paper.path.is_dir() else [paper.path]
    seen: dict[Path, None] = {}
    while todo:
        f = todo.pop().resolve()
        if f in seen:
            continue
        seen[f] = None
        todo += _imported_files(f, local)
    return sorted(seen, key=lambda p: code_name(p, paper))


def code_name(path: Path, paper: Paper) -> str:
    """A file's name in the hash: relative to the project (or to this package's project)."""
    for base in (paper.root, PACKAGE_DIR.parent):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.name


def code_hash(paper: Paper) -> str:
    parts: list[bytes | str] = []
    for f in code_files(paper):
        parts += [code_name(f, paper), f.read_bytes()]
    return _digest(*parts)


def config_dict(config: Any) -> dict[str, Any]:
    """The config as JSON data (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=repr))


def config_hash(config: Any) -> str:
    return _digest(type(config).__qualname__, json.dumps(config_dict(config), sort_keys=True))


def environment(dev: torch.device) -> dict[str, str]:
    """What the numbers may depend on besides code and config (threads: as set by the runner)."""
    if dev.type == "cuda":
        name = f"cuda ({torch.cuda.get_device_name(dev)})"
    else:
        name = f"cpu ({platform.machine()}, {torch.get_num_threads()} threads)"
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "device": dev.type,
        "device_name": name,
    }


def env_hash(env: Mapping[str, str]) -> str:
    py = ".".join(env["python"].split(".")[:2])
    return _digest(py, env["torch"], env["numpy"], env["device"])


def hashes(paper: Paper, config: Any, seeds: Sequence[int], env: Mapping[str, str]) -> dict:
    h = {
        "code": code_hash(paper),
        "config": config_hash(config),
        "env": env_hash(env),
        "seeds": _digest(json.dumps(list(seeds))),
    }
    h["all"] = _digest(h["code"], h["config"], h["env"], h["seeds"])
    return h


def git_state(root: Path, files: Sequence[Path] = ()) -> tuple[str, bool | None]:
    """(commit, dirty): HEAD, and whether any of `files` (the hashed code) differs from it or is
    untracked. ("unknown", None) outside a git checkout."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30)

    try:
        head = git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    if head.returncode != 0:
        return "unknown", None
    inside = [rel(f, root) for f in files if not Path(rel(f, root)).is_absolute()]
    status = git("status", "--porcelain", "--", *inside) if inside else None
    dirty = bool(status.stdout.strip()) if status is not None else False
    return head.stdout.strip(), dirty


def rerun_command(key: str, args: Sequence[str] = ()) -> str:
    return " ".join(["nox -s repro --", key, *args])


def stale_reason(paper: Paper, record: Record) -> str | None:
    """Why a stored record no longer matches the code or config (None when it is current)."""
    prov = record.provenance
    try:
        config = paper.config(prov.get("scale", DEFAULT_SCALE), prov.get("overrides") or None)
    except ReproError as exc:
        return f"its config no longer applies ({exc})"
    reasons = []
    if record.hashes.get("code") != code_hash(paper):
        reasons.append("the code changed")
    if record.hashes.get("config") != config_hash(config):
        reasons.append("the config changed")
    return " and ".join(reasons) + " since this run" if reasons else None
