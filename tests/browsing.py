"""Browser fixtures for the tests that look at the built sites as a reader does: Debian's
chromium driven by Playwright, offline (every request off 127.0.0.1 is recorded and aborted).

A plugin of tests/conftest.py. Never runs `playwright install`: it drives /usr/bin/chromium
(apt). A browser test module calls `require_chromium()` first: where that browser is missing it
skips and says so; .ci/run installs it (and sets SEQNOTES_REQUIRE_BROWSER), so CI always runs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import ARTIFACTS, SITE_PORT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = 390
# The page's width in CSS pixels: wider than the screen means a reader must pan (or, with
# Material's overflow-x: hidden, cannot reach what is cut off).
PAGE_WIDTH = "document.documentElement.scrollWidth"


def require_chromium() -> None:
    """Skip the calling test module where Debian's chromium is missing (never in CI)."""
    if not CHROMIUM.exists() and not os.environ.get("SEQNOTES_REQUIRE_BROWSER"):
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
            allow_module_level=True,
        )


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@contextlib.contextmanager
def serve(site: Path, port: int = 0) -> Iterator[str]:
    """Serve `site` on 127.0.0.1 (any free port unless given); yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


@pytest.fixture(scope="module")
def base_url(built_site: Path) -> Iterator[str]:
    """The MkDocs build, served on SITE_PORT (the site_url it was built for)."""
    with serve(built_site, SITE_PORT) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright import sync_api  # the test dependency group; only where chromium is

    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def offline(context, outside: list[str]) -> None:
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
    offline(context, outside)
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
        viewport={"width": PHONE, "height": 844}, has_touch=True, is_mobile=True
    )
    outside: list[str] = []
    offline(context, outside)
    page = context.new_page()
    page.outside = outside
    yield page
    context.close()
