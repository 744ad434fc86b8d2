"""A small MIDI song for the song tests of the page: quiet bars, then busy ones (a section change)."""

from __future__ import annotations

from pathlib import Path


def small_song(path: Path, *, quiet: int = 4, busy: int = 4, bpm: float = 120.0) -> Path:
    """A type 1 song at ``bpm`` in 4/4: ``quiet`` bars of a held chord, then ``busy`` bars of eighths over a
    bass line, on channels 1 and 2 (no drums); 480 ticks a beat."""
    import mido

    tpb, bar = 480, 1920
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)),
                           mido.MetaMessage("time_signature", numerator=4, denominator=4)])
    events = []
    for b in range(quiet):
        events += [(b * bar, 1, 60, 60), (b * bar + bar - 10, 0, 60, 0)]
    for b in range(quiet, quiet + busy):
        for k in range(8):
            t = b * bar + k * tpb // 2
            events += [(t, 1, 64 + k % 3, 100), (t + tpb // 2 - 5, 0, 64 + k % 3, 0)]
        for k in range(4):
            t = b * bar + k * tpb
            events += [(t, 2, 36 + (k % 2) * 7, 110), (t + tpb - 5, 0, 36 + (k % 2) * 7, 0)]
    keys = mido.MidiTrack()
    now = 0
    for t, kind, note, vel in sorted(events, key=lambda e: (e[0], e[1] != 0)):
        channel = 1 if note < 48 else 0
        msg = "note_on" if kind else "note_off"
        keys.append(mido.Message(msg, channel=channel, note=note, velocity=vel, time=t - now))
        now = t
    song = mido.MidiFile(type=1, ticks_per_beat=tpb)
    song.tracks += [meta, keys]
    song.save(str(path))
    return path
