"""The Max front ends, generated with py2max: ``dd_live.maxpat`` and ``dd_live.amxd``.

``dd-live patches`` writes them into ``max_patches/`` with a copy of
``dd_live/max/dd_live.js``, the [js] they load (its logic is tested under node),
and SVG pictures of each (patching view and presentation) for the README. Every OSC address and port in them comes from
:mod:`dd_live.osc.protocol`, so they cannot drift from the daemon; the tests lint
them with py2max and compare them with a fresh build.

Both patches: Like, Dislike, Next, Undo and Export buttons, the current pattern
in a matrixctrl (a click on a cell edits the loop, stepping it rest, hit, accent:
/dd/edit), the critic's score, the tempo, like/dislike counters, a
status line that shows the daemon's errors, a Take toggle and a Straight
button for the drums' feel (takes of the performer playing along; the js sends
each onset with its beat in the bar: the standalone patch hears attacks on the
audio input with bonk~ and places them by the audition loop's phase, the
device takes the notes coming into its track and places them by Live's
transport), and Song... (a song's drums from a file dialog, /dd/song/play) and
Loop (/dd/song/stop). They say /dd/hello on load. The
standalone patch also has keyboard shortcuts (l d n u e) and auditions each loop
WAV through two buffer~s and a groove~, switching at the loop's end. The device
(a Max for Live MIDI effect) plays the candidate's notes into the track in time
with Live's transport, follows Live's tempo, and Capture writes the candidate
into the next empty Session clip slot.

py2max is needed only here (``pip install 'dd_live[max]'``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import TEMPO_RANGE
from ..osc import protocol
from ..sound.audio import write_bytes
from ..errors import BackendError
from .controls import SENDS as CONTROL_SENDS, controls

JS = "dd_live.js"
DEVICE_TYPE = "midi_effect"
AMXD_MTIME = 3_850_070_400  # 2026-01-01 00:00 UTC in Max's 1904 epoch: a fixed date keeps builds byte-identical
#: the patch's buttons (label, address, key), in the table's order, one per key of protocol.KEYS
BUTTONS = tuple((a.command.title(), a.address, protocol.KEYS[a.command]) for a in protocol.inbound().values()
                if a.command in protocol.KEYS)
#: replies the patches handle, and the dd_live.js function each one calls
REPLIES = (("/dd/candidate", "candidate"), ("/dd/shape", "shape"), ("/dd/grid", "grid"), ("/dd/samples", "samples"),
           ("/dd/notes", "notes"), ("/dd/rated", "rated"), ("/dd/status", "status"),
           ("/dd/trained", "trained"), ("/dd/exported", "exported"), ("/dd/take", "take"), ("/dd/feel", "feel"),
           ("/dd/sync", "sync"), ("/dd/edited", "edited"), ("/dd/sounds", "sounds"), ("/dd/error", "dderror"))
#: what the js sends to the daemon itself (its OSC outlet): takes, onsets, cell and sound edits
JS_SENDS = ("/dd/take/start", "/dd/take/end", "/dd/onset", "/dd/edit", "/dd/sounds", "/dd/edit/sound")
_GRID = protocol.outbound()["/dd/grid"].extra
TRACKS, STEPS = _GRID["tracks"], _GRID["steps"]  # the grid the daemon sends


def _py2max():
    try:
        import py2max
    except ImportError as err:
        raise BackendError("building the Max patches needs py2max: pip install 'dd_live[max]'") from err
    return py2max


def _check_table() -> None:
    """Every address the patches use must be in the daemon's table, in the right direction."""
    ins, outs = protocol.inbound(), protocol.outbound()
    missing = [a for a in [b[1] for b in BUTTONS] + ["/dd/hello", "/dd/set/tempo", "/dd/status", "/dd/feel/reset",
                                                    *CONTROL_SENDS, *JS_SENDS] if a not in ins]
    missing += [a for a, _ in REPLIES if a not in outs]
    if missing:
        raise BackendError(f"the patches use addresses the daemon's table lacks: {', '.join(missing)}")


