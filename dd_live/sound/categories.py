"""Sample categories: the kit's, and a user sample's guessed from the words of its file and folder names.
Exports map them to General MIDI drum notes by family (:mod:`dd_live.loops.gm`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

CATEGORIES = (  # the default kit's, in kit order
    "kick", "snare", "clap", "rim", "hat_closed", "hat_open", "crash", "ride",
    "tom", "bell", "perc", "zap", "harsh",
)
RESEARCH_CATEGORIES = ("zap", "harsh")   # deliberately unpleasant: in the research kit only (see sound/kit.py)
RESEARCH_KIT = "research"                # what --samples calls the research kit

# Category guesses from file and folder names, first match wins (user folders only;
# the default kit's categories come from its kit.json).
_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hat_open", ("openhat", "open_hat", "hatopen", "hat_open", "ohh", "oh", "open")),
    ("hat_closed", ("closedhat", "closed_hat", "hat_closed", "chh", "hh", "hihat", "hat", "ch", "closed", "pedal")),
    ("kick", ("kick", "bd", "bassdrum", "kik", "kck")),
    ("snare", ("snare", "sd", "snr")),
    ("clap", ("clap", "cp", "clp")),
    ("rim", ("rim", "rimshot", "rs", "sidestick", "stick")),
    ("crash", ("crash", "cy", "cym", "cymbal", "splash", "china")),
    ("ride", ("ride", "rd")),
    ("tom", ("tom", "lt", "mt", "ht", "floortom")),
    ("bell", ("cowbell", "cb", "bell", "agogo", "triangle")),
    ("perc", ("shaker", "perc", "conga", "bongo", "tamb", "tambourine", "clave", "wood", "woodblock", "cabasa", "maraca")),
    ("zap", ("zap", "blip", "laser", "fx", "sfx")),
)


def guess_category(path: str | os.PathLike[str]) -> str:
    """Category of a user sample from the words of its name and folder; 'other' if none."""
    p = Path(path)
    words = [w for part in (p.parent.name, p.stem) for w in re.split(r"[^a-z]+", part.lower()) if w]
    for category, keys in _CATEGORY_WORDS:
        if any(w in keys for w in words):
            return category
    joined = p.stem.lower()
    for category, keys in _CATEGORY_WORDS:
        if any(len(k) >= 4 and k in joined for k in keys):
            return category
    return "other"
