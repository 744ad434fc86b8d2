"""Who hears the daemon, and how it answers: the clients that said /dd/hello, the reply port, and the
rate-limited ``/dd/error`` replies (with ``flood`` said once when a sender's errors start being
suppressed). A sender on another machine is answered only once it has shown that it receives replies
(:meth:`Replies.cookie`), so that a forged sender address cannot turn small datagrams into large replies
aimed at someone else. Every reply leaves through the OSC worker's socket (:meth:`OSCServer.send`), whichever
thread produced it."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from . import osc, protocol
from .osc_server import OSCServer

log = logging.getLogger("dd_live.daemon")

Target = tuple[str, int]
#: the host part of a browser connection's target, ("ws", its number): served by :mod:`dd_live.web`, not UDP
WEB = "ws"


class Replies:
    """The reply targets of one daemon and the senders of its replies (any thread)."""

    def __init__(self, server: OSCServer, reply_port: int, *, max_clients: int = protocol.MAX_CLIENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``clock``: what the error rate is counted on (s; a test's own)."""
        self.server, self.reply_port, self.max_clients = server, reply_port, max_clients
        self.clients: dict[Target, None] = {}      # in the order they last said /dd/hello
        self._lock = threading.Lock()
        self._errors = osc.RateLimiter(rate=10, burst=20, clock=clock)
        self._flooded: set = set()                 # senders told 'flood' whose errors are being suppressed
        self._log_errors = osc.RateLimiter(rate=2, burst=10, clock=clock)
        #: ``web(address, args, targets)`` delivers a reply to browser connections (set by the web server)
        self.web: Callable[[str, tuple, list[Target]], None] | None = None
        self._secret = os.urandom(16)              # /dd/cookie: a sender on another machine proves it hears us

    def cookie(self, host: str) -> int:
        """The number a sender at ``host`` must send back with /dd/hello (int32, from a secret of this run)."""
        digest = hmac.new(self._secret, host.encode("utf-8", "replace"), hashlib.sha256).digest()
        return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF

    def trusted(self, sender: Target | None) -> bool:
        """Whether replies may go to ``sender`` unasked: this machine (a loopback address cannot be forged from
        outside), a browser connection, or a client that said /dd/hello with its cookie."""
        if sender is None or sender[0] == WEB:
            return True
        with self._lock:
            if sender in self.clients:
                return True
        try:
            return ipaddress.ip_address(sender[0].split("%")[0]).is_loopback
        except ValueError:
            return False

    def targets(self) -> list[Target]:
        """The reply port on 127.0.0.1, then each client."""
        out = [("127.0.0.1", self.reply_port)]
        with self._lock:
            out += [c for c in self.clients if c not in out]
        return out

    def send(self, address: str, *args: Any, to: list[Target] | None = None) -> None:
        targets = to or self.targets()
        data = osc.encode(address, *args)
        browsers = []
        for target in targets:
            if target[0] == WEB:
                browsers.append(target)
            else:
                self.server.send(data, target)
        if browsers and self.web is not None:
            self.web(address, args, browsers)

    def bye(self, client: Target) -> None:
        """Forget ``client`` (a browser connection that closed)."""
        with self._lock:
            self.clients.pop(client, None)

    def hello(self, client: Target) -> None:
        """Add ``client`` (or move it to the newest); the oldest beyond ``max_clients`` is told it is evicted."""
        evicted = []
        with self._lock:
            self.clients.pop(client, None)
            self.clients[client] = None
            while len(self.clients) > self.max_clients:
                old = next(iter(self.clients))
                self.clients.pop(old)
                evicted.append(old)
        for old in evicted:
            log.warning("client %s:%d evicted: more than %d clients said /dd/hello", old[0], old[1], self.max_clients)
            self.send("/dd/error", "evicted", f"more than {self.max_clients} clients said /dd/hello; this one gets no "
                      "more replies until it says /dd/hello again", to=[old])

    def error(self, code: str, message: str, sender: Target | None = None, *, logged: bool = False) -> None:
        """``/dd/error code message`` to every target and the sender, at most 10 a second per sender (bursts
        of 20); the first suppressed one is replaced by a ``flood`` error saying so. ``logged``: the caller has
        logged it already."""
        key = sender or "local"
        if not logged and self._log_errors.allow("log"):
            log.warning("%s from %s: %s", code, sender, message)
        targets = self.targets()
        if sender is not None and sender not in targets and self.trusted(sender):   # no error to a forged sender
            targets.append(sender)
        with self._lock:
            if self._errors.allow(key):
                self._flooded.discard(key)
            elif key in self._flooded:
                return
            else:  # the first suppressed error: say once that further ones are being suppressed
                if len(self._flooded) > 1024:  # spoofed senders: forget them
                    self._flooded.clear()
                self._flooded.add(key)
                code, message = "flood", f"too many errors; further errors are suppressed for a moment (last: {code})"
        self.send("/dd/error", code, message[:200], to=targets)
