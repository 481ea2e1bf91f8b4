"""What a reader sees: the built site in Debian's chromium, driven by Playwright, offline.

Never runs `playwright install`: it drives /usr/bin/chromium (apt). Where that browser is not
installed the test skips and says so; .ci/run installs it, so CI always runs this test.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import ARTIFACTS, CORE, SITE_PORT

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.browser

if not CHROMIUM.exists() and not os.environ.get("SEQNOTES_REQUIRE_BROWSER"):
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
        allow_module_level=True,
    )
from playwright import sync_api  # noqa: E402  (installed by the test dependency group)

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@pytest.fixture(scope="module")
def base_url(built_site: Path):
    handler = functools.partial(QuietHandler, directory=str(built_site))
    server = ThreadingHTTPServer(("127.0.0.1", SITE_PORT), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{SITE_PORT}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(base_url: str):
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _offline(context, outside: list[str]) -> None:
    """Anything not on 127.0.0.1 is recorded and aborted."""

    def guard(route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1",) or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)


@pytest.fixture(scope="module")
def browser_page(browser):
    """A desktop page whose every request is checked (`page.outside`), and its script errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    outside: list[str] = []
    _offline(context, outside)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.outside, page.js_errors = outside, errors
    yield page
    context.close()


@pytest.fixture(scope="module")
def phone_page(browser):
    """A phone (390 x 844, touch), offline like `browser_page`."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    outside: list[str] = []
    _offline(context, outside)
    page = context.new_page()
    page.outside = outside
    yield page
    context.close()


PHONE = 390
# The page's width in CSS pixels: wider than the screen means a reader must pan (or, with
# Material's overflow-x: hidden, cannot reach what is cut off).
PAGE_WIDTH = "document.documentElement.scrollWidth"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_home_page_renders(browser_page, base_url):
    browser_page.goto(base_url)
    assert browser_page.locator("h1").first.is_visible()
    assert "seqnotes" in browser_page.title()
    shot(browser_page, "home")


def test_search_finds_a_word_from_a_paper_page(browser_page, base_url):
    browser_page.goto(base_url)
    browser_page.locator("label.md-search__icon, .md-search__input").first.click()
    field = browser_page.locator("input.md-search__input")
    field.press_sequentially("latching", delay=40)  # fill() does not trigger Material search
    result = browser_page.locator(".md-search-result__item").first
    result.wait_for(state="visible", timeout=15000)
    assert "latching" in browser_page.locator(".md-search-result").inner_text().lower()
    shot(browser_page, "search")
    links = browser_page.locator(".md-search-result__item a")
    assert any(
        "bengio1994learning" in (links.nth(i).get_attribute("href") or "")
        for i in range(links.count())
    )


def test_math_is_typeset_after_instant_navigation(browser_page, base_url):
    browser_page.goto(base_url)
    # Reach a paper page by clicking (instant navigation swaps content without a reload).
    browser_page.locator("a[href$='papers/bengio1994learning/']").first.click()
    browser_page.wait_for_url("**/papers/bengio1994learning/")
    browser_page.locator("mjx-container").first.wait_for(state="attached", timeout=15000)
    assert browser_page.locator("mjx-container").count() > 0
    assert browser_page.locator(".arithmatex mjx-container").count() > 0
    shot(browser_page, "math")


def test_mathjax_loads_only_on_pages_with_math(browser, base_url):
    """The home page (no math) never fetches MathJax's 1.2 MB; a page with math does."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    _offline(context, [])
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    page.goto(base_url)
    page.wait_for_load_state("networkidle")
    assert not [u for u in fetched if "mathjax/tex-mml-chtml" in u]
    page.goto(base_url + "papers/bengio1994learning/")
    page.locator("mjx-container").first.wait_for(state="attached", timeout=15000)
    assert [u for u in fetched if "mathjax/tex-mml-chtml" in u]
    context.close()


def test_citation_shows_full_reference_on_hover(browser_page, base_url):
    browser_page.goto(base_url + "papers/bai2018tcn/")
    cite = browser_page.locator("a.sn-cite[data-key='bai2018tcn']").first
    card = browser_page.locator(".sn-cite-item", has=cite).first.locator(".sn-cite-card")
    assert not card.is_visible()
    cite.scroll_into_view_if_needed()
    cite.hover()
    card.wait_for(state="visible", timeout=5000)
    text = card.inner_text()
    assert "Shaojie Bai" in text and "Vladlen Koltun" in text and "2018" in text
    assert cite.inner_text() == "Bai et al., 2018"
    shot(browser_page, "citation-hover")


def test_dark_mode_toggle(browser_page, base_url):
    browser_page.goto(base_url)
    body = browser_page.locator("body")
    assert body.get_attribute("data-md-color-scheme") == "default"
    toggle = browser_page.locator("form[data-md-component='palette'] label:visible")
    toggle.first.click()
    browser_page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    shot(browser_page, "dark")
    toggle.first.click()
    browser_page.wait_for_function(
        "document.body.getAttribute('data-md-color-scheme') === 'default'"
    )


def test_a_claim_block_reads_at_a_glance(browser_page, base_url):
    """What a reader sees first: the verdict line, "paper | ours", the criterion, the dot-and-
    interval figure; the per-seed values and provenance stay folded until opened."""
    browser_page.goto(base_url + "papers/bai2018tcn/")
    block = browser_page.locator("#claim-bai2018tcn-copy-memory")
    block.scroll_into_view_if_needed()
    title = block.locator(".admonition-title")
    assert "reproduction" in title.inner_text()
    assert block.locator("table.sn-compare").is_visible()
    assert block.locator("svg.sn-dots").is_visible()
    details = block.locator("details.sn-details")
    assert not details.locator("table.sn-provenance-table").is_visible()
    shot(browser_page, "claim-block")
    details.locator("> summary").click()
    assert details.locator("text=Per seed").first.is_visible()


