"""The Max front ends: generated, linted, wired to the daemon's OSC table, and their [js] tested under node."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from dd_live import MAX_TRACKS, VELOCITY_LEVELS
from dd_live.osc import protocol

py2max = pytest.importorskip("py2max")

from dd_live.max.maxpatch import JS, build, js_source, load  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PATCHES = [ROOT / "max_patches" / "dd_live.maxpat", ROOT / "max_patches" / "dd_live.amxd"]


def _boxes(path: Path) -> dict[str, dict]:
    return {b["box"]["id"]: b["box"] for b in load(path)["patcher"]["boxes"]}


def _lines(path: Path) -> list[tuple[str, int, str, int]]:
    return [(*x["patchline"]["source"], *x["patchline"]["destination"]) for x in load(path)["patcher"]["lines"]]


@pytest.mark.parametrize("path", PATCHES, ids=lambda p: p.name)
def test_lint_has_no_errors(path):
    patcher = py2max.Patcher.from_file(path)
    findings = patcher.lint()
    assert [str(f) for f in findings if f.severity == "error"] == []
    assert len(patcher._boxes) > 40 and len(patcher._lines) > 40


@pytest.mark.parametrize("path", PATCHES, ids=lambda p: p.name)
def test_no_two_controls_the_performer_sees_overlap(path):
    shown = [(b.get("text", b.get("maxclass")), b["presentation_rect"]) for b in _boxes(path).values()
             if b.get("presentation") and "presentation_rect" in b]
    assert len(shown) > 10
    for i, (a, (ax, ay, aw, ah)) in enumerate(shown):
        for b, (bx, by, bw, bh) in shown[i + 1:]:
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, f"{a!r} overlaps {b!r}"


def test_amxd_is_a_midi_effect_holding_the_same_kind_of_patch():
    from py2max.m4l import unpack_amxd

    _, device_type = unpack_amxd(PATCHES[1].read_bytes())
    assert device_type == "midi_effect"
    texts = {b.get("text", "") for b in _boxes(PATCHES[1]).values()}
    assert {"live.thisdevice", "transport", "midiout", f"js {JS}"} <= texts


@pytest.mark.parametrize("path", PATCHES, ids=lambda p: p.name)
def test_every_address_is_in_the_daemons_table_and_ports_are_its_defaults(path):
    ins, outs = protocol.inbound(), protocol.outbound()
    boxes = _boxes(path)
    sent, routed = set(), set()
    for box in boxes.values():
        text = box.get("text", "")
        found = re.findall(r"/dd/[a-z/]+", text)
        if text.startswith("route "):
            routed.update(found)
        else:
            sent.update(found)
    assert sent and routed
    assert sent <= set(ins), sent - set(ins)
    assert routed <= set(outs), routed - set(outs)
    assert {"/dd/like", "/dd/dislike", "/dd/next", "/dd/undo", "/dd/export", "/dd/hello"} <= sent
    assert {"/dd/candidate", "/dd/grid", "/dd/error", "/dd/rated", "/dd/status"} <= routed
    # ports: the ones `dd-live protocol --json` gives under "defaults"
    d = protocol.as_dict()["defaults"]
    texts = [b.get("text", "") for b in boxes.values()]
    assert [t for t in texts if t.startswith("udpsend")] == [f"udpsend 127.0.0.1 {d['osc_port']}"]
    assert [t for t in texts if t.startswith("udpreceive")] == [f"udpreceive {d['reply_port']}"]
    assert f"/dd/hello {d['reply_port']}" in texts


@pytest.mark.parametrize("path", PATCHES, ids=lambda p: p.name)
def test_every_message_into_the_js_is_a_function_of_it(path):
    functions = set(re.findall(r"^function (\w+)\(", js_source().read_text(), re.M))
    boxes = _boxes(path)
    js = [i for i, b in boxes.items() if b.get("text") == f"js {JS}"]
    assert len(js) == 1
    into = [boxes[src] for src, _, dst, _ in _lines(path) if dst == js[0]]
    names = set()
    for box in into:
        text = box.get("text", "")
        names.add(text.split()[1] if text.startswith(("prepend ", "loadmess ")) else text.split()[0])
    assert names <= functions, names - functions
    assert {"candidate", "grid", "notes", "dderror", "grids", "gridpick"} <= names
    # and every reply the route passes on reaches the js
    route = next(b for b in boxes.values() if b.get("text", "").startswith("route "))
    assert route["numoutlets"] == len(route["text"].split())  # one per address, plus the no-match outlet


def _feeds(path: Path, text: str) -> list[tuple[str, int, int]]:
    """(source text or maxclass, outlet, inlet) of every line into the box whose text is ``text``."""
    boxes = _boxes(path)
    [dst] = [i for i, b in boxes.items() if b.get("text") == text]
    return [(boxes[s].get("text") or boxes[s]["maxclass"], o, i) for s, o, d, i in _lines(path) if d == dst]


@pytest.mark.parametrize("path", PATCHES, ids=lambda p: p.name)
def test_takes_are_wired_the_toggle_through_the_js_whose_osc_outlet_reaches_the_daemon(path):
    d = protocol.as_dict()["defaults"]
    assert (f"js {JS}", 8, 0) in _feeds(path, f"udpsend 127.0.0.1 {d['osc_port']}")
    assert ("toggle", 0, 0) in _feeds(path, "prepend taketoggle")
    assert _feeds(path, "/dd/feel/reset") == [("Straight", 0, 0)]   # the textbutton
    into_js = {f[0] for f in _feeds(path, f"js {JS}")}
    assert {"prepend taketoggle", "prepend take", "prepend feel"} <= into_js
    if path.suffix == ".maxpat":   # attacks on the audio input, placed by the audition loop's phase
        assert "prepend phase" in into_js
        assert ("adc~ 1", 0, 0) in _feeds(path, "bonk~") and ("bonk~", 0, 0) in _feeds(path, "t b")
        assert {("t b", 0, 0), ("groove~ ddA 1 @loop 1", 1, 0)} <= set(_feeds(path, "snapshot~"))
    else:                          # notes into the track, placed by Live's transport
        assert "prepend onsetat" in into_js
        assert ("midiin", 0, 0) in _feeds(path, "midiparse") and ("midiparse", 0, 0) in _feeds(path, "stripnote")
        boxes = _boxes(path)
        assert ("stripnote", 0, 0) in _feeds(path, "t b")
        assert [boxes[d]["text"] for s, _, d, _ in _lines(path) if boxes[s].get("text") == "t b"] == ["transport"]
        assert set(_feeds(path, "pack i i i")) == {("transport", k, k) for k in range(3)}
        assert _feeds(path, "prepend onsetat") == [("pack i i i", 0, 0)]


def test_what_the_js_sends_is_in_the_daemons_table():
    sent = set(re.findall(r'"(/dd/[a-z/]+)"', js_source().read_text()))
    assert sent == {"/dd/take/start", "/dd/take/end", "/dd/onset", "/dd/edit", "/dd/sounds", "/dd/edit/sound",
                    "/dd/set/grid"}
    assert sent <= set(protocol.inbound())


@pytest.mark.parametrize("path", PATCHES, ids=lambda p: p.name)
def test_the_sound_menu_is_filled_by_the_js_and_its_choice_and_track_go_back_to_it(path):
    """The js's sound-menu outlet (OUT_SOUNDS) feeds the umenu; the umenu's index and the track number reach the
    js's soundpick and soundtrack; both are shown to the performer."""
    from dd_live.max.controls import SOUND_MENU_OUTLET

    outlet = re.search(r"OUT_SOUNDS = (\d+)", js_source().read_text())
    assert outlet and int(outlet.group(1)) == SOUND_MENU_OUTLET
    boxes = _boxes(path)
    [menu] = [d for s, o, d, _ in _lines(path) if boxes[s].get("text") == f"js {JS}" and o == SOUND_MENU_OUTLET]
    assert boxes[menu].get("maxclass") == "umenu"
    assert [(boxes[s].get("text"), o) for s, o, d, _ in _lines(path) if d == menu] == [(f"js {JS}", SOUND_MENU_OUTLET)]
    assert _feeds(path, "prepend soundpick") == [("umenu", 0, 0)]
    assert _feeds(path, "prepend soundtrack") == [("number", 0, 0)]
    numbers = [b for b in boxes.values() if b.get("maxclass") == "number" and b.get("maximum") == MAX_TRACKS]
    assert len(numbers) == 1 and numbers[0].get("minimum") == 1
    assert boxes[menu].get("presentation") == 1


