"""Who hears the daemon (osc/replies.py), with a server that records what it would send."""

from __future__ import annotations

from dd_live.osc import osc
from dd_live.osc.replies import WEB, Replies


class RecordingServer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list, tuple[str, int]]] = []

    def send(self, data: bytes, target: tuple[str, int]) -> None:
        ((address, args),) = osc.parse(data)
        self.sent.append((address, args, target))


def _replies(**kw) -> tuple[Replies, RecordingServer]:
    server = RecordingServer()
    return Replies(server, 7711, **kw), server


def test_replies_go_to_the_reply_port_then_each_client_and_browsers_to_the_page():
    r, server = _replies()
    pages = []
    r.web = lambda address, args, targets: pages.append((address, args, targets))
    r.hello(("10.0.0.2", 9000))
    r.hello((WEB, 3))
    r.send("/dd/trained", 1, 2, 0.5)
    assert [t for *_, t in server.sent] == [("127.0.0.1", 7711), ("10.0.0.2", 9000)]
    assert pages == [("/dd/trained", (1, 2, 0.5), [(WEB, 3)])]
    r.bye((WEB, 3))
    assert (WEB, 3) not in r.targets()


def test_the_oldest_client_beyond_the_limit_is_evicted_and_told_once():
    r, server = _replies(max_clients=2)
    for port in (1, 2, 3):
        r.hello(("127.0.0.1", 9000 + port))
    assert r.targets() == [("127.0.0.1", 7711), ("127.0.0.1", 9002), ("127.0.0.1", 9003)]
    told = [(a, args[0], t) for a, args, t in server.sent if a == "/dd/error"]
    assert told == [("/dd/error", "evicted", ("127.0.0.1", 9001))]
    r.hello(("127.0.0.1", 9002))                     # a hello again moves it to the newest: 9003 is the oldest
    r.hello(("127.0.0.1", 9004))
    assert ("127.0.0.1", 9003) not in r.targets() and ("127.0.0.1", 9002) in r.targets()


def test_only_this_machine_pages_and_registered_clients_are_trusted_and_cookies_differ_by_host():
    r, _ = _replies()
    assert r.trusted(("127.0.0.1", 5)) and r.trusted(("::1", 5)) and r.trusted((WEB, 1)) and r.trusted(None)
    assert not r.trusted(("192.0.2.7", 5)) and not r.trusted(("not an address", 5))
    r.hello(("192.0.2.7", 5))
    assert r.trusted(("192.0.2.7", 5))
    assert r.cookie("192.0.2.7") == r.cookie("192.0.2.7") != r.cookie("192.0.2.8")
    assert 0 <= r.cookie("x") < 2 ** 31
    other, _ = _replies()
    assert other.cookie("192.0.2.7") != r.cookie("192.0.2.7")     # a secret per run


def test_errors_reach_a_trusted_sender_never_a_forged_one_and_a_flood_is_said_once():
    now = [0.0]
    r, server = _replies(clock=lambda: now[0])         # the error rate on a clock of the test's own
    r.error("args", "bad", ("192.0.2.9", 5))         # an unknown sender elsewhere: not answered
    assert [t for *_, t in server.sent] == [("127.0.0.1", 7711)]
    server.sent.clear()
    r.error("args", "bad", ("127.0.0.1", 6000))
    assert [t for *_, t in server.sent] == [("127.0.0.1", 7711), ("127.0.0.1", 6000)]
    server.sent.clear()
    for _ in range(200):
        r.error("args", "x" * 500, ("127.0.0.1", 6000))
    codes = [args[0] for a, args, t in server.sent if t == ("127.0.0.1", 6000)]
    assert codes == ["args"] * 19 + ["flood"]           # a burst of 20 (one spent above), then said once
    assert all(len(args[1]) <= 200 for _, args, _ in server.sent)
    now[0] += 1.0                                       # a second later: 10 more, and a flood said again
    server.sent.clear()
    for _ in range(50):
        r.error("args", "y", ("127.0.0.1", 6000))
    assert [args[0] for a, args, t in server.sent if t == ("127.0.0.1", 6000)] == ["args"] * 10 + ["flood"]
