"""The test tiers' machinery: `nox -s tests` relies on pytest-xdist's `--dist loadgroup` to run
each paper's quick run and each built site once (tests/conftest.py groups them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GROUPED = """\
import os
from pathlib import Path
import pytest

def note(name):  # which worker ran the test, in a file beside this one
    Path(__file__).with_name(name).write_text(os.environ["PYTEST_XDIST_WORKER"])

@pytest.mark.xdist_group("one")
@pytest.mark.parametrize("i", range(4))
def test_grouped(i):
    note(f"grouped-{i}")

@pytest.mark.parametrize("i", range(4))
def test_free(i):
    note(f"free-{i}")
"""


def test_loadgroup_keeps_a_group_in_one_worker(tmp_path: Path):
    """Four tests of one group land in one of two workers. With pytest 9.2 and xdist 3.8 they
    did not (the group's name never reached the scheduler): each paper ran twice."""
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q"]
        + ["-p", "no:cacheprovider", str(tmp_path / "test_grouped.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    grouped = {f.read_text() for f in tmp_path.glob("grouped-*")}
    assert len(list(tmp_path.glob("grouped-*"))) == 4 and len(grouped) == 1, grouped
