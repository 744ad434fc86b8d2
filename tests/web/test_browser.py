"""The page in a real browser (Debian's chromium, headless, driven by Playwright): it loads and shows the
candidate's grid, a click on Like stores a rating and the next grid appears, the keys work, the loop's WAV
becomes an AudioBuffer of one bar, settings go to the daemon, a restarted daemon is found again, and a wrong
token is refused (issue 18)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from .helpers import TOKEN

pytestmark = pytest.mark.browser


def _open(chrome, base: str, token: str = TOKEN):
    from dd_live.testing.browser import new_page

    return new_page(chrome, f"{base}/?token={token}")


def test_the_page_shows_the_grid_and_a_like_is_stored_and_the_next_grid_follows(shown):
    from dd_live.testing.browser import next_grid

    d, page, cid = shown
    assert cid == d.current.id
    cells = page.locator("#grid td.cell")
    p = d.current.pattern
    assert cells.count() == p.tracks * p.steps
    shaded = [int(v) for v in cells.evaluate_all("els => els.map(e => e.dataset.velocity)")]
    assert shaded == [int(v) if h else 0 for h, v in zip(p.hits.ravel(), p.velocities.ravel())]
    names = page.locator("#grid th").all_text_contents()
    assert names == [n.rsplit("/", 1)[-1].rsplit(".", 1)[0] for n in p.samples]
    assert page.locator("#conn").text_content() == "connected"
    page.click("button[data-command=like]")
    new = next_grid(page, cid)
    db = sqlite3.connect(d.session.folder / "session.sqlite")   # what the session's database holds
    try:
        assert db.execute("SELECT candidate_id, label FROM ratings").fetchall() == [(cid, 1)]
    finally:
        db.close()
    assert new != cid and page.locator("#likes").text_content() == "1"
    assert page.evaluate("dd.latencies.length") == 1


def test_keys_rate_skip_and_undo(shown):
    from dd_live.testing.browser import next_grid

    d, page, cid = shown
    page.keyboard.press("d")
    cid = next_grid(page, cid)
    assert d.session.counts() == (0, 1)
    page.keyboard.press("n")                                   # next: no rating
    cid = next_grid(page, cid)
    assert d.session.counts() == (0, 1)
    page.keyboard.press("l")
    next_grid(page, cid)
    assert d.session.counts() == (1, 1)
    page.keyboard.press("u")                                   # undo the like
    page.wait_for_function("document.getElementById('ratings').textContent === '1'")
    assert d.session.counts() == (0, 1)


def test_the_like_rate_plot_is_the_sessions_after_a_reload_and_an_undo(shown):
    from dd_live.testing.browser import next_grid

    d, page, cid = shown
    for key in "lld":
        page.keyboard.press(key)
        cid = next_grid(page, cid)
    stored = [[i, int(like)] for i, like in d.session.ratings()]
    assert len(stored) == 3
    page.wait_for_function("dd.ratings.length === 3")
    assert page.evaluate("dd.ratings") == stored
    page.reload()                                              # a new page: its list comes from the session
    page.wait_for_function("dd.ratings.length === 3 && dd.connected")
    assert page.evaluate("dd.ratings") == stored
    page.keyboard.press("u")
    page.wait_for_function("dd.ratings.length === 2")
    assert page.evaluate("dd.ratings") == stored[:2]


def test_the_loop_wav_becomes_one_bar_of_audio_and_the_next_starts_at_its_end(shown):
    from dd_live.testing.browser import next_grid

    d, page, cid = shown
    page.wait_for_function(f"dd.audio.loaded === {cid}", timeout=30_000)
    bar = 60.0 / d.settings.bpm * d.current.pattern.beats
    assert page.evaluate("dd.audio.buffer.duration") == pytest.approx(bar, abs=0.002)
    page.keyboard.press(" ")                                   # space: play
    assert page.evaluate("dd.audio.playing") and page.evaluate("dd.audio.source.loop")
    first = page.evaluate("dd.audio.start")
    page.wait_for_timeout(300)
    page.click("button[data-command=dislike]")
    new = next_grid(page, cid)
    page.wait_for_function(f"dd.audio.loaded === {new}", timeout=30_000)
    # the new loop starts where a bar of the old one ends: a whole number of bars after the first start
    bars = (page.evaluate("dd.audio.start") - first) / bar
    assert round(bars) >= 1 and bars == pytest.approx(round(bars), abs=1e-3)   # 0.9999999999999999 is one bar
    page.keyboard.press(" ")                                   # space again: stop
    assert not page.evaluate("dd.audio.playing")


def test_settings_in_the_page_reach_the_daemon_and_its_errors_show(shown):
    d, page, cid = shown
    page.fill("#ctl-set_tempo-bpm", "101.5")
    page.press("#ctl-set_tempo-bpm", "Enter")
    page.wait_for_function("dd.settings && dd.settings.bpm === 101.5")
    assert d.settings.bpm == 101.5
    page.select_option("#ctl-set_mode-mode", "explore")
    page.wait_for_function("dd.settings.mode === 'explore'")
    assert d.settings.mode == "explore"
    page.locator("#grid input[data-track='2']").check()       # lock track 2
    page.wait_for_function("dd.settings.locks[1] === 1")
    assert d.settings.locks[1] is True
    page.evaluate("send('set_tempo', [5000])")                 # out of the table's range
    page.wait_for_function("document.getElementById('status').textContent.startsWith('args')")


def test_a_restarted_daemon_is_found_again(chrome, web_daemon, daemon, tmp_path):
    from dd_live.testing.browser import next_grid
    from dd_live.testing.harness import stop_daemon

    d, base = web_daemon()
    page = _open(chrome, base)
    try:
        cid = next_grid(page, 0, 60_000)
        folder, port = d.session.folder, d.web.port
        stop_daemon(d)
        d.session.close()
        page.wait_for_function("!dd.connected", timeout=10_000)
        d2, _ = daemon(folder, web_port=port, web_token=TOKEN)
        page.wait_for_function("dd.connected", timeout=20_000)
        shown = next_grid(page, cid, 60_000)                       # the restarted daemon's first candidate
        page.click("button[data-command=like]")
        next_grid(page, shown)
        assert d2.session.counts() == (1, 0)
    finally:
        page.close()


def test_sessions_are_opened_and_new_ones_started_on_a_kit_from_the_page(chrome, web_daemon, daemon, tmp_path):
    """The Sessions panel: another session's open button and a new session on a chosen kit each ask the daemon
    to switch (/dd/session/open; dd-live serve then serves that session: tests/live/test_e2e.py); a folder that
    is no kit is refused on the status line; after the switch the page finds the daemon again, on the new
    session."""
    from dd_live.session.session import Session
    from dd_live.testing.browser import next_grid
    from dd_live.testing.harness import stop_daemon

    Session(tmp_path / "older").close()
    d, base = web_daemon()
    page = _open(chrome, base)
    try:
        next_grid(page, 0, 60_000)
        page.click("#sessions-box summary")
        page.click("#sessions li:has-text('older') button")
        page.wait_for_function("document.getElementById('status').textContent.includes('opening session older')")
        deadline = time.monotonic() + 10
        while d.switch is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert d.switch == {"session": str(tmp_path / "older"), "samples": None}
        assert page.locator("#sessions li:has-text('this one') button").count() == 0
        d.switch = None

        page.fill("#new-kit-folder", "/no/such/kit")
        page.click("#new-session")
        page.wait_for_function("document.getElementById('status').textContent.includes('no sample folder')")
        assert d.switch is None
        page.fill("#new-kit-folder", "")
        page.select_option("#new-kit", "research")
        page.click("#new-session")
        deadline = time.monotonic() + 10
        while d.switch is None and time.monotonic() < deadline:
            time.sleep(0.02)
        target = Path(d.switch["session"])
        assert d.switch["samples"] == ["research"] and target.parent == tmp_path and not target.exists()

        port = d.web.port                                  # what dd-live serve does next, by hand
        stop_daemon(d)
        d.session.close()
        page.wait_for_function("!dd.connected", timeout=10_000)
        page.evaluate("dd.candidate = null")
        daemon(tmp_path / "older", web_port=port, web_token=TOKEN)
        page.wait_for_function("dd.connected && dd.candidate !== null", timeout=60_000)   # its ids start at 1 too
        page.wait_for_function("document.getElementById('sessions').textContent.includes('older (this one)')",
                               timeout=10_000)
    finally:
        page.close()


def test_a_wrong_token_is_refused(chrome, web_daemon):
    d, base = web_daemon()
    page = _open(chrome, base, token="wrong")
    try:
        page.wait_for_function("document.getElementById('status').textContent.includes('token')", timeout=10_000)
        assert not page.evaluate("dd.connected") and page.evaluate("dd.grid") is None
        assert not [c for c in d.replies.targets() if c[0] == "ws"]
    finally:
        page.close()


def test_bench_web_measures_click_to_grid_in_the_browser(chrome, tmp_path):
    from dd_live.bench.web import bench_web

    shot = tmp_path / "page.png"
    r = bench_web(threads=1, clicks=4, gap=0.2, screenshot=str(shot), chrome=chrome)
    assert r["clicks"] == r["ratings_shown"] == 4 and r["candidates_seen"] == 5
    assert 0 < r["click_to_grid_dom_ms_p50"] <= r["click_to_grid_frame_ms_p95"] <= r["click_to_grid_frame_ms_max"]
    assert r["edits"] == 6 and 0 < r["edit_to_loop_ms_p50"] <= r["edit_to_loop_ms_max"]
    assert r["playhead_steps_lit"] > 8 and 0 <= r["playhead_late_ms_p50"] <= r["playhead_late_ms_max"]
    assert 0 < r["frame_ms_p50"] and r["busy_processes"] == 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
