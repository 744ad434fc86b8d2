"""``dd-live bench playalong``: a simulated human's takes over a whole song teach the drums its feel
(:mod:`dd_live.groove.timing`), measured against what the human meant, for several seeds.

The song (:func:`dd_live.testing.songhuman.demo_song`): 32 bars of 4/4 at 120 bpm, verse / chorus / verse /
bridge / chorus, kick, snare and sixteenth hats. The human plays with 5 ms jitter, pulled 30% towards the
drums, laid back 25 ms in the verses, 10 ms on top in the choruses, swinging the bridge's off-beat sixteenths by
a third of a step. Figures after 3 takes, one run per seed: each section's mean drum offset against the human's
(ms), the bridge's swing (steps), a straight human's largest section mean and mean |offset| (steps), the half
of each verse nobody played along with against the half they did, rolypoly~'s morph of x..x..x into triplets,
the seconds one take's learning takes; audio in through a JACK dummy server (:func:`audio_in_figures`) and a
song following a host's MIDI clock there (:func:`song_clock_figures`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import core

SECTIONS_MS = {"verse": 25.0, "chorus": -10.0}
BRIDGE_SWING = 1 / 3


def _run(human, score, seed):
    from ..testing.songhuman import run_song_takes

    t0 = time.perf_counter()
    feel, reports = run_song_takes(human, score, seed=seed)
    return feel, reports, (time.perf_counter() - t0) / len(reports)


def audio_in_figures(seconds: float = 8.0, drums_from: str = "portaudio") -> dict:
    """Audio in through a JACK dummy server (:mod:`dd_live.testing.audioloop`; ``drums_from``: the drums played
    by a PortAudio stream, or by audio out on a JACK MIDI writer's client, "jack"): onsets' error against where they
    were played (the streams' constant stamp disagreement taken off, and given), onsets heard that nobody
    played, the drums' way back it measured, and the blocks PortAudio says lost audio (xruns: a busy machine
    held JACK up); {"audio_in": "no jackd"} without JACK."""
    import json
    import os
    import subprocess
    import sys

    from ..testing.harness import jack_server

    with jack_server("ddbench") as env:
        if env is None:
            return {"audio_in": "no jackd"}
        done = subprocess.run([sys.executable, "-m", "dd_live.testing.audioloop", str(seconds), drums_from],
                              env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        return {"audio_in": f"failed: {done.stderr.strip().splitlines()[-1:] or ['?']}"}
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    heard, played = np.array(doc["heard"]), np.array(doc["played"])
    settled = played[played > played[0] + 2.0]           # after its first whole measure of the drums' way back
    err = np.array([heard[np.argmin(np.abs(heard - p))] - p for p in settled])
    lag = float(np.median(err))
    late = heard[heard > played[0] + 2.0]
    return {"audio_in": {"onsets": int(settled.size), "p95_ms": round(float(np.percentile(np.abs(err - lag), 95)) * 1e3, 3),
                         "stamp_lag_ms": round(lag * 1e3, 3),
                         "heard_not_played": int(sum(np.min(np.abs(played - h)) >= 0.025 for h in late)),
                         "drums_delay_gain": doc["bleed"], "dropped_blocks": doc["dropped"], "xruns": doc["xruns"]}}


def song_clock_figures() -> dict:
    """A song played live while a host's MIDI clock drives it (JACK dummy server, ``--sync midi``): each note's
    error against where the host's clock puts it over bars 1-4 (:func:`dd_live.testing.clockhost.song_on_host`);
    {"song_on_host": "no jackd"} without JACK."""
    import os
    import tempfile

    from ..sound.samples import load_kit
    from ..testing.clockhost import ClockHost, song_on_host
    from ..testing.harness import jack_server, start_daemon, stop_daemon
    from .song import four_minute_song

    with jack_server("ddbench") as env, tempfile.TemporaryDirectory(prefix="dd_live_bench_") as tmp:
        if env is None:
            return {"song_on_host": "no jackd"}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            host = ClockHost()
            d, c = start_daemon(Path(tmp) / "s", load_kit(), threads=1, seed=2, midi_out="virtual", sync="midi",
                                clock_in=host.port.name)
            try:
                late, errors, heard, want, dropped = song_on_host(d, c, host, four_minute_song(Path(tmp) / "song.mid"))
            finally:
                stop_daemon(d, c)
                host.close()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return {"song_on_host": {"notes": heard, "song_notes": want, "host_late": late, "dropped_late": dropped,
                             "p99_ms": round(float(np.percentile(errors, 99)) * 1e3, 3) if errors.size else None,
                             "max_ms": round(float(errors.max()) * 1e3, 3) if errors.size else None}}


def bench_playalong(*, seeds: int = 3, seed: int = 0) -> dict:
    from ..testing.songhuman import SongHuman, demo_song, first_half_of, morph_song, triplets

    score = demo_song()
    label = np.array(score.labels)[score.section]
    off16 = np.isclose(score.step_in_bar() % 2, 1.0)
    step_ms = float(score.step_s[0] * 1e3)
    runs, take_s = [], []
    for s in range(seed, seed + seeds):
        feel, reports, per = _run(SongHuman(offsets_ms=SECTIONS_MS, swing={"bridge": BRIDGE_SWING}, seed=s), score, s)
        take_s.append(per)
        bridge = label == "bridge"
        sec = feel.section_offsets_ms()
        straight, _, per = _run(SongHuman(seed=s + 100), score, s)
        take_s.append(per)
        gen, _, per = _run(SongHuman(offsets_ms=SECTIONS_MS, plays=first_half_of("verse"), seed=s), score, s)
        take_s.append(per)
        first = first_half_of("verse", others=False)(score)
        verse = label == "verse"
        m = morph_song()
        morph, _, per = _run(SongHuman(intend=triplets, seed=s), m, s)
        take_s.append(per)
        runs.append({
            "seed": s,
            "section_ms": {k: round(sec[k], 2) for k in SECTIONS_MS},
            "section_error": {k: round(abs(sec[k] - v) / abs(v), 3) for k, v in SECTIONS_MS.items()},
            "bridge_swing": round(float(feel.offsets[bridge & off16].mean() - feel.offsets[bridge & ~off16].mean()), 4),
            "gaps_ms_by_take": [r.mean_abs_gap_ms for r in reports],
            "straight_largest_section": round(max(abs(v) for v in straight.section_offsets_ms().values()) / step_ms, 4),
            "straight_mean_abs": round(float(np.mean(np.abs(straight.offsets))), 4),
            "straight_p95_abs": round(float(np.percentile(np.abs(straight.offsets), 95)), 4),
            "verse_heard_ms": round(float(np.mean(gen.offsets[verse & first])) * step_ms, 2),
            "verse_unheard_ms": round(float(np.mean(gen.offsets[verse & ~first])) * step_ms, 2),
            "morph": [round(float(morph.offsets[triplets(m) == t].mean()), 4) for t in (0.0, -1 / 3, -2 / 3)],
        })
    worst = lambda key, f: max(f(r) for r in runs)      # noqa: E731
    return {"benchmark": "playalong", "song": "32 bars 4/4 at 120 bpm, verse/chorus/verse/bridge/chorus",
            "human": {"jitter_ms": 5.0, "pull": 0.3, "sections_ms": SECTIONS_MS, "bridge_swing": BRIDGE_SWING},
            "takes": 3, "runs": runs,
            "section_error_max": worst("e", lambda r: max(r["section_error"].values())),
            "bridge_swing_error_max": round(worst("s", lambda r: abs(r["bridge_swing"] - BRIDGE_SWING)), 4),
            "straight_largest_section_max": worst("l", lambda r: r["straight_largest_section"]),
            "straight_mean_abs_max": worst("m", lambda r: r["straight_mean_abs"]),
            "unheard_error_max": round(worst("u", lambda r: abs(r["verse_unheard_ms"] - r["verse_heard_ms"])
                                             / abs(r["verse_heard_ms"])), 3),
            "morph_error_max": round(worst("t", lambda r: max(abs(a - b) for a, b in
                                                               zip(r["morph"], (0.0, -1 / 3, -2 / 3)))), 4),
            "take_learn_s_median": round(float(np.median(take_s)), 3), **audio_in_figures(), **song_clock_figures(),
            **core._machine()}
