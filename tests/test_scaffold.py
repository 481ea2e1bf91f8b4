"""Adding a paper: `python -m repro new` in a temporary copy of the project, and bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ENV, ROOT, mkdocs_build

LE2015 = """\
@misc{le2015simple,
  author = {Le, Quoc V. and Jaitly, Navdeep and Hinton, Geoffrey E.},
  title = {A Simple Way to Initialize Recurrent Networks of Rectified Linear Units},
  year = {2015},
  eprint = {1504.00941},
  archiveprefix = {arXiv},
}
"""
SKIP = {
    ".git",
    ".nox",
    ".venv",
    "site",
    "scratch",
    "test-artifacts",
    ".cache",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of this project's sources (not its virtualenvs or build outputs)."""
    dest = tmp_path / "project"
    shutil.copytree(ROOT, dest, ignore=lambda d, names: [n for n in names if n in SKIP])
    return dest


def repro(project: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "repro", "--root", str(project), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )


def snapshot(project: Path) -> dict[str, bytes]:
    return {
        p.relative_to(project).as_posix(): p.read_bytes()
        for p in project.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.slow  # a strict site build and a pytest run of the scaffold
def test_new_paper_builds_and_says_what_to_fill_in(project: Path, tmp_path: Path):
    bib_before = (project / "refs.bib").read_text()
    entry = tmp_path / "le2015.bib"
    entry.write_text(LE2015)
    proc = repro(project, "new", "le2015simple", "--bib", str(entry))
    assert proc.returncode == 0, proc.stderr
    for rel in (
        "docs/papers/le2015simple.md",
        "repro/le2015simple.py",
        "tests/test_le2015simple.py",
    ):
        assert (project / rel).exists(), rel
    bib_after = (project / "refs.bib").read_text()
    assert bib_after.startswith(bib_before.rstrip("\n")) and "@misc{le2015simple," in bib_after
    assert "papers/le2015simple.md" in (project / "mkdocs.yml").read_text()

    build = mkdocs_build(project / "mkdocs.yml", tmp_path / "site")
    assert build.returncode == 0, build.stderr
    page = (tmp_path / "site" / "papers" / "le2015simple" / "index.html").read_text()
    assert "not yet specified" in page and ">Le et al., 2015</a>" in page

    check = repro(project, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert (
        "repro/le2015simple.py:19: warning: claim 'le2015simple.main': criterion not yet specified"
    ) in check.stdout

    test = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(project / "tests" / "test_le2015simple.py"),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=project,
        timeout=300,
    )
    assert test.returncode == 1  # fails, and says why: not vacuous, no traceback
    assert "claim not yet specified: le2015simple.main" in test.stdout
    assert "NotImplementedError: repro/le2015simple.py: write unit()" in test.stdout
    assert "Traceback" not in test.stdout


@pytest.mark.slow  # a subprocess per case, each importing torch (about 4 s)
@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["new", "le2015simple"],
            "@misc{le2015simple, author = {Le, Q.}, title = {oops\n",
            "the given BibTeX entry is malformed:\n  <the given entry>:1: malformed entry",
        ),
        (
            ["new", "le2015simple"],
            LE2015.replace("le2015simple", "other2015"),
            "the given BibTeX must hold exactly one entry, keyed 'le2015simple' (found: other2015)",
        ),
        (
            ["new", "bai2018tcn", "--bib", "ENTRY"],
            LE2015.replace("le2015simple", "bai2018tcn"),
            "'bai2018tcn' already exists in refs.bib (line",
        ),
        (
            ["new", "bai2018tcn"],
            None,
            "refusing to overwrite: repro/bai2018tcn/__init__.py",
        ),
        (["new", "Le-2015/x"], LE2015, "'Le-2015/x' is not a usable key"),
    ],
    ids=["malformed", "wrong-key", "existing-key", "existing-card", "bad-characters"],
)
def test_bad_input_creates_nothing(project: Path, tmp_path: Path, args, stdin, message):
    before = snapshot(project)
    if "ENTRY" in args:  # the entry comes from a file (--bib) instead of stdin
        (tmp_path / "entry.bib").write_text(stdin)
        args, stdin = [str(tmp_path / "entry.bib") if a == "ENTRY" else a for a in args], None
    proc = repro(project, *args, stdin=stdin)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert snapshot(project) == before


@pytest.mark.slow  # a subprocess importing torch
def test_a_stub_note_gets_its_card_and_keeps_its_text_and_nav(project: Path):
    note = project / "docs" / "papers" / "neil2016phased.md"
    before = snapshot(project)
    proc = repro(project, "new", "neil2016phased")
    assert proc.returncode == 0, proc.stderr
    after = snapshot(project)
    added = sorted(set(after) - set(before))
    assert added == ["repro/neil2016phased.py", "tests/test_neil2016phased.py"], added
    changed = [k for k in before if after.get(k) != before[k]]
    assert not changed, changed  # the note and mkdocs.yml are untouched
    assert "{{ claims neil2016phased }}" in proc.stdout and note.name in proc.stdout
