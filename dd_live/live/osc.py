"""OSC in and out: datagrams -> validated commands, replies -> datagrams, and the UDP thread.

Pure logic first (:func:`parse`, :func:`encode`, :class:`Dispatcher`, :class:`RateLimiter`),
unit-tested with raw datagrams; the socket thread (:class:`OSCServer`) only moves bytes.
Unlike python-osc's servers, nothing is dropped silently: every datagram or bundle
element that cannot be turned into a command becomes an :class:`OSCError`, which the
daemon turns into a ``/dd/error`` reply.
"""

from __future__ import annotations

import logging
import math
import queue
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import protocol
from ..errors import InputError
from .worker import Worker

log = logging.getLogger("dd_live.osc")

MAX_DATAGRAM = 65507
REPLY_QUEUE = 4096       # replies waiting for the OSC thread, at most


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
    from pythonosc import osc_message

    try:
        msg = osc_message.OscMessage(data)
        out.append((msg.address, list(msg.params)))
    except Exception as err:  # python-osc raises ParseError, and IndexError/struct.error on truncation
        out.append(OSCError("parse", f"not an OSC message ({type(err).__name__}: {str(err)[:80]})"))


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
    "i": _is_int,
    "f": _is_number,
    "n": _is_number,
    "s": lambda v: isinstance(v, str),
}
_TYPE_NAME = {"i": "an int", "f": "a float", "n": "a number", "s": "a string"}


def _integral(v: Any) -> Any:
    """Integral floats (a controller's 1.0) count as ints for 'i' arguments other than ids."""
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
            if spec.type == "i":
                v = _integral(v)
            if not _TYPE_OK[spec.type](v):
                raise OSCError("args", f"{address}: {spec.name} must be {_TYPE_NAME[spec.type]}, got {_show(v)}")
            if not spec.accepts(v):  # the range lives on the table's Arg
                raise OSCError("args", f"{address}: {spec.name} must be {spec.expect()}, got {_show(v)}")
            values[spec.name] = v
        return Command(entry.command, values, address)


def _show(v: Any) -> str:
    text = repr(v)
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


class OSCServer(Worker):
    """The OSC I/O thread: receives datagrams on (host, port), hands each to ``on_datagram(data, sender)``,
    and is the one sender of replies.

    ``send(data, address)`` may be called from any thread: from another thread the datagram goes
    through a bounded queue that this thread empties (woken at once through a socket pair), so
    every reply leaves through this socket from this thread. start() binds (errors are raised
    there, with context); stop() wakes the thread, join() waits for it and closes the socket.
    """

    name = "dd-osc"

    def __init__(self, host: str, port: int, on_datagram: Callable[[bytes, tuple[str, int]], None], *,
                 queue_size: int = REPLY_QUEUE) -> None:
        super().__init__()
        self.host, self.port, self.on_datagram = host, port, on_datagram
        self._sock: socket.socket | None = None
        self._bell: tuple[socket.socket, socket.socket] | None = None   # (read, write): wakes the thread
        self._out: queue.Queue[tuple[bytes, tuple[str, int]]] = queue.Queue(maxsize=queue_size)
        self._send_lock = threading.Lock()
        self.dropped = 0      # replies dropped because the queue was full

    def bind(self) -> None:
        """Bind the socket (InputError if the address is in use); start() binds if this was not called."""
        if self._sock is not None:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as err:
            raise InputError(f"cannot listen for OSC on {self.host}:{self.port}: {err.strerror or err}") from err
        try:
            sock.bind((self.host, self.port))
        except (OSError, ValueError, OverflowError) as err:  # ValueError: a NUL in the host
            sock.close()
            why = getattr(err, "strerror", None) or err
            raise InputError(f"cannot listen for OSC on {self.host!r}:{self.port}: {why}") from err
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.setblocking(False)
        self._bell = socket.socketpair()
        for end in self._bell:
            end.setblocking(False)
        self.port = sock.getsockname()[1]
        self._sock = sock

    def start(self) -> None:
        self.bind()
        super().start()

    def _run(self) -> None:
        assert self._sock is not None and self._bell is not None
        sock, bell = self._sock, self._bell[0]
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([sock, bell], [], [], 0.5)
                if bell in ready:
                    _drain(bell)
                self._flush()
                if sock in ready:
                    self._receive(sock)
        finally:
            self._flush()

    def _receive(self, sock: socket.socket) -> None:
        """Handle the datagrams waiting (at most 64, so queued replies are not held back by a flood)."""
        for _ in range(64):
            try:
                data, sender = sock.recvfrom(MAX_DATAGRAM)
            except BlockingIOError:
                return
            except OSError as err:  # e.g. ICMP port unreachable reported on Linux after a send
                log.debug("recvfrom: %s", err)
                return
            try:
                self.on_datagram(data, sender[:2])
            except Exception:  # the OSC thread must keep serving whatever a handler does
                log.exception("OSC handler failed")
            self._flush()

    def _flush(self) -> None:
        while True:
            try:
                data, address = self._out.get_nowait()
            except queue.Empty:
                return
            self._sendto(data, address)

    def send(self, data: bytes, address: tuple[str, int]) -> None:
        """Send ``data`` to ``address`` from this worker's thread (queued when called from another)."""
        if self._thread is None or threading.current_thread() is self._thread or not self._thread.is_alive():
            self._flush()                # what other threads queued before this goes first: replies keep their order
            self._sendto(data, address)  # the OSC thread itself, or no thread (not started, or stopped)
            return
        try:
            self._out.put_nowait((data, address))
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("%d replies dropped: the OSC thread cannot send them as fast as they come", self.dropped)
            return
        self._wake()

    def _wake(self) -> None:
        bell = self._bell
        if bell is not None:
            try:
                bell[1].send(b"\0")
            except OSError:  # full (the thread is already woken) or closed
                pass

    def _sendto(self, data: bytes, address: tuple[str, int]) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            with self._send_lock:
                sock.sendto(data, address)
        except OSError as err:
            log.debug("sendto %s: %s", address, err)

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if not self.is_alive():
            self.close()

    def close(self) -> None:
        """Close the sockets (idempotent); for a server that was bound but never started."""
        sock, bell, self._sock, self._bell = self._sock, self._bell, None, None
        for s in ([sock] if sock else []) + list(bell or ()):
            s.close()


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass
