"""OSC: the protocol table, datagram parsing and dispatch, tested with raw datagrams (no sockets)."""

import json
import math
import struct
from pathlib import Path

import pytest

from dd_live.osc import osc, protocol
from dd_live.cli import main
from dd_live.osc.osc import Dispatcher, OSCError

ROOT = Path(__file__).resolve().parents[2]


def dgram(address, *args):
    return osc.encode(address, *args)


def refused(data, dispatcher=None):
    """The one OSCError that ``data`` gets (a test failure if it became a command)."""
    (item,) = (dispatcher or Dispatcher()).commands(data)
    assert isinstance(item, OSCError), item
    return item


def bundle(*elements, sizes=None):
    out = b"#bundle\0" + b"\0" * 7 + b"\1"
    for k, e in enumerate(elements):
        out += struct.pack(">i", len(e) if sizes is None else sizes[k]) + e
    return out


def test_docs_osc_md_is_generated_from_the_table():
    assert (ROOT / "docs" / "osc.md").read_text() == protocol.markdown(), "run: dd-live protocol --markdown > docs/osc.md"


def test_the_controls_front_ends_make_from_the_table_name_real_panels_and_settings():
    """A control's panel is one of PANELS, its setting an argument of /dd/settings, and a number it takes has a
    range (the page's number box needs both ends) and a step inside it."""
    shown = protocol.outbound()["/dd/settings"].args
    controls = [a for a in protocol.inbound().values() if a.page]
    assert len(controls) >= 15 and {a.page for a in controls} == set(protocol.PANELS)
    for a in controls:
        assert set(a.shown()) <= {x.name for x in shown}, a.address
        assert len(a.shown()) in (0, 1, len([x for x in a.args if x.name != "value"])), a.address
        for x in a.args:
            if x.type in "in" and not x.choices and x.name != "value":
                assert x.lo is not None and x.hi is not None and x.step and x.step < x.hi - x.lo, (a.address, x.name)
    as_json = protocol.as_dict()
    assert as_json["panels"] == protocol.PANELS
    tempo = next(a for a in as_json["addresses"] if a.get("command") == "set_tempo")
    assert tempo["setting"] == "bpm" and tempo["args"][0]["step"] == 0.1


