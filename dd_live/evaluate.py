"""Old import path of :mod:`dd_live.lab.evaluate` (``run_protocol``, ``Candidate``, ``summarize``), kept
for users' scripts and raters."""

from .lab.evaluate import *  # noqa: F401,F403
from .lab.evaluate import Candidate, run_protocol, running_rate, summarize  # noqa: F401
