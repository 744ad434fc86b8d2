"""The web front end without a browser: what is served and refused over HTTP, and the WebSocket's commands and
replies through the daemon's own dispatcher (issue 18)."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from dd_live.web.access import Refused, check_origin, route

from .helpers import TOKEN, WsClient, get


def _ws(base: str, token: str = TOKEN, **kw) -> WsClient:
    return WsClient(base.replace("http", "ws") + f"/ws?token={token}", **kw)


def _hello(base: str) -> tuple[WsClient, int]:
    """A connection that said /dd/hello, and the candidate it was shown."""
    c = _ws(base)
    c.send("/dd/hello")
    return c, c.wait("/dd/candidate", 60)["args"]["id"]


def test_the_page_and_its_table_are_served_and_the_table_is_protocol_py(web_daemon):
    from dd_live.osc import protocol

    d, base = web_daemon()
    status, body, headers = get(base + "/")
    assert status == 200 and b"<script src=\"/app.js\">" in body and headers["Content-Type"].startswith("text/html")
    for name in ("/app.js", "/style.css", "/index.html"):
        assert get(base + name)[0] == 200
    table = json.loads(get(base + "/protocol.json")[1])
    assert [a["address"] for a in table["addresses"]] == [a.address for a in protocol.ADDRESSES]
    assert table["keys"]["like"] == "l" and table["keys"]["dislike"] == "d"
    assert d.web.url.endswith(f"/?token={TOKEN}")


def test_commands_go_through_the_dispatcher_and_replies_come_back_as_json(web_daemon):
    d, base = web_daemon()
    c = _ws(base)
    try:
        c.send("/dd/hello")
        status = c.wait("/dd/status")
        assert set(status["args"]) == {"ratings", "likes", "dislikes", "version", "queue"}   # by name
        settings = c.wait("/dd/settings")
        assert settings["args"]["bpm"] == pytest.approx(d.settings.bpm) and settings["args"]["mode"] == d.settings.mode
        cand = c.wait("/dd/candidate", 60)
        cid = cand["args"]["id"]
        assert cand["files"]["loop_wav"] == f"/loops/{cid}/{Path(cand['args']['loop_wav']).name}"
        grid = c.wait("/dd/grid")
        assert grid["args"]["id"] == cid and len(grid["args"]["cells"]) == 4 * 16
        c.send("/dd/like")
        rated = c.wait("/dd/rated", 10)
        assert (rated["args"]["id"], rated["args"]["label"]) == (cid, "like")
        assert d.session.counts() == (1, 0)                       # stored in the session's SQLite
        c.wait("/dd/candidate", 30, where=lambda m: m["args"]["id"] != cid)
        c.send("/dd/set/tempo", 999)                              # the table's range, from the dispatcher
        err = c.wait("/dd/error")
        assert err["args"]["code"] == "args" and "bpm" in err["args"]["message"]
        c.send("/dd/set/tempo", 97.5)
        assert c.wait("/dd/settings", where=lambda m: m["args"]["bpm"] == 97.5)
        assert d.settings.bpm == 97.5
    finally:
        c.close()


def test_a_wrong_token_or_another_sites_origin_is_refused(web_daemon):
    from websockets.exceptions import InvalidStatus

    d, base = web_daemon()
    for token in ("", "nope", TOKEN + "x"):
        with pytest.raises(InvalidStatus) as err:
            _ws(base, token)
        assert err.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as err:
        _ws(base, origin="http://evil.example")
    assert err.value.response.status_code == 403
    ok = _ws(base, origin=base)                                    # the page's own origin
    ok.send("/dd/hello")
    ok.wait("/dd/status")
    ok.close()
    assert get(base + "/api/sessions")[0] == 403 and get(base + "/api/sessions?token=bad")[0] == 403
    assert get(base + f"/api/sessions?token={TOKEN}")[0] == 200


def test_a_page_of_another_name_pointed_at_loopback_is_refused():
    # DNS rebinding: evil.example made to resolve to 127.0.0.1 sends Host and Origin evil.example
    with pytest.raises(Refused):
        check_origin("http://evil.example:7712", "evil.example:7712", loopback=True)
    check_origin("http://localhost:7712", "localhost:7712", loopback=True)
    check_origin(None, "127.0.0.1:7712", loopback=True)
    check_origin("http://box.lan:7712", "box.lan:7712", loopback=False)


@pytest.mark.parametrize("path", [
    "/../session.sqlite", "/%2e%2e/session.sqlite", "/loops/1/..%2F..%2Fsession.sqlite", "/loops/1/../../lock",
    "/loops/1/candidate.json", "/loops/1/critic.wav", "/loops/0/loop.wav", "/loops/-1/loop.wav",
    "/exports/1/..", "/exports/1/.hidden", "/exports/1/a%2Fb", "/static/../../etc/passwd", "//etc/passwd",
    "/app.js/../../x", "/loops/1/loop.wav\\..", "/api/../session.sqlite",
])
def test_nothing_outside_the_page_and_the_sessions_own_files_is_reachable(web_daemon, path):
    d, base = web_daemon()
    sep = "&" if "?" in path else "?"
    status, body, _ = _raw_get(base, path + f"{sep}token={TOKEN}")
    assert status in (400, 403, 404), (path, status, body[:80])
    assert b"SQLite" not in body and b"root:" not in body


def _raw_get(base: str, path: str) -> tuple[int, bytes, str]:
    """A GET with the path exactly as given (urllib would normalise it)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body, head.decode("latin-1")