class _Sheet:
    """A patcher with explicit places: ``box(text, x, y, w)`` in the patching view, ``show`` in presentation."""

    def __init__(self, patcher) -> None:
        from py2max.core.common import Rect

        self.p = patcher
        self.p.rect = Rect(40.0, 80.0, 1300.0, 720.0)  # the patching window: room for every section

    def box(self, text: str, x: int, y: int, w: int = 0, h: int = 22, **kw: Any):
        return self.p.add_textbox(text, patching_rect=[x, y, w or 7 * len(text) + 20, h], **kw)

    def msg(self, text: str, x: int, y: int, w: int = 0):
        return self.p.add_message(text, patching_rect=[x, y, w or 7 * len(text) + 20, 22])

    def comment(self, text: str, x: int, y: int, w: int = 0):
        return self.p.add_comment(text, patching_rect=[x, y, w or 7 * len(text) + 20, 20])

    def line(self, src, dst, outlet: int = 0, inlet: int = 0) -> None:
        self.p.add_line(src, dst, outlet=outlet, inlet=inlet)

    @staticmethod
    def show(box, rect: tuple[int, int, int, int]):
        box.presentation = 1
        box.presentation_rect = list(rect)
        return box


# Patching view: buttons and the reply chain on the left (x 20-600), OSC out and the
# candidate's numbers in the middle (x 640-900), each patch's own parts on the right
# (x 940-) and below (y 520-). Presentation: one strip, 520 x 170 (a device's height).
GRID_Y = 72


def _core(s: _Sheet, *, onload: str) -> dict[str, Any]:
    """What both patches share: OSC out and in, buttons, the js, the displays. Returns named boxes."""
    d = protocol.DEFAULTS
    b: dict[str, Any] = {}
    # OSC out, and hello + status on load
    load = b["load"] = s.box(onload, 640, 20, 110)
    trig = s.box("t b b", 640, 60, 50)
    hello = s.msg(f"/dd/hello {d['reply_port']}", 640, 100, 110)
    ask = s.msg("/dd/status", 770, 100, 80)
    send = b["send"] = s.box(f"udpsend 127.0.0.1 {d['osc_port']}", 640, 150, 160)
    s.line(load, trig)
    s.line(trig, ask, outlet=0)
    s.line(trig, hello, outlet=1)  # right to left: hello first, then ask for the status
    s.line(hello, send)
    s.line(ask, send)
    # buttons
    for i, (label, address, _) in enumerate(BUTTONS):
        btn = s.box(f"textbutton @text {label}", 20 + 110 * i, 20, 80, 26)
        m = b[address] = s.msg(address, 20 + 110 * i, 60, 90)
        s.line(btn, m)
        s.line(m, send)
        s.show(btn, (10 + 74 * i, 10, 68, 26))
    # replies -> prepend <function> -> js
    recv = s.box(f"udpreceive {d['reply_port']}", 20, 110, 130)
    route = b["route"] = s.box("route " + " ".join(a for a, _ in REPLIES), 20, 150, 580)
    s.line(recv, route)
    outs = js_outlets()
    js = b["js"] = s.box(f"js {JS}", 20, 240, 580, numinlets=1, numoutlets=outs, outlettype=[""] * outs)
    for i, (_, fn) in enumerate(REPLIES):
        pre = s.box(f"prepend {fn}", 20 + 53 * i, 195, 50)
        s.line(route, pre, outlet=i)
        s.line(pre, js)
    # displays
    grid = s.box(f"matrixctrl @rows {TRACKS} @columns {STEPS} @range 3", 20, 290, 16 * STEPS, 16 * TRACKS)  # 3 levels
    s.line(js, grid, outlet=2)
    clicked = s.box("prepend cell", 20, 290 + 16 * TRACKS + 10, 80)     # a click edits the loop (through the js)
    s.line(grid, clicked)
    s.line(clicked, js)
    s.show(grid, (10, GRID_Y, 16 * STEPS, 16 * TRACKS))
    line = b["status_line"] = s.comment("status", 300, 290, 300)
    count = b["counters"] = s.comment("likes 0  dislikes 0", 300, 320, 300)
    s.line(js, line, outlet=3)
    s.line(js, count, outlet=4)
    s.show(line, (10, GRID_Y + 16 * TRACKS + 6, 500, 20))
    s.show(count, (280, GRID_Y, 230, 20))
    unpack = s.box("unpack 0 0. 0.", 640, 290, 100)
    s.line(route, unpack, outlet=0)
    score = b["score"] = s.box("flonum @numdecimalplaces 2", 640, 330, 60)
    bpm = b["bpm"] = s.box("flonum @numdecimalplaces 1", 720, 330, 60)
    s.line(unpack, score, outlet=1)
    s.line(unpack, bpm, outlet=2)
    s.show(score, (10, 42, 50, 22))
    s.show(s.comment("score", 640, 360, 50), (62, 44, 44, 20))
    s.show(bpm, (110, 42, 50, 22))
    s.show(s.comment("bpm", 720, 360, 40), (162, 44, 34, 20))
    # takes: the toggle starts and ends one (through the js, which then sends the onsets); Straight resets the feel
    s.line(js, send, outlet=8)
    take = s.box("toggle", 640, 400, 24, 24)
    toggled = s.box("prepend taketoggle", 640, 440, 120)
    s.line(take, toggled)
    s.line(toggled, js)
    s.show(take, (330, 42, 20, 20))
    s.show(s.comment("take", 670, 400, 40), (352, 44, 36, 20))
    straight = s.box("textbutton @text Straight", 770, 400, 80, 24)
    reset = s.msg("/dd/feel/reset", 770, 440, 110)
    s.line(straight, reset)
    s.line(reset, send)
    s.show(straight, (392, 40, 60, 24))
    controls(s, b, js)
    return b


