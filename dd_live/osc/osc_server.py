"""The OSC I/O thread: the one socket that receives datagrams and sends every reply (see :mod:`.osc`)."""

from __future__ import annotations

import logging
import queue
import select
import socket
import threading
from collections.abc import Callable

from ..errors import InputError
from ..worker import Worker

log = logging.getLogger("dd_live.osc")

MAX_DATAGRAM = 65507
REPLY_QUEUE = 4096       # replies waiting for the OSC thread, at most


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
        self._calls: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=queue_size)
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
            hint = " (another dd-live serve? choose a port with --osc-port PORT)" if isinstance(err, OSError) else ""
            raise InputError(f"cannot listen for OSC on {self.host!r}:{self.port}: {why}{hint}") from err
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
                self._run_calls()
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

    def call(self, fn: Callable[[], None]) -> bool:
        """Run ``fn`` on this thread, where datagrams are handled (another front end's commands take the same
        path); False, and not run, if the queue is full or the thread is not running."""
        if self._thread is None or not self._thread.is_alive():
            return False
        try:
            self._calls.put_nowait(fn)
        except queue.Full:
            return False
        self._wake()
        return True

    def _run_calls(self) -> None:
        while True:
            try:
                fn = self._calls.get_nowait()
            except queue.Empty:
                return
            try:
                fn()
            except Exception:  # the OSC thread must keep serving whatever a caller's function does
                log.exception("a front end's call failed on the OSC thread")

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
            self._release()

    def _release(self) -> None:
        """Close the sockets (idempotent)."""
        sock, bell, self._sock, self._bell = self._sock, self._bell, None, None
        for s in ([sock] if sock else []) + list(bell or ()):
            s.close()


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass
