"""`python -m repro`: list, run and check the reproductions; regenerate the results notebook.

Exit status: 0 fine; 1 a check found errors or a run raised; 2 bad usage (unknown key, bad
option); 130 interrupted by Ctrl-C (whatever was saved before stays; nothing is half-written).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from repro import runner, scaffold
from repro.claims import fmt
from repro.runner import (
    SCALES,
    Outcome,
    PaperModuleError,
    UsageError,
    committed_dir,
)

EPILOG = """\
examples:
  python -m repro list
  python -m repro run                               every paper, full scale (what the site shows)
  python -m repro run goodfellow2016deep            one paper (a claim id works too)
  python -m repro run bai2018tcn --scale quick      seconds; results go to scratch/results/
  python -m repro run bai2018tcn --seeds 7,8,9      check a verdict on fresh seeds (scratch/)
  python -m repro run bai2018tcn --set steps=500    override a Config field (type-checked)
  python -m repro run --force                       rerun even where the result is up to date
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
        return runner.parse_seeds(text)
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
        default=runner.DEFAULT_SCALE,
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
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bars or run lines")

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

    # repro/scaffold.py (the `new KEY` command) registers its own subcommand, setting
    # `func=(root, args) -> int` via set_defaults.
    scaffold.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    root = (args.root or runner.ROOT).resolve()
    try:
        if getattr(args, "func", None) is not None:
            return int(args.func(root, args))
        if args.command == "list":
            return cmd_list(root)
        if args.command == "run":
            return cmd_run(root, args)
        if args.command == "check":
            return cmd_check(root)
        if args.command == "notebook":
            from repro.notebook import build

            path = build(root, execute=not args.no_execute)
            print(f"wrote {_rel(path, root)}")
            return 0
    except UsageError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except PaperModuleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 2  # unreachable: argparse requires a command


def _rel(path: Path | None, root: Path) -> str:
    if path is None:
        return "-"
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


# ---- list -----------------------------------------------------------------------------------


def cmd_list(root: Path) -> int:
    papers = runner.discover(root)
    if not papers:
        print("no paper modules yet (add repro/<key>.py)")
        return 0
    for key, paper in papers.items():
        print(f"{key}  ({paper.rel})")
        for s in runner.paper_states(paper, committed_dir(root)):
            if not s.specified:
                state = "not yet specified"
            elif s.error:
                state = "unreadable result"
            elif s.result is None:
                state = "not run yet"
            else:
                state = str(s.result.verdict or "no verdict")
            date = str(s.result.provenance.get("date", ""))[:10] if s.result else ""
            stale = f"  stale: {s.stale}" if s.result is not None and s.stale else ""
            print(f"  {s.claim.id:<48} {state:<17} {date}{stale}")
    return 0


# ---- run ------------------------------------------------------------------------------------


def _select(papers: dict[str, runner.Paper], keys: Sequence[str]) -> list[runner.Paper]:
    if not keys:
        return list(papers.values())
    chosen: dict[str, runner.Paper] = {}
    for name in keys:
        paper = runner.find(papers, name)
        chosen[paper.key] = paper
    return list(chosen.values())


