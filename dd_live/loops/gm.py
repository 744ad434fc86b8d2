"""General MIDI drum notes by instrument family, one note per sound.

A kit's tracks get GM notes by their samples' categories so that a GM drum kit or a DAW's drum rack plays
each sound on a note of its own instrument family: kicks 36/35, snare, rim and clap 37-40, hats 42/44/46,
toms 41-50 from low to high, cymbals 49/51/52/53/55/57/59, anything else on GM's percussion notes.

Notes are handed out in three passes: each category's first sound gets its own note (the first kick 36,
the first snare 38, the first clap 39, the first closed hat 42, the first open hat 46, ...), then every
other sound takes a free note of its family, and only a sound whose family has run out takes a free note
of the nearest family (a fourth snare on a percussion note, a third kick on a low tom). Such a loan is
reported in :attr:`NoteMap.loans`, which the SFZ kit and a song's arrangement.json write out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# GM drum notes of each family, in the order they are handed out (toms: from low to high).
FAMILIES: dict[str, tuple[int, ...]] = {
    "kick": (36, 35),
    "snare": (38, 40, 37, 39),
    "hat": (42, 44, 46),
    "tom": (41, 43, 45, 47, 48, 50),
    "cymbal": (49, 51, 57, 59, 55, 52, 53),
    "perc": (56, 54, 70, 69, 75, 76, 77, 60, 61, 62, 63, 64, 65, 66, 67, 68, 80, 81, 71, 72, 73, 74, 78, 79, 58),
}
# Where a family that ran out borrows from, nearest first.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "kick": ("tom", "perc"), "snare": ("perc", "tom"), "hat": ("cymbal", "perc"), "tom": ("perc", "kick"),
    "cymbal": ("hat", "perc"), "perc": ("tom", "cymbal", "snare", "hat", "kick"),
}
# Each category: its family and its preferred notes (the first is the category's own note), in the order
# categories are served.
CATEGORY_NOTES: dict[str, tuple[str, tuple[int, ...]]] = {
    "kick": ("kick", (36, 35)),
    "snare": ("snare", (38, 40)),
    "clap": ("snare", (39,)),
    "rim": ("snare", (37,)),
    "hat_closed": ("hat", (42, 44)),
    "hat_open": ("hat", (46,)),
    "crash": ("cymbal", (49, 57, 55, 52)),
    "ride": ("cymbal", (51, 59, 53)),
    "tom": ("tom", ()),            # by pitch: see _tom_notes
    "bell": ("perc", (56, 80, 81, 67, 68)),
    "perc": ("perc", (70, 69, 54, 75, 76, 77, 60, 61, 62, 63, 64)),
    "zap": ("perc", (71, 72, 73, 74)),
    "harsh": ("perc", (78, 79, 58)),
    "other": ("perc", (65, 66, 58)),
}
# Tom notes for n toms from low to high, spread over the six GM toms.
_TOM_SPREAD = {1: (45,), 2: (45, 48), 3: (43, 47, 50), 4: (41, 45, 48, 50), 5: (41, 43, 45, 47, 50),
               6: (41, 43, 45, 47, 48, 50)}
GM_FAMILY_OF_NOTE: dict[int, str] = {n: f for f, notes in FAMILIES.items() for n in notes}


# A sample whose name says nothing (category ``other``) is placed by its role in a drum loop
# (:mod:`dd_live.sound.roles`, found from its sound): a low thump plays on a kick's note, a noisy mid-band hit
# on a snare's, a short bright hiss on a closed hat's; colour stays on percussion notes.
CATEGORY_OF_ROLE: dict[str, str] = {"low": "kick", "backbeat": "snare", "time": "hat_closed"}


def gm_category(category: str, role: str | None = None) -> str:
    """The category a sound's GM note is chosen by: its own, or for ``other`` the one its ``role`` stands for."""
    if category == "other" and role is not None:
        return CATEGORY_OF_ROLE.get(role, category)
    return category


def family_of(category: str) -> str:
    """The GM family of a sample category (unknown categories are percussion)."""
    return CATEGORY_NOTES.get(category, CATEGORY_NOTES["other"])[0]


