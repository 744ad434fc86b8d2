"""``dd-live bench feel``: does the drums' timing follow a human playing along? Simulated humans, over OSC.

Starts ``dd-live serve`` on a fresh session and, against a loop that plays off-beat sixteenths (the bench skips
with /dd/next until one does: a prior's loop of eighths gives a swinging human nothing to swing), plays takes of 4 bars through
/dd/onset (each onset with its beat, as a front end's onset detector would send it): a human swinging the
off-beat sixteenths a third of a step late, pulled 30% towards the drums, 4 ms jitter, 12 ms latency, for
three takes per seed; then, after /dd/feel/reset, a straight human. Reports, per take, the drums' mean
off-beat offset (steps and as a share of the human's swing), the largest on-beat offset, the mean gap heard,
and how long /dd/take/end took to answer with /dd/feel. The paper's morph (x . . x . . x . towards three
equal notes, at the paper's morphing rate, /dd/set/adapt 1) runs without the daemon (:func:`dd_live.testing.human.run_takes`): it needs a loop of that shape.
"""

from __future__ import annotations

import time

import numpy as np

from ..loops.pattern import Pattern
from ..testing.harness import bench_daemon, wait_answering
from ..testing.human import Human, play_takes_osc, run_takes

SWING = 1 / 3


def _morph(seed: int) -> dict:
    hits = np.zeros((4, 16), bool)
    hits[0, [0, 3, 6, 8, 11, 14]] = True
    want = {3: -1 / 3, 6: -2 / 3, 11: -1 / 3, 14: -2 / 3}
    layer = run_takes(Human(offsets=want, seed=seed), Pattern(hits=hits, samples=("a", "b", "c", "d")),
                      takes=5, rate=1.0)[-1]["layer"]
    return {"step4_error": round(float(abs(layer[3] - want[3])), 3),
            "step7_offset": round(float(layer[6]), 3), "step7_wanted": round(want[6], 3)}


def _offbeat_loop(client, *, tries: int = 40) -> int:
    """Skip (/dd/next) until the current loop plays an odd sixteenth; returns how many loops were skipped."""
    for skipped in range(tries):
        client.drain(0.1)
        client.send("/dd/hello")
        cid = client.wait("/dd/candidate", 30)[0]
        cells = client.wait("/dd/grid", 30, where=lambda a: a[0] == cid)[1:]
        names = client.wait("/dd/samples", 30, where=lambda a: a[0] == cid)[1:]
        hits = np.asarray(cells, dtype=np.int64).reshape(len(names), -1) > 0
        if hits.shape[1] % 2 == 0 and hits[:, 1::2].any():
            return skipped
        client.drop("/dd/candidate")
        client.send("/dd/next", 1)
        client.wait("/dd/candidate", 30, where=lambda a, c=cid: a[0] != c)
    raise TimeoutError(f"no loop with off-beat sixteenths in {tries} loops")


def bench_feel(*, seeds: int = 3, threads: int | None = 2) -> dict:
    swing, straight, answer_ms = [], [], []
    t_start = time.monotonic()
    with bench_daemon("feel", threads=threads) as (proc, client):
        wait_answering(client, proc)
        skipped = _offbeat_loop(client)
        for seed in range(seeds):
            for human, out in ((Human(swing=SWING, seed=seed), swing), (Human(swing=0.0, seed=seed), straight)):
                client.drop("/dd/notes")
                client.send("/dd/feel/reset")
                client.wait("/dd/feel", 30)
                try:  # the loop, rendered straight again, is announced again (unless it already was straight)
                    client.wait("/dd/notes", 2)
                except TimeoutError:
                    pass
                t0 = time.perf_counter()
                takes = play_takes_osc(client, human, takes=3, bars=4)
                answer_ms.append((time.perf_counter() - t0) * 1000 / 3)
                frame = takes[0]["frame"]
                off = [s for s in frame.drum_steps if s % 2 == 1]
                on = [s for s in frame.drum_steps if s % frame.steps_per_beat == 0]
                out.append({"seed": seed,
                            "off_beat": [round(float(np.mean(t["layer"][off])), 3) for t in takes],
                            "on_beat_max": round(max(float(np.max(np.abs(t["layer"][on]))) for t in takes), 3),
                            "largest": round(max(float(np.max(np.abs(t["layer"]))) for t in takes), 3),
                            "gap_ms": [round(float(t["take"][2]), 1) for t in takes]})
    third = [s["off_beat"][2] / SWING for s in swing]
    return {"benchmark": "feel", "seeds": seeds, "human_swing_steps": round(SWING, 3), "loops_skipped": skipped,
            "swing_take3_share_min": round(min(third), 3), "swing_take3_share_mean": round(float(np.mean(third)), 3),
            "swing_rises_every_take": all(np.all(np.diff([0.0] + s["off_beat"]) > 0) for s in swing),
            "swing_gap_shrinks_every_take": all(np.all(np.diff(s["gap_ms"]) < 0) for s in swing),
            "on_beat_max": max(s["on_beat_max"] for s in swing + straight),
            "straight_largest": max(s["largest"] for s in straight),
            "take_ms_mean": round(float(np.mean(answer_ms)), 1),
            "morph": [_morph(seed) for seed in range(seeds)], "swing": swing, "straight": straight,
            "wall_s": round(time.monotonic() - t_start, 1)}
