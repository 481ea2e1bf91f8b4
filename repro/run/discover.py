"""Run room, discovery: the paper cards are the plain modules directly in repro/ whose name is a
key in refs.bib (or a package repro/<key>/ named by one); the rooms are sub-packages whose names
are not keys. No list of framework modules is needed to tell them apart.

A paper module has:

    CLAIMS: list[Claim]          every claim id starts with "<key>."
    REGISTRATION: Registration   for reproductions: exploration, confirmation and quick seeds
    Config: a frozen dataclass   classmethods quick() and paper(); full() optional (else Config());
                                 sections are nested frozen dataclasses (`--set copy.T=100`)
    run(config, seeds) -> Result | list[Result] | dict[str, Result]
      or units(config, seeds), unit(config, u) and combine(config, seeds, done) (repro.kit.units)
    arms(config) -> {claim id: arm names}   every arm the run writes for each claim at config
    MEMORY_MB: float             optional: a cap on one worker's peak memory at full scale

Seeds belong to the scale and the registration, not to the Config: full and paper scale run the
confirmation seeds, quick scale the registration's quick seeds (seed 0 for a paper of checks).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import traceback
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.claims import Claim, Registration
from repro.run.config import DEFAULT_SCALE, SCALES, apply_overrides
from repro.run.errors import PaperModuleError, UsageError
from repro.run.protocol import protocol_problems

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # repro/
ROOT = PACKAGE_DIR.parent


def committed_dir(root: Path | None = None) -> Path:
    """The committed results: docs/results/ (one folder per paper key)."""
    return (root or ROOT) / "docs" / "results"


def paper_scale_dir(root: Path | None = None) -> Path:
    """Committed paper-scale results from a GPU run, beside the full-scale ones:
    docs/results/paper-scale/<key>/ (shown on the page as a second line)."""
    return committed_dir(root) / PAPER_SCALE


PAPER_SCALE = "paper-scale"


def scratch_dir(root: Path | None = None) -> Path:
    """Where non-default runs go (other scales, seeds, overrides): scratch/results/, ignored."""
    return (root or ROOT) / "scratch" / "results"


# `@type{key,` at the start of an entry; @comment, @string and @preamble are not entries.
_BIB_KEY_RE = re.compile(r"^[ \t]*@(\w+)[ \t]*[{(][ \t]*([^,\s]+)[ \t]*,", re.M)


def bib_keys(root: Path) -> set[str]:
    """The entry keys of <root>/refs.bib, read cheaply (the site's BibTeX room parses it fully
    and reports malformed entries; discovery only needs the names)."""
    path = root / "refs.bib"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return {
        m.group(2)
        for m in _BIB_KEY_RE.finditer(text)
        if m.group(1).lower() not in ("comment", "string", "preamble")
    }


def repro_modules(root: Path) -> dict[str, Path]:
    """Every plain module and package directly in <root>/repro (not __init__/__main__)."""
    out: dict[str, Path] = {}
    pkg = root / "repro"
    for p in sorted(pkg.iterdir()) if pkg.is_dir() else []:
        name = p.stem if p.suffix == ".py" else p.name
        if name.startswith((".", "_")):
            continue
        if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()):
            out[name] = p
    return out


def paper_modules(root: Path) -> dict[str, Path]:
    """repro/<key>.py (or repro/<key>/) for every module named by a refs.bib key."""
    keys = bib_keys(root)
    return {name: p for name, p in repro_modules(root).items() if name in keys}


def stray_modules(root: Path) -> dict[str, Path]:
    """Plain modules directly in repro/ that no refs.bib key names: a paper card with a wrong
    name, or shared code that belongs in a room (the joins checker reports them)."""
    keys = bib_keys(root)
    return {n: p for n, p in repro_modules(root).items() if n not in keys and p.suffix == ".py"}


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
        return rel(self.source, self.root)

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

    @property
    def registration(self) -> Registration | None:
        """The paper's pre-registration (REGISTRATION), None for a paper of checks only."""
        return getattr(self.module, "REGISTRATION", None)

    @property
    def has_reproductions(self) -> bool:
        return any(not c.is_check for c in self.claims)

    def default_seeds(self, config: Any, scale: str = DEFAULT_SCALE) -> list[int]:
        """Full and paper scale: the registered confirmation seeds; quick scale: the
        registration's quick seeds. A paper of checks only: seed 0."""
        if self.registration is None:
            return [0]
        if scale == "quick":
            return list(self.registration.quick)
        return list(self.registration.confirmation)

    @property
    def has_units(self) -> bool:
        return callable(getattr(self.module, "units", None))

    def arms(self, config: Any) -> dict[str, tuple[str, ...]]:
        """Claim id -> the arms the card declares its run produces at `config` (`arms(config)`);
        a card without `arms` declares what its criteria read (checks, scaffolds)."""
        declare = getattr(self.module, "arms", None)
        if callable(declare):
            return {k: tuple(v) for k, v in declare(config).items()}
        return {c.id: c.criterion.arms() for c in self.claims if c.criterion is not None}

    @property
    def memory_cap_mb(self) -> float | None:
        """The card's declared cap on one worker's peak memory (MEMORY_MB), if any."""
        return getattr(self.module, "MEMORY_MB", None)

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)


def load(root: Path, key: str) -> Paper:
    """One paper module, imported and checked (what a worker process needs)."""
    root = Path(root).resolve()
    modules = paper_modules(root)
    if key not in modules:
        raise PaperModuleError(f"repro/{key}.py: no paper module named {key} under {root}")
    return _load(key, modules[key], root)


def discover(root: Path | None = None) -> dict[str, Paper]:
    """Every paper module under <root>/repro (default: this project), imported and checked."""
    root = Path(root or ROOT).resolve()
    return {key: _load(key, path, root) for key, path in paper_modules(root).items()}


def rel(path: Path, root: Path) -> str:
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
    where = rel(source, root)
    try:
        module = _import(key, path, root)
    except SyntaxError as exc:
        raise PaperModuleError(f"{where}:{exc.lineno or 1}: cannot import: {exc.msg}") from exc
    except Exception as exc:
        line = 1
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if Path(frame.filename).resolve() == source.resolve():
                line = frame.lineno or 1
                break
        raise PaperModuleError(
            f"{where}:{line}: cannot import: {type(exc).__name__}: {exc}"
        ) from exc
    paper = Paper(key, path, root, module)
    problems = protocol_problems(module, key)
    if problems:
        raise PaperModuleError(f"{where}:1: " + "; ".join(problems))
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