def test_a_symlink_in_a_candidates_folder_leading_out_is_not_followed(web_daemon):
    d, base = web_daemon()
    c, cid = _hello(base)
    c.close()
    folder = d.session.candidate_dir(cid)
    loop = next(folder.glob("loop_*.wav")).name
    assert _raw_get(base, f"/loops/{cid}/{loop}?token={TOKEN}")[0] == 200
    (folder / loop).unlink()
    os.symlink(d.session.folder / "session.sqlite", folder / loop)
    status, body, _ = _raw_get(base, f"/loops/{cid}/{loop}?token={TOKEN}")
    assert status == 404 and b"SQLite" not in body


def test_a_linked_folder_inside_a_session_leads_nowhere_for_the_page_an_export_or_a_song(web_daemon, tmp_path):
    import mido

    from dd_live.testing.oscclient import Client

    d, base = web_daemon()
    c, cid = _hello(base)
    c.close()
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "secret.wav").write_bytes(b"RIFF TOPSECRET")
    (outside / "sub" / "kit.sfz").write_text("TOPSECRET")
    exports = d.session.folder / "exports"
    exports.mkdir(exist_ok=True)
    os.symlink(outside, exports / "7")                       # a folder link, not a file link
    os.symlink(outside, d.session.folder / "candidates" / "99999")
    for path in ("/exports/7/secret.wav", "/exports/7.zip", "/loops/99999/secret.wav"):
        status, body, _ = _raw_get(base, f"{path}?token={TOKEN}")
        assert status == 404 and b"TOPSECRET" not in body, (path, status)
    status, body, _ = _raw_get(base, f"/api/exports?token={TOKEN}")
    assert status == 200 and b"secret" not in body and b"kit.sfz" not in body
    # writes: an export into exports/<id> and a song into songs/<name> that are links
    osc = Client(d.port)
    osc.send("/dd/hello")
    os.symlink(outside, exports / str(cid))
    osc.send("/dd/export/loop", cid)
    code, message = osc.wait("/dd/error", 30)
    assert code == "io" and message.startswith(f"/dd/export/loop: exports/{cid} leads out of the session folder")
    (d.session.folder / "songs").mkdir(exist_ok=True)
    os.symlink(outside, d.session.folder / "songs" / "tune")
    src = tmp_path / "tune.mid"
    song = mido.MidiFile()
    song.tracks.append(mido.MidiTrack([mido.Message("note_on", note=60, velocity=90), mido.Message("note_off", note=60, time=960)]))
    song.save(str(src))
    osc.send("/dd/song", str(src))
    code, message = osc.wait("/dd/error", 30)
    assert code == "args" and message.startswith("songs/tune leads out of the session folder")
    assert sorted(p.name for p in outside.rglob("*")) == ["kit.sfz", "secret.wav", "sub"]
    osc.close()