def test_the_board_filters_by_verdict_and_sorts(browser_page, base_url):
    browser_page.goto(base_url)
    board = browser_page.locator(".sn-board")
    board.scroll_into_view_if_needed()
    rows = board.locator("tbody tr")
    total = rows.count()
    assert total >= 10
    board.locator("button.sn-filter[data-field='kind'][data-value='check']").click()
    visible = [rows.nth(i).is_visible() for i in range(total)]
    checks = board.locator("tbody tr[data-kind='check']").count()
    assert sum(visible) == checks and 0 < checks < total
    shot(browser_page, "board-filtered")
    board.locator("button.sn-filter[data-field='']").click()
    assert all(rows.nth(i).is_visible() for i in range(total))
    first = rows.first.inner_text()
    board.locator("thead th").nth(1).click()
    board.locator("thead th").nth(1).click()  # descending
    assert rows.first.inner_text() != first or total == 1
    shot(browser_page, "board")


def test_the_same_page_under_zensical(zensical_site, browser_page):
    """Zensical runs no MkDocs plugin: the citation hover and the claim block come from the
    Markdown extension (repro.site.markdown)."""
    handler = functools.partial(QuietHandler, directory=str(zensical_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        browser_page.goto(f"http://127.0.0.1:{port}/papers/bai2018tcn/")
        cite = browser_page.locator("a.sn-cite[data-key='bai2018tcn']").first
        card = browser_page.locator(".sn-cite-item", has=cite).first.locator(".sn-cite-card")
        cite.scroll_into_view_if_needed()
        cite.hover()
        card.wait_for(state="visible", timeout=5000)
        assert "Shaojie Bai" in card.inner_text()
        block = browser_page.locator("#claim-bai2018tcn-copy-memory")
        block.scroll_into_view_if_needed()
        assert block.locator("svg.sn-dots").is_visible()
        figure = block.locator("img").first  # loading="lazy": it loads once scrolled to
        figure.scroll_into_view_if_needed()
        browser_page.wait_for_function(
            "i => i.complete && i.naturalWidth > 0", arg=figure.element_handle(), timeout=5000
        )
        shot(browser_page, "zensical-claim-block")
    finally:
        server.shutdown()


@pytest.mark.parametrize("path", ["", *(f"papers/{key}/" for key in CORE)])
def test_no_page_is_wider_than_a_phone(phone_page, base_url, path):
    """Home (with the claims board), and every core paper page with its claim blocks, at 390 px:
    tables scroll in their own box, math in its own, the board is a stacked list."""
    phone_page.goto(base_url + path)
    phone_page.wait_for_timeout(300)  # MathJax typesets after load
    width = phone_page.evaluate(PAGE_WIDTH)
    shot(phone_page, f"phone-{path.strip('/').replace('/', '-') or 'home'}")
    assert width <= PHONE, f"{path or 'home'} is {width} px wide on a {PHONE} px screen"


def test_the_board_is_a_stacked_list_on_a_phone(phone_page, base_url):
    phone_page.goto(base_url)
    row = phone_page.locator(".sn-board tbody tr").first
    row.scroll_into_view_if_needed()
    assert phone_page.locator(".sn-board thead").is_hidden()
    box = row.bounding_box()
    assert box is not None and box["width"] <= PHONE
    assert "Ours" in row.evaluate("r => getComputedStyle(r.cells[5], '::before').content")


@pytest.mark.parametrize("key", CORE)
def test_every_closed_block_says_what_decided_its_verdict(browser_page, base_url, key):
    """Without opening anything: a heading in words, the verdict and its deciding part, and the
    numbers at 14 px or more."""
    browser_page.goto(base_url + f"papers/{key}/")
    blocks = browser_page.locator(".sn-claim")
    assert blocks.count() > 0
    for i in range(blocks.count()):
        block = blocks.nth(i)
        verdict = block.locator(".sn-verdict")
        heading = block.locator(".sn-claim-heading").inner_text()
        assert heading and "." not in heading.split()[0], heading  # words, not the claim id
        classes = block.get_attribute("class") or ""
        if "sn-claim--not-reproduced" in classes or "sn-claim--inconclusive" in classes:
            assert verdict.is_visible(), f"{key} block {i}: no deciding part shown"
            assert len(verdict.inner_text()) > 20
        cell = block.locator("table.sn-compare td").first
        size = float(cell.evaluate("c => getComputedStyle(c).fontSize").removesuffix("px"))
        assert size >= 14, f"{key} block {i}: claim table at {size} px"


def test_zensical_pages_fit_a_phone_too(zensical_site, phone_page):
    """The Zensical build (Material's successor) uses the same stylesheets: home with the board
    and a paper page with its claim blocks are no wider than a 390 px screen there either."""
    handler = functools.partial(QuietHandler, directory=str(zensical_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        for path in ("", "papers/bai2018tcn/"):
            phone_page.goto(f"http://127.0.0.1:{port}/{path}")
            phone_page.wait_for_timeout(300)
            width = phone_page.evaluate(PAGE_WIDTH)
            shot(phone_page, f"zensical-phone-{path.strip('/').replace('/', '-') or 'home'}")
            assert width <= PHONE, f"Zensical {path or 'home'}: {width} px on a {PHONE} px screen"
    finally:
        server.shutdown()


def test_no_request_left_127_0_0_1_and_no_script_errors(browser_page):
    assert browser_page.outside == []
    assert browser_page.js_errors == []
