"""The web thread (``dd-web``): the page, its files and a WebSocket on one port, with the websockets library's
asyncio server on an event loop of its own.

A browser's message is JSON text, ``{"address": "/dd/like", "args": []}``: the address table's own addresses and
arguments. It is checked by the daemon's :class:`dd_live.osc.osc.Dispatcher` (:meth:`~Dispatcher.verdict`) and
run on the OSC thread (:meth:`dd_live.osc.osc_server.OSCServer.call`) by the same code as a datagram, the refusals
answered with ``/dd/error`` (rate-limited per connection, as per OSC sender). A connection's messages are read
as they come and refused at once or queued (at most PAGE_BACKLOG; beyond, refused) to run in order, so a page's
close is seen at once and its backlog dropped after CLOSE_GRACE_S. Replies reach the connections that said /dd/hello through
:class:`dd_live.osc.replies.Replies` (targets ``("ws", n)``) as JSON of the same shape; ``/dd/candidate`` also
carries the URLs of its files. Each connection has a bounded queue of replies; a page too slow to read them
loses the oldest ones' successors (counted), never the daemon's time. A binary message is a song sent from
the page (:mod:`.songs`), stored in the session and then run as ``/dd/song`` or ``/dd/song/play``.

HTTP: see :mod:`.access` for what may be reached and :mod:`.answers` for what is answered (from memory or one
file read).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import __version__
from ..errors import InputError, one_line
from ..osc import protocol
from ..osc.osc import OSCError
from ..osc.replies import WEB
from ..worker import Worker
from . import answers, songs
from .access import LOOP_FILE, STATIC, Refused, check_origin, check_token, one_header, route, user_token

log = logging.getLogger("dd_live.web")


class _OneLine(logging.Filter):
    """The websockets library's records as one line each (a bare connect-and-close logged a 30-line traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            err = record.exc_info[1]
            record.msg, record.args = f"{record.getMessage()}: {one_line(err) if err else ''}".rstrip(": "), None
            record.exc_info = record.exc_text = None
        return True


#: the websockets server's own log: warnings and up, one line each (no line per page fetch)
WS_LOG = logging.getLogger("dd_live.web.websockets")
WS_LOG.setLevel(logging.WARNING)
WS_LOG.addFilter(_OneLine())

MAX_MESSAGE = 64 * 1024      # bytes: a longer text message closes its connection (1009); binary: songs.MAX_UPLOAD
OUT_QUEUE = 1024             # replies waiting for one slow page, at most
RUN_TIMEOUT_S = 10.0         # how long a page's message may wait for the OSC thread to run it
PAGE_BACKLOG = 256           # a page's commands waiting for the OSC thread, at most (further ones are refused)
CLOSE_GRACE_S = 0.5          # a closed page's commands still run this long; the rest of its backlog is dropped
KEYS = {**protocol.KEYS, "play": " "}   # the page's keys: the front ends' own, and space plays


def page_protocol() -> dict:
    """What the page reads at load: the address table and its own key bindings."""
    return {**protocol.as_dict(), "keys": KEYS, "version": __version__, "upload_bytes": songs.MAX_UPLOAD}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value


def to_json(address: str, args: tuple) -> str:
    """A reply as the page reads it: arguments by name (:func:`protocol.named`); /dd/candidate's files' URLs."""
    named = protocol.named(address, [_finite(a) for a in args])
    msg: dict[str, Any] = {"address": address, "args": named}
    if address == "/dd/candidate":
        msg["files"] = {kind: f"/loops/{int(named['id'])}/{Path(str(named[kind])).name}"
                        for kind in ("loop_wav", "preview_wav", "midi_file")
                        if kind in named and LOOP_FILE.match(Path(str(named[kind])).name)}
    return json.dumps(msg, default=str)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket for the page on ``host``:``port`` (0: any free port); InputError if it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=64)
    except (OSError, ValueError, OverflowError) as err:
        raise InputError(f"cannot serve the web page on {host!r}:{port}: {getattr(err, 'strerror', None) or err} "
                         "(another dd-live serve? choose a port with --web PORT, or --no-web)") from err
    sock.setblocking(False)
    return sock


class _Connection:
    def __init__(self, ws, number: int) -> None:
        self.ws, self.number = ws, number
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=OUT_QUEUE)
        self.pending: asyncio.Queue = asyncio.Queue(maxsize=PAGE_BACKLOG)   # its commands waiting to run
        self.dropped = self.refused = 0      # replies a slow page did not take; its commands refused as a flood