def test_routes_name_only_the_shapes_the_page_uses():
    assert route("/loops/12/loop_97.5.wav?token=a").cid == 12 and route("/loops/3/preview_120.wav").name
    assert route("/exports/3.zip?token=a").kind == "zip"
    assert route("/exports/3/kit.sfz").name == "kit.sfz" and route("/api/ratings?token=a").kind == "ratings"
    for bad in ("/loops/12/loop.WAV", "/loops/x/loop.wav", "/loops/1/critic.wav", "/loops/1/candidate.json", "/exports/3/../x", "/%61pp.js", "/favicon.ico"):
        with pytest.raises(Refused):
            route(bad)


def test_an_export_downloads_as_a_zip_with_the_kit(web_daemon):
    import io
    import zipfile

    d, base = web_daemon()
    c, cid = _hello(base)
    try:
        c.send("/dd/export")
        assert c.wait("/dd/exported", 30)["args"]["id"] == cid
    finally:
        c.close()
    listing = json.loads(get(base + f"/api/exports?token={TOKEN}")[1])
    assert listing["exports"][0]["id"] == cid and "kit.sfz" in listing["exports"][0]["files"]
    status, body, headers = get(base + f"/exports/{cid}.zip?token={TOKEN}")
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert f"dd_live-{cid}/loop.mid" in names and f"dd_live-{cid}/kit.sfz" in names
    assert any(n.startswith(f"dd_live-{cid}/samples/") for n in names)
    assert get(base + f"/exports/{cid}/loop.mid?token={TOKEN}")[1][:4] == b"MThd"
    sessions = json.loads(get(base + f"/api/sessions?token={TOKEN}")[1])
    assert sessions["current"] == d.session.name and "folder" not in sessions["sessions"][0]


def test_the_sessions_ratings_are_listed_in_the_order_given_for_the_plot(web_daemon):
    d, base = web_daemon()
    c, first = _hello(base)
    try:
        c.send("/dd/like")
        c.wait("/dd/rated")
        second = c.wait("/dd/candidate", 60, where=lambda m: m["args"]["id"] != first)["args"]["id"]
        c.send("/dd/dislike")
        c.wait("/dd/rated")
        third = c.wait("/dd/candidate", 60, where=lambda m: m["args"]["id"] not in (first, second))["args"]["id"]
        c.send("/dd/rate", first, 0)                               # rated again: it keeps its place
        c.wait("/dd/rated")
        c.send("/dd/like")
        c.wait("/dd/rated")
        url = base + f"/api/ratings?token={TOKEN}"
        assert json.loads(get(url)[1]) == {"ratings": [[first, 0], [second, 0], [third, 1]]}
        c.send("/dd/undo")                                         # the last given goes
        c.wait("/dd/status", where=lambda m: m["args"]["ratings"] == 2)
        assert json.loads(get(url)[1]) == {"ratings": [[first, 0], [second, 0]]}
    finally:
        c.close()
    assert get(base + "/api/ratings")[0] == 403 and get(base + "/api/ratings?token=bad")[0] == 403


def test_the_kit_and_the_sessions_counts_are_listed_as_they_are_now(web_daemon):
    """/api/kit: every sound of the daemon with its category and role (a track's sound is picked from it);
    /api/sessions: this session's counts after each rating."""
    d, base = web_daemon()
    status, body, _ = get(base + f"/api/kit?token={TOKEN}")
    sounds = json.loads(body)["sounds"]
    assert status == 200 and len(sounds) == len(d.library)
    assert [s["key"] for s in sounds] == [s.key for s in d.library.samples]
    assert {s["role"] for s in sounds} == {"low", "backbeat", "time", "colour"}
    assert get(base + "/api/kit")[0] == 403
    c, first = _hello(base)
    try:
        c.send("/dd/dislike")
        c.wait("/dd/rated")
        rows = json.loads(get(base + f"/api/sessions?token={TOKEN}")[1])
        mine = next(r for r in rows["sessions"] if r["name"] == rows["current"])
        assert (mine["ratings"], mine["likes"], mine["dislikes"]) == (1, 0, 1) and "folder" not in mine
    finally:
        c.close()


