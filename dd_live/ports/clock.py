"""Following an external MIDI clock (issue 17): where the host's song position is, at what tempo, and whether its
transport runs. Pure logic on stamped messages, so it runs offline in tests; :mod:`.clock_in` feeds it.

MIDI clock: 24 ticks (0xF8) per quarter note; Start (0xFA) puts the song at position 0, the next tick being that
position; Continue (0xFB) resumes from where Stop (0xFC) left it (or where a Song Position Pointer, 0xF2, counted
in sixteenths of 6 ticks each, moved it). The tempo and the time of any position come from a least-squares line
through the last FIT_TICKS ticks' stamps (times against positions; a stamp is never early, only late, so ticks
later than the line by LATE_RMS times the scatter were held up, and are left out of it); a tick that falls off
that line by more than BREAK of a tick, three times running on the same side and further each time, is a tempo
change (jitter scatters ticks, a new tempo takes them ever further away): the line then starts again from those
three, so a new tempo is followed within a beat.

No input breaks it: a line whose tempo is outside BPM_RANGE (ticks sharing one frame, a burst, a clock running
backwards) is not used; the last good tempo is held instead, through the newest tick, so the drums play on at it.
A tick more than JUMP ticks off the line (a gap, a burst, lost ticks) starts the line again from that tick at the
held tempo. Both distances grow with the scatter of the ticks about their line (up to SPREAD_MAX_S), so a port
that stamps every tick of a JACK cycle alike (several ticks a cycle above 200 bpm) is not taken for tempo
changes. A tick a whole number of ticks off a steady line (within its BREAK or scatter), SLIP_TICKS times running
by the same number, was lost on the way (or doubled): the count moves to the host's song position, so the drums
do not sit a tick late (or early) from then on; a tick held up on the way is followed by ticks ever nearer the
line, never by a steady distance, and moves nothing. What was ignored or made up is counted and said at most
once every REPORT_S (one log line).

Units: ticks (24 a quarter note), seconds on the clock of the stamps (the player's clock).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter, deque
from collections.abc import Callable

import numpy as np

TICKS_PER_BEAT = 24          # MIDI clock ticks per quarter note
TICKS_PER_SPP = 6            # a Song Position Pointer unit (a sixteenth)
FIT_TICKS = 48               # the line's window: two beats
BREAK = 0.08                 # off the line by this share of a tick, three times on one side, growing: a new tempo
MIN_FIT = 3                  # ticks before a tempo is known
LATE_RMS = 2.5               # a tick this many RMS scatters later than the line is left out of it (held up)
TEMPO_STEP = 0.1             # a tempo this far (bpm) from the one last reported is reported ("tempo") ...
TEMPO_EVERY = TICKS_PER_BEAT  # ... at most once a beat

BPM_RANGE = (1.0, 1000.0)    # tempos a line may say (bpm); outside it the last good tempo is held
SLOPE_RANGE = (60.0 / (TICKS_PER_BEAT * BPM_RANGE[1]), 60.0 / (TICKS_PER_BEAT * BPM_RANGE[0]))  # s per tick
JUMP = TICKS_PER_BEAT / 2    # a tick this far off the line (ticks) starts it again
SLIP_TICKS = 3               # ticks running a whole number of ticks off the line: that many were lost or doubled
SLIP_TOLERANCE = 0.25        # ... each within the line's BREAK of it, told only while that is this share of a tick
SLIP_FIT = TICKS_PER_BEAT // 2   # ... or less, on a line fitted through this many ticks at least (not a held tempo)
SPREAD_MAX_S = 0.05         # the most scatter (RMS, s) the ticks' stamps are allowed (a 4096-frame JACK cycle's)
REPORT_S = 1.0               # what was ignored is said at most this often (s, on the stamps' clock)

log = logging.getLogger("dd_live.midi")

TICK, START, CONTINUE, STOP, SPP = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
_VERBS = {"ticks lost on the way": "made up for", "ticks doubled on the way": "took back"}   # else "ignored"
REALTIME = (TICK, START, CONTINUE, STOP)


class OnTheLine:
    """What a follower of a host's clock answers from its line (``line()``: (a, b) with time = a + b * position,
    s and ticks; None while unknown): the MIDI clock's :class:`ClockFollower` and Link's ``LinkFollower``."""

    def line(self) -> tuple[float, float] | None:
        raise NotImplementedError

    def bpm(self) -> float | None:
        line = self.line()
        return None if line is None else 60.0 / (TICKS_PER_BEAT * line[1])

    def time_of(self, position: float) -> float | None:
        """When the song reaches ``position`` (ticks), by the line; None while unknown."""
        line = self.line()
        return None if line is None else line[0] + line[1] * position

    def position_at(self, at: float) -> float | None:
        """The song position (ticks, fractional) at time ``at``, by the line; None while unknown."""
        line = self.line()
        return None if line is None else (at - line[0]) / line[1]


class ClockFollower(OnTheLine):
    """The host's transport as its clock messages say. ``feed`` from the input's thread; the rest from any.
    ``on_change(kind)`` is called (on the feeding thread) with "start", "continue", "stop", "position" or
    "tempo" (the tempo moved TEMPO_STEP bpm from the one last reported; at most once a beat)."""

    def __init__(self, *, on_change: Callable[[str], None] | None = None, fit_ticks: int = FIT_TICKS) -> None:
        self._lock = threading.Lock()
        self.on_change = on_change
        self.running = False
        self.position = 0                    # the song position (ticks) the next tick will be
        self._fit: deque[tuple[int, float]] = deque(maxlen=fit_ticks)
        self._line: tuple[float, float] | None = None   # (a, b): time = a + b * position
        self._fitted = False                 # the line is the window's fit (not the held tempo)
        self._off = 0                        # consecutive ticks off the line on one side, each further (signed)
        self._miss = 0.0                     # how far off the last tick was (ticks)
        self.ticks = 0                       # ticks heard while running (for the status)
        self._told: tuple[float, int] | None = None   # (tempo last reported, self.ticks then)
        self._spread = 0.0                   # RMS scatter of the ticks about the last sane line (s)
        self._good: float | None = None      # the last sane line's slope (s per tick): held when the line is not
        self.ignored: Counter[str] = Counter()   # what was ignored since it was last said
        self.ignored_total = 0
        self._said: float | None = None      # when it was last said (stamp)
        self._latest = -math.inf             # the latest stamp seen
        self._slip: tuple[int, int, tuple[float, float], float] | None = None   # (whole ticks off, run, the line
        #                                                                            before and its limit, ticks)

    # ------------------------------------------------------------ input

    def feed(self, status: int, at: float, data: bytes | list[int] = b"") -> None:
        """One message: its status byte, the time it arrived (s) and any data bytes (SPP's two)."""
        kind = None
        with self._lock:
            if not math.isfinite(at):
                self._ignore("messages with no usable time", self._latest)
                return
            if status == TICK:
                if self.running:
                    self._tick(at)
                    kind = self._tempo_news()
            elif status == START:
                self.running, self.position, kind = True, 0, "start"
                self._reset()
            elif status == CONTINUE:
                self.running, kind = True, "continue"
                self._reset()
            elif status == STOP:
                if self.running:
                    self.running, kind = False, "stop"
            elif status == SPP:
                if len(data) >= 2:
                    self.position = (int(data[0]) & 0x7F | (int(data[1]) & 0x7F) << 7) * TICKS_PER_SPP
                    kind = "position"
                    self._reset()
                else:
                    self._ignore("song positions without their two bytes", at)
            self._report(at)
        if kind is not None and self.on_change is not None:
            self.on_change(kind)

    def _tempo_news(self) -> str | None:
        """"tempo" when the line's tempo has moved TEMPO_STEP from the last reported, at most once a beat."""
        if self._line is None or len(self._fit) < TICKS_PER_BEAT // 2:
            return None
        bpm = 60.0 / (TICKS_PER_BEAT * self._line[1])
        told = self._told
        if told is None or (abs(bpm - told[0]) > TEMPO_STEP and self.ticks - told[1] >= TEMPO_EVERY):
            self._told = (bpm, self.ticks)
            return "tempo"
        return None

    def _ignore(self, what: str, at: float, n: int = 1) -> None:
        self.ignored[what] += n
        self.ignored_total += n
        self._report(at)

    def _report(self, at: float) -> None:
        """Say what was ignored, at most once every REPORT_S."""
        self._latest = max(self._latest, at)    # stamps that go back do not make the report come sooner
        if not self.ignored or (self._said is not None and self._latest - self._said < REPORT_S):
            return
        self._said = self._latest
        said = "; ".join(f"{_VERBS.get(what, 'ignored')} {n} {what}" for what, n in self.ignored.items())
        log.warning("MIDI clock: %s; holding %s", said,
                    "no tempo yet" if self._good is None else f"{60.0 / (TICKS_PER_BEAT * self._good):.1f} bpm")
        self.ignored.clear()

    def _reset(self) -> None:
        self._fit.clear()
        self._line, self._off, self._slip = None, 0, None

    def _tick(self, at: float) -> None:
        pos = self.position
        self.position += 1
        self.ticks += 1
        line = self._line
        if line is not None:
            miss = (at - (line[0] + line[1] * pos)) / line[1]       # in ticks (the slope is never 0)
            scatter = self._spread / line[1]                        # in ticks
            if abs(miss) > max(JUMP, 4 * scatter):          # a gap, a burst, many lost ticks: start again
                self._ignore("jumps in the clock", at)
                self._fit.clear()
                self._off, self._slip = 0, None
                self._fit.append((pos, at))
                self._refit(at)
                return
            limit = max(BREAK, 2 * scatter)
            if self._slipped(pos, at, line, limit):
                return
            side = 1 if miss > limit else -1 if miss < -limit else 0
            # a new tempo puts the ticks ever further off the line; jitter scatters them: only misses on one
            # side that grow each time count
            growing = side and self._off and (self._off > 0) == (side > 0) and abs(miss) > self._miss
            self._off = self._off + side if growing else side
            self._miss = abs(miss)
            if abs(self._off) >= 3:                                 # a new tempo: start the line again
                keep = list(self._fit)[-2:]
                self._fit.clear()
                self._fit.extend(keep)
                self._off = 0
        self._fit.append((pos, at))
        self._refit(at)

    def _slipped(self, pos: int, at: float, line: tuple[float, float], limit: float) -> bool:
        """Whether this tick (at ``pos``, stamped ``at``) ends a run of SLIP_TICKS ticks the same whole number of
        ticks off the steady line they left (each within that line's ``limit``, ticks): then the count and the
        run's ticks move to where the host is, and the line is fitted again."""
        if self._slip is not None:
            k, run, before, within = self._slip
            if _whole_ticks_off(pos, at, before, within) == k:
                run += 1
            else:
                self._slip = None
        if self._slip is None:
            steady = len(self._fit) >= SLIP_FIT and self._fitted and limit <= SLIP_TOLERANCE
            k, run, before, within = _whole_ticks_off(pos, at, line, limit) if steady else 0, 1, line, limit
            if not k:
                return False
        if run < SLIP_TICKS:
            self._slip = (k, run, before, within)
            return False
        self._slip = None
        self.position += k
        kept = list(self._fit)
        self._fit.clear()                           # the run's earlier ticks are the window's newest
        self._fit.extend(kept[:len(kept) - (run - 1)] + [(p + k, t) for p, t in kept[len(kept) - (run - 1):]])
        self._fit.append((pos + k, at))
        self._off = 0
        self._refit(at)
        self._ignore("ticks lost on the way" if k > 0 else "ticks doubled on the way", at, abs(k))
        return True

    def _refit(self, at: float) -> None:
        """The line through the window's ticks if its tempo is sane, else the held tempo through the newest."""
        fit = _line(self._fit) if len(self._fit) >= MIN_FIT else None
        line = None if fit is None else fit[:2]
        if line is not None and not SLOPE_RANGE[0] <= line[1] <= SLOPE_RANGE[1]:
            self._ignore("ticks at an impossible tempo", at)
            line = None
        self._fitted = line is not None
        if line is not None:
            self._good = line[1]
            if len(self._fit) >= 8:
                self._spread = min(fit[2], SPREAD_MAX_S)
        elif self._good is not None and self._fit:
            pos, when = self._fit[-1]
            line = (when - self._good * pos, self._good)
        self._line = line

    # ------------------------------------------------------------ questions

    def line(self) -> tuple[float, float] | None:
        """(a, b) with time = a + b * position (s, ticks), b within SLOPE_RANGE; None until MIN_FIT ticks at a sane
        tempo have been heard (after a Start, Continue or position, the tempo held from before counts)."""
        with self._lock:
            return self._line


def _whole_ticks_off(pos: int, at: float, line: tuple[float, float], limit: float) -> int:
    """How many whole ticks (signed, 0: none) a tick at ``pos`` stamped ``at`` is off ``line``, when it is within
    ``limit`` (ticks) of that whole number."""
    miss = (at - (line[0] + line[1] * pos)) / line[1]
    k = round(miss)
    return k if abs(miss - k) <= limit else 0


def _line(points) -> tuple[float, float, float] | None:
    """Least squares through (position, time) points: (a, b, RMS of the times about the line), or None. A stamp
    is never early, only late (a cycle or a thread held up): points later than the line by more than LATE_RMS
    times the RMS are left out and the line fitted again through the rest."""
    if len(points) < 2:
        return None
    p, t = np.array(points, dtype=np.float64).T
    fit = _lstsq(p, t)
    if fit is None or not 0.0 < fit[2] < math.inf:
        return fit
    keep = t - fit[0] - fit[1] * p <= LATE_RMS * fit[2]
    if keep.all() or keep.sum() < MIN_FIT:
        return fit
    return _lstsq(p[keep], t[keep]) or fit


def _lstsq(p: np.ndarray, t: np.ndarray) -> tuple[float, float, float] | None:
    pm, tm = p.mean(), t.mean()
    var = ((p - pm) ** 2).sum()
    if var <= 0:
        return None
    b = float(((p - pm) * (t - tm)).sum() / var)
    a = float(tm - b * pm)
    return a, b, float(np.sqrt(np.mean((t - a - b * p) ** 2)))
