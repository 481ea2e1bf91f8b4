"""Site room, the results notebook: docs/notebooks/results.ipynb, written and run by nbclient.

`python -m repro notebook` (a step of `nox -s repro`) regenerates the notebook and stores its
outputs; the site build never executes it (mkdocs-jupyter runs with execute: false). The notebook
only reads docs/results/*/result.json: it trains nothing. Figures are emitted as SVG through
repro.kit.figures.to_svg, so rerunning it on unchanged results gives byte-identical outputs.
"""

from __future__ import annotations

from pathlib import Path

from repro.claims import atomic_write

NOTEBOOK = Path("docs") / "notebooks" / "results.ipynb"

CELLS: list[tuple[str, str]] = [
    (
        "markdown",
        """\
# Results notebook

Every claim's stored result, read from `docs/results/<key>/result.json`, the files
`nox -s repro` writes. This notebook trains nothing: it is regenerated and executed by
`python -m repro notebook` (part of `nox -s repro`), and the site shows its stored outputs.
To explore further, open it in Jupyter from the project root.

The claims come from the papers' own statements, for example the vanishing-gradient analysis
[@bengio1994learning; @pascanu2013difficulty] and the numerical-computation chapter of the
Deep Learning book [@goodfellow2016deep]; each paper page explains what was run.""",
    ),
    (
        "code",
        """\
from collections import Counter
from pathlib import Path

from IPython.display import SVG, Markdown, display

from repro.claims import load_all
from repro.kit.figures import PALETTE, new_figure, to_svg

root = Path.cwd()
while not (root / "mkdocs.yml").exists() and root != root.parent:
    root = root.parent  # the project root, wherever Jupyter was started
records = load_all(root / "docs" / "results")
results = [r for rec in records.values() for r in rec.results.values()]
print(f"{len(results)} claims with results, from {len(records)} papers: {', '.join(records)}")""",
    ),
    ("markdown", "## Every claim\n\nThe verdict, each arm's mean with its 95% interval, and when."),
    (
        "code",
        """\
rows = ["| claim | kind | verdict | ours | scale | run |", "|---|---|---|---|---|---|"]
for rec in records.values():
    for r in rec.results.values():
        ours = "<br>".join(f"{arm}: {s.text()}" for arm, s in r.summary.items())
        verdict = r.verdict or "not yet specified"
        date = rec.provenance.get("date", "")[:10]
        rows.append(f"| `{r.claim_id}` | {r.kind} | {verdict} | {ours} "
                    f"| {rec.provenance.get('scale')} | {date} |")
display(Markdown("\\n".join(rows)))""",
    ),
    (
        "markdown",
        "## Verdicts\n\nChecks (exact or deterministic: hold or fail) and reproductions "
        "(experimental outcomes that could come out either way) are counted apart.",
    ),
    (
        "code",
        """\
kinds = {
    "reproduction": (["reproduced", "not reproduced", "inconclusive", "failed"],
                     ["#009E73", "#D55E00", "#E69F00", "#CC79A7"]),
    "check": (["holds", "fails", "failed"], ["#009E73", "#D55E00", "#CC79A7"]),
}
fig, axes = new_figure(width=8.0, height=2.4, ncols=2)
for ax, (kind, (order, colours)) in zip(axes, kinds.items()):
    counts = Counter(str(r.verdict or "not yet specified") for r in results if r.kind == kind)
    print(f"{kind}s: {sum(counts.values())}: " + ", ".join(f"{counts[v]} {v}" for v in order))
    ax.barh(order[::-1], [counts[v] for v in order[::-1]], color=colours[::-1])
    ax.set_title(f"{kind}s", fontsize=9)
    ax.set_xlabel("claims")
    ax.xaxis.get_major_locator().set_params(integer=True)
display(SVG(to_svg(fig)))""",
    ),
    (
        "markdown",
        """\
## Values per arm

One panel per arm of each claim: every seed's value (dots), and the mean with its 95% interval
(square and bar) where there is more than one seed. Panels have their own scales: arms measure
different things.""",
    ),
    (
        "code",
        """\
import math

panels = [(r, arm, s) for r in results for arm, s in r.summary.items()]
print(f"{len(panels)} arms")
ncols = 3
for start in range(0, len(panels), ncols):
    row = panels[start:start + ncols]
    fig, axes = new_figure(width=9.0, height=2.6, ncols=ncols)
    for ax, (r, arm, s) in zip(axes, row):
        vals = [v for v in r.values[arm] if math.isfinite(v)]
        colour = PALETTE[(start + axes.index(ax)) % len(PALETTE)]
        ax.plot(range(len(vals)), vals, "o", color=colour, alpha=0.7)
        if s.lo is not None and s.mean is not None and s.n > 1:
            err = [[s.mean - s.lo], [s.hi - s.mean]]
            ax.errorbar([len(vals)], [s.mean], yerr=err, fmt="s", color=colour, capsize=4)
        ax.set_title(f"{r.claim_id.split('.', 1)[1]}\\n{arm}", fontsize=8)
        ax.set_xticks([])
        if vals and min(vals) > 0 and max(vals) / min(vals) > 100:
            ax.set_yscale("log")
    for ax in axes[len(row):]:
        ax.set_visible(False)
    display(SVG(to_svg(fig)))""",
    ),
]


def notebook():
    """The notebook object, without outputs."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for i, (kind, source) in enumerate(CELLS):
        cell = (
            nbformat.v4.new_markdown_cell(source)
            if kind == "markdown"
            else nbformat.v4.new_code_cell(source)
        )
        cell["id"] = f"cell-{i}"  # stable ids: no churn in git
        nb.cells.append(cell)
    return nb


def build(root: Path, execute: bool = True, timeout: int = 300) -> Path:
    """Write docs/notebooks/results.ipynb under `root`, executed (outputs stored) by default."""
    import nbformat  # the docs dependency group, not the core install

    nb = notebook()
    if execute:
        from nbclient import NotebookClient  # the docs dependency group

        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,  # no timestamps in the stored notebook
            resources={"metadata": {"path": str(root)}},
        )
        client.execute()
        nb.metadata.pop("widgets", None)
    path = root / NOTEBOOK
    atomic_write(path, nbformat.writes(nb))
    return path
