"""The runner: find paper modules, build their config at a scale, run them reproducibly, cache.

A paper module is repro/<key>.py (or a package repro/<key>/) with:

    CLAIMS: list[Claim]          every claim id starts with "<key>."
    Config: a frozen dataclass   classmethods quick() and paper(); full() optional (else Config())
                                 an optional field `seeds: int` (seeds 0..n-1 by default; else 1)
    run(config, seeds) -> Result | list[Result] | dict[str, Result]

`run_paper` resolves the config (scale + overrides checked against the dataclass: an unknown field
or a wrong type is an error), the seeds, and the device; hashes code, config, environment and
seeds; skips the run when the stored result has that very hash (unless forced); seeds every
generator, turns on deterministic algorithms, runs, judges each claim by its criterion, records
provenance, and saves atomically. A run that raises leaves the stored result untouched.

Where results go: the committed docs/results/ only for the default run (full scale, default
seeds, no overrides); anything else goes to scratch/results/ (git-ignored) unless a results_dir
is given, so checking a verdict on other seeds never overwrites what the site shows.

The "code" hashed is the module's own source plus every repro module it imports, transitively
(a change to train.py stales every paper that trains; a change to the CLI stales none).
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import hashlib
import importlib
import importlib.util
import json
import platform
import subprocess
import sys
import time
import traceback
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro import joins
from repro.claims import (
    Claim,
    Record,
    Result,
    ResultError,
    load_record,
    save_record,
)

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
SCALES = ("quick", "full", "paper")
DEFAULT_SCALE = "full"


def committed_dir(root: Path | None = None) -> Path:
    """The committed results: docs/results/ (one folder per paper key)."""
    return (root or ROOT) / "docs" / "results"


def scratch_dir(root: Path | None = None) -> Path:
    """Where non-default runs go (other scales, seeds, overrides): scratch/results/, ignored."""
    return (root or ROOT) / "scratch" / "results"


class ReproError(Exception):
    """Something the user must fix; the message says what and where."""


class UsageError(ReproError):
    """Bad input on the command line (unknown key, bad override, bad seeds): exit status 2."""


class PaperModuleError(ReproError):
    """A paper module that cannot be used (import error, missing CLAIMS/Config/run)."""


# ---- discovery ------------------------------------------------------------------------------


@dataclass
class Paper:
    """One paper module: its key, file, and the module object."""

    key: str
    path: Path  # repro/<key>.py or the package folder repro/<key>/
    root: Path
    module: types.ModuleType

    @property
    def source(self) -> Path:
        return self.path / "__init__.py" if self.path.is_dir() else self.path

    @property
    def rel(self) -> str:
        return _rel(self.source, self.root)

    @property
    def claims(self) -> list[Claim]:
        return list(self.module.CLAIMS)

    @property
    def config_class(self) -> type:
        return self.module.Config

    def line_of(self, text: str) -> int:
        """1-based line of the first occurrence of `text` in the module source (1 if absent)."""
        src = self.source.read_text(encoding="utf-8")
        at = src.find(text)
        return src.count("\n", 0, at) + 1 if at >= 0 else 1

    def config(self, scale: str = DEFAULT_SCALE, overrides: Mapping[str, Any] | None = None) -> Any:
        """The Config at `scale`, with `overrides` applied and checked."""
        if scale not in SCALES:
            raise UsageError(f"unknown scale '{scale}' (choose from {', '.join(SCALES)})")
        cls = self.config_class
        factory = getattr(cls, scale, None) if scale != "full" else getattr(cls, "full", cls)
        config = factory()
        return apply_overrides(config, overrides or {}, self.key) if overrides else config

    def default_seeds(self, config: Any) -> list[int]:
        n = getattr(config, "seeds", 1)
        return list(range(n))

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)


def discover(root: Path | None = None) -> dict[str, Paper]:
    """Every paper module under <root>/repro (default: this project), imported and checked."""
    root = Path(root or ROOT).resolve()
    return {key: _load(key, path, root) for key, path in joins.paper_modules(root).items()}


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _import(key: str, path: Path, root: Path) -> types.ModuleType:
    if root == ROOT:
        return importlib.import_module(f"repro.{key}")
    # A project elsewhere (tests build throwaway ones): load from the file, fresh each time.
    name = f"_repro_ext_{hashlib.sha1(str(root).encode()).hexdigest()[:8]}_{key}"
    source = path / "__init__.py" if path.is_dir() else path
    spec = importlib.util.spec_from_file_location(
        name, source, submodule_search_locations=[str(path)] if path.is_dir() else None
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _load(key: str, path: Path, root: Path) -> Paper:
    source = path / "__init__.py" if path.is_dir() else path
    rel = _rel(source, root)
    try:
        module = _import(key, path, root)
    except SyntaxError as exc:
        raise PaperModuleError(f"{rel}:{exc.lineno or 1}: cannot import: {exc.msg}") from exc
    except Exception as exc:
        line = 1
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if Path(frame.filename).resolve() == source.resolve():
                line = frame.lineno or 1
                break
        raise PaperModuleError(f"{rel}:{line}: cannot import: {type(exc).__name__}: {exc}") from exc
    paper = Paper(key, path, root, module)
    problems = []
    claims = getattr(module, "CLAIMS", None)
    if not isinstance(claims, list | tuple) or not claims:
        problems.append("CLAIMS must be a non-empty list of repro.claims.Claim")
    else:
        seen = set()
        for c in claims:
            if not isinstance(c, Claim):
                problems.append(f"CLAIMS holds {type(c).__name__}, not Claim")
            elif c.key != key:
                problems.append(f"claim id '{c.id}' must start with '{key}.'")
            elif c.id in seen:
                problems.append(f"claim id '{c.id}' is defined twice")
            else:
                seen.add(c.id)
    cfg = getattr(module, "Config", None)
    if not (isinstance(cfg, type) and dataclasses.is_dataclass(cfg)):
        problems.append("Config must be a dataclass")
    else:
        if not cfg.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            problems.append("Config must be frozen (@dataclass(frozen=True))")
        for scale in ("quick", "paper"):
            if not callable(getattr(cfg, scale, None)):
                problems.append(f"Config needs a classmethod {scale}()")
    if not callable(getattr(module, "run", None)):
        problems.append("run(config, seeds) is missing")
    if problems:
        raise PaperModuleError(f"{rel}:1: " + "; ".join(problems))
    return paper


def find(papers: Mapping[str, Paper], name: str) -> Paper:
    """The paper for a key or a claim id; UsageError naming the known keys otherwise."""
    key = name.split(".", 1)[0]
    paper = papers.get(key)
    if paper is None:
        known = ", ".join(papers) or "none yet"
        raise UsageError(f"unknown paper key '{key}' (known: {known})")
    if "." in name and name not in {c.id for c in paper.claims}:
        ids = ", ".join(c.id for c in paper.claims)
        raise UsageError(f"unknown claim id '{name}' (claims of {key}: {ids})")
    return paper


# ---- config overrides -----------------------------------------------------------------------

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """["steps=200", "lr=0.01"] -> {"steps": "200", "lr": "0.01"} (typed by apply_overrides)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set expects FIELD=VALUE, got '{item}'")
        out[name.strip()] = value.strip()
    return out


