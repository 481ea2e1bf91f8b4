"""Site room, the Zensical build: notebooks rendered to Markdown pages before `zensical build`.

Zensical (Material for MkDocs' successor) reads mkdocs.yml but runs no MkDocs plugins, so
mkdocs-jupyter never renders the notebooks (docs/notebooks/*.ipynb, the jupytext .py ones): their
nav entries would be links to the raw files and their pages would be missing. `prepare` writes a
tree Zensical builds as it is, under a git-ignored folder (scratch/zensical by default):

    docs/        a copy of docs/ in which each notebook is a Markdown page of the same name
                 (nbconvert's Markdown: the cells, then their stored outputs; figures as files
                 in <name>_files/), and links to a notebook point at its page
    mkdocs.yml   mkdocs.yml with the nav pointing at those pages and repro.site.markdown told
                 where the project's sources are (checks) and where the pages are (backlinks)

Nothing is executed: the pages show the outputs stored in the notebooks. `python -m
repro.site.zensical` prepares, builds and copies the site to site/ (Zensical keeps docs_dir and
site_dir inside the config's folder); `--prepare-only` prints the command instead. The MkDocs
build does not use this: mkdocs-jupyter renders the notebooks there.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = Path("scratch") / "zensical"
NB_PLUGIN = "mkdocs-jupyter"
EXTENSION = "repro.site.markdown"
# Markdown links: inline `](target` and reference definitions `[x]: target`.
LINK_RE = re.compile(r"(\]\(\s*<?|^\s{0,3}\[[^\]]+\]:\s*<?)([^)\s>#?]+)", re.M)


class _Lenient(yaml.SafeLoader):
    """Reads mkdocs.yml without resolving its tags (!ENV, !!python/name): only nav and the
    plugins' options are needed here."""


