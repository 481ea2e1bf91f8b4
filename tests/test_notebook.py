"""The results notebook: generated from a template, committed with outputs, trains nothing."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from repro.site import notebook

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / notebook.NOTEBOOK


def test_template_is_a_valid_notebook_that_trains_nothing(tmp_path):
    path = notebook.build(tmp_path, execute=False)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "load_all" in code and "docs" in code
    for word in ("train(", "run_paper", ".backward(", "optim"):
        assert word not in code


@pytest.mark.skipif(not COMMITTED.exists(), reason="run `python -m repro notebook` first")
def test_committed_notebook_has_outputs_and_no_errors():
    nb = json.loads(COMMITTED.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("outputs") for c in code), "every code cell has stored outputs"
    for c in code:
        assert all(o.get("output_type") != "error" for o in c["outputs"])
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert sources == [src for _, src in notebook.CELLS], "regenerate: python -m repro notebook"
