"""OSC in and out: datagrams -> validated commands, replies -> datagrams, and the UDP thread.

Pure logic (:func:`parse`, :func:`encode`, :class:`Dispatcher`, :class:`RateLimiter`), unit-tested with raw
datagrams; the socket thread (:class:`dd_live.osc.osc_server.OSCServer`) only moves bytes.
Unlike python-osc's servers, nothing is dropped silently: every datagram or bundle
element that cannot be turned into a command becomes an :class:`OSCError`, which the
daemon turns into a ``/dd/error`` reply.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import protocol
from .entries import INT32
from ..errors import InputError

log = logging.getLogger("dd_live.osc")



class OSCError(InputError):
    """A datagram that cannot become a command; ``code`` is one of protocol.ERROR_CODES."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Command:
    """One validated request: ``name`` from the protocol table, its arguments by name."""

    name: str
    args: Mapping[str, Any]
    address: str = ""


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return (_is_int(x) or isinstance(x, float)) and math.isfinite(x)


_BUNDLE = b"#bundle\0"
_MAX_DEPTH = 8


def parse_elements(data: bytes) -> list[tuple[str, list[Any]] | OSCError]:
    """Every message in a datagram, bundles flattened, as (address, args); each datagram or bundle
    element that cannot be read is an :class:`OSCError` ('parse') in its place, so one bad element
    neither hides the good ones nor goes unanswered."""
    if not data:
        return [OSCError("parse", "empty datagram")]
    out: list[tuple[str, list[Any]] | OSCError] = []
    _walk(bytes(data), out, 0)
    return out


def _walk(data: bytes, out: list, depth: int) -> None:
    if data.startswith(_BUNDLE):
        if depth >= _MAX_DEPTH:
            out.append(OSCError("parse", f"bundles nested deeper than {_MAX_DEPTH}"))
            return
        if len(data) < 16:
            out.append(OSCError("parse", f"bundle of {len(data)} bytes has no time tag"))
            return
        pos, n = 16, 0
        while pos < len(data):
            if pos + 4 > len(data):
                out.append(OSCError("parse", f"bundle element {n + 1}: truncated size field"))
                return
            size = int.from_bytes(data[pos:pos + 4], "big", signed=True)
            if size <= 0 or size % 4 or pos + 4 + size > len(data):
                out.append(OSCError("parse", f"bundle element {n + 1}: bad size {size} "
                                             f"({len(data) - pos - 4} bytes left)"))
                return  # the elements after it cannot be framed
            _walk(data[pos + 4:pos + 4 + size], out, depth + 1)
            pos, n = pos + 4 + size, n + 1
        if n == 0:
            out.append(OSCError("parse", "empty bundle"))
        return
    if not data.startswith(b"/"):
        out.append(OSCError("parse", f"not an OSC message or bundle (starts with {data[:8]!r})"))
        return
    bad = _type_tags_error(data)
    if bad:
        out.append(OSCError("parse", bad))
        return
    from pythonosc import osc_message

    try:
        msg = osc_message.OscMessage(data)
        out.append((msg.address, list(msg.params)))
    except Exception as err:  # python-osc raises ParseError, and IndexError/struct.error on truncation
        out.append(OSCError("parse", f"not an OSC message ({type(err).__name__}: {str(err)[:80]})"))


#: the OSC 1.0 and 1.1 type tags python-osc reads (anything else it would skip with a warning)
_TAGS = frozenset(b"ifsbhtdcrmTFNIS[]")


def _type_tags_error(data: bytes) -> str:
    """Why a message's type tag string is unusable ('' if it is fine): missing (an address alone: OSC 1.0's
    old senders; every front end here sends one), a tag outside OSC 1.0/1.1, or arrays nested deeper than
    :data:`_MAX_DEPTH` or unbalanced."""
    end = data.find(b"\0")
    start = (end // 4 + 1) * 4 if end >= 0 else len(data)
    if start >= len(data) or data[start:start + 1] != b",":
        return f"{data[:end if end >= 0 else 40][:60].decode('latin-1')!r}: no type tag string (',' and one letter per argument)"
    stop = data.find(b"\0", start)
    tags = data[start + 1:stop if stop >= 0 else len(data)]
    depth = 0
    for t in tags:
        if t not in _TAGS:
            return f"unknown OSC type tag {chr(t)!r}"
        depth += (t == 0x5B) - (t == 0x5D)             # [ and ]
        if depth > _MAX_DEPTH or depth < 0:
            return f"type tags: arrays nested deeper than {_MAX_DEPTH} or unbalanced"
    return "" if depth == 0 else "type tags: an array is not closed"


def parse(data: bytes) -> list[tuple[str, list[Any]]]:
    """Every message in a datagram (bundles flattened) as (address, args); the first unreadable
    part raises OSCError('parse')."""
    out = []
    for item in parse_elements(data):
        if isinstance(item, OSCError):
            raise item
        out.append(item)
    return out


def encode(address: str, *args: Any) -> bytes:
    """One OSC message; ints go as i, floats as f, strings as s."""
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscMessageBuilder(address)
    for a in args:
        if isinstance(a, bool) or _is_int(a) or hasattr(a, "__index__"):
            b.add_arg(int(a), "i")
        elif isinstance(a, float) or hasattr(a, "__float__") and not isinstance(a, str):
            b.add_arg(float(a), "f")
        else:
            b.add_arg(str(a), "s")
    return b.build().dgram


_TYPE_OK: dict[str, Callable[[Any], bool]] = {
    "i": lambda v: _is_int(v) and INT32[0] <= v <= INT32[1],   # OSC's i; an h (int64) that fits
    "f": _is_number,
    "n": _is_number,
    "s": lambda v: isinstance(v, str) and _utf8(v),
}


def _utf8(text: str) -> bool:
    """Whether ``text`` has a UTF-8 form (a JSON string may carry a lone surrogate, which no file name can)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
_TYPE_NAME = {"i": "a 32-bit int", "f": "a float", "n": "a number", "s": "a string of Unicode text"}


def _integral(v: Any) -> Any:
    """Integral floats (a controller's 1.0) count as ints for 'i' arguments (not for ids: Arg.exact)."""
    return int(v) if isinstance(v, float) and math.isfinite(v) and v.is_integer() else v


def resolve_aliases(aliases: Mapping[str, str]) -> dict[str, protocol.Address]:
    """The one check of an alias table (config file or caller): each OSC address maps to a button
    command of the table. InputError naming the first bad entry."""
    by_command = {a.command: a for a in protocol.inbound().values() if a.button}
    out: dict[str, protocol.Address] = {}
    for address, command in aliases.items():
        if command not in by_command:
            raise InputError(f"alias {address!r}: unknown command {command!r} (one of {', '.join(by_command)})")
        if not isinstance(address, str) or not address.startswith("/"):
            raise InputError(f"alias {address!r}: an OSC address must start with /")
        if address in protocol.inbound():
            raise InputError(f"alias {address!r}: that address is dd_live's own; choose another for {command!r}")
        out[address] = by_command[command]
    return out


class Dispatcher:
    """Turns (address, args) into :class:`Command` using the protocol table and an alias table.

    ``aliases`` maps any address to a command name (``{"/1/push1": "like"}``); an
    alias's arguments are a button value only. Returns None for a button release.
    """

    def __init__(self, aliases: Mapping[str, str] | None = None) -> None:
        self.table = protocol.inbound()
        self.aliases = resolve_aliases(aliases or {})

    def commands(self, data: bytes) -> list[Command | None | OSCError]:
        """One entry per message in ``data``: a Command, None (a button's release) or the OSCError
        that refused it (unreadable element, unknown address, bad arguments)."""
        out: list[Command | None | OSCError] = []
        for item in parse_elements(data):
            if isinstance(item, OSCError):
                out.append(item)
                continue
            try:
                out.append(self.command(*item))
            except OSCError as err:
                out.append(err)
        return out

    def verdict(self, address: Any, args: Any) -> Command | None | OSCError:
        """One message given as (address, args) by a front end other than OSC (a browser's JSON): the same
        checks as a datagram's, the refusal returned."""
        if not isinstance(address, str) or not isinstance(args, list):
            return OSCError("parse", "a message is an address (a string) and its arguments (a list)")
        try:
            return self.command(address, args)
        except OSCError as err:
            return err

    def command(self, address: str, args: list[Any]) -> Command | None:
        entry = self.table.get(address)
        if entry is None:
            alias = self.aliases.get(address)
            if alias is None:
                raise OSCError("address", f"unknown address {address[:60]!r}")
            return self._button(alias, address, args)
        if entry.button:
            return self._button(entry, address, args)
        return self._plain(entry, address, args)

    @staticmethod
    def _button(entry: protocol.Address, address: str, args: list[Any]) -> Command | None:
        """A button: no argument, or one value, int or float alike (a Max message box sends 1, a
        controller 1.0); <= 0.5 is the release. Never a candidate id: /dd/rate names one."""
        if len(args) > 1:
            raise OSCError("args", f"{address}: a button takes at most one value, got {len(args)} arguments")
        if args:
            v = args[0]
            if not _is_number(v):
                raise OSCError("args", f"{address}: button value must be a finite number, got {_show(v)}")
            if v <= 0.5:
                return None  # a release
        return Command(entry.command, {}, address)

    def _plain(self, entry: protocol.Address, address: str, args: list[Any]) -> Command:
        required = [a for a in entry.args if not a.optional]
        if not len(required) <= len(args) <= len(entry.args):
            want = (f"{len(required)}" if len(required) == len(entry.args)
                    else f"{len(required)}-{len(entry.args)}")
            raise OSCError("args", f"{address}: expected {want} arguments ({entry.signature()}), got {len(args)}")
        values: dict[str, Any] = {}
        for spec, v in zip(entry.args, args):
            if spec.type == "i" and not spec.exact:
                v = _integral(v)
            if not _TYPE_OK[spec.type](v):
                raise OSCError("args", f"{address}: {spec.name} must be {_TYPE_NAME[spec.type]}, got {_show(v)}")
            if not spec.accepts(v):  # the range lives on the table's Arg
                raise OSCError("args", f"{address}: {spec.name} must be {spec.expect()}, got {_show(v)}")
            values[spec.name] = spec.clamp(v)
        return Command(entry.command, values, address)


def _show(v: Any) -> str:
    try:
        text = repr(v)
    except RecursionError:                              # a value nested too deep to print
        text = f"a {type(v).__name__} nested too deep"
    return text if len(text) <= 40 else text[:37] + "..."


class RateLimiter:
    """A token bucket per key: ``rate`` events per second, bursts of ``burst``."""

    def __init__(self, rate: float = 20.0, burst: int = 20, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[Any, tuple[float, float]] = {}
        self.suppressed = 0

    def allow(self, key: Any) -> bool:
        now = self.clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return True
        self._buckets[key] = (tokens, now)
        self.suppressed += 1
        if len(self._buckets) > 1024:  # forget idle senders (spoofed floods)
            self._buckets = {k: b for k, b in self._buckets.items() if now - b[1] < 10}
        return False
