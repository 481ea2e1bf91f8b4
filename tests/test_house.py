"""The house: paper cards on top, rooms below, every import pointing down, no circles.

`pytest tests/test_house.py` is the check anyone can run; it reads the sources (ast), so it
sees imports inside functions too, which are not allowed for repro modules.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

from repro.run.discover import bib_keys

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "repro"
# Floors, bottom up. A module may import its own room and the rooms below it, never above.
FLOORS = {"claims": 0, "kit": 1, "run": 2, "site": 3, "cli": 4}
ROOM_TITLE = {
    "claims": "Claims room",
    "kit": "Kit room",
    "run": "Run room",
    "site": "Site room",
    "cli": "Command-line room",
}
PAPER_FLOOR = 5  # the paper cards; they stand on claims and kit only (the runner calls them)
PAPER_MAY_IMPORT = {"claims", "kit"}
MAX_LINES = 300  # every file in repro/, no exemption: a large card becomes a package


def modules() -> dict[str, Path]:
    """Dotted name -> file for every module of the package."""
    out = {}
    for f in sorted(PKG.rglob("*.py")):
        parts = f.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = f
    return out


def floor(name: str) -> tuple[int, str]:
    """(floor, room) of a dotted module name."""
    parts = name.split(".")
    if len(parts) == 1:
        return -1, "repro"  # the package itself
    if parts[1] in FLOORS:
        return FLOORS[parts[1]], parts[1]
    if parts[1] == "__main__":
        return FLOORS["cli"], "cli"
    return PAPER_FLOOR, "paper"


def imports(path: Path, name: str, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every repro import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
            targets = [t for t in targets if t]
        for t in targets:
            if t == "repro" or t.startswith("repro."):
                while t not in known and "." in t:
                    t = t.rsplit(".", 1)[0]
                out.append((t, node.lineno, id(node) in top))
    return out


@functools.cache  # three tests read it: the parse of every module once
def graph() -> dict[str, list[tuple[str, int, bool]]]:
    mods = modules()
    return {name: imports(path, name, set(mods)) for name, path in mods.items()}


def test_every_import_points_down_or_sideways():
    bad = []
    for name, deps in graph().items():
        mine, room = floor(name)
        for dep, line, _ in deps:
            theirs, dep_room = floor(dep)
            if room == "paper":
                own = dep.split(".")[:2] == name.split(".")[:2]  # a card package's own files
                if dep_room not in PAPER_MAY_IMPORT and not own:
                    bad.append(f"{name}:{line} (a paper card) imports {dep}")
            elif theirs > mine:
                bad.append(f"{name}:{line} ({room}) imports {dep} ({dep_room}), a floor above")
    assert not bad, "\n".join(bad)


def test_no_import_is_hidden_in_a_function():
    hidden = [
        f"{name}:{line} imports {dep} inside a function"
        for name, deps in graph().items()
        for dep, line, top in deps
        if not top
    ]
    assert not hidden, "\n".join(hidden)


def test_no_import_circle():
    edges = {n: {d for d, _, _ in deps if d != n} for n, deps in graph().items()}
    # A package's __init__ re-exporting its own modules is not a circle through its children.
    for n in edges:
        edges[n] = {d for d in edges[n] if not n.startswith(d + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        for d in sorted(edges.get(n, ())):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d) :] + [d] if d in stack else [n, d])
            elif d not in state:
                visit(d, stack + [d])
        state[n] = 2

    for n in sorted(edges):
        if n not in state:
            visit(n, [n])
    assert not cycles, cycles


def test_plain_modules_in_repro_are_paper_cards_named_by_keys():
    keys = bib_keys(ROOT)
    plain = {p.stem for p in PKG.glob("*.py")} - {"__init__", "__main__"}
    assert plain and plain <= keys, plain - keys
    packages = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    rooms = packages - keys  # a large card is a package named by its key
    assert rooms == set(FLOORS), rooms


def test_module_sizes_and_room_docstrings():
    problems = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        _, room = floor(name)
        if lines > MAX_LINES:
            problems.append(f"{name}: {lines} lines (limit {MAX_LINES})")
        if "fmt: skip" in text or "fmt: off" in text:
            problems.append(f"{name}: a formatter exemption (write the code to fit instead)")
        if room in ROOM_TITLE:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if not doc.startswith(ROOM_TITLE[room]):
                problems.append(f"{name}: docstring should start '{ROOM_TITLE[room]}'")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("room", ["repro.claims"])
def test_the_claims_room_imports_neither_torch_nor_matplotlib(room):
    code = (
        f"import sys, {room}; "
        "bad = [m for m in ('torch', 'matplotlib') if m in sys.modules]; "
        "sys.exit(f'imported {bad}' if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def kit_uses() -> dict[str, set[str]]:
    """kit symbol ("tasks.adding") -> who uses it: card keys, or "run"/"site"/"cli"/"kit", or
    "benchmarks" (the scripts in benchmarks/)."""
    mods = modules()
    kit = {n.split(".")[2]: p for n, p in mods.items() if n.startswith("repro.kit.")}
    defined = {}
    for m, path in kit.items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = []
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            defined |= {f"{m}.{n}": set() for n in names if not n.startswith("_")}
    users = [(name, path, floor(name)[1]) for name, path in mods.items()]
    users += [(f"benchmarks.{f.stem}", f, "benchmarks") for f in (ROOT / "benchmarks").glob("*.py")]
    for name, path, room in users:
        who = name.split(".")[1] if room == "paper" else room
        tree = ast.parse(path.read_text(encoding="utf-8"))
        alias: dict[str, str] = {}  # local name -> kit module
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "repro.kit":
                alias |= {a.asname or a.name: a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("repro.kit."):
                m = node.module.split(".")[2]
                for a in node.names:
                    if f"{m}.{a.name}" in defined and not (
                        room == "kit" and m == name.split(".")[2]
                    ):
                        defined[f"{m}.{a.name}"].add(who)
            elif room == "kit" and isinstance(node, ast.Name):
                own = name.split(".")[2]
                if f"{own}.{node.id}" in defined and not isinstance(node.ctx, ast.Store):
                    defined[f"{own}.{node.id}"].add("kit")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                m = alias.get(node.value.id)
                if m and f"{m}.{node.attr}" in defined:
                    defined[f"{m}.{node.attr}"].add(who)
    return defined


DATA_ROOMS = {"digits", "chorales", "speech"}  # a data set lives in the kit, whoever reads it
MACHINERY = {"run", "site", "cli", "kit", "benchmarks"}  # users that count as shared on their own


def test_kit_holds_what_two_cards_share():
    """A kit symbol is used by two cards or more, or by the machinery (run, site, cli,
    benchmarks/) or other kit code; what one card alone uses lives in that card. Data sets are
    the exception: every data set lives in the kit (DATA_ROOMS), whoever reads it."""
    lonely = {
        sym: sorted(who)
        for sym, who in kit_uses().items()
        if len(who - MACHINERY) < 2 and not who & MACHINERY and sym.split(".")[0] not in DATA_ROOMS
    }
    assert not lonely, "\n".join(
        f"repro.kit.{s}: used by {w or 'nobody'}" for s, w in lonely.items()
    )
