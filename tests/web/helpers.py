"""A small WebSocket client and GET for the web tests."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

TOKEN = "test-token-0123456789abcdefghij"


class WsClient:
    """A blocking WebSocket client (websockets' sync client) that keeps every reply it reads."""

    def __init__(self, url: str, **kw) -> None:
        from websockets.sync.client import connect

        self.ws = connect(url, **kw)
        self.got: list[dict] = []

    def send(self, address: str, *args) -> None:
        self.ws.send(json.dumps({"address": address, "args": list(args)}))

    def wait(self, address: str, timeout: float = 10.0, where=lambda m: True) -> dict:
        end = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.got):
                if m["address"] == address and where(m):
                    return self.got.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {address} within {timeout} s (got {[m['address'] for m in self.got][-20:]})")
            try:
                self.got.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                pass

    def drain(self, seconds: float = 0.2) -> list[dict]:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                self.got.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                break
        out, self.got = self.got, []
        return out

    def close(self) -> None:
        self.ws.close()


def get(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    """(status, body, headers) of a GET; error statuses are returned, not raised."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)
