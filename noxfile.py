"""Sessions for seqnotes. `nox -l` lists them; `nox -s NAME -- ARGS` passes ARGS through.

Every session shares one virtualenv, .nox/shared: torch and the site's packages install once,
and a session installs only the dependency groups the shared env lacks (a stamp file records
them with a hash of pyproject.toml; a changed pyproject.toml reinstalls). It is made with the
standard library's venv and pip, which pick up the local CPU torch wheel through pip's
find-links config; uv would not (see README)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import nox

nox.options.sessions = ["tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
QUIET_ENV = {"NO_MKDOCS_2_WARNING": "1", "PYTHONUNBUFFERED": "1"}
SHARED = Path(".nox") / "shared"
BIN = SHARED / "bin"
STAMP = SHARED / "seqnotes-groups.json"


def _install(session: nox.Session, *groups: str) -> None:
    """The package (editable, so the MkDocs plugin entry point exists) and `groups` in the
    shared env; only what is missing is installed."""
    digest = hashlib.sha256(Path("pyproject.toml").read_bytes()).hexdigest()
    have = json.loads(STAMP.read_text()) if STAMP.exists() else {}
    installed = set(have.get("groups", [])) if have.get("pyproject") == digest else None
    if installed is not None and set(groups) <= installed:
        return
    if not (BIN / "python").exists():
        session.run(sys.executable, "-m", "venv", str(SHARED), external=True)
    wanted = set(groups) | (installed or set())
    deps = [d for g in sorted(wanted) for d in nox.project.dependency_groups(PYPROJECT, g)]
    session.run(str(BIN / "python"), "-m", "pip", "install", "-q", "-e", ".", *deps, external=True)
    STAMP.write_text(json.dumps({"pyproject": digest, "groups": sorted(wanted)}))


def _run(session: nox.Session, tool: str, *args: str, **kwargs) -> None:
    """Run `tool` (a console script of the shared env, or "python") with QUIET_ENV."""
    session.run(str(BIN / tool), *args, env=QUIET_ENV, external=True, **kwargs)


def _cores() -> int:
    """The cores this process may run on, as repro.run.runner.default_jobs counts them (nox's
    Python need not have repro installed); not xdist's `-n auto`, which reads psutil's host
    count: a 2-core container on a large host would start dozens of workers."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """Run the full test suite (unit tests, quick-scale claims, strict site build, browser test)
    on one pytest-xdist worker per core; tests that share a paper's quick run or a built site
    stay in one worker (`--dist loadgroup`). `-- -n 0` runs it in one process (for pdb)."""
    _install(session, "test")
    _run(session, "pytest", "-n", str(_cores()), "--dist", "loadgroup", *session.posargs)


@nox.session(venv_backend="none")
def docs(session: nox.Session) -> None:
    """Build the site strictly into site/ (never retrains anything: it reads docs/results/)."""
    _install(session, "docs")
    _run(session, "mkdocs", "build", "--strict", *session.posargs)


@nox.session(venv_backend="none", default=False)
def zensical(session: nox.Session) -> None:
    """Build the site with Zensical into site/ (citations and claim blocks through the Markdown
    extension repro.site.markdown; the notebooks rendered to Markdown pages first, in
    scratch/zensical, by repro.site.zensical). `-- ARGS` go to `zensical build` (`--strict`)."""
    _install(session, "docs", "zensical")
    _run(session, "python", "-m", "repro.site.zensical", *session.posargs)


@nox.session(venv_backend="none", default=False)
def serve(session: nox.Session) -> None:
    """Build and serve the site on http://127.0.0.1:8000 with live reload."""
    _install(session, "docs")
    _run(session, "mkdocs", "serve", "--strict", "-a", "127.0.0.1:8000", *session.posargs)


@nox.session(venv_backend="none", default=False)
def lint(session: nox.Session) -> None:
    """ruff check and format check; then the project's joins and bibliography checker."""
    _install(session, "lint")
    _run(session, "ruff", "check", ".", *session.posargs)
    _run(session, "ruff", "format", "--check", ".")
    _run(session, "python", "-m", "repro", "check")


@nox.session(venv_backend="none", default=False)
def repro(session: nox.Session) -> None:
    """Run every claim at full scale (or `-- KEY ... [--scale S] [--seeds 7,8,9] [--force]`),
    re-execute the results notebook on the stored results, then rebuild the site.

    Up-to-date results are kept (same code, config, environment and seeds); only the default
    full-scale run writes docs/results/, other scales and seeds go to scratch/results/.
    Units run on every core (`--jobs N`); `--backend ray [--address HOST:PORT]` installs Ray and
    runs them on a Ray cluster."""
    args = session.posargs or []
    ray = "ray" in args and "--backend" in args  # Ray only when asked for (optional group)
    _install(session, "docs", *(["ray"] if ray else []))
    _run(session, "python", "-m", "repro", "run", *args)
    _run(session, "python", "-m", "repro", "notebook")
    _run(session, "mkdocs", "build", "--strict")


@nox.session(venv_backend="none", default=False)
def audit(session: nox.Session) -> None:
    """Replicate every reproduction on fresh seeds (`-- KEY ...` for some), then rebuild the site.

    Seeds are drawn at random from a range no exploration or confirmation uses, never one used
    before for that paper; the replication is stored beside the result (audit.json) and the
    claim blocks and the board show both verdicts. Not part of `nox -s repro`."""
    _install(session, "docs")
    _run(session, "python", "-m", "repro", "audit", *session.posargs)
    _run(session, "python", "-m", "repro", "notebook")
    _run(session, "mkdocs", "build", "--strict")


@nox.session(venv_backend="none", default=False)
def new(session: nox.Session) -> None:
    """Scaffold a paper: `nox -s new -- KEY [--bib FILE]` (note, module, test, nav entry)."""
    _install(session)
    if not session.posargs:
        session.error("usage: nox -s new -- KEY [--bib FILE]  (the BibTeX key of the paper)")
    _run(session, "python", "-m", "repro", "new", *session.posargs)
