"""A tiny OSC client for tests: sends with dd_live.osc.encode, collects replies on its own port."""

from __future__ import annotations

import socket
import time

from dd_live import osc


class Client:
    def __init__(self, port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.inbox: list[tuple[float, str, list]] = []

    def send(self, address: str, *args) -> float:
        self.sock.sendto(osc.encode(address, *args), self.target)
        return time.perf_counter()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.target)

    def _pump(self, timeout: float) -> bool:
        self.sock.settimeout(max(timeout, 1e-4))
        try:
            data, _ = self.sock.recvfrom(65536)
        except socket.timeout:
            return False
        now = time.perf_counter()
        for address, args in osc.parse(data):
            self.inbox.append((now, address, args))
        return True

    def wait(self, address: str, timeout: float = 10.0, where=lambda args: True) -> list:
        """Arguments of the first unread message at ``address`` matching ``where``; consumes it."""
        end = time.monotonic() + timeout
        while True:
            for i, (_, a, args) in enumerate(self.inbox):
                if a == address and where(args):
                    del self.inbox[i]
                    return args
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {address} within {timeout} s; got {[m[1] for m in self.inbox]}")
            self._pump(min(left, 0.2))

    def wait_timed(self, address: str, timeout: float = 10.0, where=lambda args: True) -> tuple[float, list]:
        end = time.monotonic() + timeout
        while True:
            for i, (t, a, args) in enumerate(self.inbox):
                if a == address and where(args):
                    del self.inbox[i]
                    return t, args
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {address} within {timeout} s")
            self._pump(min(left, 0.2))

    def drain(self, seconds: float = 0.2) -> list[tuple[str, list]]:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._pump(end - time.monotonic())
        out = [(a, args) for _, a, args in self.inbox]
        self.inbox.clear()
        return out

    def close(self) -> None:
        self.sock.close()
