"""The daemon in-process over real UDP on loopback: ratings, errors, undo, export, settings, resume."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from dd_live.testing.harness import stop_daemon
from dd_live.testing.oscclient import Client
from dd_live.osc import osc
from dd_live.loops.pattern import Pattern


@pytest.fixture
def live(daemon):
    """A daemon of this test's own (each test here passes alone and in any order)."""
    return daemon()


def _candidate(c: Client, timeout: float = 20.0, where=lambda a: True) -> list:
    args = c.wait("/dd/candidate", timeout, where)
    for f in args[3:6]:
        assert Path(f).is_file(), f"{f} announced before it exists"
    return args


def test_hello_gets_status_and_a_candidate_with_its_files(live):
    d, c = live
    status = c.wait("/dd/status")
    assert len(status) == 5
    cand = _candidate(c)
    cid = cand[0]
    assert isinstance(cid, int) and 0 <= cand[1] <= 1 and cand[2] == 120.0 and cand[6] == 0
    grid = c.wait("/dd/grid", where=lambda a: a[0] == cid)
    assert len(grid) == 1 + 4 * 16 and all(0 <= v <= 127 for v in grid[1:])
    names = c.wait("/dd/samples", where=lambda a: a[0] == cid)
    assert len(names) == 5
    notes = c.wait("/dd/notes", where=lambda a: a[0] == cid)
    assert (len(notes) - 1) == 3 * sum(1 for v in grid[1:] if v)
    row = d.session.candidate(cid)
    p = Pattern.from_json(row.pattern)
    assert [int(v) if h else 0 for h, v in zip(p.hits.ravel(), p.velocities.ravel())] == grid[1:]


def test_ratings_by_id_are_committed_then_acknowledged_and_trained_on(live):
    d, c = live
    c.drain()
    c.send("/dd/next")
    cid = _candidate(c)[0]
    before = d.session.counts()
    c.send("/dd/rate", cid, 1)
    rated = c.wait("/dd/rated")
    assert rated == [cid, "like", before[0] + 1, before[1]]
    assert d.session.label(cid) is True
    nxt = _candidate(c)
    assert nxt[0] != cid
    trained = c.wait("/dd/trained", 30)
    assert trained[1] == sum(d.session.counts())
    # rating the same id again replaces its label
    c.send("/dd/rate", cid, 0)
    assert c.wait("/dd/rated")[:2] == [cid, "dislike"]
    assert d.session.counts() == (before[0], before[1] + 1)
    assert d.session.label(cid) is False


def test_rating_without_id_applies_to_the_last_candidate_and_releases_do_nothing(live):
    d, c = live
    c.drain()
    c.send("/dd/next")
    cid = _candidate(c)[0]
    n = sum(d.session.counts())
    c.send("/dd/like", 0.0)          # a button's release
    c.send("/dd/dislike", 1.0)       # its press
    assert c.wait("/dd/rated")[:2] == [cid, "dislike"]
    assert sum(d.session.counts()) == n + 1
    assert not [m for m in c.drain(0.3) if m[0] == "/dd/rated"]


def test_button_values_sent_as_ints_rate_the_current_loop_never_loop_one(live):
    d, c = live
    c.drain()
    c.send("/dd/next")
    first = _candidate(c)[0]
    c.send("/dd/rate", first, 1)                 # an old like on a low id
    c.wait("/dd/rated")
    cur = _candidate(c)[0]
    assert cur != first
    c.send("/dd/like", 0)                        # a Max message box's release: nothing, and no error
    c.send("/dd/dislike", 1)                     # its press: the current loop, not loop 1
    assert c.wait("/dd/rated")[:2] == [cur, "dislike"]
    assert d.session.label(first) is True and d.session.label(cur) is False
    assert not [m for m in c.drain(0.3) if m[0] in ("/dd/rated", "/dd/error")]


def test_export_loop_names_a_candidate_by_id(live):
    d, c = live
    c.drain()
    c.send("/dd/next")
    cid = _candidate(c)[0]
    c.send("/dd/next")
    _candidate(c)
    c.send("/dd/export/loop", cid)
    got = c.wait("/dd/exported")
    assert got[0] == cid and Path(got[1], "loop.mid").is_file()
    c.send("/dd/export/loop", 999999)
    assert c.wait("/dd/error")[0] == "unknown-id"


