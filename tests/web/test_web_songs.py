"""Songs sent from a page over the WebSocket (dd_live.web.songs): an upload is stored in the session and arranged
by the same handler as /dd/song, its files are served with the token only, and an upload that cannot be used is
answered in one line and stores nothing."""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from dd_live.osc.osc import OSCError
from dd_live.web.songs import MAX_UPLOAD, parse_upload

from .helpers import TOKEN, WsClient, get
from .songs import small_song


def _upload(name: str, data: bytes, play: bool = False) -> bytes:
    return json.dumps({"song": name, "play": play}).encode() + b"\n" + data


@pytest.mark.parametrize("message, code, words", [
    (b"MThd no header line", "parse", "a line of JSON"),
    (b"{not json\nMThd", "parse", "not JSON"),
    (b'["song.mid"]\nMThd', "parse", '{"song": "name.mid"'),
    (b'{"song": "a.mid", "play": "yes"}\nMThd', "parse", '{"song": "name.mid"'),
    (b'{"song": "a.mid", "extra": 1}\nMThd', "parse", '{"song": "name.mid"'),
    (_upload("notes.txt", b"MThd...."), "args", "not a MIDI song file name"),
    (_upload("a.mid", b"RIFF....WAVE"), "args", "not a standard MIDI file"),
    (_upload("a.mid", b"MThd" + bytes(MAX_UPLOAD)), "args", "songs of at most"),
])
def test_an_upload_that_cannot_be_used_is_refused_in_one_line(message, code, words):
    with pytest.raises(OSCError) as err:
        parse_upload(message)
    assert err.value.code == code and words in str(err.value) and "\n" not in str(err.value)


def test_an_uploads_name_is_made_safe_and_its_folder_is_the_songs():
    up = parse_upload(_upload("../../My Song (live).MIDI", b"MThd\0\0\0\6"))
    assert (up.name, up.play) == ("My_Song_live.mid", False)
    assert parse_upload(_upload("C:\\music\\x.kar", b"MThd", play=True)).name == "x.mid"


def test_a_song_sent_over_the_websocket_is_written_and_its_files_are_served(web_daemon, tmp_path):
    d, base = web_daemon()
    src = small_song(tmp_path / "Tune One.mid")
    c = WsClient(f"ws://127.0.0.1:{d.web.port}/ws?token={TOKEN}")
    try:
        c.send("/dd/hello")
        c.ws.send(b"MThd")                                    # refused, and nothing stored
        assert c.wait("/dd/error", 10)["args"]["code"] == "parse"
        c.ws.send(_upload(src.name, src.read_bytes()))
        done = c.wait("/dd/song/done", 120)["args"]
    finally:
        c.close()
    assert done["song"] == "Tune_One.mid" and os.path.basename(done["dir"]) == "Tune_One"
    stored = d.session.folder / "uploads" / "Tune_One.mid"
    assert stored.read_bytes() == src.read_bytes() and len(list(stored.parent.iterdir())) == 1
    listing = json.loads(get(f"{base}/api/songs?token={TOKEN}")[1])["songs"]
    assert [(s["name"], s["source"], s["bars"]) for s in listing] == [("Tune_One", str(stored.resolve()), 8)]
    doc = json.loads(get(f"{base}/songs/Tune_One/arrangement.json?token={TOKEN}")[1])
    assert len(doc["bars"]) == 8 and max(b["drums_per_quarter"] for b in doc["bars"]) > 0
    for name, start in (("song.mid", b"MThd"), ("drums.mid", b"MThd"), ("drums.wav", b"RIFF"), ("kit.sfz", b"//")):
        status, body, headers = get(f"{base}/songs/Tune_One/{name}?token={TOKEN}")
        assert status == 200 and body.startswith(start) and "attachment" in headers["Content-Disposition"], name
    kit = zipfile.ZipFile(io.BytesIO(get(f"{base}/songs/Tune_One/kit.zip?token={TOKEN}")[1])).namelist()
    assert "dd_live-Tune_One-kit/kit.sfz" in kit and all(n.startswith("dd_live-Tune_One-kit/") for n in kit)
    assert sum(n.endswith(".wav") for n in kit) == len(doc["kit"]) and not any("drums" in n for n in kit)
    whole = zipfile.ZipFile(io.BytesIO(get(f"{base}/songs/Tune_One.zip?token={TOKEN}")[1])).namelist()
    assert {f"dd_live-Tune_One/{f}" for f in ("song.mid", "drums.wav", "arrangement.json", "kit.sfz")} <= set(whole)
    for path, status in (("/songs/Tune_One/drums.mid?token=wrong", 403), ("/songs/Tune_One/drums.mid", 403),
                         (f"/songs/Nope/drums.mid?token={TOKEN}", 404), (f"/songs/Tune_One/x.mid?token={TOKEN}", 404),
                         (f"/songs/Tune_One/samples/01_x.wav?token={TOKEN}", 404)):
        assert get(base + path)[0] == status, path


def test_a_song_folder_linked_out_of_the_session_is_not_served(web_daemon, tmp_path):
    d, base = web_daemon()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "arrangement.json").write_text("{}")
    (outside / "drums.wav").write_bytes(b"RIFF TOPSECRET")
    (d.session.folder / "songs").mkdir(exist_ok=True)
    os.symlink(outside, d.session.folder / "songs" / "linked")
    for path in ("/songs/linked/drums.wav", "/songs/linked.zip", "/api/songs"):
        status, body, _ = get(f"{base}{path}?token={TOKEN}")
        assert b"TOPSECRET" not in body and status == (200 if path == "/api/songs" else 404), path
    assert json.loads(get(f"{base}/api/songs?token={TOKEN}")[1]) == {"songs": []}
