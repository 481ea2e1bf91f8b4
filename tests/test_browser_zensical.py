"""What a reader sees in the Zensical build (Material's successor, which runs no MkDocs plugins:
citations and claim blocks come from the Markdown extension repro.site.markdown, notebook pages
from repro.site.zensical's pre-build), in Debian's chromium, offline. Fixtures:
tests/browsing.py; screenshots go to test-artifacts/.
"""

from __future__ import annotations

import pytest
from browsing import PAGE_WIDTH, PHONE, require_chromium, serve, shot

pytestmark = pytest.mark.browser
require_chromium()


def test_the_same_page_under_zensical(zensical_site, browser_page):
    """Zensical runs no MkDocs plugin: the citation hover and the claim block come from the
    Markdown extension (repro.site.markdown)."""
    with serve(zensical_site) as url:
        browser_page.goto(url + "papers/bai2018tcn/")
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


def test_the_notebook_page_under_zensical(zensical_site, browser_page):
    """The results notebook, rendered to Markdown before the build, is reached from the menu
    (not a raw .ipynb) and shows its stored figures."""
    with serve(zensical_site) as url:
        browser_page.goto(url)
        browser_page.locator("a[href$='notebooks/results/']").first.click()
        browser_page.wait_for_url("**/notebooks/results/")
        heading = browser_page.locator("article h1", has_text="Results notebook")
        heading.wait_for(state="visible", timeout=5000)
        figure = browser_page.locator("article img").first
        figure.scroll_into_view_if_needed()
        browser_page.wait_for_function(
            "i => i.complete && i.naturalWidth > 0", arg=figure.element_handle(), timeout=5000
        )
        shot(browser_page, "zensical-notebook")


# Home with the board, a paper page with its claim blocks, the results notebook's page.
PHONE_PAGES = {
    "": "home",
    "papers/bai2018tcn/": "papers-bai2018tcn",
    "notebooks/results/": "notebook",
}


@pytest.mark.parametrize("path", PHONE_PAGES)
def test_zensical_pages_fit_a_phone_too(zensical_site, phone_page, path):
    """The Zensical build uses the same stylesheets: no page is wider than a 390 px screen
    there either; screenshots test-artifacts/zensical-phone-*.png."""
    with serve(zensical_site) as url:
        phone_page.goto(url + path)
        phone_page.wait_for_timeout(300)
        width = phone_page.evaluate(PAGE_WIDTH)
        shot(phone_page, f"zensical-phone-{PHONE_PAGES[path]}")
        assert width <= PHONE, f"Zensical {path or 'home'}: {width} px on a {PHONE} px screen"


def test_no_request_left_127_0_0_1_and_no_script_errors(browser_page, phone_page):
    assert browser_page.outside == [] and phone_page.outside == []
    assert browser_page.js_errors == []
