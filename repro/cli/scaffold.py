"""Command-line room, the scaffolder: `python -m repro new KEY` (and `nox -s new -- KEY`).

It writes docs/papers/KEY.md, repro/KEY.py and tests/test_KEY.py from the templates below, adds the
note to the nav in mkdocs.yml and, when KEY is not in refs.bib yet, appends the entry given on
stdin or with --bib FILE (validated first). Every check runs before anything is written: a bad
key, a malformed entry, a key that exists, a file that exists: a clear message, exit 2, and
nothing created. The scaffold builds strictly; its one claim has no pass criterion yet, so the
page and `repro check` say "claim not yet specified" and its test fails saying what to fill in.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from repro.run.errors import UsageError
from repro.site.bib import KEY_RE, BibError, Entry, load_bibliography, parse_bibtex

NOTE = """\
---
tags:
  - to read
---

# {title}

{authors} ({year}). {venue_line}{links}

!!! warning "Stub"
    A new note: fill in the sections below, then state the claim's pass criterion in
    `repro/{key}.py`.

## The problem

What question does the paper answer, and why was it open [@{key}]?

## The idea

The method in a paragraph, then the equation that matters, typeset:

$$
y = f(x)
$$

## Experiments and headline numbers

Each number with the table or figure it comes from, cited [@{key}].

## Reproduction

{{{{ claims {key} }}}}

## Related

Links to related papers and topics.

## Open questions

What the paper leaves open, and what a reproduction here could check.
"""

MODULE = '''\
"""{citation}

Claim: (one sentence, in our words).

