"""Shared fixtures: the strictly built site, and throwaway mini-projects for bad-input builds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from repro.run.discover import discover
from repro.run.pool import Workers
from repro.run.runner import default_jobs, run_paper

ROOT = Path(__file__).resolve().parents[1]
# The six papers the site is built around (each has a full note and a reproduction).
CORE = [
    "bengio1994learning",
    "pascanu2013difficulty",
    "he2016resnet",
    "bai2018tcn",
    "chang2017dilated",
    "amodei2016deepspeech2",
]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
# The browser fixtures (chromium through Playwright): tests/browsing.py.
pytest_plugins = ["browsing"]
# Where browser screenshots and build logs are kept (CI prints this folder's path).
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The port the browser test serves the site on; the site is built for it because instant
# navigation only takes over links under site_url.
SITE_PORT = free_port()


def mkdocs_build(
    config: Path, site_dir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict`, never with -q (quiet mode drops warnings before strict counts)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(config),
            "-d",
            str(site_dir),
        ],
        capture_output=True,
        text=True,
        env={**ENV, **(env or {})},
        cwd=config.parent,
        timeout=300,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real project's site, built once per test session with --strict."""
    site = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    proc = mkdocs_build(
        ROOT / "mkdocs.yml", site, {"SEQNOTES_SITE_URL": f"http://127.0.0.1:{SITE_PORT}/"}
    )
    elapsed = time.perf_counter() - start
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "mkdocs-build.log").write_text(f"{elapsed:.2f} s\n{proc.stdout}\n{proc.stderr}")
    assert proc.returncode == 0, f"strict build failed:\n{proc.stdout}\n{proc.stderr}"
    return site


@pytest.fixture(scope="session")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real project built with Zensical (which runs no MkDocs plugins, only the Markdown
    extension repro.site.markdown) the way `nox -s zensical` builds it: repro.site.zensical
    first renders the notebooks to Markdown pages in a prepared tree, here a temporary one."""
    zensical = Path(sys.executable).parent / "zensical"
    if not zensical.exists():
        pytest.fail("zensical is not installed (the test dependency group has it)")
    out = tmp_path_factory.mktemp("zensical")
    start = time.perf_counter()
    args = ["--out", str(out), "--site-dir", "", "--strict"]  # the site stays in out/site
    proc = subprocess.run(
        [sys.executable, "-m", "repro.site.zensical", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
        timeout=600,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "zensical-build.log").write_text(
        f"{time.perf_counter() - start:.2f} s\n{proc.stdout}\n{proc.stderr}"
    )
    assert proc.returncode == 0, f"zensical build failed:\n{proc.stdout}\n{proc.stderr}"
    return out / "site"


MINI_CONFIG = """\
site_name: mini
strict: true
theme:
  name: material
  font: false
plugins:
  - seqnotes
markdown_extensions:
  - pymdownx.arithmatex:
      generic: true
nav:
  - index.md
  - references.md
"""

MINI_BIB = """\
@article{elman1990finding,
  author = {Elman, Jeffrey L.},
  title = {Finding Structure in Time},
  journal = {Cognitive Science},
  year = {1990},
}

