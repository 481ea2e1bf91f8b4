"""The Zensical pre-build (repro.site.zensical) on a throwaway project: notebooks become Markdown
pages with their stored outputs, nav entries and links follow them, the config keeps its tags.
No Zensical build here (the slow tier's zensical_site fixture runs one on the real project)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from repro.site import zensical

CONFIG = """\
site_name: mini
site_url: !ENV [MINI_SITE_URL, "http://127.0.0.1:8000/"]
plugins:
  - search
  - mkdocs-jupyter:
      include: ["*.ipynb", "nb/*.py"]
markdown_extensions:
  - attr_list
  - pymdownx.emoji:
      emoji_generator: !!python/name:material.extensions.emoji.to_svg
  - repro.site.markdown
nav:
  - index.md
  # notebooks
  - nb/results.ipynb
  - "A template": nb/explore.py
"""
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4"/></svg>'
EXPLORE = """\
# %% [markdown]
# # Explore
#
# A template [@elman1990finding].

# %%
print("not run")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "docs" / "nb").mkdir(parents=True)
    (tmp_path / "mkdocs.yml").write_text(CONFIG)
    (tmp_path / "docs" / "index.md").write_text(
        "# Home\n\n[Results](nb/results.ipynb), [the template](nb/explore.py#explore),\n"
        "[elsewhere](https://example.org/x.ipynb), [a script](nb/helper.py).\n\n"
        "[ref]: nb/results.ipynb\n"
    )
    (tmp_path / "docs" / "nb" / "helper.py").write_text("x = 1\n")  # matches, not in nav
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(6 * 7)")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="answer 42\n"),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": SVG, "text/plain": "x"}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Results\n\nSee [@elman1990finding]."), code]
    nbformat.write(nb, tmp_path / "docs" / "nb" / "results.ipynb")
    (tmp_path / "docs" / "nb" / "explore.py").write_text(EXPLORE)
    return tmp_path


def test_notebooks_become_pages_with_their_stored_outputs(project: Path):
    config = zensical.prepare(project, Path("build"))
    pages = project / "build" / "docs"
    assert config == project / "build" / "mkdocs.yml"
    results = (pages / "nb" / "results.md").read_text()
    assert results.startswith("# Results") and "[@elman1990finding]" in results
    assert "print(6 * 7)" in results and "answer 42" in results  # the code and what it printed
    figure = "![Figure output of the cell above](results_files/output_1_1.svg){ loading=lazy }"
    assert figure in results
    assert (pages / "nb" / "results_files" / "output_1_1.svg").read_text() == SVG
    explore = (pages / "nb" / "explore.md").read_text()
    assert "# Explore" in explore and 'print("not run")' in explore
    left = {p.name for p in (pages / "nb").iterdir()}
    assert left == {"results.md", "results_files", "explore.md", "helper.md"}


def test_nav_and_links_point_at_the_pages_and_the_tags_stay(project: Path):
    text = zensical.prepare(project, Path("build")).read_text()
    assert "  - nb/results.md\n" in text and '"A template": nb/explore.md\n' in text
    nav = text.split("\nnav:\n")[1]
    assert ".ipynb" not in nav and ".py" not in nav
    assert '!ENV [MINI_SITE_URL, "http://127.0.0.1:8000/"]' in text  # resolved by Zensical
    assert "!!python/name:material.extensions.emoji.to_svg" in text
    assert f'  - repro.site.markdown:\n      root: "{project}"\n' in text
    assert f'      pages_dir: "{project / "build" / "docs"}"\n' in text
    assert text.endswith("docs_dir: docs\nsite_dir: site\n")
    index = (project / "build" / "docs" / "index.md").read_text()
    assert "[Results](nb/results.md), [the template](nb/explore.md#explore)" in index
    assert "(https://example.org/x.ipynb)" in index and "[a script](nb/helper.md)" in index
    assert "[ref]: nb/results.md" in index


def test_links_from_a_nested_page_are_relative_to_it():
    moved = {"notebooks/results.ipynb": "notebooks/results.md"}
    text = "[a](../notebooks/results.ipynb) [b](results.ipynb) [c](/notebooks/results.ipynb)"
    assert zensical.rewrite_links(text, "papers/x.md", moved) == (
        "[a](../notebooks/results.md) [b](results.ipynb) [c](/notebooks/results.ipynb)"
    )


def test_a_page_the_notebook_would_replace_is_an_error(project: Path):
    (project / "docs" / "nb" / "results.md").write_text("# Clash\n")
    with pytest.raises(ValueError, match=r"docs/nb/results\.md exists: notebook docs/nb/results"):
        zensical.prepare(project, Path("build"))


def test_the_site_dir_must_be_a_built_site(project: Path):
    with pytest.raises(SystemExit, match="not a built site"):
        zensical._check_site_dir(project, project / "build")
    with pytest.raises(SystemExit, match="overlaps"):
        zensical._check_site_dir(project / "build" / "site", project / "build")
    zensical._check_site_dir(project / "site", project / "build")  # absent: fine