def test_every_bad_bundle_element_gets_a_parse_error(live):
    import struct

    from dd_live.osc.osc import encode

    d, c = live
    c.drain()

    def bundle(*els, sizes=None):
        out = b"#bundle\0" + b"\0" * 7 + b"\1"
        for k, e in enumerate(els):
            out += struct.pack(">i", len(e) if sizes is None else sizes[k]) + e
        return out

    status = encode("/dd/status")
    for data in (bundle(), bundle(status, sizes=[1000]), bundle(b"garbage!"), bundle(status, b"xxxx")):
        c.send_raw(data)
        assert c.wait("/dd/error", 5)[0] == "parse", data
    c.wait("/dd/status", 5)                     # the good element of the last one still ran


def test_a_flood_of_bad_packets_says_flood_once_then_quiets(tmp_path, daemon):
    d, c = daemon(tmp_path / "flood")
    try:
        c.drain(0.5)
        for _ in range(200):
            c.send_raw(b"junk")
        got = [m for m in c.drain(1.0) if m[0] == "/dd/error"]
        codes = [m[1][0] for m in got]
        assert codes.count("flood") == 1, codes
        assert codes.index("flood") == len(codes) - 1            # nothing after it while the flood lasts
        assert 10 <= codes.count("parse") <= 40
        import time

        time.sleep(2.5)                                          # the bucket refills: errors are heard again
        c.send_raw(b"junk")
        assert c.wait("/dd/error", 5)[0] == "parse"
    finally:
        stop_daemon(d, c)


def test_the_client_evicted_at_the_cap_is_told(tmp_path, daemon):
    from dd_live.osc.protocol import MAX_CLIENTS

    d, c = daemon(tmp_path / "cap")
    others = [Client(d.port) for _ in range(MAX_CLIENTS)]
    try:
        c.drain(0.3)
        for o in others:
            o.send("/dd/hello")
            o.wait("/dd/status", 10)
        err = c.wait("/dd/error", 5)
        assert err[0] == "evicted" and "/dd/hello" in err[1]
        assert (c.sock.getsockname()[0], c.port) not in d.replies.clients
        c.drain(0.2)
        others[-1].send("/dd/status")
        others[-1].wait("/dd/status", 5)
        assert not [m for m in c.drain(0.3) if m[0] == "/dd/status"]   # c no longer hears replies
        assert others[0].wait("/dd/status", 5)                           # the others still do
    finally:
        for o in others:
            o.close()
        stop_daemon(d, c)


def test_unknown_ids_and_bad_input_get_errors_and_change_nothing(live):
    d, c = live
    c.drain()
    counts = d.session.counts()
    c.send("/dd/rate", 999999, 1)
    assert c.wait("/dd/error")[0] == "unknown-id"
    c.send("/dd/set/tempo", "fast")
    assert c.wait("/dd/error")[0] == "args"
    c.send_raw(b"\x00\x01garbage")
    assert c.wait("/dd/error")[0] == "parse"
    c.send("/nope")
    assert c.wait("/dd/error")[0] == "address"
    assert d.session.counts() == counts
    c.send("/dd/status")
    assert c.wait("/dd/status")[0] == sum(counts)


def test_undo_removes_the_last_rating_and_retrains(live):
    d, c = live
    c.drain()
    c.send("/dd/next")
    cid = _candidate(c)[0]
    c.send("/dd/rate", cid, 1)
    c.wait("/dd/rated")
    assert _candidate(c)[0] != cid
    ratings = d.session.ratings()
    v = c.wait("/dd/trained", 30, where=lambda a: a[1] == len(ratings))[0]
    c.send("/dd/undo")
    status = c.wait("/dd/status")
    assert status[0] == len(ratings) - 1
    assert d.session.ratings() == ratings[:-1]
    again = _candidate(c)            # the undone loop comes back to be rated again
    assert again[0] == cid
    # a kept state comes back at once; without one (ratings trained together) it replays them
    trained = c.wait("/dd/trained", 60, where=lambda a: a[0] > v and a[1] == len(ratings) - 1)
    assert trained[1] == len(ratings) - 1
    assert d.trainer_worker.dataset == ratings[:-1]