@pytest.mark.parametrize("path", PATCHES, ids=lambda p: p.name)
def test_the_grid_menu_offers_every_grid_the_daemon_plays_and_its_choice_goes_to_the_js(path):
    """At load the js is sent the daemon's grids (every pair the daemon's own check accepts, no other) to fill the
    grid menu from its outlet OUT_GRIDS; the menu's index reaches the js's gridpick; the menu is shown."""
    from dd_live import GRID_BEATS, GRID_STEPS
    from dd_live.errors import InputError
    from dd_live.max.controls import GRID_MENU_OUTLET
    from dd_live.session.settings import LiveSettings, grid_settings

    outlet = re.search(r"OUT_GRIDS = (\d+)", js_source().read_text())
    assert outlet and int(outlet.group(1)) == GRID_MENU_OUTLET
    boxes = _boxes(path)
    [load_grids] = [b["text"] for b in boxes.values() if b.get("text", "").startswith("loadmess grids ")]
    numbers = [int(v) for v in load_grids.split()[2:]]
    offered = set(zip(numbers[::2], numbers[1::2]))
    for steps in GRID_STEPS:
        for beats in GRID_BEATS:
            try:
                grid_settings(LiveSettings(), {"steps": steps, "beats": beats})
                accepted = True
            except InputError:
                accepted = False
            assert ((steps, beats) in offered) == accepted, (steps, beats)
    assert len(offered) == len(numbers) // 2 >= 5
    assert (load_grids, 0, 0) in _feeds(path, f"js {JS}")
    [menu] = [d for s, o, d, _ in _lines(path) if boxes[s].get("text") == f"js {JS}" and o == GRID_MENU_OUTLET]
    assert boxes[menu].get("maxclass") == "umenu" and boxes[menu].get("presentation") == 1
    assert _feeds(path, "prepend gridpick") == [("umenu", 0, 0)]
    assert [d for s, _, d, _ in _lines(path) if s == menu] == [
        i for i, b in boxes.items() if b.get("text") == "prepend gridpick"]


