"""Sessions for seqnotes. `nox -l` lists them; `nox -s NAME -- ARGS` passes ARGS through.

The default backend (virtualenv + pip) picks up the local CPU torch wheel through pip's
find-links config; uv would not (see README)."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
QUIET_ENV = {"NO_MKDOCS_2_WARNING": "1", "PYTHONUNBUFFERED": "1"}


def _install(session: nox.Session, *groups: str) -> None:
    """Install the package (editable, so the MkDocs plugin entry point exists) and groups."""
    deps = [d for g in groups for d in nox.project.dependency_groups(PYPROJECT, g)]
    session.install("-e", ".", *deps)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the full test suite (unit tests, quick-scale claims, strict site build, browser test)."""
    _install(session, "test")
    session.run("pytest", *session.posargs, env=QUIET_ENV)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the site strictly into site/ (never retrains anything: it reads docs/results/)."""
    _install(session, "docs")
    session.run("mkdocs", "build", "--strict", *session.posargs, env=QUIET_ENV)


@nox.session(default=False)
def zensical(session: nox.Session) -> None:
    """Build the site with Zensical into site/ (citations and claim blocks through the Markdown
    extension repro.site.markdown; notebook pages are not rendered by Zensical yet)."""
    _install(session, "docs", "zensical")
    session.run("zensical", "build", *session.posargs, env=QUIET_ENV)


@nox.session(default=False)
def serve(session: nox.Session) -> None:
    """Build and serve the site on http://127.0.0.1:8000 with live reload."""
    _install(session, "docs")
    session.run(
        "mkdocs", "serve", "--strict", "-a", "127.0.0.1:8000", *session.posargs, env=QUIET_ENV
    )


@nox.session(default=False)
def lint(session: nox.Session) -> None:
    """ruff check and format check; then the project's joins and bibliography checker."""
    _install(session, "lint")
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")
    session.run("python", "-m", "repro", "check", env=QUIET_ENV)


@nox.session(default=False)
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
    session.run("python", "-m", "repro", "run", *args, env=QUIET_ENV)
    session.run("python", "-m", "repro", "notebook", env=QUIET_ENV)
    session.run("mkdocs", "build", "--strict", env=QUIET_ENV)


@nox.session(default=False)
def audit(session: nox.Session) -> None:
    """Replicate every reproduction on fresh seeds (`-- KEY ...` for some), then rebuild the site.

    Seeds are drawn at random from a range no exploration or confirmation uses, never one used
    before for that paper; the replication is stored beside the result (audit.json) and the
    claim blocks and the board show both verdicts. Not part of `nox -s repro`."""
    _install(session, "docs")
    session.run("python", "-m", "repro", "audit", *session.posargs, env=QUIET_ENV)
    session.run("python", "-m", "repro", "notebook", env=QUIET_ENV)
    session.run("mkdocs", "build", "--strict", env=QUIET_ENV)


@nox.session(default=False)
def new(session: nox.Session) -> None:
    """Scaffold a paper: `nox -s new -- KEY [--bib FILE]` (note, module, test, nav entry)."""
    _install(session)
    if not session.posargs:
        session.error("usage: nox -s new -- KEY [--bib FILE]  (the BibTeX key of the paper)")
    session.run("python", "-m", "repro", "new", *session.posargs, env=QUIET_ENV)