def test_a_bundle_of_300_undos_is_stopped_and_redo_brings_the_ratings_back(live):
    from dd_live.osc.protocol import UNDO_DEPTH

    d, c = live
    c.drain()
    c.send("/dd/next")
    for _ in range(UNDO_DEPTH + 4):
        _candidate(c)
        c.send("/dd/like")
        c.wait("/dd/rated")
    before = d.session.ratings()
    undo = osc.encode("/dd/undo")
    c.send_raw(b"#bundle\0" + b"\0" * 7 + b"\1" + b"".join(len(undo).to_bytes(4, "big") + undo for _ in range(300)))
    err = c.wait("/dd/error", 10, where=lambda a: "in a row at most" in a[1])
    assert err[0] == "state"
    c.send("/dd/status")
    c.wait("/dd/status", 10, where=lambda a: a[0] == len(before) - UNDO_DEPTH)
    assert d.session.ratings() == before[:-UNDO_DEPTH]
    c.drain(0.3)
    c.send("/dd/redo")
    rated = c.wait("/dd/rated", 10)
    assert rated[0] == before[-UNDO_DEPTH][0] and rated[1] == "like" and rated[2] == len(before) - UNDO_DEPTH + 1
    for _ in range(UNDO_DEPTH - 1):
        c.send("/dd/redo")
        c.wait("/dd/rated", 10)
    assert d.session.ratings() == before
    c.send("/dd/redo")
    assert "nothing to redo" in c.wait("/dd/error", 10)[1]


def test_a_sender_on_another_machine_gets_a_cookie_the_size_of_its_hello_and_nothing_more(live, monkeypatch):
    d, c = live
    sent: list[tuple[bytes, tuple]] = []
    monkeypatch.setattr(d.server, "send", lambda data, to: sent.append((data, to)))
    far = ("192.0.2.7", 5000)                        # TEST-NET-1: never a real machine
    hello = osc.encode("/dd/hello", 9000)
    d._on_datagram(hello, far)
    to_far = [(data, to) for data, to in sent if to[0] == far[0]]
    assert len(to_far) == 1 and to_far[0][1] == far and len(to_far[0][0]) <= 1.25 * len(hello)
    address, args = osc.parse(to_far[0][0])[0]
    assert address == "/dd/cookie" and (far[0], 9000) not in d.replies.clients
    d._on_datagram(osc.encode("/dd/like", 1), far)   # commands act, but nothing is aimed at the unproven sender
    d._on_datagram(osc.encode("/dd/nope"), far)
    d._on_datagram(osc.encode("/dd/hello", 9000, args[0] ^ 1), far)      # a wrong cookie: another cookie, no more
    assert [osc.parse(data)[0][0] for data, to in sent if to[0] == far[0]] == ["/dd/cookie", "/dd/cookie"]
    d._on_datagram(osc.encode("/dd/hello", 9000, args[0]), far)          # the right one: registered, answered
    assert (far[0], 9000) in d.replies.clients
    assert "/dd/status" in {osc.parse(data)[0][0] for data, to in sent if to == (far[0], 9000)}
    local = ("127.0.0.1", c.port)                    # this machine needs no cookie
    assert d.replies.trusted(local) and not d.replies.trusted(("192.0.2.8", 1))


