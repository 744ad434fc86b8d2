"""dd_live: a DeepDrummer-style drum loop generator that learns a performer's taste.

Importing this package opens no ports, writes no files and needs neither torch,
rtmidi nor PortAudio: the hardware and learning modules are imported lazily.
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import (
    BackendError,
    DDLiveError,
    ExportError,
    InputError,
    PatternError,
    SampleError,
)

__version__ = "0.1.0"

SAMPLE_RATE = 44100
"""Every buffer inside dd_live is mono float32 at this rate (Hz)."""

TEMPO_RANGE = (20.0, 300.0)
"""Tempos dd_live renders, plays and accepts from a performer (bpm, inclusive)."""

MAX_TRACKS = 16
"""The most tracks (sounds) a loop has."""

VELOCITY_LEVELS = {"ghost": 40, "soft": 70, "normal": 100, "accent": 127}
"""A hit's velocities on the feel lattice the search moves on, soft to loud, and those a front end's cell edit
steps through (the page's shift-click all four; the Max patch's matrixctrl rest, normal and accent). DeepDrummer's
loops play every hit at "normal"."""


class Grid(NamedTuple):
    tracks: int     # sounds (rows)
    steps: int      # steps per bar (columns)
    beats: int      # beats per bar


GRID = Grid(tracks=4, steps=16, beats=4)
"""DeepDrummer's grid, a new session's and every default's: 4 sounds, 16 steps, 4 beats (a bar of 4/4)."""

GRID_STEPS, GRID_BEATS = (12, 16, 24), (3, 4, 6)
"""The grids a session is served with (``serve --steps/--beats``, ``/dd/set/grid``): steps per bar and beats per
bar, the steps dividing into the beats (12 with 3, 4 or 6 beats; 16 with 4; 24 with 3, 4 or 6)."""

THREAD_RANGE = (1, 256)
"""The torch threads a command may be given (``--threads``, config key ``threads``; inclusive)."""

PRECISIONS = ("auto", "fp32", "bf16", "int8")
"""How the critic computes (``--precision``, config key ``precision``, ``$DD_LIVE_PRECISION``): ``auto`` is
bfloat16 where the CPU has native bf16 (AVX-512 BF16 / AMX), else int8, else float32; ``int8`` scores with 8-bit
integer convolutions (:mod:`dd_live.learn.quantized`; training stays float32), float32 where torch has no
quantized engine; ``fp32``, ``bf16`` and ``int8`` force one (bf16 without native support is emulated, and
slow)."""

__all__ = [
    "GRID",
    "GRID_BEATS",
    "GRID_STEPS",
    "MAX_TRACKS",
    "SAMPLE_RATE",
    "TEMPO_RANGE",
    "PRECISIONS",
    "THREAD_RANGE",
    "BackendError",
    "DDLiveError",
    "ExportError",
    "InputError",
    "PatternError",
    "SampleError",
    "__version__",
]