def apply_overrides(config: Any, overrides: Mapping[str, Any], key: str = "") -> Any:
    """A copy of `config` with `overrides`, each checked against the dataclass field's type.

    Strings are parsed ("200" for an int, "true" for a bool, "1,2" for a tuple); other values must
    already have the right type (an int is accepted for a float, a bool never for an int).
    """
    fields = {f.name: f for f in dataclasses.fields(config)}
    hints = typing.get_type_hints(type(config))
    where = f"{key}: " if key else ""
    changes = {}
    for name, value in overrides.items():
        if name not in fields:
            raise UsageError(f"{where}unknown config field '{name}' (fields: {', '.join(fields)})")
        try:
            changes[name] = _coerce(value, hints[name])
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{where}config field '{name}': {exc}") from None
    try:
        return dataclasses.replace(config, **changes)
    except (TypeError, ValueError) as exc:  # the Config's own __post_init__ checks
        raise UsageError(f"{where}config rejected {dict(changes)}: {exc}") from None


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            if type(None) in args:
                return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg)
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise ValueError(" / ".join(errors))
    if origin is typing.Literal:
        for option in args:
            if value == option or (isinstance(value, str) and value == str(option)):
                return option
        raise ValueError(f"expected one of {list(args)}, got {value!r}")
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise TypeError(f"expected a tuple, got {type(value).__name__} {value!r}")
        items = [i.strip() if isinstance(i, str) else i for i in items if i != ""]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(i, args[0]) for i in items)
        if len(items) != len(args):
            raise ValueError(f"expected {len(args)} items, got {len(items)}")
        return tuple(_coerce(i, a) for i, a in zip(items, args))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ValueError(f"expected a bool (true/false), got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ValueError(f"expected an int, got {value!r}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ValueError(f"expected a float, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ValueError(f"expected a str, got {value!r}")
    raise TypeError(f"fields of type {_type_name(tp)} cannot be overridden")


# ---- seeds ----------------------------------------------------------------------------------


def parse_seeds(text: str) -> int | list[int]:
    """'5' -> 5 (a count: seeds 0..4); '7,8,9' -> [7, 8, 9] (an explicit list)."""
    text = text.strip()
    try:
        if "," not in text:
            n = int(text)
            if n < 1:
                raise ValueError
            return n
        seeds = [int(s) for s in text.split(",") if s.strip() != ""]
    except ValueError:
        raise UsageError(
            "--seeds: expected a positive count (5) or a comma-separated list (7,8,9), "
            f"got '{text}'"
        ) from None
    if not seeds or any(s < 0 for s in seeds):
        raise UsageError(f"--seeds: seeds must be non-negative integers, got '{text}'")
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds: repeated seed in '{text}'")
    return seeds


def resolve_seeds(spec: int | Sequence[int] | None, default: Sequence[int]) -> list[int]:
    if spec is None:
        return list(default)
    if isinstance(spec, int):
        return list(range(spec))
    return [int(s) for s in spec]


# ---- hashing, environment, provenance ---------------------------------------------------------


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()[:16]


def _imported_files(path: Path, local: Path) -> list[Path]:
    """The repro source files `path` imports: `import repro.x`, `from repro import x`,
    `from repro.x import y`, and relative imports; looked up in the project's own repro/ first
    (`local`), then in this package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: list[list[str]] = []  # dotted names inside the repro package, as parts
    stems: list[Path] = []  # targets of relative imports
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [a.name.split(".")[1:] for a in node.names if a.name.startswith("repro.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
                parts = node.module.split(".") if node.module else []
                stems += [base.joinpath(*parts)] if parts else []
                stems += [base.joinpath(*parts, a.name) for a in node.names]
            elif node.module == "repro":
                modules += [[a.name] for a in node.names]
            elif node.module and node.module.startswith("repro."):
                parts = node.module.split(".")[1:]
                modules += [parts] + [[*parts, a.name] for a in node.names]
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
    return sorted(seen, key=lambda p: _code_name(p, paper))


def _code_name(path: Path, paper: Paper) -> str:
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
        parts += [_code_name(f, paper), f.read_bytes()]
    return _digest(*parts)


def config_dict(config: Any) -> dict[str, Any]:
    """The config as JSON data (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=repr))


def config_hash(config: Any) -> str:
    return _digest(type(config).__qualname__, json.dumps(config_dict(config), sort_keys=True))


def environment(dev: Any = None) -> dict[str, str]:
    """What the numbers may depend on besides code and config."""
    import numpy as np
    import torch

    from repro.train import device

    dev = dev or device()
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
    inside = [_rel(f, root) for f in files if not Path(_rel(f, root)).is_absolute()]
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


# ---- running --------------------------------------------------------------------------------


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


def run_paper(
    paper: Paper,
    *,
    scale: str = DEFAULT_SCALE,
    seeds: int | Sequence[int] | None = None,
    overrides: Mapping[str, Any] | None = None,
    results_dir: Path | None = None,
    force: bool = False,
    log: Callable[[str], None] = _stderr,
) -> Outcome:
    """Run one paper's claims (or keep its up-to-date result) and save the record atomically.

    `results_dir` None: docs/results for the default run, scratch/results otherwise. Raises
    UsageError for a bad scale/override; KeyboardInterrupt passes through (nothing is written).
    """
    config = paper.config(scale, overrides)
    default = paper.default_seeds(config)
    seed_list = resolve_seeds(seeds, default)
    is_default = scale == DEFAULT_SCALE and not overrides and seed_list == default
    if results_dir is None:
        results_dir = (committed_dir if is_default else scratch_dir)(paper.root)
    from repro.train import device, seed_everything, set_deterministic, set_threads

    dev = device()
    set_threads()
    env = environment(dev)
    hs = hashes(paper, config, seed_list, env)
    out = Outcome(paper, "ran", scale=scale, results_dir=results_dir)
    if not force:
        try:
            old = load_record(results_dir, paper.key)
        except ResultError:
            old = None
        if old is not None and old.hash == hs["all"]:
            out.status, out.record = "cached", old
            out.path = results_dir / paper.key / "result.json"
            return out
    if scale == "paper" and dev.type == "cpu":
        log(
            f"warning: {paper.key}: scale 'paper' uses the paper's sizes and is meant for a GPU; "
            "on this CPU it may take hours"
        )
    log(f"{paper.key}: running at scale {scale} on {env['device_name']}, seeds {seed_list}")
    set_deterministic()
    seed_everything(seed_list[0])
    start = time.perf_counter()
    try:
        raw = paper.module.run(config, list(seed_list))
        results = _normalize(paper, raw)
    except Exception as exc:
        out.status, out.wall_time_s = "failed", time.perf_counter() - start
        out.error = f"{type(exc).__name__}: {exc}"
        # A scaffold's run() is not written yet: say what to do, without a traceback.
        detail = out.error if isinstance(exc, NotImplementedError) else traceback.format_exc()
        log(f"error: {paper.key}: run() failed; the stored result is untouched\n{detail}")
        return out
    wall = time.perf_counter() - start
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
        "device": env["device_name"],
        "scale": scale,
        "seeds": seed_list,
        "config": config_dict(config),
        "overrides": dict(overrides or {}),
        "wall_time_s": round(wall, 3),
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": rerun_command(paper.key, args),
        "code_files": [_code_name(f, paper) for f in files],
    }
    record = Record(paper.key, hs["all"], hs, provenance, results)
    for r in results.values():
        r.provenance, r.hash = provenance, hs["all"]
    out.path = save_record(record, results_dir)
    out.record, out.wall_time_s = record, wall
    return out