def test_settings_updated_from_four_threads_end_as_the_last_update_everywhere(live, monkeypatch):
    """The OSC, clock, Link and take threads all change settings: whichever update is applied last is what the
    session stores and the generator plays, never an older snapshot saved after it."""
    import threading

    d, c = live
    save = d.session.save_settings
    holding, later_done = threading.Event(), threading.Event()

    def save_held_once(values):            # the first update's save stalls (a slow disk) while another goes by
        if threading.current_thread().name == "first" and not holding.is_set():
            holding.set()
            later_done.wait(1.0)
        save(values)

    monkeypatch.setattr(d.session, "save_settings", save_held_once)
    first = threading.Thread(target=d.update, kwargs={"bpm": 101.0}, name="first")
    first.start()
    assert holding.wait(5)
    second = threading.Thread(target=lambda: (d.update(density=0.3), later_done.set()))
    second.start()
    first.join()
    second.join()
    assert (d.settings.bpm, d.settings.density) == (101.0, 0.3)
    assert d.session.settings()["live"] == d.settings.to_dict()     # not the first update's older snapshot

    fields = {"bpm": lambda k: 90.0 + k, "density": lambda k: 0.2 + k / 100, "latency": lambda k: float(k),
              "adapt": lambda k: 0.1 + k / 100}
    monkeypatch.setattr(d.session, "save_settings", save)
    threads = [threading.Thread(target=lambda n=name: [d.update(**{n: fields[n](k)}) for k in range(40)])
               for name in fields]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = d.settings
    assert (final.bpm, final.density, final.latency, final.adapt) == tuple(f(39) for f in fields.values())
    assert d.session.settings()["live"] == final.to_dict()
    assert d.generator._pending_settings in (final, None) and d.generator._bpm == final.bpm


def test_a_flood_of_ratings_keeps_the_candidates_within_their_budget_and_undo_renders_a_thinned_loop(
        daemon, tmp_path, monkeypatch):
    from dd_live.live import loop as loop_module

    monkeypatch.setattr(loop_module, "CANDIDATE_BUDGET", 8 * 2 ** 20)       # about six candidates' audio
    d, c = daemon(tmp_path / "s")
    try:
        c.send("/dd/next")
        for _ in range(48):
            c.wait("/dd/candidate", 30)
            c.send("/dd/like")
            c.wait("/dd/rated", 10)
        time.sleep(0.5)
        d.generator._collect()                                   # what the generator does every 16 loops made
        size = sum(f.stat().st_size for f in (tmp_path / "s" / "candidates").rglob("*") if f.is_file())
        assert size <= 8 * 2 ** 20 + 48 * 8192, size
        thinned = [cid for cid, _ in d.session.ratings() if not (d.session.candidate_dir(cid) / "critic.wav").exists()]
        assert thinned                                           # rated loops' audio went, oldest first
        while d.session.ratings()[-1][0] != thinned[-1]:         # undo back to a thinned loop: announced again,
            c.send("/dd/undo")                                   # its files rendered again
            c.wait("/dd/status", 10)
        c.send("/dd/undo")
        again = c.wait("/dd/candidate", 30, where=lambda a: a[0] == thinned[-1])
        assert Path(again[3]).is_file() and d.failure() is None
    finally:
        stop_daemon(d, c)


def test_export_writes_into_the_session_only(live):
    d, c = live
    c.drain()
    c.send("/dd/next")
    cid = _candidate(c)[0]
    c.send("/dd/export")
    got = c.wait("/dd/exported")
    assert got[0] == cid
    out = Path(got[1])
    assert out == (d.session.folder / "exports" / str(cid)).resolve()
    for name in ("loop.wav", "preview.wav", "loop.mid", "kit.sfz", "pattern.json"):
        assert (out / name).is_file()


def test_tempo_change_reannounces_the_current_loop_at_the_new_tempo(live):
    d, c = live
    c.drain()
    c.send("/dd/next")
    cid = _candidate(c)[0]
    c.send("/dd/set/tempo", 90.0)
    again = _candidate(c)
    assert again[0] == cid and again[2] == 90.0 and "90" in Path(again[3]).name
    import soundfile as sf

    assert sf.info(again[3]).frames == round(4 * 60 / 90 * 44100)
    c.send("/dd/next")
    assert _candidate(c)[2] == 90.0
    c.send("/dd/set/tempo", 120)
    _candidate(c)


def test_fotf_and_locks_shape_the_next_loops(live):
    d, c = live
    c.drain()
    c.send("/dd/set/fotf", 1)
    for _ in range(3):
        c.send("/dd/next")
        grid = c.wait("/dd/grid", 30)
        row0 = np.array(grid[1:17]) > 0
        assert row0[::4].all()
    c.send("/dd/set/lock", 3, 1)
    c.send("/dd/next")
    first = c.wait("/dd/grid", 30)
    locked = (first[0], first[1 + 32: 1 + 48])
    samples = c.wait("/dd/samples", where=lambda a: a[0] == first[0])[3]
    for _ in range(3):
        c.send("/dd/next")
        grid = c.wait("/dd/grid", 30)
        assert [v > 0 for v in grid[1 + 32: 1 + 48]] == [v > 0 for v in locked[1]]
        assert c.wait("/dd/samples", where=lambda a: a[0] == grid[0])[3] == samples
    c.send("/dd/set/lock", 3, 0)
    c.send("/dd/set/fotf", 0)
    c.drain()


