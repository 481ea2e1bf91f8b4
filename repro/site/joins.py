"""Site room, the joins checker: one BibTeX key ties a note, a module, a test and results.

`scan_docs` finds every citation and every directive (`{{ claims key }}`, ...) in the Markdown
pages and notebooks under docs/, with file and line, skipping code. `check_tree` lists what is
missing or wrong in the whole tree as `Finding`s (errors fail the build; warnings are advice).
Both the MkDocs plugin and `python -m repro check` call these, so they can never disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from repro.run.discover import repro_modules
from repro.site.bib import BibError, Bibliography, load_bibliography

# [@key] or [@a; @b], not a Markdown link ([@x](url)).
CITE_RE = re.compile(r"\[(@[^\]\s;]+(?:\s*;\s*@[^\]\s;]+)*)\](?!\()")
# {{ name arg }} on a line of its own (claim blocks, claims board, bibliography).
DIRECTIVE_RE = re.compile(r"\{\{\s*([a-z_]+)(?:\s+([^\s}]+))?\s*\}\}")
DIRECTIVES = {"claims", "claim", "claims_board", "bibliography"}
FENCE_RE = re.compile(r"^( {0,3})(`{3,}|~{3,}).*?^\1\2[`~]*[ \t]*$", re.M | re.S)
INLINE_CODE_RE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)


@dataclass(frozen=True)
class Ref:
    """A citation key or a directive found in a source file."""

    kind: str  # "cite" or a directive name
    arg: str  # the key, the claim id, or "" for argument-less directives
    path: str  # relative to the project root, e.g. docs/papers/bai2018tcn.md
    line: int  # 1-based

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    where: str  # "path:line"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.message}"


def mask_code(text: str) -> str:
    """Blank out fenced and inline code, keeping every newline so line numbers still hold."""

    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    return INLINE_CODE_RE.sub(blank, FENCE_RE.sub(blank, text))


def _refs_in_text(text: str, rel: str, line_of=None) -> Iterator[Ref]:
    masked = mask_code(text)
    for m in CITE_RE.finditer(masked):
        for part in m.group(1).split(";"):
            key = part.strip()[1:]
            pos = m.start()
            yield Ref("cite", key, rel, line_of(key, pos) if line_of else _line(masked, pos))
    for m in DIRECTIVE_RE.finditer(masked):
        pos = m.start()
        arg = m.group(2) or ""
        yield Ref(m.group(1), arg, rel, line_of(m.group(0), pos) if line_of else _line(masked, pos))


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def scan_file(path: Path, root: Path) -> list[Ref]:
    """Citations and directives of one Markdown page or notebook."""
    rel = path.relative_to(root).as_posix()
    raw = path.read_text(encoding="utf-8")
    if path.suffix in (".md", ".py"):  # .py: a percent-format notebook (docs/notebooks)
        return list(_refs_in_text(raw, rel))
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(raw).get("cells", [])
        except json.JSONDecodeError as exc:
            return [Ref("invalid-notebook", str(exc), rel, exc.lineno)]

        def line_of(needle: str, _pos: int) -> int:
            # Report the line of the notebook file (JSON) where the text first appears.
            at = raw.find(needle.replace('"', '\\"'))
            return _line(raw, at) if at >= 0 else 1

        text = "\n\n".join(
            "".join(c.get("source", [])) for c in cells if c.get("cell_type") == "markdown"
        )
        return list(_refs_in_text(text, rel, line_of))
    return []


def scan_docs(root: Path, docs_dir: str = "docs") -> list[Ref]:
    docs = root / docs_dir
    files = sorted(p for p in docs.rglob("*") if p.suffix in (".md", ".ipynb", ".py"))
    return [ref for f in files if "vendor" not in f.parts for ref in scan_file(f, root)]


def check_tree(
    root: Path,
    bib: Bibliography | None = None,
    refs: list[Ref] | None = None,
    claim_ids: set[str] | None = None,
    docs_dir: str = "docs",
) -> list[Finding]:
    """Everything missing or wrong in the tree: unknown keys, broken joins, unused entries.

    `claim_ids` (when given) is the set of claim ids the paper modules define; a `{{ claim ID }}`
    naming another id is an error.
    """
    findings: list[Finding] = []
    if bib is None:
        try:
            bib = load_bibliography(root / "refs.bib")
        except BibError as exc:
            return [
                Finding("error", p.split(": ", 1)[0], p.split(": ", 1)[1]) for p in exc.problems
            ]
    refs = scan_docs(root, docs_dir) if refs is None else refs
    bib_rel = bib.path.relative_to(root).as_posix() if bib.path.is_absolute() else str(bib.path)

    for ref in refs:
        if ref.kind == "cite" and ref.arg not in bib:
            findings.append(
                Finding(
                    "error",
                    ref.where,
                    f"unknown citation key '{ref.arg}': "
                    f"not in {bib_rel} (fix the key or add the entry)",
                )
            )
        elif ref.kind == "invalid-notebook":
            findings.append(Finding("error", ref.where, f"notebook is not valid JSON: {ref.arg}"))
        elif ref.kind not in DIRECTIVES and ref.kind != "cite":
            findings.append(
                Finding(
                    "error",
                    ref.where,
                    f"unknown directive '{{{{ {ref.kind} }}}}'"
                    f" (known: {', '.join(sorted(DIRECTIVES))})",
                )
            )
        elif ref.kind == "claims" and ref.arg not in bib:
            findings.append(
                Finding(
                    "error", ref.where, f"'{{{{ claims {ref.arg} }}}}' names no entry in {bib_rel}"
                )
            )
        elif ref.kind == "claim" and claim_ids is not None and ref.arg not in claim_ids:
            findings.append(
                Finding(
                    "error",
                    ref.where,
                    f"unknown claim id '{ref.arg}': no module "
                    "in repro/ defines it (see `python -m repro list`)",
                )
            )

    for note in sorted((root / docs_dir / "papers").glob("*.md")):
        if note.stem != "index" and note.stem not in bib:
            findings.append(
                Finding(
                    "error",
                    f"{note.relative_to(root).as_posix()}:1",
                    f"paper note '{note.stem}' has no entry in {bib_rel} "
                    "(the file name must be the BibTeX key)",
                )
            )

    for key, module in repro_modules(root).items():
        where = f"{module.relative_to(root).as_posix()}:1"
        if key not in bib:
            if module.suffix == ".py":  # sub-packages without a key are the rooms
                findings.append(
                    Finding(
                        "error",
                        where,
                        f"paper module '{key}' has no entry in {bib_rel} (a plain module "
                        "directly in repro/ is a paper card and its name must be the BibTeX "
                        "key; shared code belongs in a room: claims/, kit/, run/, site/, cli/)",
                    )
                )
            continue
        if not (root / "tests" / f"test_{key}.py").exists():
            findings.append(
                Finding(
                    "error", where, f"paper module '{key}' has no test: add tests/test_{key}.py"
                )
            )
        if not (root / docs_dir / "papers" / f"{key}.md").exists():
            findings.append(
                Finding(
                    "error", where, f"paper module '{key}' has no note: add docs/papers/{key}.md"
                )
            )

    cited = {r.arg for r in refs if r.kind in ("cite", "claims")}
    for key, entry in bib.entries.items():
        if key not in cited:
            findings.append(
                Finding("warning", f"{bib_rel}:{entry.line}", f"entry '{key}' is cited nowhere")
            )
    prefix = f"{root}/"
    findings += [Finding("warning", *w.removeprefix(prefix).split(": ", 1)) for w in bib.warnings]
    return findings
