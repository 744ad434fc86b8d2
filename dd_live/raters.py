"""Old import path of :mod:`dd_live.lab.raters` (``--rater dd_live.raters:GrooveRater``), kept for users'
scripts and the README's commands."""

from .lab.raters import *  # noqa: F401,F403
from .lab.raters import BreakRater, GrooveRater, MinimalRater  # noqa: F401
