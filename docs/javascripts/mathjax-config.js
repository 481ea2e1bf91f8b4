// MathJax 3, vendored under javascripts/vendor/mathjax (no CDN: the site works offline).
// Markdown pages: pymdownx.arithmatex wraps math in .arithmatex with \( \) and \[ \].
// Notebook pages: mkdocs-jupyter leaves $...$ in .jp-RenderedMarkdown cells.
// Everything else is ignored, so a dollar sign in prose is never taken for math.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".+",
    processHtmlClass: "arithmatex|jp-RenderedMarkdown",
    menuOptions: { settings: { assistiveMml: true, explorer: false } },
  },
};

// MathJax (about 1.2 MB) loads only once a page with math is shown: a page without math (the
// home page, the board, most topics) never fetches it. It sits beside this file.
const MATHJAX_SRC = new URL("vendor/mathjax/tex-mml-chtml.js", document.currentScript.src).href;
// A notebook's Markdown cells count only when one holds a TeX delimiter: every notebook page has
// such cells, most have no math (the results notebook has none: 1.2 MB saved there).
const TEX = /\$|\\\(|\\\[/;

function hasMath() {
  if (document.querySelector(".arithmatex")) return true;
  return Array.from(document.querySelectorAll(".jp-RenderedMarkdown")).some((cell) =>
    TEX.test(cell.textContent),
  );
}

function typeset() {
  if (!hasMath()) return;
  if (window.MathJax.typesetPromise) {
    // Instant navigation swapped the content without a reload: typeset the new page.
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    MathJax.typesetPromise();
  } else if (!document.querySelector(`script[src="${MATHJAX_SRC}"]`)) {
    const script = document.createElement("script");
    script.src = MATHJAX_SRC;
    script.async = true;
    document.head.appendChild(script); // typesets the page it finds once loaded
  }
}

if (typeof document$ !== "undefined") {
  document$.subscribe(typeset); // every page, the first one and each instant navigation
} else {
  document.addEventListener("DOMContentLoaded", typeset);
}
