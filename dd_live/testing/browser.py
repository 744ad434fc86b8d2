"""A headless browser for the web page's tests and ``dd-live bench web``: Debian's chromium driven by Playwright
(``pip install playwright``; no browser download: the system's chromium is used)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import BackendError


def chromium_path() -> str:
    """$DD_LIVE_CHROMIUM, else chromium or chromium-browser on the PATH; BackendError if none."""
    path = os.environ.get("DD_LIVE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise BackendError("no chromium found (Debian: apt install chromium; or set DD_LIVE_CHROMIUM)")
    return path


@contextmanager
def browser() -> Iterator:
    """A Playwright Browser on headless chromium (sound allowed without a click), closed on exit."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        raise BackendError("the browser checks need Playwright (pip install playwright)") from err
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True,
                              args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        try:
            yield b
        finally:
            b.close()


def new_page(b, url: str, *, init_script: str | None = None):
    """A page at ``url`` in a context of its own (its Content-Security-Policy set aside, so that Playwright may
    evaluate its waits' conditions); ``init_script`` runs before the page's own (a fake Web MIDI, say)."""
    page = b.new_context(bypass_csp=True).new_page()
    if init_script:
        page.add_init_script(init_script)
    page.goto(url)
    return page


def next_grid(page, old: int, timeout_ms: float = 30_000) -> int:
    """Wait until the page shows a grid other than candidate ``old``; its id."""
    page.wait_for_function(f"window.dd && dd.grid && dd.grid.id !== {int(old)}", timeout=timeout_ms)
    return int(page.evaluate("dd.grid.id"))
