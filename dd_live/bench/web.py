"""``dd-live bench web``: the page in headless chromium against a real ``dd-live serve --web``: a click on Like
or Dislike until the next candidate's grid is on screen, measured in the browser (performance.now() at the
click; ``dom``: the grid's cells replaced; ``frame``: the next animation frame after that, when it is painted).
Clicks come every ``gap`` seconds (a performer listens to a loop before rating it), with the page playing the
loop; then a few cells are edited (click to the edited loop announced). The playhead's lateness: how far the
page's audio had gone into a step when the frame that lights it ran (within one frame of the sound when under
the frame period, also measured). ``busy``: processes spinning on the CPU beside it throughout. Optionally a
screenshot of the page for the README."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from ..testing.browser import browser, new_page, next_grid
from ..testing.harness import bench_daemon, wait_answering


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _stats(values: list[float]) -> dict:
    a = np.array(values, dtype=np.float64)
    return {"p50": round(float(np.percentile(a, 50)), 1), "p95": round(float(np.percentile(a, 95)), 1),
            "max": round(float(a.max()), 1)}


@contextmanager
def busy_processes(n: int):
    """``n`` processes spinning on the CPU until the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


EDITS = 6   # cells edited after the clicks


def bench_web(*, threads: int = 2, clicks: int = 40, gap: float = 1.0, screenshot: str | None = None,
              chrome=None, busy: int = 0) -> dict:
    """``chrome``: a Playwright Browser to use (default: one of :func:`browser`'s, closed at the end)."""
    from ..web.access import user_token

    with tempfile.TemporaryDirectory(prefix="dd_live_web_") as tmp, busy_processes(busy):
        sessions = Path(tmp) / "sessions"
        token = user_token(sessions)               # the token the daemon reads from its sessions folder
        port = free_tcp_port()
        env = {**os.environ, "DD_LIVE_SESSIONS": str(sessions)}
        with bench_daemon("web", threads=threads, extra=["--web", str(port)], env=env) as (proc, client):
            wait_answering(client, proc)
            with (nullcontext(chrome) if chrome is not None else browser()) as b:
                page = new_page(b, f"http://127.0.0.1:{port}/?token={token}")
                page.set_viewport_size({"width": 1100, "height": 760})
                cid = next_grid(page, 0, 120_000)
                page.wait_for_function(f"dd.audio.loaded === {cid}", timeout=60_000)
                page.click("#play")                # the performer listens while rating
                seen = [cid]
                for i in range(clicks):
                    time.sleep(gap)
                    page.click("button[data-command=like]" if i % 3 != 2 else "button[data-command=dislike]")
                    cid = next_grid(page, cid)
                    seen.append(cid)
                page.wait_for_function(f"dd.latencies.length === {clicks}")
                lat = page.evaluate("dd.latencies")
                for i in range(EDITS):             # cells of the last track, one after another
                    time.sleep(gap / 2)
                    page.click(f"#grid td.cell[data-track='{page.evaluate('dd.shape.tracks')}'][data-step='{i}']")
                    page.wait_for_function(f"dd.editLatencies.length === {i + 1}", timeout=30_000)
                edits = page.evaluate("dd.editLatencies")
                late = page.evaluate("dd.playhead.late")
                frames = page.evaluate("""() => new Promise((done) => {
                  const t = [];
                  const f = (now) => { t.push(now); if (t.length < 121) requestAnimationFrame(f); else done(t); };
                  requestAnimationFrame(f);
                })""")
                if screenshot:
                    page.screenshot(path=screenshot)
                ratings = page.evaluate("Number(document.getElementById('ratings').textContent)")
    out = {"clicks": clicks, "gap_s": gap, "busy_processes": busy, "ratings_shown": ratings,
           "candidates_seen": len(set(seen)), "edits": len(edits)}
    out.update({f"click_to_grid_frame_ms_{k}": v for k, v in _stats([x["frame"] for x in lat]).items()})
    out.update({f"click_to_grid_dom_ms_{k}": v for k, v in _stats([x["dom"] for x in lat]).items()})
    out.update({f"edit_to_loop_ms_{k}": v for k, v in _stats(edits).items()})
    out.update({f"playhead_late_ms_{k}": v for k, v in _stats(late).items()})
    out["playhead_steps_lit"] = len(late)
    out.update({f"frame_ms_{k}": v for k, v in _stats(list(np.diff(frames))).items()})
    if screenshot:
        out["screenshot"] = screenshot
    return out
