"""One loop as everything past the sampler sees it: the raters of ``dd-live evaluate`` and the live daemon.

The first fields are the rater interface (``run_protocol(rater, ...)`` hands a rater a :class:`Loop`
as ``dd_live.evaluate.Candidate``): the pattern, the paths of its sounds, the bar the critic hears
and the critic's score. The daemon adds where the loop came from (id, critic version) and what it
plays at the session tempo (files, audio for the player, MIDI notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import SAMPLE_RATE
from ..loops.export import Note, notes_of
from ..loops.pattern import Pattern, from_arrays
from ..loops.render import REFERENCE_BPM


@dataclass(eq=False)
class Loop:
    """A drum loop and what is known of it. Times: ``bpm`` in beats per minute; audio float32 mono at
    ``sample_rate`` Hz."""

    pattern: Pattern
    sample_paths: list[Path]               # each track's sound file
    audio: np.ndarray                      # one bar at the reference 120 bpm: what the critic hears
    score: float                           # the critic's P(like) when the loop was drawn
    sample_rate: int = SAMPLE_RATE
    origin: str = ""                       # "phase1", "init", "final" (protocol); "explore", "best" (daemon)
    extra: dict[str, Any] = field(default_factory=dict)
    # The daemon's: which candidate, from which critic, and what it plays at the session tempo.
    id: int = -1
    version: int = 0                       # the critic version that scored it
    trained_on: int = 0                    # ratings that critic had learned from
    idx: np.ndarray | None = None          # the sample library index of each track
    bpm: float = REFERENCE_BPM
    files: dict[str, Path] = field(default_factory=dict)   # loop_wav, preview_wav, midi_file at ``bpm``
    playback: np.ndarray | None = None     # one bar at ``bpm`` (the audio player's)
    pitches: list[int] = field(default_factory=list)       # MIDI note of each track
    epoch: int = 0                         # the daemon's settings epoch it was made under
    feel: tuple[float, ...] = ()           # the feel layer it plays with (offset per step; empty: none)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # notes and frame, keyed by the feel

    @classmethod
    def from_pattern(cls, pattern: Pattern, library, audio: Any, score: float, **fields: Any) -> Loop:
        """A loop playing ``pattern`` with the sounds of ``library``; ``audio`` is copied."""
        idx = library.indices(pattern.samples)
        return cls(pattern, [library.samples[int(i)].path for i in idx], np.array(audio, dtype=np.float32),
                   float(score), idx=idx, **fields)

    @classmethod
    def from_arrays(cls, hits: np.ndarray, idx: np.ndarray, library, audio: Any, score: float, *,
                    groove: dict[str, Any] | None = None, **fields: Any) -> Loop:
        """A loop from the sampler's (hits, sample indices) over ``library``, with ``groove``'s velocities, offsets
        and swing (:func:`dd_live.groove.genes.pattern_fields`; default velocity 100 on the grid); ``audio`` is
        copied."""
        return cls.from_pattern(from_arrays(hits, idx, library, **(groove or {})), library, audio, score, **fields)

    @property
    def hits(self) -> np.ndarray:
        return self.pattern.hits

    @property
    def played(self) -> Pattern:
        """The pattern as it sounds: the feel layer added to its offsets (the pattern itself if none)."""
        from .feel import apply

        return apply(self.pattern, self.feel)

    @property
    def notes(self) -> list[Note]:
        """The loop's MIDI notes in time order (beats from the bar line), the feel layer included; computed
        once per feel."""
        key = (self.feel, tuple(self.pitches))
        cached = self.cache.get("notes")
        if cached is None or cached[0] != key:
            cached = (key, notes_of(self.played, self.pitches))
            self.cache["notes"] = cached
        return cached[1]

    def frame(self, feel: tuple[float, ...] | None = None):
        """Where its drum steps sound (:class:`dd_live.groove.feel.Frame`) with the feel layer ``feel`` (default:
        its own), kept while the feel stays."""
        feel = self.feel if feel is None else feel
        cached = self.cache.get("frame")
        if cached is None or cached[0] != feel:
            from .feel import Frame, apply

            cached = (feel, Frame.of(apply(self.pattern, feel)))
            self.cache["frame"] = cached
        return cached[1]