def _standalone(py2max) -> Any:
    p = py2max.Patcher(openinpresentation=1)
    s = _Sheet(p)
    b = _core(s, onload="loadbang")
    js = b["js"]
    # tempo: sent to the daemon when changed here
    tempo = s.box(f"number @minimum {TEMPO_RANGE[0]:g} @maximum {TEMPO_RANGE[1]:g}", 940, 20, 60)
    pre = s.box("prepend /dd/set/tempo", 940, 60, 150)
    s.line(tempo, pre)
    s.line(pre, b["send"])
    s.show(tempo, (200, 42, 50, 22))
    s.show(s.comment("set tempo", 1010, 20, 80), (252, 44, 70, 20))
    # keyboard shortcuts
    key = s.box("key", 940, 110, 40)
    sel = s.box("sel " + " ".join(str(ord(k)) for _, _, k in BUTTONS), 940, 150, 170)
    s.line(key, sel)
    for i, (_, address, _) in enumerate(BUTTONS):
        s.line(sel, b[address], outlet=i)
    keys = s.comment("keys: " + ", ".join(f"{k} {label.lower()}" for label, _, k in BUTTONS), 940, 190, 320)
    s.show(keys, (10, GRID_Y + 16 * TRACKS + 30, 500, 20))
    # audition: two buffers, the next loop loaded into the idle one, swapped when groove~ wraps
    for i, name in enumerate(("ddA", "ddB")):
        buf = s.box(f"buffer~ {name}", 20 + 150 * i, 520, 110)
        s.line(js, buf, outlet=5 + i)
        done = s.msg("loaded", 20 + 150 * i, 560, 60)
        s.line(buf, done, outlet=1)
        s.line(done, js)
    rate = s.box("sig~ 1", 340, 480, 60)
    groove = s.box("groove~ ddA 1 @loop 1", 340, 520, 150)
    s.line(rate, groove)
    s.line(js, groove, outlet=7)
    delta = s.box("delta~", 520, 560, 60)
    below = s.box("<~ -0.5", 520, 600, 60)
    edge = s.box("edge~", 520, 640, 60)
    wrap = s.msg("wrap", 520, 680, 50)
    s.line(groove, delta, outlet=1)
    s.line(delta, below)
    s.line(below, edge)
    s.line(edge, wrap)
    s.line(wrap, js)
    # onsets: an attack on the audio input, placed by the audition loop's phase at that moment
    adc = s.box("adc~ 1", 640, 520, 50)
    bonk = s.box("bonk~", 640, 560, 50)
    hit = s.box("t b", 640, 600, 30)
    snap = s.box("snapshot~", 700, 640, 70)
    ph = s.box("prepend phase", 700, 680, 100)
    s.line(adc, bonk)
    s.line(bonk, hit)
    s.line(hit, snap)
    s.line(groove, snap, outlet=1)
    s.line(snap, ph)
    s.line(ph, js)
    gain = s.box("*~ 0.7", 340, 580, 60)
    dac = s.box("ezdac~", 340, 620, 45, 45)
    s.line(groove, gain)
    s.line(gain, dac)
    s.line(gain, dac, inlet=1)
    s.show(dac, (700, 8, 45, 45))
    return p