def test_set_lock_refuses_a_track_that_does_not_exist(live):
    d, c = live
    c.drain()
    c.send("/dd/set/lock", 9, 1)
    assert "track must be 1-4" in c.wait("/dd/error")[1]


def test_play_without_outputs_says_why(live):
    d, c = live
    c.drain()
    c.send("/dd/play")
    assert c.wait("/dd/error")[0] == "backend"


def test_restart_resumes_ratings_critic_settings_and_ids(tmp_path, daemon):
    folder = tmp_path / "resume"
    d, c = daemon(folder)
    cid = _candidate(c)[0]
    c.send("/dd/set/tempo", 100.0)
    cid = _candidate(c, where=lambda a: a[2] == 100.0)[0]
    seen = {cid}  # the next loop is a new one; not always a higher id (see test_lean_mode_...)
    for like in (True, False, True):
        c.send("/dd/rate", cid, int(like))
        c.wait("/dd/rated")
        cid = _candidate(c, where=lambda a: a[0] not in seen)[0]
        seen.add(cid)
    c.wait("/dd/trained", 60, where=lambda a: a[1] == 3)
    ratings = d.session.ratings()
    stop_daemon(d, c)  # the trainer may still be paying budgets: read its state once it has stopped
    version = d.version
    probe = np.asarray(d.generator.scorer.audio(d.generator.chains.hits[:4], d.generator.chains.idx[:4])).copy()
    # the critic last published is the one in latest.pt (a round cut short by the stop is not saved)
    scores = d.trainer_worker.last_published.score(d.generator.scorer.features(probe)).numpy()

    d2, c2 = daemon(folder)
    try:
        assert d2.session.ratings() == ratings
        assert d2.version == version and d2.trainer_worker.dataset == ratings
        assert d2.settings.bpm == 100.0
        np.testing.assert_allclose(d2.trainer.critic.score(d2.generator.scorer.features(probe)).numpy(), scores,
                                   rtol=1e-5)
        new = _candidate(c2)
        assert new[0] > cid and new[2] == 100.0 and new[6] == 3
    finally:
        stop_daemon(d2, c2)


def test_the_daemon_mixes_with_numpy_unless_told_otherwise(live, monkeypatch):
    from dd_live.loops.render import mix_kernel

    monkeypatch.delenv("DD_LIVE_MIX", raising=False)
    assert mix_kernel() == "numpy"  # numba's compiler is not worth its memory for 16-bar batches
    monkeypatch.setenv("DD_LIVE_MIX", "numba")
    assert mix_kernel() == "numba"


def test_lean_mode_serves_loops_searched_under_posterior_draws(live):
    d, c = live
    cid = _candidate(c)[0]
    c.send("/dd/set/mode", "lean")
    # Each click announces a loop not announced before, but not always a higher id: the ready queue serves
    # its newest critic's loops first, oldest first, so a loop made before the one a new critic just
    # delivered can follow it.
    seen = {cid}
    for like in (1, 0, 1, 0):                      # both kinds: the head is fitted, with a posterior
        c.send("/dd/rate", cid, like)
        c.wait("/dd/rated", 10, where=lambda a, cid=cid: a[0] == cid)
        cid = _candidate(c, 30, where=lambda a: a[0] not in seen)[0]
        seen.add(cid)
    c.wait("/dd/trained", 60, where=lambda a: a[1] == 4)
    assert d.trainer.critic.head_posterior is not None
    served = []
    for _ in range(3):
        c.send("/dd/next")
        cid = _candidate(c, 30, where=lambda a: a[0] not in seen)[0]
        seen.add(cid)
        served.append(cid)
    assert {d.session.candidate(x).mode for x in served} == {"lean"}
    assert d.generator._pool is not None and len(d.generator._pool.pool) > 256   # the pool search made them