def _malformed(rng: np.random.Generator, n: int) -> list:
    """``n`` malformed messages of every kind: not JSON, wrong shapes and types, unknown addresses, out-of-range
    and non-finite values, huge numbers, deep nesting, binary frames, random bytes as text."""
    kinds = [
        lambda: "not json {",
        lambda: "",
        lambda: json.dumps([1, 2, 3]),
        lambda: json.dumps({"address": 5, "args": []}),
        lambda: json.dumps({"address": "/dd/like", "args": "x"}),
        lambda: json.dumps({"address": "/dd/like", "args": [], "extra": 1}),
        lambda: json.dumps({"address": "/dd/nope", "args": []}),
        lambda: json.dumps({"address": "/dd/set/tempo", "args": [float(rng.uniform(-1e9, 1e9))]}),
        lambda: '{"address": "/dd/set/density", "args": [NaN]}',
        lambda: '{"address": "/dd/set/density", "args": [1e999]}',
        lambda: json.dumps({"address": "/dd/set/mode", "args": [True]}),
        lambda: json.dumps({"address": "/dd/rate", "args": [None, {}]}),
        lambda: json.dumps({"address": "/dd/set/lock", "args": [10 ** 30, 1]}),
        lambda: '{"address": "/dd/like", "args": [' + "1" * 5000 + "]}",
        lambda: "[" * 3000 + "]" * 3000,
        lambda: bytes(rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8)),
        lambda: bytes(rng.integers(0, 256, 40, dtype=np.uint8)).decode("latin-1"),
        lambda: json.dumps({"address": "/dd/like", "args": [0.2]}),   # a release: nothing (not an error)
        lambda: json.dumps({"address": "/dd/song", "args": ["/etc/passwd"]}),
    ]
    return [kinds[int(rng.integers(0, len(kinds)))]() for _ in range(n)]


def test_ten_thousand_malformed_messages_leave_the_daemon_serving_and_lose_no_rating(web_daemon, rng):
    d, base = web_daemon()
    c, cid = _hello(base)
    try:
        c.send("/dd/like")
        assert c.wait("/dd/rated", 10)["args"]["id"] == cid
        bad = _malformed(rng, 10_000)
        liked, last = [], cid
        for i, m in enumerate(bad):
            c.ws.send(m)
            if i % 2500 == 1250:                                   # ratings in the middle of the flood
                last = c.wait("/dd/candidate", 60, where=lambda m, last=last: m["args"]["id"] != last)["args"]["id"]
                c.send("/dd/dislike")
                liked.append(last)
        c.got = [m for m in c.got if m["address"] != "/dd/status"]   # the hello's
        c.send("/dd/status")
        status = c.wait("/dd/status", 60)
        errors = [m for m in c.drain(0.5) + c.got if m["address"] == "/dd/error"]
    finally:
        c.close()
    assert d.failure() is None and d.web.is_alive()
    assert status["args"]["ratings"] == 1 + len(set(liked)) == sum(d.session.counts()) == 5   # every rating stored
    assert d.web.messages >= 10_000                                 # each one went through the dispatcher
    fresh = _ws(base)                                               # and a new page is served as before
    try:
        fresh.send("/dd/hello")
        assert fresh.wait("/dd/status")["args"]["ratings"] == status["args"]["ratings"]
    finally:
        fresh.close()
    # the bad ones were answered, in one line each, as many as the per-page limit lets through, then 'flood'
    from dd_live.osc.protocol import ERROR_CODES

    assert len(errors) >= 20 and {m["args"]["code"] for m in errors} <= set(ERROR_CODES), errors[:5]
    assert any(m["args"]["code"] == "flood" for m in errors) and all("\n" not in m["args"]["message"] for m in errors)


def test_a_message_too_long_closes_only_its_own_connection(web_daemon):
    from websockets.exceptions import ConnectionClosed

    d, base = web_daemon()
    big, other = _ws(base), _ws(base)
    try:
        big.ws.send("x" * (70 * 1024))
        with pytest.raises(ConnectionClosed):
            big.ws.recv(timeout=5)
        other.send("/dd/hello")
        other.wait("/dd/status")
    finally:
        big.close()
        other.close()