def test_protocol_json_has_defaults_and_every_required_address(capsys):
    assert main(["protocol", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["defaults"] == {"osc_port": 7710, "reply_port": 7711, "web_port": 7712}
    have = {(a["address"], a["direction"]) for a in d["addresses"]}
    for a in ("hello", "like", "dislike", "rate", "next", "undo", "export", "export/loop", "status", "set/tempo",
              "set/mode", "set/fotf", "set/temperature", "set/density", "set/lock", "play", "stop"):
        assert (f"/dd/{a}", "in") in have
    for a in ("candidate", "grid", "samples", "notes", "rated", "trained", "status", "exported", "error"):
        assert (f"/dd/{a}", "out") in have
    cand = next(a for a in d["addresses"] if a["address"] == "/dd/candidate")
    assert [x["name"] for x in cand["args"]] == ["id", "score", "bpm", "loop_wav", "preview_wav", "midi_file",
                                                 "trained_on"]


def test_every_inbound_address_has_a_handler_taking_its_arguments_checked_at_start():
    from dd_live.errors import DDLiveError
    from dd_live.live.daemon import Daemon, check_handlers
    from dd_live.live.song_play import SongPlay
    from dd_live.live.sync import ClockService
    from dd_live.live.takes import TakeService

    d = object.__new__(Daemon)                             # bound methods, no daemon started
    none = lambda *a, **k: None  # noqa: E731
    d.takes = TakeService(session=None, settings=none, current=none, outputs=list, update=none, send=none)
    d.clock = ClockService("internal", "virtual", settings=none, outputs=list, update=none, send=none)
    d.song_play = SongPlay(session=None, songs=None, outputs=list, send=none, error=none, gate=None, settings=none,
                           update=none)
    handlers = d.handlers()
    check_handlers(handlers, protocol.inbound().values())  # the real table and handlers agree
    table = protocol.inbound().values()
    renamed = dict(handlers, set_tempo=lambda sender, tempo: None)          # an argument renamed
    with pytest.raises(DDLiveError, match=r"/dd/set/tempo takes \['tempo'\], the table says \['bpm'\]"):
        check_handlers(renamed, table)
    missing = {k: v for k, v in handlers.items() if k != "undo"}
    with pytest.raises(DDLiveError, match="no handler for \\['undo'\\]"):
        check_handlers(missing, table)
    with pytest.raises(DDLiveError, match="no address for \\['explode'\\]"):
        check_handlers(dict(handlers, explode=lambda sender: None), table)


def test_encode_parse_round_trip():
    data = dgram("/dd/candidate", 7, 0.25, 120.0, "/tmp/a b.wav", "x", "y", 3)
    ((address, args),) = osc.parse(data)
    assert address == "/dd/candidate"
    assert args[0] == 7 and args[6] == 3 and args[3] == "/tmp/a b.wav"
    assert args[1] == pytest.approx(0.25)


@pytest.mark.parametrize("data", [b"", b"garbage", b"/dd/like", b"/dd/like\0\0\0\0,i\0\0", b"\0" * 8,
                                  b"#bundle\0" + b"\0" * 4, b"/dd/like\0\0\0\0,s\0\0abc"])
def test_malformed_datagrams_are_refused_with_parse_errors(data):
    assert refused(data).code == "parse"


def test_every_bad_bundle_element_is_refused_and_the_good_ones_kept():
    like, status = dgram("/dd/like"), dgram("/dd/status")
    d = Dispatcher()
    assert [c.code for c in d.commands(bundle())] == ["parse"]                      # empty bundle
    got = d.commands(bundle(like, b"garbage!", status))                             # garbage element
    assert [getattr(c, "name", None) or c.code for c in got] == ["like", "parse", "status"]
    for sizes in ([1000], [-4], [6], [0]):                                          # bad element sizes
        got = d.commands(bundle(like, sizes=sizes))
        assert [c.code for c in got] == ["parse"] and "size" in str(got[0])
    got = d.commands(bundle(like, status, sizes=[len(like), 1000]))                 # the first frames, the second not
    assert [getattr(c, "name", None) or c.code for c in got] == ["like", "parse"]
    assert [c.code for c in d.commands(bundle(like)[:-3])] == ["parse"]           # truncated
    nested = bundle(bundle(like), bundle())
    assert [getattr(c, "name", None) or c.code for c in d.commands(nested)] == ["like", "parse"]
    deep = like
    for _ in range(20):
        deep = bundle(deep)
    assert [c.code for c in d.commands(deep)] == ["parse"]


def test_button_semantics():
    d = Dispatcher()
    assert d.commands(dgram("/dd/like")) == [osc.Command("like", {}, "/dd/like")]
    assert d.commands(dgram("/dd/like", 1.0))[0].args == {}
    assert d.commands(dgram("/dd/like", 0.0)) == [None]            # release
    assert d.commands(dgram("/dd/like", 0.5)) == [None]
    # an int is a button value too (a Max message box, many controllers): never a candidate id
    assert d.commands(dgram("/dd/dislike", 1)) == [osc.Command("dislike", {}, "/dd/dislike")]
    assert d.commands(dgram("/dd/like", 0)) == [None]
    assert d.commands(dgram("/dd/like", 12)) == [osc.Command("like", {}, "/dd/like")]
    assert d.commands(dgram("/dd/export", 1))[0].args == {}
    # ids are named by /dd/rate and /dd/export/loop
    assert d.commands(dgram("/dd/rate", 12, 1)) == [osc.Command("rate", {"id": 12, "label": 1}, "/dd/rate")]
    assert d.commands(dgram("/dd/rate", 12, 0.0))[0].args == {"id": 12, "label": 0.0}
    assert isinstance(d.commands(dgram("/dd/rate", 12.0, 0.0))[0], OSCError)   # float32 cannot carry every id
    assert d.commands(dgram("/dd/export/loop", 7))[0].args == {"id": 7}
    assert d.commands(dgram("/dd/next", 0.2)) == [None]
    assert d.commands(dgram("/dd/next", 1))[0].name == "next"


def test_aliases_map_controller_buttons_to_commands():
    d = Dispatcher({"/1/push1": "like", "/1/push2": "dislike"})
    assert d.commands(dgram("/1/push1", 1.0))[0].name == "like"
    assert d.commands(dgram("/1/push1", 0.0)) == [None]
    assert d.commands(dgram("/1/push2", 1.0))[0].name == "dislike"
    # an alias's argument is always a value, never an id
    assert d.commands(dgram("/1/push1", 5))[0].args == {}
    with pytest.raises(ValueError, match="unknown command"):
        Dispatcher({"/x": "explode"})
    with pytest.raises(ValueError, match="unknown command"):   # a command that needs arguments
        Dispatcher({"/x": "rate"})


@pytest.mark.parametrize("address,args,fragment", [
    ("/dd/nope", (), "unknown address"),
    ("/dd/set/tempo", (), "expected 1 arguments"),
    ("/dd/set/tempo", ("fast",), "bpm must be a number"),
    ("/dd/set/tempo", (float("nan"),), "bpm must be a number"),
    ("/dd/set/tempo", (10.0,), "20-300"),
    ("/dd/set/tempo", (120.0, 1), "expected 1 arguments"),
    ("/dd/set/mode", ("loud",), "lean or best or explore"),
    ("/dd/set/fotf", (2,), "0 or 1"),
    ("/dd/set/density", (1.5,), "0.02-0.98"),
    ("/dd/set/temperature", (0.0,), "0.05-20"),
    ("/dd/set/lock", (1,), "expected 2 arguments"),
    ("/dd/set/lock", (0, 1), "track number"),
    ("/dd/rate", (0, 1), "candidate id from 1"),
    ("/dd/rate", (-3, 0), "candidate id from 1"),
    ("/dd/rate", (3,), "expected 2 arguments"),
    ("/dd/rate", (3, 2), "1 (like) or 0 (dislike)"),
    ("/dd/rate", (3, "like"), "label must be a number"),
    ("/dd/export/loop", (0,), "candidate id from 1"),
    ("/dd/export/loop", (), "expected 1 arguments"),
    ("/dd/like", (12, 1.0), "at most one value"),
    ("/dd/like", (1, 1.0, 2), "at most one value"),
    ("/dd/like", ("x",), "finite number"),
    ("/dd/like", (float("inf"),), "finite number"),
    ("/dd/hello", (70000,), "1-65535"),
    ("/dd/status", (1,), "expected 0 arguments"),
])
def test_bad_arguments_are_refused_with_a_clear_line(address, args, fragment):
    err = refused(dgram(address, *args))
    assert err.code in ("args", "address")
    assert fragment in str(err) and "\n" not in str(err)


def test_integral_floats_count_as_ints_for_plain_int_arguments():
    cmd = Dispatcher().commands(dgram("/dd/set/lock", 2.0, 1.0))[0]
    assert cmd.args == {"track": 2, "on": 1.0}


def test_bundles_are_flattened():
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscBundleBuilder(IMMEDIATELY)
    for a in ("/dd/next", "/dd/status"):
        b.add_content(OscMessageBuilder(a).build())
    assert [c.name for c in Dispatcher().commands(b.build().dgram)] == ["next", "status"]


def _raw(address, tags, payload=b""):
    def pad(b):
        b += b"\0"
        return b + b"\0" * (-len(b) % 4)
    return pad(address) + (pad(tags) if tags is not None else b"") + payload


@pytest.mark.parametrize("data, fragment", [
    (_raw(b"/dd/like", None), "no type tag string"),                       # an address alone
    (_raw(b"/dd/like", b",x", b"\0\0\0\1"), "unknown OSC type tag 'x'"),
    (_raw(b"/dd/status", b"," + b"[" * 5000 + b"]" * 5000), "nested deeper"),
    (_raw(b"/dd/status", b",[[i]", b"\0\0\0\1"), "not closed"),
    (_raw(b"/dd/status", b",]", b""), "unbalanced"),
])
def test_messages_whose_type_tags_are_missing_unknown_or_nested_too_deep_are_refused(data, fragment):
    err = refused(data)
    assert err.code == "parse" and fragment in str(err) and "\n" not in str(err)


def test_a_value_too_deep_to_print_is_refused_in_one_line():
    err = refused(_raw(b"/dd/set/tempo", b"," + b"[" * 8 + b"f" + b"]" * 8, struct.pack(">f", 3.0)))
    assert "bpm must be a number" in str(err)
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert "nested too deep" in osc._show(deep)


@pytest.mark.parametrize("tags, payload", [
    (b",di", struct.pack(">d", 1e19) + struct.pack(">i", 1)),               # an id past 2^63 as a double
    (b",hi", struct.pack(">q", 2 ** 62) + struct.pack(">i", 1)),            # an int64 past int32
    (b",fi", struct.pack(">f", 3.0) + struct.pack(">i", 1)),                # a float is never an id
])
def test_ids_are_32_bit_ints_never_floats_or_huge(tags, payload):
    err = refused(_raw(b"/dd/rate", tags, payload))
    assert err.code == "args" and "id must be a 32-bit int" in str(err)
    assert isinstance(Dispatcher().verdict("/dd/rate", [10 ** 30, 1]), OSCError)
    ok = Dispatcher().commands(_raw(b"/dd/rate", b",hi", struct.pack(">q", 5) + struct.pack(">i", 1)))[0]
    assert ok.args["id"] == 5


def test_a_ranges_ends_sent_as_float32_are_in_range_and_arrive_as_the_ends():
    for value in (0.98, 0.02):
        cmd = Dispatcher().commands(_raw(b"/dd/set/density", b",f", struct.pack(">f", value)))[0]
        assert not isinstance(cmd, OSCError), cmd
        assert cmd.args["p"] == value                                       # exactly the end, not 0.98000002
    assert "0.02-0.98" in str(refused(_raw(b"/dd/set/density", b",f", struct.pack(">f", 0.981))))
    assert protocol.arg("set_density", "p").accepts(0.9800001) is False    # a double just past: refused


def test_a_string_with_a_lone_surrogate_from_a_page_is_refused_in_one_line():
    err = Dispatcher().verdict("/dd/song", ["/tmp/\ud800.mid"])          # JSON's "\ud800": no file can be named so
    assert isinstance(err, OSCError) and err.code == "args" and "Unicode text" in str(err)


def test_nan_float_parses_but_is_refused():
    data = b"/dd/set/tempo\0\0\0,f\0\0" + struct.pack(">f", math.nan)
    assert "number" in str(refused(data))


def test_rate_limiter_allows_bursts_then_the_rate():
    now = [0.0]
    rl = osc.RateLimiter(rate=10, burst=5, clock=lambda: now[0])
    assert sum(rl.allow("a") for _ in range(20)) == 5
    assert rl.allow("b")                       # per sender
    now[0] += 0.5
    assert sum(rl.allow("a") for _ in range(20)) == 5
    assert rl.suppressed == 30
