"""A small one-shot SFZ player, written to check dd_live's kits from the outside: the opcodes dd_live's kit.sfz
uses (``default_path``, ``volume`` in dB, ``amp_veltrack``, regions of ``sample`` + ``key``), a MIDI file's
note-ons through its own tempo map (mido's), each region's sample added at its onset with the SFZ velocity curve
(gain = (velocity / 127) ** 2 scaled by amp_veltrack's share, the SFZ default). Anything it does not know it
refuses, so a kit using more than this is noticed rather than half-played."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE
from ..errors import InputError

_KNOWN = {"default_path", "loop_mode", "amp_veltrack", "volume", "sample", "key"}


@dataclass
class SfzKit:
    """An SFZ instrument as this player reads it: its volume (dB), amp_veltrack (%) and each key's audio."""

    volume_db: float
    veltrack: float
    samples: dict[int, np.ndarray]

    def gain(self, velocity: int) -> float:
        """Linear gain of a note of ``velocity`` (1-127)."""
        v = velocity / 127.0
        return 10 ** (self.volume_db / 20) * (1 - self.veltrack / 100 + self.veltrack / 100 * v * v)


def read_sfz(path: Path) -> SfzKit:
    """Read the kit at ``path`` (samples mono at the sample rate, as dd_live writes them)."""
    import soundfile as sf

    path = Path(path)
    header, regions, current = {}, [], None
    for raw in path.read_text().splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if line.startswith("<"):
            current = {} if line == "<region>" else None
            if current is not None:
                regions.append(current)
            elif line not in ("<control>", "<global>"):
                raise InputError(f"{path}: header {line} is not one this player knows")
            continue
        key, _, value = line.partition("=")
        if key not in _KNOWN:
            raise InputError(f"{path}: opcode {key!r} is not one this player knows")
        (current if current is not None else header)[key] = value
    folder = path.parent / header.get("default_path", "")
    samples = {}
    for r in regions:
        y, rate = sf.read(str(folder / r["sample"]), dtype="float64")
        if rate != SAMPLE_RATE or y.ndim != 1:
            raise InputError(f"{r['sample']}: not mono at {SAMPLE_RATE} Hz")
        samples[int(r["key"])] = y
    return SfzKit(float(header.get("volume", 0.0)), float(header.get("amp_veltrack", 100.0)), samples)


def play_midi(midi_path: Path, kit: SfzKit, *, tail_s: float = 2.0) -> np.ndarray:
    """Every note-on of the MIDI file at ``midi_path`` played by ``kit`` (float64, mono, the sample rate), from
    tick 0 through the file's tempo map, with ``tail_s`` seconds after the last note-on; notes with no region
    are refused (a kit that misses a note is wrong)."""
    import mido

    now, hits = 0.0, []
    for msg in mido.MidiFile(str(midi_path)):
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            if msg.note not in kit.samples:
                raise InputError(f"{midi_path}: note {msg.note} has no region in the kit")
            hits.append((int(round(now * SAMPLE_RATE)), msg.note, msg.velocity))
    end = (max(h[0] for h in hits) if hits else 0) + int(tail_s * SAMPLE_RATE)
    out = np.zeros(end)
    for at, note, vel in hits:
        y = kit.samples[note][: end - at]
        out[at:at + y.size] += kit.gain(vel) * y
    return out