def test_the_page_names_only_the_tables_commands_and_replies():
    """One table, every front end: each command the page sends and each reply it reads is in protocol.py."""
    import re

    from dd_live.osc import protocol
    from dd_live.web.access import STATIC_DIR
    from dd_live.web.server import KEYS

    js = (STATIC_DIR / "app.js").read_text() + (STATIC_DIR / "songs.js").read_text()
    html = (STATIC_DIR / "index.html").read_text()
    sent = set(re.findall(r'send\("([a-z_]+)"', js)) | set(re.findall(r'data-command="([a-z_]+)"', html))
    sent |= {c for c in re.findall(r'\["[a-z]+", "([a-z_]+)", "[a-z]+"\]', js)}
    assert {"like", "dislike", "next", "undo", "export", "hello", "set_tempo", "set_lock"} <= sent
    assert sent <= set(protocol.COMMANDS), sent - set(protocol.COMMANDS)
    read = set(re.findall(r'"(/dd/[a-z/]+)": \(', js))
    assert "/dd/grid" in read and read <= set(protocol.outbound()), read - set(protocol.outbound())
    assert set(KEYS) - {"play"} <= set(protocol.COMMANDS)
    # replies are read by the table's argument names: each name a handler (or showSettings) takes is one
    table = protocol.outbound()
    taken = re.findall(r'"(/dd/[a-z/]+)": \(\{ ([a-z_, ]+) \}', js)
    taken += [("/dd/settings", m) for m in re.findall(r"function showSettings\(\{ ([a-z_, ]+) \}\)", js)]
    assert len(taken) >= 10
    for address, names in taken:
        wrong = set(names.replace(" ", "").split(",")) - {a.name for a in table[address].args}
        assert not wrong, (address, wrong)


def test_replies_are_named_by_the_table():
    """protocol.named: each reply's arguments under the table's names, a ``*`` argument as the list of the rest;
    what the table does not name keeps its place (never dropped)."""
    from dd_live.osc import protocol

    assert protocol.named("/dd/grid", [7, 0, 100, 0]) == {"id": 7, "cells": [0, 100, 0]}
    assert protocol.named("/dd/feel", []) == {"offsets": []}
    assert protocol.named("/dd/rated", [3, "like", 1, 0]) == {"id": 3, "label": "like", "likes": 1, "dislikes": 0}
    assert protocol.named("/dd/exported", [3, "/x", "extra"]) == {"id": 3, "dir": "/x", "arg2": "extra"}
    assert protocol.named("/dd/unknown", [1]) == {"arg0": 1}
    for address, entry in protocol.outbound().items():
        args = [{"i": 1, "f": 0.5, "s": "x", "*": 2, "n": 1}[a.type] for a in entry.args]
        assert list(protocol.named(address, args)) == [a.name for a in entry.args], address


def test_serve_prints_the_pages_address_and_the_web_setting_is_checked(tmp_path):
    """``dd-live serve --web 0`` prints the page's address with the token it keeps in the sessions folder; the
    config key ``web`` takes true, false or a port, and nothing else."""
    import time

    from dd_live.errors import InputError
    from dd_live.testing.harness import end_process, serve
    from dd_live.testing.oscclient import free_udp_port
    from dd_live.live import config
    from dd_live.web.access import TOKEN_FILE

    proc = serve(tmp_path / "s", free_udp_port(), free_udp_port(), extra=["--web", "0"])
    try:
        url, end = None, time.monotonic() + 120
        while url is None and time.monotonic() < end and proc.poll() is None:
            line = proc.stderr.readline()
            if "the page: " in line:
                url = line.split("the page: ", 1)[1].strip()
        assert url and url.startswith("http://127.0.0.1:"), url
        token = url.split("token=", 1)[1]
        assert token == (Path(os.environ["DD_LIVE_SESSIONS"]) / TOKEN_FILE).read_text().strip()
        assert oct((Path(os.environ["DD_LIVE_SESSIONS"]) / TOKEN_FILE).stat().st_mode & 0o777) == "0o600"
        assert get(url)[0] == 200 and get(url.split("?")[0] + "api/exports?token=" + token)[0] == 200
    finally:
        end_process(proc, 15)
    assert proc.returncode == 0, proc.returncode                 # SIGTERM: stopped cleanly
    assert config.web_port(True) == 7712 and config.web_port(False) is None and config.web_port(8000) == 8000
    for bad in ("yes", -1, 70000, 1.5):
        with pytest.raises(InputError, match="web must be"):
            config.merge(dict(config.DEFAULTS), {"web": bad})