def _device(py2max) -> Any:
    p = py2max.Patcher(openinpresentation=1, device_type=DEVICE_TYPE)
    p.devicewidth = 520.0
    s = _Sheet(p)
    b = _core(s, onload="live.thisdevice")
    js = b["js"]
    # transport: every 16th, Live's position, tempo and state go to the js; the tempo also to the daemon
    metro = s.box("metro 16n @quantize 16n @active 1", 940, 20, 230)
    transport = s.box("transport", 940, 60, 260)
    s.line(metro, transport)
    pack = s.box("pack 0 0 0", 940, 110, 90)
    for i in (2, 1, 0):
        s.line(transport, pack, outlet=i, inlet=i)
    pos = s.box("prepend pos", 940, 150, 90)
    s.line(pack, pos)
    s.line(pos, js)
    tempo = s.box("prepend tempo", 1050, 110, 100)
    s.line(transport, tempo, outlet=4)
    s.line(tempo, js)
    change = s.box("change", 1050, 150, 60)
    follow = s.box("prepend /dd/set/tempo", 1050, 190, 150)
    s.line(transport, change, outlet=4)
    s.line(change, follow)
    s.line(follow, b["send"])
    state = s.box("prepend running", 1160, 110, 110)
    s.line(transport, state, outlet=6)
    s.line(state, js)
    # notes: js -> pipe (the note's delay: swing and micro-timing) -> makenote -> midiout;
    # the track's own MIDI passes through
    pipe = s.box("pipe 0 0", 20, 520, 80)
    s.line(js, pipe, outlet=1, inlet=2)
    s.line(js, pipe, outlet=0)
    note = s.box("makenote 100 60", 20, 560, 110)
    s.line(pipe, note, outlet=1, inlet=1)
    s.line(pipe, note, outlet=0)
    pk = s.box("pack 0 0", 20, 600, 70)
    s.line(note, pk, outlet=1, inlet=1)
    s.line(note, pk, outlet=0)
    fmt = s.box("midiformat 10", 20, 640, 100)
    out = s.box("midiout", 20, 680, 70)
    thru = s.box("midiin", 160, 640, 60)
    s.line(pk, fmt)
    s.line(fmt, out)
    s.line(thru, out)
    # onsets: a note played into the track, placed by Live's transport at that moment
    parse = s.box("midiparse", 240, 560, 70)
    strip = s.box("stripnote", 240, 600, 70)
    hit = s.box("t b", 330, 600, 30)
    where = s.box("transport", 330, 640, 70)
    at = s.box("pack i i i", 420, 640, 80)
    onset = s.box("prepend onsetat", 420, 680, 110)
    s.line(thru, parse)
    s.line(parse, strip)
    s.line(strip, hit)
    s.line(hit, where)
    for i in (2, 1, 0):
        s.line(where, at, outlet=i, inlet=i)
    s.line(at, onset)
    s.line(onset, js)
    # capture into the next empty Session clip slot
    cap = s.box("textbutton @text Capture", 940, 240, 80, 26)
    m = s.msg("capture", 940, 280, 70)
    s.line(cap, m)
    s.line(m, js)
    s.show(cap, (10 + 74 * len(BUTTONS), 10, 80, 26))
    return p


