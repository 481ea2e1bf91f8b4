"""Site room, BibTeX: all of the handling of refs.bib, on bibtexparser 2.

`load_bibliography(path)` parses refs.bib and raises `BibError` naming the file and line of every
malformed entry, duplicate key, duplicate field or missing required field (bibtexparser 2 does not
raise on these: it files them under `library.failed_blocks`). An `Entry` knows how to render its
author-year label ("Bai et al., 2018") and its full reference as HTML, every field escaped.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares import (
    LatexDecodingMiddleware,
    SeparateCoAuthors,
    SplitNameParts,
)

# A key is used as a file name (docs/papers/<key>.md, repro/<key>.py): keep it to safe characters.
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
REQUIRED = ("author", "title", "year")
# Papers from the arXiv era should carry an arXiv id or a DOI (a warning, not an error).
ARXIV_ERA = 2007
# bibtexparser logs its own parse warnings; BibError below names file and line instead.
logging.getLogger("bibtexparser").setLevel(logging.ERROR)


class BibError(Exception):
    """One or more problems in a .bib file, each as 'path:line: message'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Person:
    first: str
    last: str  # includes the "von" part ("van den Oord")

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}".strip()


@dataclass(frozen=True)
class Entry:
    key: str
    type: str
    line: int  # 1-based line of the '@type{key,' in the .bib file
    authors: tuple[Person, ...]
    fields: dict[str, str] = field(hash=False)

    @property
    def year(self) -> str:
        return self.fields.get("year", "n.d.")

    @property
    def title(self) -> str:
        return self.fields.get("title", "")

    def label(self) -> str:
        """Author-year label: 'Bengio et al., 1994', 'Salimans & Kingma, 2016', 'Elman, 1990'."""
        lasts = [a.last for a in self.authors] or [self.fields.get("organization", self.key)]
        if len(lasts) == 1:
            who = lasts[0]
        elif len(lasts) == 2:
            who = f"{lasts[0]} & {lasts[1]}"
        else:
            who = f"{lasts[0]} et al."
        return f"{who}, {self.year}"

    def venue(self) -> str:
        f = self.fields
        if self.type == "article":
            parts = [f.get("journal", "")]
            if "volume" in f:
                parts.append(f["volume"] + (f"({f['number']})" if "number" in f else ""))
            if "pages" in f:
                parts.append(f["pages"].replace("--", "–"))
            return ", ".join(p for p in parts if p)
        if self.type in ("inproceedings", "incollection"):
            return f.get("booktitle", "")
        if self.type == "book":
            return f.get("publisher", "")
        if self.type == "techreport":
            return ", ".join(p for p in (f.get("institution", ""), f.get("number", "")) if p)
        return f.get("howpublished", f.get("journal", f.get("note", "")))

    def links(self) -> list[tuple[str, str]]:
        """(text, url) pairs: arXiv and DOI, then an explicit url field."""
        out = []
        if "eprint" in self.fields:
            arxiv = self.fields["eprint"]
            out.append((f"arXiv:{arxiv}", f"https://arxiv.org/abs/{arxiv}"))
        if "doi" in self.fields:
            doi = self.fields["doi"]
            out.append((f"doi:{doi}", f"https://doi.org/{doi}"))
        if "url" in self.fields and not out:
            out.append(("link", self.fields["url"]))
        return out

    def text(self) -> str:
        """The full reference as plain text (used in hover cards and title attributes)."""
        names = ", ".join(a.full for a in self.authors)
        bits = [f"{names} ({self.year}).", f"{self.title}."]
        if self.venue():
            bits.append(f"{self.venue()}.")
        bits += [t for t, _ in self.links()]
        return " ".join(bits)

    def html(self) -> str:
        """The full reference as HTML, every field escaped, title emphasized, links live."""
        e = html.escape
        names = ", ".join(e(a.full) for a in self.authors)
        out = f"{names} ({e(self.year)}). <em>{e(self.title)}</em>."
        if self.venue():
            out += f" {e(self.venue())}."
        for text, url in self.links():
            out += f' <a href="{e(url)}">{e(text)}</a>'
        return out


@dataclass
class Bibliography:
    path: Path
    entries: dict[str, Entry]
    warnings: list[str]

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __getitem__(self, key: str) -> Entry:
        return self.entries[key]


def _person(parts: model.Field | object) -> Person:
    first = " ".join(parts.first)
    last = " ".join([*parts.von, *parts.last])
    if parts.jr:
        last += ", " + " ".join(parts.jr)
    return Person(first=first, last=_strip_braces(last))


def _strip_braces(text: str) -> str:
    return text.replace("{", "").replace("}", "")


def parse_bibtex(text: str, path: Path | str = "refs.bib") -> Bibliography:
    """Parse BibTeX text; raise BibError with 'path:line: message' for every problem."""
    path = Path(path)
    library = bibtexparser.parse_string(
        text,
        append_middleware=[LatexDecodingMiddleware(), SeparateCoAuthors(), SplitNameParts()],
    )
    problems: list[str] = []
    for block in library.failed_blocks:
        line = block.start_line + 1
        if isinstance(block, model.DuplicateBlockKeyBlock):
            first = next((e for e in library.entries if e.key == block.key), None)
            where = f" (first defined on line {first.start_line + 1})" if first else ""
            problems.append(f"{path}:{line}: duplicate key '{block.key}'{where}")
        elif isinstance(block, model.DuplicateFieldKeyBlock):
            problems.append(f"{path}:{line}: {block.error}")
        else:
            head = block.raw.strip().splitlines()[0][:60] if block.raw.strip() else ""
            problems.append(
                f"{path}:{line}: malformed entry '{head}': check for an unclosed brace or a"
                " missing comma between fields"
            )

    entries: dict[str, Entry] = {}
    warnings: list[str] = []
    for raw in library.entries:
        line = raw.start_line + 1
        where = f"{path}:{line}"
        if not KEY_RE.match(raw.key):
            problems.append(
                f"{where}: key '{raw.key}' must be lowercase letters, digits and '_' "
                "(it names files: docs/papers/<key>.md, repro/<key>.py)"
            )
            continue
        fields = raw.fields_dict
        missing = [
            f for f in REQUIRED if f not in fields and not (f == "author" and "editor" in fields)
        ]
        if missing:
            problems.append(
                f"{where}: entry '{raw.key}' lacks required field(s): {', '.join(missing)}"
            )
            continue
        authors_field = fields.get("author") or fields.get("editor")
        authors = tuple(_person(p) for p in authors_field.value)
        flat = {
            k: _strip_braces(" ".join(str(v.value).split()))
            for k, v in fields.items()
            if k not in ("author", "editor")
        }
        year = flat["year"]
        if not re.fullmatch(r"\d{4}", year):
            problems.append(f"{where}: entry '{raw.key}' has year '{year}', expected four digits")
            continue
        entry = Entry(raw.key, raw.entry_type.lower(), line, authors, flat)
        if int(year) >= ARXIV_ERA and "eprint" not in flat and "doi" not in flat:
            warnings.append(f"{where}: '{raw.key}' ({year}) has neither an arXiv id nor a DOI")
        entries[raw.key] = entry
    if problems:
        raise BibError(problems)
    return Bibliography(path=path, entries=entries, warnings=warnings)


def load_bibliography(path: Path | str) -> Bibliography:
    path = Path(path)
    if not path.is_file():
        raise BibError([f"{path}:1: bibliography file not found"])
    return parse_bibtex(path.read_text(encoding="utf-8"), path)
