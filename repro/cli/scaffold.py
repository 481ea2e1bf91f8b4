"""Command-line room, the scaffolder: `python -m repro new KEY` (and `nox -s new -- KEY`).

It writes repro/KEY.py and tests/test_KEY.py from the templates below and, unless the paper
already has a note, docs/papers/KEY.md and its nav entry in mkdocs.yml; a note that exists (a
stub, say) is kept as it is and gets its card. When KEY is not in refs.bib yet, it appends the
entry given on stdin or with --bib FILE (validated first). Every check runs before anything is
written: a bad key, a malformed entry, a key that exists, a card or test that exists: a clear
message, exit 2, and nothing created. The scaffold builds strictly; its one claim has no pass
criterion yet, so the page and `repro check` say "claim not yet specified" and its test fails
saying what to fill in. The templates are in repro.cli.templates.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from repro.cli.templates import MODULE, NOTE, TEST
from repro.run.errors import UsageError
from repro.site.bib import KEY_RE, BibError, Entry, load_bibliography, parse_bibtex


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
    note = root / "docs" / "papers" / f"{key}.md"
    targets = {
        root / "repro" / f"{key}.py": MODULE.format(
            key=key, citation=textwrap.fill(f"{entry.label()}: {entry.title}.", 96)
        ),
        root / "tests" / f"test_{key}.py": TEST.format(key=key),
    }
    card = [root / "repro" / key / "__init__.py", *targets]
    existing = [p for p in card if p.exists()]
    if existing:
        raise UsageError(
            "refusing to overwrite: " + ", ".join(p.relative_to(root).as_posix() for p in existing)
        )
    mkdocs_path = root / "mkdocs.yml"
    nav = mkdocs_path.read_text(encoding="utf-8")
    if not note.exists():  # a note that exists keeps its text and its place in the nav
        targets[note] = NOTE.format(
            key=key,
            title=entry.title,
            year=entry.year,
            authors=", ".join(a.full for a in entry.authors),
            venue_line=f"*{entry.venue()}*. " if entry.venue() else "",
            links=" ".join(f"[{text}]({url})" for text, url in entry.links()),
        )
        if f"papers/{key}.md" not in nav:
            nav = add_to_nav(nav, f"papers/{key}.md", nav_title(entry))
    # Every check passed: write.
    if new_bib:
        old = bib_path.read_text(encoding="utf-8")
        bib_path.write_text(old.rstrip("\n") + "\n\n" + new_bib, encoding="utf-8")
    for path, text in targets.items():
        path.write_text(text, encoding="utf-8")
    changed_nav = nav != mkdocs_path.read_text(encoding="utf-8")
    if changed_nav:
        mkdocs_path.write_text(nav, encoding="utf-8")
    return [bib_path] * bool(new_bib) + list(targets) + [mkdocs_path] * changed_nav


def cmd_new(root: Path, args: argparse.Namespace) -> int:
    bib = None
    if args.bib:
        path = Path(args.bib)
        if not path.is_file():
            raise UsageError(f"--bib {path}: no such file")
        bib = path.read_text(encoding="utf-8")
    elif not _in_bib(root, args.key) and sys.stdin is not None and not sys.stdin.isatty():
        bib = sys.stdin.read()  # the entry piped in
    note = root / "docs" / "papers" / f"{args.key}.md"
    kept = note.exists()
    for path in scaffold(root, args.key, bib):
        print(f"wrote {path.relative_to(root).as_posix()}")
    if kept and f"{{{{ claims {args.key} }}}}" not in note.read_text(encoding="utf-8"):
        print(
            f"kept docs/papers/{args.key}.md as it is: put `{{{{ claims {args.key} }}}}` where "
            "the reproduction should show (under a '## Reproduction' heading)"
        )
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
