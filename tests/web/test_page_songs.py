"""Songs on the page, in chromium: a MIDI song chosen on the page is written in the session's taste, its
arrangement shown, drums.wav played with a playhead and every file downloaded; a song dropped with "then play
along" plays on MIDI out, stops from the Songs panel and starts again from the page."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile

import pytest

from .helpers import TOKEN
from .songs import small_song

pytestmark = pytest.mark.browser


def test_a_song_chosen_on_the_page_is_arranged_shown_played_and_its_files_downloaded(shown, tmp_path):
    import mido
    import soundfile

    d, page, _ = shown
    src = small_song(tmp_path / "tune.mid")
    page.set_input_files("#song-file", str(src))
    page.wait_for_function("dd.song.doc !== null", timeout=120_000)
    doc = page.evaluate("dd.song.doc")
    assert doc["song"] == "tune.mid" and len(doc["bars"]) == 8 and page.is_visible("#song-plot")
    assert "sections" in page.text_content("#song-facts") and page.locator("#songs li").count() == 1
    # the drums: quiet bars get fewer hits a quarter than busy ones (what the plot's columns show)
    quiet = sum(b["drums_per_quarter"] for b in doc["bars"][:4])
    busy = sum(b["drums_per_quarter"] for b in doc["bars"][4:])
    assert busy > quiet
    got = {}
    for link in page.locator("#song-files a").all():
        with page.expect_download() as info:
            link.click()
        got[info.value.suggested_filename] = info.value.path().read_bytes()
    assert set(got) == {"song.mid", "drums.mid", "drums.wav", "dd_live-tune-kit.zip", "dd_live-tune.zip"}
    song = mido.MidiFile(file=io.BytesIO(got["song.mid"]))
    kinds = {(m.channel, m.type) for t in song.tracks for m in t if m.type == "note_on" and m.velocity}
    assert {(9, "note_on"), (0, "note_on"), (1, "note_on")} <= kinds       # the drums added, the parts kept
    audio, rate = soundfile.read(io.BytesIO(got["drums.wav"]))
    assert rate == 44100 and abs(len(audio) / rate - doc["summary"]["seconds"]) < 2.0 and abs(audio).max() > 0.05
    kit = zipfile.ZipFile(io.BytesIO(got["dd_live-tune-kit.zip"]))
    sfz = kit.read("dd_live-tune-kit/kit.sfz").decode()
    for line in sfz.splitlines():                                         # every sample the kit names is in it
        if "sample=" in line:
            assert f"dd_live-tune-kit/samples/{line.split('sample=')[1].split()[0]}" in kit.namelist()
    assert "default_path=samples/" in sfz
    # listening: drums.wav on the page's speakers, the playhead on the plot following the audio clock
    page.click("#song-listen")
    page.wait_for_function("dd.song.listening && dd.song.playhead > 0.5", timeout=20_000)
    lag = page.evaluate("""() => {
      const ts = dd.audio.ctx.getOutputTimestamp();
      return (ts.contextTime - dd.song.listening.start) - dd.song.playhead; }""")
    assert abs(lag) < 0.1
    assert page.text_content("#song-listen") == "Stop"
    page.click("#play")                                                   # the loop takes over from the song
    page.wait_for_function("dd.song.listening === null && dd.audio.playing")


#: the bytes of a small song, handed to a drop event built in the page (a File in a DataTransfer)
DROP = """async ([name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "audio/midi" }));
  document.getElementById("song-drop").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
}"""


def test_a_song_dropped_plays_along_on_midi_out_stops_and_starts_again_from_the_page(chrome, web_daemon, tmp_path,
                                                                                    monkeypatch):
    from dd_live.ports import midi_out
    from dd_live.testing.browser import new_page, next_grid

    sent = []
    monkeypatch.setattr(midi_out, "open_player", lambda port, **kw: midi_out.MidiPlayer(
        lambda m: sent.append((time.perf_counter(), list(m))), where="test", **kw))
    d, base = web_daemon(midi_out="virtual")
    page = new_page(chrome, f"{base}/?token={TOKEN}")
    try:
        next_grid(page, 0, 60_000)
        src = small_song(tmp_path / "Dropped Song.mid")
        page.check("#song-along-now")
        page.evaluate(DROP, ["Dropped Song.mid", base64.b64encode(src.read_bytes()).decode()])
        page.wait_for_function("document.getElementById('status').textContent.includes('playing Dropped_Song.mid')",
                               timeout=120_000)
        assert d.song_play.playing is not None and d.song_play.playing.name == "Dropped_Song.mid"
        assert page.evaluate("dd.song.sent") == ["Dropped Song.mid"]
        deadline = time.monotonic() + 10                     # the song's drums reach MIDI out
        while time.monotonic() < deadline and not any(m[0] == 0x99 for _, m in sent):
            time.sleep(0.05)
        assert any(m[0] == 0x99 for _, m in sent)
        page.click("#panel-song button[data-command=song_stop]")
        page.wait_for_function("document.getElementById('status').textContent.includes('stopped')")
        assert d.song_play.playing is None
        page.wait_for_function("dd.song.doc !== null")
        page.click("#song-along")                            # again, from the song shown
        page.wait_for_function("document.getElementById('status').textContent.includes('playing Dropped_Song.mid')")
        assert d.song_play.playing is not None
        listing = json.loads(page.evaluate("fetch('/api/songs?token=' + encodeURIComponent(token)).then(r => r.text())"))
        assert listing["songs"][0]["source"].endswith("uploads/Dropped_Song.mid")
    finally:
        page.close()