_Lenient.add_multi_constructor("", lambda loader, suffix, node: None)
_Lenient.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def read_config(path: Path) -> dict[str, Any]:
    """mkdocs.yml as plain data (tagged values read as None)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Lenient) or {}


def _plugin_options(config: dict[str, Any], name: str) -> dict[str, Any] | None:
    for item in config.get("plugins") or []:
        if item == name:
            return {}
        if isinstance(item, dict) and name in item:
            return item[name] or {}
    return None


def notebooks(config: dict[str, Any], docs: Path) -> list[str]:
    """The docs-relative paths mkdocs-jupyter renders as pages: files matching its `include`
    patterns (as it matches them), .ipynb and .py only (a .md is a page for Zensical anyway)."""
    options = _plugin_options(config, NB_PLUGIN)
    if options is None:
        return []
    include = options.get("include", ["*.py", "*.ipynb"])
    found = []
    for path in sorted(docs.rglob("*")):
        rel = PurePosixPath(path.relative_to(docs).as_posix())
        if path.suffix in (".ipynb", ".py") and any(rel.match(p) for p in include):
            found.append(str(rel))
    return found


def page_of(source: str) -> str:
    """The Markdown page a notebook becomes: same folder, same name."""
    return str(PurePosixPath(source).with_suffix(".md"))


def render_notebook(source: Path, dest: Path, lazy: bool = False) -> None:
    """Write `dest` (Markdown) from the notebook `source` with its stored outputs; figures go
    to <stem>_files/ beside it, loaded as they scroll into view if `lazy` (needs attr_list). A
    .py notebook is read through jupytext (percent format)."""
    import nbformat
    from nbconvert import MarkdownExporter

    if source.suffix == ".py":
        import jupytext

        nb = jupytext.read(source)
    else:
        nb = nbformat.read(source, as_version=4)
    files = f"{dest.stem}_files"
    body, resources = MarkdownExporter().from_notebook_node(nb, {"output_files_dir": files})
    for name, data in resources.get("outputs", {}).items():
        out = dest.parent / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    # nbconvert's alt text is the MIME subtype ("svg"): say what the image is instead.
    body = re.sub(r"!\[(svg|png|jpeg)\]\(", "![Figure output of the cell above](", body)
    if lazy:
        body = re.sub(r"(!\[[^\]]*\]\([^)\s]+\))", r"\1{ loading=lazy }", body)
    dest.write_text(body, encoding="utf-8")


def rewrite_links(text: str, page: str, moved: dict[str, str]) -> str:
    """Point links from `page` (docs-relative) to a notebook in `moved` at its Markdown page."""
    here = posixpath.dirname(page)

    def repl(m: re.Match[str]) -> str:
        target = m.group(2)
        if "://" in target or target.startswith("/"):
            return m.group(0)
        resolved = posixpath.normpath(posixpath.join(here, target))
        if resolved not in moved:
            return m.group(0)
        return m.group(1) + posixpath.relpath(moved[resolved], here or ".")

    return LINK_RE.sub(repl, text)


def config_text(text: str, moved: dict[str, str], root: Path, pages: Path) -> str:
    """mkdocs.yml's text for the prepared tree: notebook nav entries point at their pages, the
    Markdown extension gets the project root and the pages' folder, docs/ and site/ are local.
    Edited as text so the tags Zensical resolves (!ENV, !!python/name) stay as written."""
    lines = text.splitlines()
    out, in_nav = [], False
    for line in lines:
        if re.match(r"[^\s#]", line):  # a top-level key
            in_nav = line.startswith("nav:")
        if re.match(r"(docs_dir|site_dir):", line):
            continue
        if in_nav:
            for source, page in moved.items():
                line = re.sub(rf"(?<=[\s:\"']){re.escape(source)}(?=[\"']?\s*$)", page, line)
        ext = re.match(rf"(\s*)- {re.escape(EXTENSION)}:?\s*$", line)
        if ext:
            pad = ext.group(1) + "    "
            options = (
                f"{pad}root: {json.dumps(str(root))}\n{pad}pages_dir: {json.dumps(str(pages))}"
            )
            line = f"{ext.group(1)}- {EXTENSION}:\n{options}"
        out.append(line)
    return "\n".join(out) + "\ndocs_dir: docs\nsite_dir: site\n"


def _nav_paths(nav: Any) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in _nav_paths(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _nav_paths(value)]
    return []


def prepare(root: Path = ROOT, out: Path | None = None) -> Path:
    """Write the tree Zensical builds (see the module docstring) and return its config."""
    root = root.resolve()
    out = (root / (out or OUT)).resolve()
    source_config = root / "mkdocs.yml"
    config = read_config(source_config)
    docs = root / config.get("docs_dir", "docs")
    found = notebooks(config, docs)
    extensions = [
        e if isinstance(e, str) else next(iter(e)) for e in config.get("markdown_extensions") or []
    ]
    moved = {source: page_of(source) for source in found}
    pages = out / "docs"
    for old in (pages, out / "site"):  # nothing stale: a notebook removed is a page removed
        shutil.rmtree(old, ignore_errors=True)
    shutil.copytree(docs, pages, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for source, page in moved.items():
        if (docs / page).exists():
            raise ValueError(f"docs/{page} exists: notebook docs/{source} would replace it")
        (pages / source).unlink()
        render_notebook(docs / source, pages / page, lazy="attr_list" in extensions)
    for md in pages.rglob("*.md"):
        rel = md.relative_to(pages).as_posix()
        text = md.read_text(encoding="utf-8")
        if (new := rewrite_links(text, rel, moved)) != text:
            md.write_text(new, encoding="utf-8")
    target = out / "mkdocs.yml"
    target.write_text(
        config_text(source_config.read_text(encoding="utf-8"), moved, root, pages),
        encoding="utf-8",
    )
    left = set(_nav_paths(read_config(target).get("nav"))) & set(moved)
    if left:
        raise ValueError(f"{target}: nav still names notebooks {sorted(left)}")
    return target


def zensical_command(config: Path, *args: str) -> list[str]:
    """`zensical build -f CONFIG ARGS` with the zensical installed beside this Python."""
    exe = Path(sys.executable).parent / "zensical"
    return [str(exe) if exe.exists() else "zensical", "build", "-f", str(config), *args]


def _check_site_dir(site: Path, out: Path) -> None:
    """`site` will be replaced: it must be a built site (or absent), apart from the tree."""
    built = (site / "index.html").is_file() and (site / "assets").is_dir()
    if site.exists() and not built:
        raise SystemExit(f"--site-dir {site}: not a built site, refusing to replace it")
    if site.is_relative_to(out) or out.is_relative_to(site):
        raise SystemExit(f"--site-dir {site}: overlaps the prepared tree {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m repro.site.zensical",
        description="Render the notebooks to pages and build the site with Zensical; "
        "other options go to `zensical build` (for example --strict).",
    )
    parser.add_argument("--out", type=Path, default=OUT, help="the prepared tree (git-ignored)")
    parser.add_argument(
        "--site-dir", default="site", help="copy the site here ('' leaves it in OUT/site)"
    )
    parser.add_argument("--prepare-only", action="store_true", help="print the build command")
    args, extra = parser.parse_known_args(argv)
    site = (ROOT / args.site_dir).resolve() if args.site_dir else None
    if site is not None:
        _check_site_dir(site, (ROOT / args.out).resolve())
    config = prepare(ROOT, args.out)
    command = zensical_command(config, "--clean", *extra)
    if args.prepare_only:
        print(" ".join(command))
        return 0
    path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}  # this project's repro first
    proc = subprocess.run(command, cwd=ROOT, env=env)
    if proc.returncode == 0 and site is not None:
        shutil.rmtree(site, ignore_errors=True)
        shutil.copytree(config.parent / "site", site)
        print(f"site copied to {site}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
