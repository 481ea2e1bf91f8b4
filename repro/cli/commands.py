"""Command-line room, the commands: list, run and check the reproductions; regenerate the results
notebook. `python -m repro` (and the `seqnotes` script) call `main`.

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

from repro.cli.parser import build_parser
from repro.cli.stop import exit_code, stop_signals, stopped_by
from repro.cli.summary import print_summary
from repro.cli.summary import rel_path as _rel
from repro.kit.device import choose as choose_device
from repro.run import costs, scales
from repro.run.audit import audit_paper
from repro.run.config import parse_overrides
from repro.run.discover import ROOT, Paper, committed_dir, discover, find
from repro.run.errors import PaperModuleError, UsageError
from repro.run.pool import Workers
from repro.run.runner import Outcome, default_jobs, run_paper
from repro.run.states import paper_states
from repro.site.board import tally
from repro.site.checks import result_findings
from repro.site.joins import Finding, check_tree
from repro.site.notebook import build as build_notebook


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    root = (args.root or ROOT).resolve()
    try:
        if getattr(args, "func", None) is not None:
            return int(args.func(root, args))
        if args.command == "list":
            return cmd_list(root)
        if args.command == "run":
            return cmd_run(root, args)
        if args.command == "check":
            return cmd_check(root)
        if args.command == "audit":
            return cmd_audit(root, args)
        if args.command == "notebook":
            path = build_notebook(root, execute=not args.no_execute)
            print(f"wrote {_rel(path, root)}")
            return 0
    except UsageError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except PaperModuleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:  # a stop outside `repro run`'s own handling (audit, ...)
        print(f"\n{stopped_by(exc)}: stopped; every stored result is as it was", file=sys.stderr)
        return exit_code(exc)
    return 2  # unreachable: argparse requires a command


def cmd_list(root: Path) -> int:
    papers = discover(root)
    if not papers:
        print("no paper modules yet (add repro/<key>.py)")
        return 0
    every, cpu, unmeasured = [], 0.0, []
    for key, paper in papers.items():
        cost = costs.measured(costs.quiet_load(committed_dir(root), key))
        cpu += cost.cpu_s if cost else 0.0
        if cost is None and paper.registration is not None:
            unmeasured.append(key)
        print(f"{key}  ({paper.rel})" + (f"  full run: {cost}" if cost else ""))
        for s in paper_states(paper, committed_dir(root)):
            every.append(s)
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
            rep = f"  {s.replication()}" if s.replication() else ""
            print(f"  {s.claim.id:<48} {s.kind:<12} {state:<17} {date}{rep}{stale}")
    print(f"{len(every)} claims: {tally(every)}")
    if cpu:
        cores = default_jobs()
        print(
            f"a full run (nox -s repro) cost {cpu / 60:.0f} CPU minutes in the committed runs: "
            f"about {cpu / 60 / cores:.0f} min on this machine's {cores} cores (--jobs {cores})"
            + (f"; not yet measured: {', '.join(unmeasured)}" if unmeasured else "")
        )
    return 0


# ---- run ------------------------------------------------------------------------------------


def _select(papers: dict[str, Paper], keys: Sequence[str]) -> list[Paper]:
    if not keys:
        return list(papers.values())
    chosen: dict[str, Paper] = {}
    for name in keys:
        paper = find(papers, name)
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
    try:
        choose_device(args.device)  # fail before anything runs
    except RuntimeError as exc:
        raise UsageError(f"--device {args.device}: {exc}") from None
    # The progress bars read REPRO_QUIET.
    with _environ(REPRO_QUIET="1" if args.quiet else None):
        return _run(root, args)


def _run(root: Path, args: argparse.Namespace) -> int:
    overrides = parse_overrides(args.overrides)
    papers = discover(root)
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
        with _workers(args) as pool:
            for paper in selected:
                current = paper
                done.append(
                    run_paper(
                        paper,
                        scale=args.scale,
                        seeds=args.seeds,
                        overrides=overrides,
                        results_dir=args.results_dir,
                        force=args.force,
                        log=log,
                        device=args.device,
                        revise=args.revise,
                        **pool,
                    )
                )
                current = None
        for out in done:  # the committed full runs: the same claims at quick scale beside them
            if out.status in ("ran", "cached") and out.results_dir == committed_dir(out.paper.root):
                _quick_beside(out, args, log)
    except KeyboardInterrupt as exc:
        print(f"\nstopped by {stopped_by(exc)}; no worker is left running", file=sys.stderr)
        if current is not None:
            units = (
                "; the units it finished are kept (scratch/units/), and the same command runs "
                "only the missing ones"
                if current.has_units
                else ""
            )
            print(
                f"interrupted during {current.key}: nothing was written for it; "
                f"its previous result, if any, is untouched{units}",
                file=sys.stderr,
            )
        kept = [f"{o.paper.key} ({_rel(o.path, root)})" for o in done if o.path is not None]
        print("kept: " + (", ".join(kept) if kept else "nothing from this run"), file=sys.stderr)
        if done:
            print_summary(done, root)
        return exit_code(exc)
    print_summary(done, root)
    return 1 if any(o.status == "failed" for o in done) else 0


def _quick_beside(out: Outcome, args: argparse.Namespace, log) -> None:
    """Run the paper at quick scale (into scratch/) and keep its parts beside the full result
    (repro.run.scales), unless what is stored already goes with this full result."""
    paper, results = out.paper, committed_dir(out.paper.root)
    stored = scales.load(results, paper.key)
    if out.record is None or (stored and stored.get("for") == out.record.hash):
        return
    quick = run_paper(paper, scale="quick", log=log, device=args.device, jobs=1)
    if quick.record is not None:
        path = scales.write(results, paper.claims, out.record, quick.record)
        log(f"{paper.key}: quick scale beside the full run: {_rel(path, paper.root)}")


def cmd_audit(root: Path, args: argparse.Namespace) -> int:
    """Replicate every reproduction (of the given papers) on fresh seeds; print both verdicts."""
    papers = discover(root)
    selected = _select(papers, args.keys)
    failed = False
    with _workers(args) as pool:
        outs = [
            audit_paper(paper, n=args.n, device=args.device, log=lambda m: _log(args, m), **pool)
            for paper in selected
        ]
    for paper, out in zip(selected, outs):
        if out.status == "skipped":
            print(f"{paper.key}: checks only, nothing to replicate")
            continue
        if out.status == "failed":
            print(f"{paper.key}: audit run failed: {out.error}", file=sys.stderr)
            failed = True
            continue
        for s in paper_states(paper, committed_dir(root)):
            if s.claim.is_check:
                continue
            confirmed = s.result.verdict if s.result is not None else "not run"
            print(f"  {s.claim.id:<48} confirmation: {confirmed}; {s.replication()}")
        print(f"{paper.key}: {_rel(out.path, root)}")
    return 1 if failed else 0


def _pool(args: argparse.Namespace) -> dict:
    if args.address and args.backend != "ray":
        raise UsageError("--address names a Ray cluster: use it with --backend ray")
    return {"jobs": args.jobs, "backend": args.backend, "address": args.address}


@contextlib.contextmanager
def _workers(args: argparse.Namespace) -> Iterator[dict]:
    """The pool options, with one process pool for every paper of the command (its workers
    start once, not once per paper)."""
    options = _pool(args)
    jobs = options["jobs"] or default_jobs()
    with stop_signals():
        if options["backend"] != "process" or jobs <= 1:
            yield options
            return
        with Workers(jobs) as workers:
            yield {**options, "jobs": jobs, "workers": workers}


def _log(args: argparse.Namespace, msg: str) -> None:
    if not getattr(args, "quiet", False) or msg.startswith(("warning", "error")):
        print(msg, file=sys.stderr, flush=True)


# ---- check ----------------------------------------------------------------------------------


def cmd_check(root: Path) -> int:
    findings: list[Finding] = []
    try:
        papers = discover(root)
    except PaperModuleError as exc:
        where, _, msg = str(exc).partition(": ")
        papers = None
        findings.append(Finding("error", where, msg))
    claim_ids = {c.id for p in papers.values() for c in p.claims} if papers else None
    findings += check_tree(root, claim_ids=claim_ids)
    if papers is not None:
        findings += result_findings(root, papers)
    for f in findings:
        print(f)
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