def _args(scale: str, seeds: Any, overrides: Mapping[str, Any] | None) -> list[str]:
    args = []
    if scale != DEFAULT_SCALE:
        args += ["--scale", scale]
    if seeds is not None:
        args += ["--seeds", str(seeds) if isinstance(seeds, int) else ",".join(map(str, seeds))]
    for k, v in (overrides or {}).items():
        args += ["--set", f"{k}={v}"]
    return args


# ---- status of every claim (for the site, `list` and `check`) -------------------------------


@dataclass
class ClaimState:
    paper: Paper
    claim: Claim
    record: Record | None
    result: Result | None  # None: no stored result for this claim
    stale: str | None  # why the stored result is stale, None when current (or absent)
    error: str = ""  # the stored result could not be read

    @property
    def specified(self) -> bool:
        return self.claim.criterion is not None


def states(
    root: Path | None = None,
    results: Path | None = None,
    papers: Mapping[str, Paper] | None = None,
) -> list[ClaimState]:
    """Every claim of every paper module, with its stored result (if any) and staleness."""
    papers = discover(root) if papers is None else papers
    base = results or committed_dir(root)
    out = []
    for paper in papers.values():
        out += paper_states(paper, base)
    return out


def paper_states(paper: Paper, results: Path) -> list[ClaimState]:
    try:
        record = load_record(results, paper.key)
        error = ""
    except ResultError as exc:
        record, error = None, str(exc)
    stale = stale_reason(paper, record) if record is not None else None
    return [
        ClaimState(
            paper,
            c,
            record,
            record.results.get(c.id) if record else None,
            stale,
            error,
        )
        for c in paper.claims
    ]


def claim_state(claim_id: str, root: Path | None = None, results: Path | None = None) -> ClaimState:
    """The state of one claim; KeyError when no paper module defines it."""
    key = claim_id.split(".", 1)[0]
    papers = discover(root)
    if key not in papers:
        raise KeyError(claim_id)
    for s in paper_states(papers[key], results or committed_dir(root)):
        if s.claim.id == claim_id:
            return s
    raise KeyError(claim_id)


def source_line(paper: Paper, claim: Claim) -> str:
    return f"{paper.rel}:{paper.line_of(repr(claim.id)[1:-1])}"


__all__ = [
    "ClaimState",
    "DEFAULT_SCALE",
    "Outcome",
    "Paper",
    "PaperModuleError",
    "ReproError",
    "SCALES",
    "UsageError",
    "apply_overrides",
    "claim_state",
    "code_hash",
    "config_hash",
    "discover",
    "environment",
    "find",
    "hashes",
    "parse_overrides",
    "parse_seeds",
    "committed_dir",
    "run_paper",
    "scratch_dir",
    "stale_reason",
    "states",
]
