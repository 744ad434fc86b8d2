"""Automatic takes (issue 15, part 4): /dd/set/autotake bars ends the running take and starts the next every
N bars, by the outputs' bar line when something plays, at the session tempo."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np

from dd_live.testing.human import Human, frame_from_notes
from dd_live.session.settings import LiveSettings
from dd_live.live.takes import AutoTakes


@dataclass
class FakeTakes:
    settings: LiveSettings
    playing: float | None = None      # the outputs' phase
    calls: list = field(default_factory=list)

    def phase(self, at=None):
        return self.playing

    def begin_take(self):
        self.calls.append("begin")

    def end_take(self, *, auto=False):
        self.calls.append("end" if auto else "end-by-hand")
        return True


def test_takes_end_on_the_bar_lines_n_bars_apart_counted_from_the_playing_bar_and_a_stall_skips_ahead():
    now = [100.0]
    d = FakeTakes(LiveSettings(bpm=120.0, autotake=2), playing=0.25)    # a 2 s bar, a quarter played
    auto = AutoTakes(d, clock=lambda: now[0])
    wait = auto.tick()
    assert d.calls == ["begin"] and auto.due == 100.0 - 0.5 + 4.0     # two bars from the bar line played
    assert 0 < wait <= AutoTakes.IDLE_S
    now[0] = 103.49
    auto.tick()
    assert d.calls == ["begin"]
    now[0] = 103.5
    auto.tick()
    assert d.calls == ["begin", "end"] and auto.due == 107.5
    now[0] = 116.0                                                       # a stall of two takes and more
    auto.tick()
    assert d.calls == ["begin", "end", "end"] and auto.due == 119.5      # still on the bar grid, one end only
    d.settings = LiveSettings(autotake=0)
    assert auto.tick() == AutoTakes.IDLE_S and auto.due is None
    d.settings, d.playing = LiveSettings(bpm=60.0, beats=3, autotake=1), None   # nothing plays: from now
    now[0] = 200.0
    auto.tick()
    assert d.calls[-1] == "begin" and auto.due == 203.0


def test_while_a_song_plays_a_take_is_a_pass_over_it():
    from types import SimpleNamespace

    cue = SimpleNamespace(passes=0)
    song = SimpleNamespace(playing=SimpleNamespace(cue=cue))
    d = FakeTakes(LiveSettings(bpm=120.0, autotake=2), playing=0.25)
    d.song = lambda: song
    auto = AutoTakes(d, clock=lambda: 100.0)
    auto.tick()
    assert d.calls == ["begin"] and auto.due is None               # bars are not counted over a song
    auto.tick()
    assert d.calls == ["begin"]
    cue.passes = 1                                                  # the song came round to its start bar
    auto.tick()
    auto.tick()
    assert d.calls == ["begin", "end"]
    song.playing = None                                             # the song stopped: bars again
    auto.tick()
    assert d.calls[-1] == "begin" and auto.due == 100.0 - 0.5 + 4.0


def _play_bar(c, frame, human: Human, beats: int, bar_s: float) -> None:
    """One bar of the human's onsets, each sent when it is due (real time)."""
    start = time.perf_counter()
    for pos in sorted(human.play(frame, bars=1, bpm=60.0 * beats / bar_s)):
        beat = float(pos) * beats / frame.steps
        time.sleep(max(0.0, start + beat / beats * bar_s - time.perf_counter()))
        c.send("/dd/onset", beat if beat < beats else 0.0)
    time.sleep(max(0.0, start + bar_s - time.perf_counter()))


def test_automatic_takes_move_the_feel_towards_a_swinging_human_without_take_messages(daemon, tmp_path):
    # a bar is 1 s; DeepDrummer's busy loops (prior=None): off-beat sixteenths for the swing to pull
    d, c = daemon(tmp_path / "s", settings=LiveSettings(bpm=240.0), prior=None)
    cid = c.wait("/dd/candidate", 30)[0]
    cells = c.wait("/dd/grid", 10, where=lambda a: a[0] == cid)[1:]
    notes = c.wait("/dd/notes", 10, where=lambda a: a[0] == cid)[1:]
    human = Human(swing=1 / 3, pull=0.3, jitter_ms=2.0, latency_ms=0.0, seed=1)
    c.send("/dd/set/autotake", 1)
    deadline = time.monotonic() + 5
    while d.takes.autotakes.due is None and time.monotonic() < deadline:   # the first take has started
        time.sleep(0.01)
    layers = []
    end = time.monotonic() + 20
    while len(layers) < 3 and time.monotonic() < end:
        frame = frame_from_notes(cells, notes, tracks=4)
        _play_bar(c, frame, human, 4, 1.0)
        for a, args in c.drain(0.02):
            if a == "/dd/feel":
                layers.append(np.asarray(args))
            elif a == "/dd/notes" and args[0] == cid:
                notes = args[1:]
            assert a != "/dd/error", args
    assert len(layers) >= 3
    off = [s for s in frame.drum_steps if s % 2 == 1]
    means = [float(np.mean(x[off])) for x in layers]
    assert means[0] > 0.03 and means[2] > means[0]
    stats = [json.loads(r[0]) for r in d.session._query("SELECT stats FROM feel WHERE kind='take' ORDER BY seq")]
    assert len(stats) >= 3 and all(x["auto"] for x in stats)
    assert d.session.settings()["live"]["autotake"] == 1
    # off: onsets now find no take, and no take ends by itself
    c.send("/dd/set/autotake", 0)
    time.sleep(0.5)
    c.drain(0.1)
    c.send("/dd/onset", 1.0)
    assert c.wait("/dd/error", 5)[0] == "state"
    time.sleep(1.5)
    assert not [a for a, _ in c.drain(0.2) if a == "/dd/take"]


def test_with_automatic_takes_on_a_take_ended_by_hand_is_followed_by_the_next_at_once(daemon, tmp_path):
    d, c = daemon(tmp_path / "s", settings=LiveSettings(bpm=60.0, autotake=8))   # long takes: none ends here
    c.wait("/dd/candidate", 30)
    deadline = time.monotonic() + 5
    while d.takes.autotakes.due is None and time.monotonic() < deadline:
        time.sleep(0.02)
    c.drain(0.1)
    c.send("/dd/take/end")                    # nothing played yet: not used, but the next take runs
    assert c.wait("/dd/error", 5)[0] == "state"
    c.send("/dd/onset", 0.5)
    assert not [a for a, _ in c.drain(0.5) if a == "/dd/error"]