class WebServer(Worker):
    """The browser front end of ``daemon`` on ``host``:``port`` (0: any free port). start() binds (InputError
    if it cannot) and serves; stop() and join() end it."""

    name = "dd-web"

    def __init__(self, daemon, host: str, port: int, *, token: str | None = None,
                 sock: socket.socket | None = None) -> None:
        """``sock``: a socket already bound by :func:`bind` (else start() binds one)."""
        super().__init__()
        from ..session.folders import sessions_root

        self.daemon, self.host, self.port = daemon, host, int(port)
        self.token = token or user_token(sessions_root())
        self.loopback = host in protocol.LOOPBACK
        self._sock: socket.socket | None = sock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._conns: dict[int, _Connection] = {}
        self._count = 0
        self.dropped = 0             # replies a slow page did not take
        self.messages = 0            # browser messages handled (run or refused)

    @property
    def url(self) -> str:
        """The page's address, token included."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/?token={self.token}"

    # ------------------------------------------------------------ lifecycle (the daemon's thread)

    def start(self) -> None:
        if self._sock is None:
            self._sock = bind(self.host, self.port)
        self.port = self._sock.getsockname()[1]
        self.daemon.replies.web = self.deliver
        super().start()
        if not self._ready.wait(10) and self.error is None:
            raise InputError("the web server did not start within 10 s")
        if self.error is not None:
            raise InputError(f"the web server failed: {self.error}") from self.error
        if not self.loopback:
            log.warning("the web page is served on %s:%d: anyone who can reach it and has the token can control "
                        "dd_live", self.host, self.port)

    def revive(self) -> None:
        """Serve again on the same port after the web thread died (the supervisor's call); pages reconnect."""
        if self.is_alive():
            return
        old, self._sock = self._sock, None
        if old is not None:
            old.close()
        self._conns.clear()
        self._ready.clear()
        self._sock = bind(self.host, self.port)
        super().revive()
        if not self._ready.wait(10) or self.error is not None:
            raise InputError(f"the web server did not start again: {self.error or 'no answer in 10 s'}")

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        from websockets.asyncio.server import serve

        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        try:
            async with serve(self._connection, sock=self._sock, process_request=self._http,
                             max_size=songs.MAX_UPLOAD + 1024,
                             logger=WS_LOG,
                             max_queue=16, server_header=f"dd_live/{__version__}", ping_interval=20):
                self._ready.set()
                await self._stopped.wait()
        finally:
            self._ready.set()
            self._loop = None

    def _wake(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None:
            try:
                loop.call_soon_threadsafe(stopped.set)
            except RuntimeError:  # the loop has just closed
                pass

    def _release(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    # ------------------------------------------------------------ replies (any thread)

    def deliver(self, address: str, args: tuple, targets: list) -> None:
        """Hand a reply to the connections among ``targets`` (("ws", n) pairs); never blocks."""
        loop = self._loop
        if loop is None:
            return
        text = to_json(address, args)
        numbers = [t[1] for t in targets if t[0] == WEB]
        try:
            loop.call_soon_threadsafe(self._fanout, text, numbers)
        except RuntimeError:  # the loop is closing
            pass

    def _fanout(self, text: str, numbers: list[int]) -> None:
        for n in numbers:
            conn = self._conns.get(n)
            if conn is None:
                continue
            try:
                conn.queue.put_nowait(text)
            except asyncio.QueueFull:
                conn.dropped += 1
                self.dropped += 1
                if conn.dropped == 1:
                    log.warning("web page %d reads replies too slowly: replies dropped", n)

    # ------------------------------------------------------------ the web thread

    def _http(self, connection, request):
        try:
            r = route(request.path)
            if r.kind == "ws":
                check_origin(one_header(request.headers, "Origin"), one_header(request.headers, "Host"),
                             loopback=self.loopback)
                check_token(r.token, self.token)
                if len(self._conns) >= protocol.MAX_CLIENTS:
                    raise Refused(503, f"more than {protocol.MAX_CLIENTS} pages are open")
                return None                        # the WebSocket handshake goes on
            if r.kind == "static":
                return answers.file(STATIC[r.name])
            if r.kind == "protocol":
                return answers.body(json.dumps(page_protocol()).encode(), ".json")
            check_token(r.token, self.token)
            return answers.session_file(self.daemon, r)
        except Refused as err:
            return answers.body(f"{err}\n".encode(), ".txt", status=err.status)
        except Exception as err:  # a failure here answers 500 and the server goes on (the token never logged)
            log.error("web request %r failed: %s", urlsplit(request.path).path[:80], one_line(err))
            log.debug("the failure in full", exc_info=True)
            return answers.body(f"internal error: {type(err).__name__}\n".encode(), ".txt", status=500)

    async def _connection(self, ws) -> None:
        self._count += 1
        conn = _Connection(ws, self._count)
        self._conns[conn.number] = conn
        key = (WEB, conn.number)
        writer = asyncio.create_task(self._write(conn))
        runner = asyncio.create_task(self._run_pending(conn, key))
        try:
            async for message in ws:          # read as fast as they come, so that a page's close is seen at once
                if isinstance(message, str) and len(message) > MAX_MESSAGE:
                    await ws.close(1009, f"a text message of at most {MAX_MESSAGE} bytes")
                    break
                self._receive(message, conn, key)
        except Exception as err:  # a connection that breaks ends; the server goes on
            log.debug("web page %d: %s", conn.number, err)
        finally:
            writer.cancel()
            self._conns.pop(conn.number, None)
            self.daemon.replies.bye(key)
            try:                              # a person's last click still counts; a closed page's backlog does not
                await asyncio.wait_for(conn.pending.join(), CLOSE_GRACE_S)
            except TimeoutError:
                log.info("web page %d closed: %d commands it sent were not run", conn.number, conn.pending.qsize())
            finally:                          # (also when the server itself is stopping)
                runner.cancel()

    async def _write(self, conn: _Connection) -> None:
        while True:
            text = await conn.queue.get()
            await conn.ws.send(text)

    def _receive(self, message: str | bytes, conn: _Connection, key: tuple[str, int]) -> None:
        """One browser message: refused here (the web thread), or queued for the OSC thread. A binary one is a
        song (:mod:`.songs`): stored here (one small file written), then run as /dd/song or /dd/song/play."""
        verdict = self.verdict(message) if isinstance(message, str) else self.upload(message)
        self.messages += 1
        if verdict is None or isinstance(verdict, OSCError):   # a release, or refused: nothing for the OSC thread
            if verdict is not None:
                self.daemon.replies.error(verdict.code, str(verdict), key)
            return
        try:
            conn.pending.put_nowait(verdict)
        except asyncio.QueueFull:             # a script or a stuck key: more than the daemon can run
            conn.refused += 1
            if conn.refused % 1000 == 1:
                self.daemon.replies.error("flood", f"{PAGE_BACKLOG} commands from this page are waiting to run: "
                                                   "further ones are refused", key)

    async def _run_pending(self, conn: _Connection, key: tuple[str, int]) -> None:
        """Run a page's commands one after the other on the OSC thread, where datagrams are handled."""
        loop = asyncio.get_running_loop()
        while True:
            verdict, done = await conn.pending.get(), loop.create_future()

            def run(verdict=verdict, done=done) -> None:      # the OSC thread
                try:
                    self.daemon.run_commands([verdict], key)
                finally:
                    try:
                        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))
                    except RuntimeError:     # the web thread's loop is gone (shutting down)
                        pass
            try:
                if not self.daemon.server.call(run):
                    self.daemon.replies.error("state", "the daemon is not taking commands now (stopping, or busy)",
                                              key)
                    continue
                try:                             # a call queued as the OSC thread stops is never run: do not wait
                    await asyncio.wait_for(done, RUN_TIMEOUT_S)
                except TimeoutError:
                    log.warning("web page %d: a command was not run within %.0f s", key[1], RUN_TIMEOUT_S)
            finally:
                conn.pending.task_done()

    def upload(self, message: bytes):
        """A song sent from the page, stored in the session: the Command that arranges (or plays) it, or OSCError."""
        try:
            up = songs.parse_upload(message)
            path = songs.store(self.daemon.session, up)
        except OSCError as err:
            return err
        log.info("song %s received from a web page (%d bytes)", up.name, len(up.data))
        return self.daemon.dispatcher.verdict("/dd/song/play" if up.play else "/dd/song", [str(path)])

    def verdict(self, message: str):
        """A browser's JSON message as the dispatcher sees it: a Command, None (a button's release) or an OSCError."""
        try:
            data = json.loads(message)
        except (ValueError, RecursionError) as err:
            return OSCError("parse", f"not JSON ({str(err)[:60]})")
        if not isinstance(data, dict) or set(data) - {"address", "args"}:
            return OSCError("parse", 'a message is {"address": "/dd/...", "args": [...]}')
        return self.daemon.dispatcher.verdict(data.get("address"), data.get("args", []))