@dataclass(frozen=True)
class NoteMap:
    """Each track's GM note, and the tracks whose family ran out (track, category, note, family lent by)."""

    notes: tuple[int, ...]
    loans: tuple[tuple[int, str, int, str], ...] = ()

    def remarks(self) -> list[str]:
        """One line per loan: which track plays on another family's note, and why."""
        return [f"track {t + 1} ({cat}) plays on note {n}, a {fam} note: its family's notes are all taken"
                for t, cat, n, fam in self.loans]


def _tom_notes(count: int) -> tuple[int, ...]:
    """GM tom notes, low to high, for ``count`` toms (at most six get one; the rest are placed later)."""
    return _TOM_SPREAD[min(count, 6)] if count else ()


def gm_map(categories: Sequence[str], *, pitches: Sequence[float] | None = None) -> NoteMap:
    """GM notes for tracks of these sample categories, no two alike. ``pitches``: each track's pitch in Hz
    (used to order toms from low to high; track order otherwise)."""
    n = len(categories)
    if n > sum(len(v) for v in FAMILIES.values()):
        raise ValueError(f"{n} tracks are more than General MIDI has drum notes")
    cats = [c if c in CATEGORY_NOTES else "other" for c in categories]
    notes: list[int | None] = [None] * n
    used: set[int] = set()
    order = [t for c in CATEGORY_NOTES for t in range(n) if cats[t] == c]

    def take(t: int, note: int) -> None:
        notes[t] = note
        used.add(note)

    toms = [t for t in order if cats[t] == "tom"]
    if pitches is not None and toms:
        toms.sort(key=lambda t: (float(pitches[t]), t))
    for t, note in zip(toms, _tom_notes(len(toms))):
        take(t, note)
    seen: set[str] = set()
    for t in order:                       # each category's first sound: its own note
        c = cats[t]
        if notes[t] is None and c not in seen and CATEGORY_NOTES[c][1] and CATEGORY_NOTES[c][1][0] not in used:
            take(t, CATEGORY_NOTES[c][1][0])
        seen.add(c)
    for t in order:                       # the rest: a free note of their family, preferred ones first
        if notes[t] is None:
            family, preferred = CATEGORY_NOTES[cats[t]]
            free = [x for x in preferred + FAMILIES[family] if x not in used]
            if free:
                take(t, free[0])
    loans = []
    for t in order:                       # a family that ran out: the nearest family's free notes
        if notes[t] is None:
            family = CATEGORY_NOTES[cats[t]][0]
            for lender in NEIGHBOURS[family] + tuple(FAMILIES):
                free = [x for x in FAMILIES[lender] if x not in used]
                if free:
                    take(t, free[0])
                    loans.append((t, categories[t], free[0], lender))
                    break
    return NoteMap(tuple(int(x) for x in notes), tuple(sorted(loans)))


def pitch_hz(y: np.ndarray, sample_rate: int) -> float:
    """A one-shot's pitch in Hz: the strongest frequency of its first 0.2 s between 30 Hz and 2 kHz (for
    ordering toms and the like; not a tuner)."""
    y = np.asarray(y, dtype=np.float64)[: int(0.2 * sample_rate)]
    if y.size < 16:
        return 0.0
    n = 1 << int(np.ceil(np.log2(max(y.size, 4096))))
    power = np.abs(np.fft.rfft(y * np.hanning(y.size), n)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    band = (freqs >= 30) & (freqs <= 2000)
    return float(freqs[band][np.argmax(power[band])])


# The role (dd_live.sound.roles) each GM drum note plays, for learning the drum prior from GM drum parts:
# kicks are low; snares, rims and claps the backbeat; hats, ride, tambourine, cabasa, maracas and shaker
# keep time; everything else (toms, crashes, bells, hand drums, effects) is colour.
_TIME_NOTES = (42, 44, 46, 51, 53, 59, 54, 69, 70, 82)


def role_of_note(note: int) -> str:
    """The drum role of a General MIDI drum note."""
    if note in FAMILIES["kick"]:
        return "low"
    if note in FAMILIES["snare"]:
        return "backbeat"
    return "time" if note in _TIME_NOTES else "colour"
