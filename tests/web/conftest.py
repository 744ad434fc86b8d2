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
