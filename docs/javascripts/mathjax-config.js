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

// Instant navigation swaps page content without a reload: typeset each new page.
document$.subscribe(() => {
  if (!window.MathJax.startup || !window.MathJax.typesetPromise) return;
  MathJax.startup.output.clearCache();
  MathJax.typesetClear();
  MathJax.texReset();
  MathJax.typesetPromise();
});