@inproceedings{bai2018tcn,
  author = {Bai, Shaojie and Kolter, J. Zico and Koltun, Vladlen},
  title = {An Empirical Evaluation of Generic Convolutional and Recurrent Networks},
  booktitle = {arXiv preprint},
  year = {2018},
  eprint = {1803.01271},
  archiveprefix = {arXiv},
}
"""


@pytest.fixture
def mini_project(tmp_path: Path):
    """A two-page project using the seqnotes plugin; returns a function to write and build it."""

    def build(
        bib: str = MINI_BIB,
        index: str = "Text [@elman1990finding].\n",
        extra: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        (tmp_path / "docs").mkdir(exist_ok=True)
        (tmp_path / "mkdocs.yml").write_text(MINI_CONFIG)
        (tmp_path / "refs.bib").write_text(bib)
        (tmp_path / "docs" / "index.md").write_text("# Home\n\n" + index)
        (tmp_path / "docs" / "references.md").write_text("# References\n\n{{ bibliography }}\n")
        for name, text in (extra or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")

    build.root = tmp_path
    return build


@pytest.fixture(scope="session")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Any]]:
    """`quick(key)`: a paper's quick-scale Record, run once per test session whichever tests ask
    for it, on one pool of workers that every paper shares (a worker imports torch and the cards
    once, as in a `repro run` of several papers)."""
    records: dict[str, Any] = {}
    # Under pytest-xdist the cores are shared with the other test workers
    jobs = max(1, default_jobs() // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    with Workers(jobs) as workers:

        def record(key: str):
            if key not in records:
                results = tmp_path_factory.mktemp(f"quick-{key}")
                records[key] = run_quick(key, results, workers=workers, jobs=jobs)
            return records[key]

        yield record


def run_quick(
    key: str,
    results_dir: Path,
    device: str = "cpu",
    workers: Workers | None = None,
    jobs: int | None = None,
):
    """One paper's claims at quick scale into `results_dir` (the one helper every paper's test
    uses, through the `quick` fixture); the stored Record. The run is on `device`, so the tests
    are the same on a GPU host."""
    out = run_paper(
        discover()[key],
        scale="quick",
        results_dir=results_dir,
        force=True,
        log=lambda m: None,
        device=device,
        workers=workers,
        jobs=jobs,
    )
    assert out.status == "ran", out.error
    # The device chosen reached what was trained: read from the parameters and batches that
    # train() saw (the placement log), not from the flag.
    placed = out.record.provenance["placements"]
    assert set(placed["parameters"]) | set(placed["batches"]) <= {device}, placed
    if trains(key):
        assert placed["parameters"] == [device] and placed["batches"] == [device], placed
    return out.record


def trains(key: str) -> bool:
    """Whether a card trains models through the one training loop (it imports repro.kit.train);
    the others are numerical experiments on raw tensors (Bengio's latch, the softmax limits)."""
    paper = discover()[key]
    files = [paper.path] if paper.path.is_file() else sorted(paper.path.rglob("*.py"))
    return any("repro.kit.train" in f.read_text(encoding="utf-8") for f in files)


# Tests that use these fixtures run a paper at quick scale or build a site: the slow tier.
SLOW_FIXTURES = {
    "quick",
    "quick_record",
    "built_site",
    "mini_project",
    "served_site",
    "zensical_site",
}


# Session fixtures too dear to build twice: under pytest-xdist (`nox -s tests` runs it with
# `--dist loadgroup`) the tests that share one run in one worker, which builds it once.
SHARED_FIXTURES = {"built_site": "site", "zensical_site": "zensical"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses a slow fixture `slow`, so `-m "not slow"` is the fast loop;
    group the tests that share a session fixture (a paper's quick run, a built site) for xdist."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if SLOW_FIXTURES & names:
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("xdist_group"):
            continue  # a test that names the group itself (another paper's quick run)
        shared = sorted(SHARED_FIXTURES[n] for n in names & SHARED_FIXTURES.keys())
        if "quick" in names:  # tests/test_<key>.py asks for its own paper's run
            item.add_marker(pytest.mark.xdist_group(item.path.stem.removeprefix("test_")))
        elif shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))


def pixel_output(acc: float = 0.5, params: int = 6000) -> dict:
    """What `repro.kit.pixels.pixel_unit` returns, without training: accuracy `acc`."""
    data = {"train": 4000, "test": 1000, "side": 14, "source": "fake", "sha256": "0" * 16}
    return {
        "acc": acc,
        "train_acc": acc,
        "curve": [(0, 0.1), (50, acc)],
        "params": params,
        "diverged_step": None if acc == acc else 7,
        "data": data | {"steps": 196, "permuted": False},
    }
