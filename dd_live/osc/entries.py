"""The entries of dd_live's OSC table (:mod:`dd_live.osc.protocol`): an argument with its type and range, and
an address with its arguments, what it does and where front ends show it. Pure data: no sockets."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

#: the values of OSC's i (int32)
INT32 = (-(2 ** 31), 2 ** 31 - 1)


def _f32(x: float) -> float:
    """``x`` rounded to float32, as OSC's f carries it (out of float32's range: as it is)."""
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return x


@dataclass(frozen=True)
class Arg:
    """One argument: its type, what it means, and the values it takes (``lo``-``hi`` inclusive, or one of
    ``choices``). The dispatcher, the config file's checks and docs/osc.md all read the range from here."""

    name: str
    type: str            # i, f, s, n or *
    doc: str
    optional: bool = False
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    what: str = ""       # how a good value is said in an error, if not from lo/hi/choices
    exact: bool = False  # i: a float never counts, however whole (ids); otherwise a controller's 1.0 is 1
    step: float | None = None   # the smallest change a front end's control makes (None: 1 for i, any for n)

    def accepts(self, value: Any) -> bool:
        """True if ``value`` (already of the right type) is in range. A float that float32 holds exactly (as OSC's
        f delivers it) is compared at float32 precision, so a range's ends sent as float32 (0.98 arrives as
        0.98000002) are in it; :meth:`clamp` then makes them the ends."""
        if self.choices and value not in self.choices:
            return False
        if isinstance(value, float) and _f32(value) == value:
            return ((self.lo is None or _f32(value) >= _f32(self.lo))
                    and (self.hi is None or _f32(value) <= _f32(self.hi)))
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)

    def clamp(self, value: Any) -> Any:
        """An accepted value inside the range exactly (a float32 end becomes the end itself)."""
        if isinstance(value, float) and not self.choices:
            if self.lo is not None and value < self.lo:
                return float(self.lo)
            if self.hi is not None and value > self.hi:
                return float(self.hi)
        return value

    def values(self) -> str:
        """The values it takes, in words ("20-300", "explore or best", "from 1"); empty if any."""
        if self.choices:
            return " or ".join(str(c) for c in self.choices)
        if self.lo is not None and self.hi is not None:
            return f"{self.lo:g}-{self.hi:g}"
        return f"from {self.lo:g}" if self.lo is not None else ""

    def expect(self) -> str:
        """What an error says a good value is."""
        return self.what or self.values()

    def describe(self) -> str:
        """The doc with the range, as docs/osc.md shows it."""
        return f"{self.doc}, {self.values()}" if self.values() else self.doc


@dataclass(frozen=True)
class Address:
    address: str
    direction: str       # "in" (to the daemon) or "out" (from it)
    args: tuple[Arg, ...]
    doc: str
    command: str = ""    # in: the daemon command it runs
    button: bool = False  # in: takes a trailing press/release value
    extra: dict = field(default_factory=dict)
    page: str = ""       # in: the panel of the page (and the Max device) that shows it as a control, if any
    setting: str | tuple[str, ...] = ""   # in: the /dd/settings argument that holds its current value, if any
    #                                          (a tuple: one per argument, in order)

    def shown(self) -> tuple[str, ...]:
        """The /dd/settings arguments that hold this control's current values (one per argument it shows)."""
        return self.setting if isinstance(self.setting, tuple) else ((self.setting,) if self.setting else ())

    def signature(self) -> str:
        parts = [f"[{a.name}]" if a.optional else a.name for a in self.args]
        return " ".join([self.address] + parts)