@pytest.mark.parametrize("path", PATCHES, ids=lambda p: p.name)
def test_the_grids_three_levels_are_rest_and_the_tables_normal_and_accent_velocities(path):
    """The matrixctrl steps a cell through three levels; the js sends them as the velocities the daemon's table
    names for a front end's edits (the page's shift-click steps through all of them)."""
    levels = re.search(r"var LEVELS = \[([^\]]*)\];", js_source().read_text()).group(1)
    assert [int(v) for v in levels.split(",")] == [0, VELOCITY_LEVELS["normal"], VELOCITY_LEVELS["accent"]]
    assert protocol.as_dict()["velocities"] == VELOCITY_LEVELS
    grids = [b["box"] for b in load(path)["patcher"]["boxes"] if b["box"].get("maxclass") == "matrixctrl"]
    assert grids and all(g.get("range") == len(levels.split(",")) for g in grids)


def test_committed_patches_equal_a_fresh_build(tmp_path):
    written = build(tmp_path / "max_patches", svg_dir=tmp_path / "img")
    for name in ("dd_live.maxpat", "dd_live.amxd", JS):
        assert (tmp_path / "max_patches" / name).read_bytes() == (ROOT / "max_patches" / name).read_bytes(), \
            f"max_patches/{name} is stale: run dd-live patches --svg docs/img"
    for svg in (tmp_path / "img").iterdir():
        assert svg.read_bytes() == (ROOT / "docs" / "img" / svg.name).read_bytes(), f"docs/img/{svg.name} is stale"
    assert len(written) == 7
    build(tmp_path / "again")
    assert (tmp_path / "again" / "dd_live.amxd").read_bytes() == (tmp_path / "max_patches" / "dd_live.amxd").read_bytes()


@pytest.mark.node
def test_clip_writer_and_player_under_node():
    r = subprocess.run(["node", "--test", str(Path(__file__).parent / "js")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert re.search(r"^# pass (\d+)", r.stdout, re.M) and "# fail 0" in r.stdout
    assert int(re.search(r"^# pass (\d+)", r.stdout, re.M).group(1)) >= 6


def _toml_blocks(text: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", text, re.S)


def test_controller_doc_configs_load_and_their_buttons_act_on_press_only(tmp_path):
    from dd_live.live import config
    from dd_live.osc.osc import Dispatcher, encode

    doc = (ROOT / "docs" / "controllers.md").read_text()
    blocks = _toml_blocks(doc)
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        path = tmp_path / f"c{i}.toml"
        path.write_text(block)
        _, aliases = config.load(path)
        assert len(aliases) >= 5
        d = Dispatcher(aliases)
        for address, command in aliases.items():
            assert f"`{command}`" in doc  # every command the examples use is explained
            [press] = d.commands(encode(address, 1.0))
            [release] = d.commands(encode(address, 0.0))
            assert press.name == command and release is None
    # the TouchOSC block maps TouchOSC's default push-button addresses to the five buttons of the patches
    _, touch = config.load(tmp_path / "c0.toml")
    assert touch == {"/1/push1": "like", "/1/push2": "dislike", "/1/push3": "next", "/1/push4": "undo",
                     "/1/push5": "export"}


def test_patches_command_writes_the_files_and_without_py2max_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    import sys

    from dd_live.cli import main

    assert main(["patches", "--out", str(tmp_path / "mp")]) == 0
    assert sorted(p.name for p in (tmp_path / "mp").iterdir()) == ["dd_live.amxd", "dd_live.js", "dd_live.maxpat"]
    monkeypatch.setitem(sys.modules, "py2max", None)
    capsys.readouterr()
    assert main(["patches", "--out", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["dd-live: error: building the Max patches needs py2max: pip install 'dd_live[max]'"]
    assert not (tmp_path / "none").exists()
