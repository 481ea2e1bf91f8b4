"""What a reader sees: the built MkDocs site in Debian's chromium, driven by Playwright,
offline (fixtures: tests/browsing.py). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import pytest
from browsing import PAGE_WIDTH, PHONE, offline, require_chromium, shot

from conftest import CORE

pytestmark = pytest.mark.browser
require_chromium()


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
    """The home page and the results notebook (no math in its Markdown cells) never fetch
    MathJax's 1.2 MB; a page with math does."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    offline(context, [])
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    for path in ("", "notebooks/results/"):
        page.goto(base_url + path)
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


def test_the_board_has_no_hover_only_text(browser_page, base_url):
    """Nothing on the board lives only in a hover title (a touch reader cannot open one): a cut
    "Paper says" text and every arm's interval open under the claim's line on a click or tap."""
    browser_page.goto(base_url)
    board = browser_page.locator(".sn-board")
    assert board.locator("[title]").count() == 0
    cut = board.locator("td[data-label='Paper says'] details.sn-more").first
    cut.scroll_into_view_if_needed()
    summary, full = cut.locator("summary"), cut.locator(".sn-more-full")
    short = summary.inner_text()
    assert short.endswith("…") and not full.is_visible()
    summary.click()
    full.wait_for(state="visible", timeout=5000)
    assert full.inner_text().startswith(short.rstrip("…")) and len(full.inner_text()) > len(short)
    ours = board.locator("td[data-label='Ours'] details.sn-more").first
    ours.locator("summary").click()
    assert "[" in ours.locator(".sn-more-full").inner_text()  # the intervals: mean [lo, hi]
    shot(browser_page, "board-fold-open")


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


def test_no_request_left_127_0_0_1_and_no_script_errors(browser_page):
    assert browser_page.outside == []
    assert browser_page.js_errors == []