def _write_text(path: Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"), force=True)


def js_source() -> Path:
    """The [js] file the patches load, as shipped inside the package."""
    return Path(__file__).with_name(JS)


def js_outlets() -> int:
    """How many outlets the [js] declares (``outlets = N;``): its box in the patches gets as many."""
    found = re.search(r"^outlets = (\d+);", js_source().read_text(encoding="utf-8"), re.M)
    if found is None:
        raise BackendError(f"{js_source()} declares no outlets")
    return int(found.group(1))


def build(out: Path, *, svg_dir: Path | None = None) -> dict[str, Path]:
    """Write dd_live.maxpat, dd_live.amxd and dd_live.js into ``out`` (SVG pictures into ``svg_dir``)."""
    py2max = _py2max()
    from py2max.m4l import ensure_amxd_project_block, pack_amxd

    _check_table()
    out = Path(out)
    written: dict[str, Path] = {JS: write_bytes(out / JS, js_source().read_bytes(), force=True)}
    makers: dict[str, Callable[[Any], Any]] = {"dd_live.maxpat": _standalone, "dd_live.amxd": _device}
    for name, make in makers.items():
        patcher = make(py2max)
        patcher.render()
        found = [f for f in patcher.lint() if f.severity == "error"]
        if found:
            raise BackendError(f"{name}: {found[0]}")
        d = patcher.to_dict()
        if name.endswith(".amxd"):
            ensure_amxd_project_block(d, device_type=DEVICE_TYPE, mtime=AMXD_MTIME)
            data = pack_amxd(json.dumps(d, indent=4), device_type=DEVICE_TYPE, patcher_filename="dd_live.maxpat",
                             mtime=AMXD_MTIME)
            written[name] = write_bytes(out / name, data, force=True)
        else:
            written[name] = _write_text(out / name, json.dumps(d, indent=4) + "\n")
        if svg_dir is not None:
            stem = Path(svg_dir) / name.replace(".", "-")
            svg = patcher.to_svg_string(show_ports=True, title=f"{name}: patching view")
            written[name + ".svg"] = _write_text(stem.with_suffix(".svg"), svg)
            shown = _presentation(py2max, d).to_svg_string(show_ports=False, title=f"{name}: what the performer sees")
            written[name + ".ui.svg"] = _write_text(stem.with_name(stem.name + "-ui.svg"), shown)
    return written


def _presentation(py2max, d: dict):
    """A patcher of just the presentation boxes, placed as Max shows them in presentation mode."""
    boxes = [{"box": {**x["box"], "patching_rect": x["box"]["presentation_rect"]}}
             for x in d["patcher"]["boxes"] if x["box"].get("presentation")]
    width = max(b["box"]["patching_rect"][0] + b["box"]["patching_rect"][2] for b in boxes) + 10
    height = max(b["box"]["patching_rect"][1] + b["box"]["patching_rect"][3] for b in boxes) + 10
    return py2max.Patcher.from_dict({**d["patcher"], "boxes": boxes, "lines": [], "rect": [0, 0, width, height]})


def load(path: Path) -> dict:
    """A generated patch as its patcher dict (.maxpat JSON, or the JSON inside an .amxd)."""
    path = Path(path)
    if path.suffix == ".amxd":
        from py2max.m4l import unpack_amxd

        payload, _ = unpack_amxd(path.read_bytes())
        return json.loads(payload.rstrip(b"\0").decode("utf-8"))
    return json.loads(path.read_text(encoding="utf-8"))