@contextlib.contextmanager
def _environ(**values: str | None) -> Iterator[None]:
    """Set environment variables (None: leave as is) for the duration of a run only."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def cmd_run(root: Path, args: argparse.Namespace) -> int:
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError("--device cuda: torch sees no CUDA device here")
    # train.device() and the progress bars read these.
    with _environ(REPRO_DEVICE=args.device, REPRO_QUIET="1" if args.quiet else None):
        return _run(root, args)


def _run(root: Path, args: argparse.Namespace) -> int:
    overrides = runner.parse_overrides(args.overrides)
    papers = runner.discover(root)
    selected = _select(papers, args.keys)
    if not selected:
        print("no paper modules to run (add repro/<key>.py)")
        return 0
    for paper in selected:  # every config is checked before anything runs
        paper.config(args.scale, overrides)

    def log(msg: str) -> None:
        if not args.quiet or msg.startswith(("warning", "error")):
            print(msg, file=sys.stderr, flush=True)

    done: list[Outcome] = []
    current = None
    try:
        for paper in selected:
            current = paper
            done.append(
                runner.run_paper(
                    paper,
                    scale=args.scale,
                    seeds=args.seeds,
                    overrides=overrides,
                    results_dir=args.results_dir,
                    force=args.force,
                    log=log,
                )
            )
            current = None
    except KeyboardInterrupt:
        print(file=sys.stderr)
        if current is not None:
            print(
                f"interrupted during {current.key}: nothing was written for it; "
                "its previous result, if any, is untouched",
                file=sys.stderr,
            )
        kept = [f"{o.paper.key} ({_rel(o.path, root)})" for o in done if o.path is not None]
        print("kept: " + (", ".join(kept) if kept else "nothing from this run"), file=sys.stderr)
        if done:
            print_summary(done, root)
        return 130
    print_summary(done, root)
    return 1 if any(o.status == "failed" for o in done) else 0


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_summary(outcomes: Sequence[Outcome], root: Path) -> None:
    """The closing table: claim, verdict, paper value, ours, time; then where results went."""
    rows = [("claim", "verdict", "paper", "ours", "time")]
    for o in outcomes:
        if o.status == "failed":
            for c in o.paper.claims:
                rows.append(
                    (
                        c.id,
                        "failed (run raised)",
                        _cut(c.paper_value, 36),
                        _cut(o.error, 40),
                        f"{o.wall_time_s:.1f} s",
                    )
                )
            continue
        assert o.record is not None
        time_s = o.record.provenance.get("wall_time_s", 0.0)
        when = "cached" if o.status == "cached" else f"{fmt(time_s, 3)} s"
        for c in o.paper.claims:
            r = o.record.results.get(c.id)
            if r is None:
                rows.append((c.id, "no result", _cut(c.paper_value, 36), "", when))
                continue
            verdict = str(r.verdict) if r.verdict is not None else "not yet specified"
            ours = "; ".join(f"{a}: {s.text()}" for a, s in r.summary.items())
            rows.append((c.id, verdict, _cut(c.paper_value, 36), _cut(ours, 40), when))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    print("\n".join(lines))
    for o in outcomes:
        if o.path is not None:
            note = " (kept: up to date; --force reruns)" if o.status == "cached" else ""
            print(f"{o.paper.key}: {_rel(o.path, root)}{note}")


# ---- check ----------------------------------------------------------------------------------


def cmd_check(root: Path) -> int:
    from repro import joins

    findings: list[joins.Finding] = []
    try:
        papers = runner.discover(root)
    except PaperModuleError as exc:
        where, _, msg = str(exc).partition(": ")
        papers = None
        findings.append(joins.Finding("error", where, msg))
    claim_ids = {c.id for p in papers.values() for c in p.claims} if papers else None
    findings += joins.check_tree(root, claim_ids=claim_ids)
    if papers is not None:
        findings += result_findings(root, papers)
    for f in findings:
        print(f)
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def result_findings(root: Path, papers: dict[str, runner.Paper]) -> list:
    """Findings about stored results: unreadable (error), missing figures (error), missing,
    stale, not at full scale, orphaned, not yet specified (warnings)."""
    from repro.joins import Finding

    results = committed_dir(root)
    out: list[Finding] = []
    for key, paper in papers.items():
        states = runner.paper_states(paper, results)
        rel = f"{_rel(results / key / 'result.json', root)}:1"
        first = states[0] if states else None
        if first is not None and first.error:
            out.append(Finding("error", rel, first.error.split(": ", 1)[-1]))
        if first is not None and first.record is not None:
            rec = first.record
            if first.stale:
                out.append(
                    Finding(
                        "warning",
                        rel,
                        f"result of '{key}' is stale: {first.stale} (rerun: nox -s repro -- {key})",
                    )
                )
            if rec.provenance.get("scale") != "full":
                out.append(
                    Finding(
                        "warning",
                        rel,
                        f"result of '{key}' is at scale '{rec.provenance.get('scale')}', not full",
                    )
                )
            for cid, r in rec.results.items():
                if cid not in {c.id for c in paper.claims}:
                    out.append(
                        Finding(
                            "warning", rel, f"result for '{cid}', which no module defines any more"
                        )
                    )
                for f in r.figures:
                    if not (results / key / f["file"]).exists():
                        out.append(
                            Finding("error", rel, f"figure '{f['file']}' of '{cid}' is missing")
                        )
        for s in states:
            where = runner.source_line(paper, s.claim)
            if not s.specified:
                out.append(
                    Finding("warning", where, f"claim '{s.claim.id}': criterion not yet specified")
                )
            if s.result is None and not s.error:
                out.append(
                    Finding(
                        "warning",
                        where,
                        f"claim '{s.claim.id}' has no stored result (run: nox -s repro -- {key})",
                    )
                )
    if results.is_dir():
        for d in sorted(results.iterdir()):
            if d.is_dir() and d.name not in papers:
                out.append(
                    Finding(
                        "warning",
                        f"{_rel(d, root)}/",
                        f"results for '{d.name}', but no module repro/{d.name}.py",
                    )
                )
    return out


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