def test_page_fetches_log_nothing_at_info_and_a_bare_connect_and_close_is_at_most_one_line(web_daemon, caplog):
    import logging

    d, base = web_daemon()
    host, port = base.removeprefix("http://").split(":")
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            assert get(base + "/")[0] == 200
        for _ in range(20):
            socket.create_connection((host, int(port)), timeout=5).close()
        socket.create_connection((host, int(port)), timeout=5).sendall(b"GET / HTTP/1.1\r\n")   # cut short
        time.sleep(0.5)
    web = [r for r in caplog.records if r.name.startswith(("dd_live.web", "websockets"))]
    assert not [r for r in web if r.levelno >= logging.INFO and "rejected" in r.getMessage()]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in web)
    assert "Traceback" not in caplog.text


def test_repeated_host_or_origin_headers_are_400_and_the_token_is_never_logged(web_daemon, caplog):
    import logging

    d, base = web_daemon()
    host, port = base.removeprefix("http://").split(":")
    for extra in ("Host: 127.0.0.1\r\n", "Origin: http://a.example\r\nOrigin: http://b.example\r\n"):
        request = (f"GET /ws?token={TOKEN} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n")
        with caplog.at_level(logging.DEBUG), socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(request.encode())
            answer = s.recv(4096).decode("latin-1")
        assert answer.startswith("HTTP/1.1 400"), answer[:200]
        assert "headers is refused" in answer
    assert TOKEN not in caplog.text and d.web.is_alive()


def test_a_closed_pages_backlog_is_dropped_and_a_persons_clicks_all_count(web_daemon):
    from dd_live.web.server import CLOSE_GRACE_S

    d, base = web_daemon()
    c, _ = _hello(base)
    for _ in range(3):                                        # a person's clicks all count
        c.send("/dd/like")
        c.wait("/dd/rated", 10)
    assert not [m for m in c.drain(0.2) if m["address"] == "/dd/error"]
    touched = lambda: d.session._query("SELECT COALESCE(MAX(touched), 0) FROM ratings")[0][0]   # noqa: E731
    before = touched()
    flood = json.dumps({"address": "/dd/like", "args": []})
    for _ in range(5000):                                     # a script, or a key held down: then the page closes
        c.ws.send(flood)
    c.close()
    time.sleep(CLOSE_GRACE_S + 1.0)
    after_close = touched()
    time.sleep(3.0)
    assert touched() == after_close                           # nothing of its backlog runs after the grace
    assert after_close - before < 5000 // 2                   # most of the flood never ran
    assert d.failure() is None


def test_a_token_file_others_may_read_own_or_that_is_a_link_is_replaced_never_written_through(tmp_path, caplog):
    from dd_live.web.access import TOKEN_FILE, user_token

    path = tmp_path / TOKEN_FILE
    first = user_token(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600 and user_token(tmp_path) == first      # kept across restarts
    os.chmod(path, 0o644)                                            # world-readable: anyone could read it
    second = user_token(tmp_path)
    assert second != first and path.stat().st_mode & 0o777 == 0o600 and "others may read" in caplog.text
    if os.getuid() == 0:                                             # another user's file (root can make one)
        os.chown(path, 65534, 65534)
        third = user_token(tmp_path)
        assert third != second and path.stat().st_uid == 0
    target = tmp_path / "elsewhere"
    target.write_text("x" * 30 + "\n")
    path.unlink()
    path.symlink_to(target)                                          # a planted link: not read, not written through
    fourth = user_token(tmp_path)
    assert fourth != "x" * 30 and not path.is_symlink() and target.read_text() == "x" * 30 + "\n"
