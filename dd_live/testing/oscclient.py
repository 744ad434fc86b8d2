"""A small OSC client for tests and ``dd-live bench live``: it sends to the daemon and keeps every
reply with its arrival time."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from ..osc.osc import encode, parse
from ..osc.osc_server import MAX_DATAGRAM


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port that was free a moment ago (for tests and benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Client:
    """A small OSC client for tests and ``dd-live bench live``: sends to the daemon, and keeps
    every reply that reaches its own port with its arrival time (time.perf_counter)."""

    def __init__(self, port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.port = self.sock.getsockname()[1]
        self.inbox: list[tuple[float, str, list[Any]]] = []

    def send(self, address: str, *args: Any) -> float:
        """Send one message; returns the time it left."""
        t = time.perf_counter()
        self.sock.sendto(encode(address, *args), self.target)
        return t

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.target)

    def _pump(self, timeout: float) -> None:
        self.sock.settimeout(max(timeout, 1e-4))
        try:
            data, _ = self.sock.recvfrom(MAX_DATAGRAM)
        except socket.timeout:
            return
        now = time.perf_counter()
        self.inbox += [(now, a, args) for a, args in parse(data)]

    def wait_timed(self, address: str, timeout: float = 10.0,
                   where: Callable[[list[Any]], bool] = lambda args: True) -> tuple[float, list[Any]]:
        """(arrival time, arguments) of the oldest unread message at ``address`` matching ``where``;
        it is consumed. TimeoutError after ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while True:
            for i, (t, a, args) in enumerate(self.inbox):
                if a == address and where(args):
                    del self.inbox[i]
                    return t, args
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {address} within {timeout} s (unread: {[m[1] for m in self.inbox][-8:]})")
            self._pump(min(left, 0.1))

    def wait(self, address: str, timeout: float = 10.0,
             where: Callable[[list[Any]], bool] = lambda args: True) -> list[Any]:
        """Like :meth:`wait_timed`, the arguments only."""
        return self.wait_timed(address, timeout, where)[1]

    def drop(self, address: str) -> None:
        """Forget unread messages at ``address``."""
        self.inbox = [m for m in self.inbox if m[1] != address]

    def drain(self, seconds: float = 0.2) -> list[tuple[str, list[Any]]]:
        """Everything unread plus what arrives within ``seconds``; the inbox is emptied."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._pump(end - time.monotonic())
        out = [(a, args) for _, a, args in self.inbox]
        self.inbox.clear()
        return out

    def close(self) -> None:
        self.sock.close()
