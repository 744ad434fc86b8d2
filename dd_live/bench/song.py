"""``dd-live bench song``: how long song mode takes for a 4-minute song, and for the longest of Debian's simutrans
songs when they are installed (issue 16's target: a 4-minute song in <= 10 s on 2 cores).

The taste is a new session's pretrained critic with a seeded random output layer (not the flat one a new session
starts with): a critic that tells loops apart makes the best-mode search run its course, as a trained one does.
Loading (torch, the kit, the critic) is timed apart from the songs; each song is then read, arranged and written
(all five files) from scratch.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

SIMUTRANS = Path("/usr/share/games/simutrans/music")
TPB = 480


def four_minute_song(path: Path) -> Path:
    """A 240 s song at 120 bpm: intro, verses, choruses (busier), a 6/8 bridge, a last chorus and a final chord;
    piano, bass and a pad on three channels."""
    import mido

    from ..song.write import track_from

    form = [("intro", 8, 4), ("verse", 16, 4), ("chorus", 16, 4), ("verse", 16, 4), ("chorus", 16, 4),
            ("bridge", 12, 6), ("verse", 16, 4), ("chorus", 21, 4)]
    meta, notes, tick = [(0, mido.MetaMessage("set_tempo", tempo=500_000))], [], 0
    for part, bars, beats in form:
        den = 8 if beats == 6 else 4
        meta.append((tick, mido.MetaMessage("time_signature", numerator=beats, denominator=den)))
        step = TPB // 2 if part in ("chorus", "bridge") else TPB
        bar = beats * TPB * 4 // den
        for b in range(bars):
            root = 48 + (0, 5, 7, 3)[b % 4]
            for t in range(0, bar, step):                         # piano
                notes.append((tick + t, root + 12 + (t // step) % 3 * 4, 90 if part == "chorus" else 70, 0, step - 10))
            for t in range(0, bar, TPB if part != "intro" else bar):   # bass
                notes.append((tick + t, root - 12, 100, 1, TPB - 20))
            notes.append((tick, root + 7, 60, 2, bar - 5))        # pad
            tick += bar
    notes.append((tick, 48, 100, 0, 4 * TPB))
    events = [(t, mido.Message("note_on", note=p, velocity=v, channel=c)) for t, p, v, c, _ in notes]
    events += [(t + n, mido.Message("note_off", note=p, velocity=0, channel=c)) for t, p, _, c, n in notes]
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    for part in (meta, events):   # note-offs before note-ons at a tick
        mid.tracks.append(track_from(sorted(part, key=lambda e: (e[0], e[1].type == "note_on"))))
    mid.save(str(path))
    return path


def bench_song(*, threads: int = 2, seed: int = 0) -> dict:
    t0 = time.perf_counter()
    from ..learn.critic import configure_threads
    from ..learn.pretrain import starting_critic
    from ..session.settings import LiveSettings
    from ..song.make import make_song
    from ..song.read import read_song
    from ..song.taste import TRACKS, taste_from
    from ..sound.samples import open_library

    configure_threads(threads)
    library = open_library(None, tracks=TRACKS)
    critic = starting_critic("pretrained", library=library, seed=seed, flat=False)
    taste = taste_from(library, critic, LiveSettings(), seed=seed, threads=threads, source="bench: a random head")
    load_s = time.perf_counter() - t0
    out: dict = {"bench": "song", "threads": threads, "load_s": round(load_s, 3), "songs": []}
    with tempfile.TemporaryDirectory() as tmp:
        songs = [four_minute_song(Path(tmp) / "four-minutes.mid")]
        if SIMUTRANS.is_dir():
            length = {}
            for p in sorted(SIMUTRANS.glob("*.mid")):
                song = read_song(p)
                length[p] = float(song.seconds(song.length_ticks))
            songs.append(max(length, key=length.get))
        for src in songs:
            taste.forget()
            t = time.perf_counter()
            s = make_song(src, Path(tmp) / src.stem, taste=taste, force=True)
            wall = time.perf_counter() - t
            out["songs"].append({"song": src.name, "seconds": s["seconds"], "bars": s["bars"],
                                 "sections": s["sections"], "loops": s["loops"], "hits": s["hits"],
                                 "wall_s": round(wall, 3), "x_realtime": round(s["seconds"] / wall, 1),
                                 "stages_s": s["timing_s"], "spearman": s["spearman_density_intensity"]})
    return out
