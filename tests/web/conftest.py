"""The web tests' fixture: a daemon serving its page (see helpers.py)."""

from __future__ import annotations

import pytest

from .helpers import TOKEN


@pytest.fixture
def web_daemon(daemon, tmp_path, monkeypatch):
    """``web_daemon(**kw) -> (Daemon, base URL)``: a started daemon serving its page on a free port, its session
    in a sessions folder of the test's own."""
    monkeypatch.setenv("DD_LIVE_SESSIONS", str(tmp_path))

    def start(**kw):
        d, c = daemon(tmp_path / f"web{kw.pop('n', 0)}", web_port=0, web_token=TOKEN, **kw)
        return d, f"http://127.0.0.1:{d.web.port}"

    return start


@pytest.fixture(scope="module")
def chrome():
    """Headless chromium, one per test module."""
    from dd_live.testing.browser import browser

    with browser() as b:
        yield b


@pytest.fixture
def shown(request, chrome, web_daemon):
    """(daemon, page, the candidate id the page shows first): a daemon serving its page, open in chromium (with
    the test module's ``INIT_SCRIPT`` run before the page's own, if it has one)."""
    from dd_live.testing.browser import new_page, next_grid

    d, base = web_daemon()
    page = new_page(chrome, f"{base}/?token={TOKEN}", init_script=getattr(request.module, "INIT_SCRIPT", None))
    try:
        yield d, page, next_grid(page, 0, 60_000)
    finally:
        page.close()