def test_gm_notes_reach_the_clip_the_files_and_the_export_and_stay_with_the_session(daemon, tmp_path):
    """serve --gm: /dd/notes (Max for Live clips), the candidate's loop.mid and /dd/export play each sound on
    a General MIDI note of its family; without it Drum Rack pads 36 + track. An export made at another tempo
    or note map is written again, not handed back stale. The choice is kept with the session."""
    from dd_live.testing.harness import stop_daemon
    from dd_live.loops.export import kit_notes, made_as
    from dd_live.loops.gm import GM_FAMILY_OF_NOTE, family_of
    from dd_live.session.session import Session
    from dd_live.session.settings import LiveSettings, grid_settings

    def shown(d, c):
        cand = _candidate(c)
        cid = cand[0]
        notes = c.wait("/dd/notes", where=lambda a: a[0] == cid)[1:]
        p = Pattern.from_json(d.session.candidate(cid).pattern)
        played = {t for t in range(p.hits.shape[0]) if p.hits[t].any()}
        mid = mido.MidiFile(cand[5])
        in_file = {m.note for m in mid.tracks[1] if m.type == "note_on" and m.velocity}
        return cid, p, played, set(notes[0::3]), in_file

    import mido

    d, c = daemon(tmp_path / "gm", settings=LiveSettings(gm=True))
    cid, p, played, pitches, in_file = shown(d, c)
    idx = d.library.indices(p.samples)
    gm = kit_notes(d.library, idx, gm=True).notes
    assert pitches == in_file == {gm[t] for t in played}
    for t in played:
        assert GM_FAMILY_OF_NOTE[gm[t]] == family_of(d.library.samples[idx[t]].category)
    c.send("/dd/export/loop", cid)
    out = Path(c.wait("/dd/exported")[1])
    assert made_as(out) == (120.0, True)
    c.send("/dd/set/tempo", 100.0)
    assert _candidate(c, where=lambda a: a[2] == 100.0)[0] == cid
    c.send("/dd/export/loop", cid)
    assert Path(c.wait("/dd/exported")[1]) == out
    assert made_as(out)[1] is True and abs(made_as(out)[0] - 100.0) < 0.01, "the export at 120 bpm was handed back"
    stop_daemon(d, c)
    stored = Session(tmp_path / "gm", create=False)
    try:
        live = LiveSettings.from_dict(stored.settings()["live"])
    finally:
        stored.close()
    assert grid_settings(live, {"gm": None}).gm is True and grid_settings(live, {"gm": False}).gm is False

    d, c = daemon(tmp_path / "pads")
    cid, p, played, pitches, in_file = shown(d, c)
    assert pitches == in_file == {36 + t for t in played}


def test_the_published_critic_carries_what_the_ratings_say_of_each_cell(live):
    """After MIN_CELL_RATINGS ratings the trainer reads each rated loop's grid from the session and the critic it
    publishes carries the cells' terms (learn.policy.fit_cells), which the generator's search adds; a candidate
    whose stored pattern is damaged is left out of them, not an error."""
    from dd_live.learn.policy import MIN_CELL_RATINGS

    d, c = live
    for k in range(MIN_CELL_RATINGS):
        cid = _candidate(c, where=lambda a: True)[0]
        c.drop("/dd/candidate")
        c.send("/dd/rate", cid, k % 2)
        c.wait("/dd/rated", 20, where=lambda a, cid=cid: a[0] == cid)
    c.wait("/dd/trained", 60, where=lambda a: a[1] == MIN_CELL_RATINGS)
    cells = d.published_critic.rated_cells
    assert cells is not None and cells.shape == (4, 16) and np.isfinite(cells.mean).all()
    grids = d.trainer_worker._grids([1, None])
    assert grids[0].shape == (4, 16) and grids[1] is None
    unread = max(r[0] for r in d.session._query("SELECT id FROM candidates"))     # a loop no rating read yet
    with d.session._lock:
        d.session._db.execute("UPDATE candidates SET pattern='{broken' WHERE id=?", (unread,))
    assert d.trainer_worker._grids([unread, 10 ** 6]) == [None, None]       # damaged; unknown
