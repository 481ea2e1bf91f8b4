"""Command-line room, the parser: `python -m repro` and its subcommands, with examples."""

from __future__ import annotations

import argparse
from pathlib import Path

from repro.cli import scaffold
from repro.run.config import DEFAULT_SCALE, SCALES, parse_seeds
from repro.run.errors import UsageError
from repro.run.pool import BACKENDS

EPILOG = """\
examples:
  python -m repro list
  python -m repro run                               every paper, full scale (what the site shows)
  python -m repro run goodfellow2016deep            one paper (a claim id works too)
  python -m repro run bai2018tcn --scale quick      seconds; results go to scratch/results/
  python -m repro run bai2018tcn --seeds 7,8,9      check a verdict on fresh seeds (scratch/)
  python -m repro run bai2018tcn --set steps=500    override a Config field (type-checked)
  python -m repro run --force                       rerun even where the result is up to date
  python -m repro audit                             replicate every reproduction on fresh seeds
  python -m repro run KEY --revise "why"            rerun after changing a criterion or seeds
  python -m repro check                             joins, bibliography and result checks
  python -m repro new le2015simple --bib entry.bib  scaffold a new paper (note, module, test)
  nox -s repro [-- KEY ...]                         run, rebuild the notebook, build the site

Results of the default run (full scale, default seeds, no overrides) go to docs/results/<key>/
and are what the site shows; any other run goes to scratch/results/<key>/ unless --results-dir
says otherwise. A paper whose stored result has the same code, config, environment and seeds
hash is skipped (use --force).
"""


def _seeds(text: str) -> int | list[int]:
    try:
        return parse_seeds(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--seeds: ")) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m repro",
        description="Run and check the reproductions of the papers' key claims.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help="project root (default: this checkout)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser(
        "list",
        help="every paper module, its claims and their stored verdicts",
        description="List every paper module, its claims, and the stored verdict of each.",
    )

    run = sub.add_parser(
        "run",
        help="run claims and store the results",
        description="Run the claims of the given papers (all when none is given).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("keys", nargs="*", metavar="KEY", help="paper keys or claim ids")
    run.add_argument(
        "--scale",
        choices=SCALES,
        default=DEFAULT_SCALE,
        help="quick: seconds (tests); full: minutes on a CPU (the site); paper: the paper's "
        "sizes, for a GPU (default: %(default)s)",
    )
    run.add_argument(
        "--seeds",
        type=_seeds,
        default=None,
        metavar="N|LIST",
        help="a count (5: seeds 0-4) or a list (7,8,9); default: the Config's",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a Config field (repeatable); unknown fields and wrong types are errors",
    )
    run.add_argument("--force", action="store_true", help="rerun even if the result is current")
    run.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where to write results (default: docs/results for the default run, "
        "scratch/results otherwise)",
    )
    run.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default=None,
        help="force a device (default: CUDA when present, else CPU)",
    )
    run.add_argument(
        "--revise",
        default=None,
        metavar="WHY",
        help="the reason a criterion or the confirmation seeds changed since the stored result "
        "(required then; kept in the result's history and shown on the page)",
    )
    _pool_options(run)
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bars or run lines")

    audit = sub.add_parser(
        "audit",
        help="replicate each reproduction on fresh seeds (stored beside the result)",
        description="Rerun each reproduction at full scale on seeds drawn at random from a range "
        "no exploration or confirmation uses, never one used before for that paper; store the "
        "replication verdicts in docs/results/<key>/audit.json.",
    )
    audit.add_argument("keys", nargs="*", metavar="KEY", help="paper keys (default: all)")
    audit.add_argument("--n", type=int, default=None, help="seeds (default: as confirmation)")
    audit.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    _pool_options(audit)
    audit.add_argument("-q", "--quiet", action="store_true", help="no progress lines")

    sub.add_parser(
        "check",
        help="the joins checker plus result checks; exit 1 on errors",
        description="Check the tree: notes, modules, tests, citations, claim ids (errors), and "
        "stored results: missing, stale, not yet specified (warnings). Prints "
        "'path:line: level: message' per finding.",
    )

    nb = sub.add_parser(
        "notebook",
        help="regenerate and execute docs/notebooks/results.ipynb",
        description="Write docs/notebooks/results.ipynb from its template and execute it "
        "(it reads docs/results; it trains nothing).",
    )
    nb.add_argument("--no-execute", action="store_true", help="write it without outputs")

    # repro/cli/scaffold.py (the `new KEY` command) registers its own subcommand, setting
    # `func=(root, args) -> int` via set_defaults.
    scaffold.register(sub)
    return parser


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of workers >= 1, not {text!r}")
    return n


def _pool_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="worker processes, one thread each, for a paper's units (default: the cores this "
        "process may use); the numbers do not depend on N",
    )
    cmd.add_argument(
        "--backend",
        choices=BACKENDS,
        default="process",
        help="process: a pool on this machine (default); ray: a Ray cluster (pip install -e "
        "'.[ray]'), local unless --address is given",
    )
    cmd.add_argument(
        "--address",
        default=None,
        metavar="HOST:PORT",
        help="an existing Ray cluster's address (with --backend ray; e.g. from `ray start --head`)",
    )
