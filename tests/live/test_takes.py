"""Takes over OSC: a simulated human plays along with a running daemon through /dd/onset, and the drums'
feel follows (issue 15, part 4); the layer is stored, undone, reset, kept across a restart, exported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dd_live.testing.harness import stop_daemon
from dd_live.testing.human import Human, play_takes_osc
from dd_live.testing.oscclient import Client

SWING = 1 / 3


def _errors(c: Client, seconds: float = 0.5) -> list[list]:
    return [args for a, args in c.drain(seconds) if a == "/dd/error"]


def test_a_swinging_human_over_osc_pulls_the_drums_off_beats_late(daemon, tmp_path):
    # DeepDrummer's busy loops (prior=None): off-beat sixteenths for the swing to pull (a drummer's loop from
    # the drum prior may have none)
    d, c = daemon(tmp_path / "s", prior=None)
    c.wait("/dd/candidate", 30)
    takes = play_takes_osc(c, Human(swing=SWING, pull=0.3, jitter_ms=4.0, latency_ms=12.0, seed=0), takes=3, bars=4)
    frame = takes[0]["frame"]
    off = [s for s in frame.drum_steps if s % 2 == 1]
    on = [s for s in frame.drum_steps if s % 4 == 0]
    means = [float(np.mean(t["layer"][off])) for t in takes]
    assert means[0] > 0 and means[1] > means[0] and means[2] > means[1] and means[2] >= 0.6 * SWING
    assert max(float(np.max(np.abs(t["layer"][on]))) for t in takes) <= 0.03
    gap_ms = [t["take"][2] for t in takes]
    assert gap_ms[1] < gap_ms[0] and gap_ms[2] < gap_ms[1]
    assert all(t["take"][0] == 4 * len(frame.drum_steps) and t["take"][4] == k + 1 for k, t in enumerate(takes))
    # the loop plays with it: its notes sit where the layer says, and the session keeps it
    layer = takes[-1]["layer"]
    assert np.allclose(d.session.feel(), layer, atol=1e-6)
    cid = d.current.id
    steps = np.flatnonzero(d.current.pattern.hits.any(axis=0))
    beats = sorted({round(n.beat * 4, 6) for n in d.current.notes})   # a downbeat played early starts the bar
    assert beats == sorted({round(max(0.0, float(s + layer[s])), 6) for s in steps})
    # an export holds the feel in its pattern's offsets
    c.send("/dd/export/loop", cid)
    out = c.wait("/dd/exported", 30)[1]
    rows = json.loads(open(f"{out}/pattern.json").read())["tracks"]
    for row in rows:
        for s, v in enumerate(row["velocities"]):
            if v:
                assert row["offsets"][s] == pytest.approx(layer[s], abs=1e-5)


def test_undo_reset_and_restart_keep_the_layer_history(daemon, tmp_path):
    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    first, second = (t["layer"] for t in play_takes_osc(c, Human(swing=SWING, seed=1), takes=2, bars=4))
    c.send("/dd/feel/undo")
    assert np.allclose(c.wait("/dd/feel", 10), first, atol=1e-6)
    c.send("/dd/feel/reset")
    assert not np.any(c.wait("/dd/feel", 10))
    assert d.settings.feel_layer == () and not _errors(c, 0.2)
    c.send("/dd/feel/undo")                       # a reset is undoable
    assert np.allclose(c.wait("/dd/feel", 10), first, atol=1e-6)
    stop_daemon(d, c)
    d2, c2 = daemon(tmp_path / "s")              # a restart plays the same feel
    c2.send("/dd/feel")
    assert np.allclose(c2.wait("/dd/feel", 10), first, atol=1e-6)
    assert np.allclose(d2.settings.feel_layer, first, atol=1e-6)
    c2.send("/dd/feel/undo")
    assert not np.any(c2.wait("/dd/feel", 10))
    c2.send("/dd/feel/undo")
    assert _errors(c2)[0][0] == "state"


def test_rate_zero_keeps_the_feel_and_bad_takes_get_one_line_errors(daemon, tmp_path):
    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    c.drain(0.2)
    c.send("/dd/onset", 1.0)                      # no take running
    c.send("/dd/take/end")                        # nor here
    c.send("/dd/take/start")
    c.send("/dd/onset", 4.0)                      # outside a 4-beat bar
    c.send("/dd/onset", -1.0)
    c.send("/dd/onset")                           # "now", but nothing plays (no outputs)
    c.send("/dd/onset", "late")
    c.send("/dd/set/adapt", 1.5)
    errors = _errors(c, 1.0)
    assert [e[0] for e in errors] == ["state", "state", "args", "args", "state", "args", "args"]
    assert all("\n" not in e[1] for e in errors)
    c.send("/dd/take/end")                        # a take without onsets changes nothing
    assert _errors(c)[0][0] == "state" and d.session.feel() is None
    c.send("/dd/set/adapt", 0)
    c.drain(0.3)
    layers = play_takes_osc(c, Human(swing=SWING, seed=2), takes=1)
    assert not np.any(layers[0]["layer"]) and layers[0]["take"][1] > 0
    assert d.settings.adapt == 0 and d.session.settings()["live"]["adapt"] == 0


def test_midi_in_note_ons_become_onsets_chords_merge_and_errors_stay_out_of_its_thread():
    from dd_live.ports.midi_in import MERGE_S, MidiInput

    got: list[float] = []
    mi = MidiInput("virtual", lambda t: got.append(t) or len(got) < 3)
    mi._on_message([0x90, 60, 100], 0.0)          # an onset
    mi._on_message([0x90, 64, 90], MERGE_S / 3)   # the same chord: merged
    mi._on_message([0x80, 60, 0], 0.1)            # note-off
    mi._on_message([0x92, 60, 0], 0.2)            # note-on with velocity 0 is a note-off
    mi._on_message([0x99, 36, 90], 0.3)           # any channel
    mi.on_onset = lambda t: 1 / 0
    mi._on_message([0x90, 61, 80], 0.4)           # an error inside: logged, counted, not raised into the reader
    assert got == [0.0, 0.3] and (mi.kept, mi.merged, mi.dropped) == (2, 1, 1)
    mi.close()
    mi.close()                                    # idempotent


def test_onsets_from_midi_in_outside_a_take_or_while_nothing_plays_are_dropped_quietly(daemon, tmp_path):
    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    assert d.takes.onset_at(0.0) is False               # no take
    c.send("/dd/take/start")
    c.send("/dd/status")
    c.wait("/dd/status", 10)
    assert d.takes.onset_at(0.0) is False               # a take, but no output playing: no phase to place it
    assert not _errors(c, 0.3)


def _patterns(d, c, n: int) -> list:
    from dd_live.loops.pattern import Pattern

    out = []
    for _ in range(n):
        c.drain(0.05)
        c.send("/dd/next")
        cid = c.wait("/dd/candidate", 30)[0]
        grid = c.wait("/dd/grid", 10, where=lambda a, i=cid: a[0] == i)[1:]
        p = Pattern.from_json(d.session.candidate(cid).pattern)
        assert grid == [int(v) if h else 0 for h, v in zip(p.hits.ravel(), p.velocities.ravel())]
        out.append(p)
    return out


def test_set_feel_serves_loops_with_accents_ghosts_push_and_swing_and_off_serves_flat_ones(daemon, tmp_path):
    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    c.send("/dd/set/feel", 1)
    felt = _patterns(d, c, 6)
    assert d.settings.own_feel and d.session.settings()["live"]["own_feel"] is True
    assert all(len(set(p.velocities[p.hits].tolist())) > 1 for p in felt)     # accents and ghosts
    assert sum(p.swing > 0 for p in felt) >= 2 and sum(bool(np.any(p.offsets)) for p in felt) >= 2
    c.send("/dd/set/mode", "explore")            # DeepDrummer's chains search the feel too
    explored = _patterns(d, c, 4)
    assert sum(len(set(p.velocities[p.hits].tolist())) > 1 for p in explored) >= 3
    c.send("/dd/set/feel", 0)
    flat = _patterns(d, c, 3)
    assert all(np.all(p.velocities[p.hits] == 100) and p.swing == 0 and not np.any(p.offsets) for p in flat)


def test_an_export_made_before_a_take_is_written_again_with_the_new_feel(daemon, tmp_path):
    d, c = daemon(tmp_path / "s")
    cid = c.wait("/dd/candidate", 30)[0]
    c.send("/dd/export/loop", cid)
    out = c.wait("/dd/exported", 30)[1]
    before = json.loads(open(f"{out}/pattern.json").read())
    assert all("offsets" not in row for row in before["tracks"])           # straight
    assert d.session.export_is_current(cid, d.session.export_dir(cid))
    layer = play_takes_osc(c, Human(swing=SWING, seed=3), takes=1)[0]["layer"]
    assert not d.session.export_is_current(cid, d.session.export_dir(cid))  # the feel changed: stale
    c.send("/dd/export/loop", cid)
    assert c.wait("/dd/exported", 30)[1] == out
    after = json.loads(open(f"{out}/pattern.json").read())
    offsets = [o for row in after["tracks"] for o, v in zip(row.get("offsets", [0] * 16), row["velocities"]) if v]
    assert any(offsets) and max(abs(o - layer[s]) for row in after["tracks"]
                                for s, (o, v) in enumerate(zip(row.get("offsets", [0] * 16), row["velocities"])) if v) < 1e-5
    assert d.session.export_is_current(cid, d.session.export_dir(cid))


def test_a_take_after_the_grid_changed_moves_the_old_grids_layer_read_on_the_new_grid(daemon, tmp_path):
    """The feel layer a take on 16 steps made is read at the same places in a bar of 24 steps, and the next take
    moves it on the new grid, whose layer is then the one stored."""
    d, c = daemon(tmp_path / "s", prior=None)
    c.wait("/dd/candidate", 30)
    first = play_takes_osc(c, Human(swing=SWING, pull=0.3, jitter_ms=4.0, seed=0), takes=1, bars=4)[0]["layer"]
    assert first.size == 16 and np.any(first)
    c.drain(0.1)
    c.send("/dd/set/grid", 24, 4)
    c.wait("/dd/shape", 30, where=lambda a: a == [4, 24, 4])
    c.wait("/dd/candidate", 30)
    assert not _errors(c)
    after = play_takes_osc(c, Human(swing=SWING, pull=0.3, jitter_ms=4.0, seed=1), takes=1, bars=4)[0]["layer"]
    assert after.size == 24 and len(d.session.feel()) == 24 and not _errors(c)