Key equation: (the one that matters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from repro.claims import Claim, Registration, Result

CLAIMS = [
    Claim(
        id="{key}.main",
        statement="(the claim in one sentence)",
        paper_value="(the paper's number, and every other arm of that table row or figure)",
        where="(table, figure or section)",
        metric="(what one value per seed and arm measures)",
        kind="reproduction",  # or "check": exact or deterministic (an identity, a bound)
        domain="real",  # or "nonnegative" (a loss) or "probability" (an accuracy)
        setup="(paper: its setup | ours: what differs, e.g. T = 1000 | T = 100)",
        # State the pass criterion BEFORE the first full run, e.g.
        # below("new", "baseline", seeds=0.8) & below("new", 0.05) (see repro/claims/).
        criterion=None,
    ),
]

# The seeds you explore with (quick runs, choosing sizes and the criterion) are never the seeds
# the committed result is confirmed on; declare both before the first full run.
REGISTRATION = Registration(
    exploration=(0, 1),
    confirmation=(100, 101, 102, 103, 104),
    note="(what was chosen while looking at the exploration seeds)",
)


@dataclass(frozen=True)
class Config:
    seeds: int = 2  # quick and paper scale (full scale confirms on REGISTRATION.confirmation)
    steps: int = 1000  # (why this value; where it departs from the paper)

    @classmethod
    def quick(cls) -> Config:
        return cls(steps=50)

    @classmethod
    def paper(cls) -> Config:
        return cls(seeds=10, steps=100_000)


def run(config: Config, seeds: Sequence[int]) -> list[Result]:
    raise NotImplementedError(
        "repro/{key}.py: write run(): train each arm per seed with repro.kit.train.train, "
        "then return [Result('{key}.main', {{arm: [one value per seed]}})]"
    )
'''

TEST = '''\
"""{key}: the model parts against what the paper states, and each claim at quick scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.run.discover import discover
from repro.run.runner import run_paper

ROOT = Path(__file__).resolve().parents[1]


def test_every_claim_is_specified():
    paper = discover(ROOT)["{key}"]
    missing = [claim.id for claim in paper.claims if claim.criterion is None]
    if missing:
        pytest.fail(
            f"claim not yet specified: {{', '.join(missing)}}: state its pass criterion "
            "in repro/{key}.py (CLAIMS) before the first full run",
            pytrace=False,
        )


def test_claims_at_quick_scale(tmp_path):
    paper = discover(ROOT)["{key}"]
    out = run_paper(paper, scale="quick", results_dir=tmp_path, force=True)
    if out.status != "ran":
        pytest.fail(f"run() did not finish: {{out.error}}", pytrace=False)
    for claim in paper.claims:
        assert out.record.results[claim.id].verdict is not None, claim.id
    # Then assert the measured direction of the effect, within a band whose comment says why.
'''


def _yaml_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def nav_title(entry: Entry) -> str:
    title = entry.title if len(entry.title) <= 48 else entry.title[:45].rstrip() + "..."
    return f"{entry.label().replace(',', '')}: {title}"


def add_to_nav(mkdocs_yml: str, page: str, title: str) -> str:
    """Insert `- "title": page` as the last item of the top-level "Papers" section."""
    lines = mkdocs_yml.splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.rstrip() == "  - Papers:")
    except StopIteration:
        raise UsageError("mkdocs.yml: no top-level '  - Papers:' section in nav") from None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  - ")), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    lines.insert(end, f"      - {_yaml_quote(title)}: {page}\n")
    return "".join(lines)


def scaffold(root: Path, key: str, bib_text: str | None = None) -> list[Path]:
    """Create the note, module and test for `key` (and its refs.bib entry); return the paths."""
    if not KEY_RE.match(key):
        raise UsageError(
            f"'{key}' is not a usable key: lowercase letters, digits and '_' only, starting with "
            "a letter (it names files: docs/papers/<key>.md, repro/<key>.py)"
        )
    bib_path = root / "refs.bib"
    try:
        bib = load_bibliography(bib_path)
    except BibError as exc:
        raise UsageError("refs.bib has errors; fix them first:\n  " + "\n  ".join(exc.problems))
    new_bib = ""
    if key in bib:
        if bib_text is not None:
            raise UsageError(
                f"'{key}' already exists in refs.bib (line {bib[key].line}); "
                "drop --bib or choose another key"
            )
        entry = bib[key]
    else:
        if bib_text is None:
            raise UsageError(
                f"'{key}' is not in refs.bib: give its entry with --bib FILE or on stdin"
            )
        try:
            given = parse_bibtex(bib_text, "<the given entry>")
        except BibError as exc:
            raise UsageError("the given BibTeX entry is malformed:\n  " + "\n  ".join(exc.problems))
        if list(given.entries) != [key]:
            raise UsageError(
                f"the given BibTeX must hold exactly one entry, keyed '{key}' "
                f"(found: {', '.join(given.entries) or 'none'})"
            )
        entry = given[key]
        new_bib = bib_text.strip() + "\n"
    targets = {
        root / "docs" / "papers" / f"{key}.md": NOTE.format(
            key=key,
            title=entry.title,
            year=entry.year,
            authors=", ".join(a.full for a in entry.authors),
            venue_line=f"*{entry.venue()}*. " if entry.venue() else "",
            links=" ".join(f"[{text}]({url})" for text, url in entry.links()),
        ),
        root / "repro" / f"{key}.py": MODULE.format(
            key=key, citation=textwrap.fill(f"{entry.label()}: {entry.title}.", 96)
        ),
        root / "tests" / f"test_{key}.py": TEST.format(key=key),
    }
    existing = [p for p in targets if p.exists()]
    if existing:
        raise UsageError(
            "refusing to overwrite: " + ", ".join(p.relative_to(root).as_posix() for p in existing)
        )
    mkdocs_path = root / "mkdocs.yml"
    nav = add_to_nav(mkdocs_path.read_text(encoding="utf-8"), f"papers/{key}.md", nav_title(entry))
    # Every check passed: write.
    if new_bib:
        old = bib_path.read_text(encoding="utf-8")
        bib_path.write_text(old.rstrip("\n") + "\n\n" + new_bib, encoding="utf-8")
    for path, text in targets.items():
        path.write_text(text, encoding="utf-8")
    mkdocs_path.write_text(nav, encoding="utf-8")
    return [bib_path] * bool(new_bib) + list(targets) + [mkdocs_path]


def cmd_new(root: Path, args: argparse.Namespace) -> int:
    bib = None
    if args.bib:
        path = Path(args.bib)
        if not path.is_file():
            raise UsageError(f"--bib {path}: no such file")
        bib = path.read_text(encoding="utf-8")
    elif not _in_bib(root, args.key) and sys.stdin is not None and not sys.stdin.isatty():
        bib = sys.stdin.read()  # the entry piped in
    for path in scaffold(root, args.key, bib):
        print(f"wrote {path.relative_to(root).as_posix()}")
    print(
        f"next: fill in docs/papers/{args.key}.md and repro/{args.key}.py (the claim's pass "
        f"criterion first), then `python -m repro run {args.key} --scale quick`, "
        f"`pytest tests/test_{args.key}.py` and `nox -s docs`"
    )
    return 0


def _in_bib(root: Path, key: str) -> bool:
    try:
        return key in load_bibliography(root / "refs.bib")
    except BibError:
        return True  # read no stdin: scaffold() reports the errors of refs.bib


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "new",
        help="scaffold a paper: note, module, test, nav entry (and its refs.bib entry)",
        description="Create docs/papers/KEY.md, repro/KEY.py, tests/test_KEY.py and the nav "
        "entry for a paper. When KEY is not in refs.bib, give its BibTeX entry with --bib FILE "
        "or on stdin; it is validated and appended. Nothing is overwritten.",
        epilog="examples:\n  python -m repro new koutnik2014clockwork\n"
        "  python -m repro new le2015simple --bib le2015.bib\n"
        "  python -m repro new le2015simple < le2015.bib",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("key", help="the BibTeX key (lowercase letters, digits, '_')")
    p.add_argument("--bib", metavar="FILE", help="a file holding the BibTeX entry for KEY")
    p.set_defaults(func=cmd_new)
