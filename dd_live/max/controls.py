"""The Max patches' controls beside the grid: swing and automatic takes (straight to the daemon), a song from a
file dialog, a track's sound from a menu of its role's (through the js: /dd/sounds asks, /dd/edit/sound
edits), and the grid from a menu of the daemon's grids (through the js: /dd/set/grid). Placed on a
:class:`dd_live.max.maxpatch._Sheet`; both patches have them."""

from __future__ import annotations

from typing import Any

from .. import MAX_TRACKS
from ..osc import protocol
from ..session.settings import grid_pairs

#: the addresses these controls send the daemon straight (the js sends the sound menu's)
SENDS = ("/dd/set/swing", "/dd/set/autotake", "/dd/song/play", "/dd/song/stop")
#: the js's outlet that fills the sound menu (dd_live.js: OUT_SOUNDS)
SOUND_MENU_OUTLET = 9
#: the js's outlet that fills the grid menu (dd_live.js: OUT_GRIDS)
GRID_MENU_OUTLET = 10


def controls(s, b: dict[str, Any], js) -> None:
    """Add the controls to sheet ``s`` whose OSC out is ``b["send"]`` and whose js is ``js``."""
    send = b["send"]
    # swing (every loop's, -1: each loop's own) and automatic takes (bars per take, 0: by the toggle)
    for i, (command, name, kind, label, width) in enumerate((("set_swing", "amount", "flonum @numdecimalplaces 3",
                                                               "swing", 44),
                                                              ("set_autotake", "bars", "number", "auto bars", 64))):
        arg = protocol.arg(command, name)
        address = next(a.address for a in protocol.ADDRESSES if a.command == command)
        box = s.box(f"{kind} @minimum {arg.lo:g} @maximum {arg.hi:g}", 900 + 120 * i, 400, 60)
        pre = s.box(f"prepend {address}", 900 + 120 * i, 440, 110)
        s.line(box, pre)
        s.line(pre, send)
        s.show(box, (460 + 110 * i, 42, 44, 22))
        s.show(s.comment(label, 900 + 120 * i, 470, width), (506 + 110 * i, 44, width, 20))
    # a song: chosen in a file dialog, its drums played from its first bar; Loop: the loop again
    song = s.box("textbutton @text Song...", 1000, 20, 80, 24)
    dialog = s.box("opendialog", 1000, 60, 80)
    native = s.box("conformpath native absolute", 1000, 100, 170)
    play = s.box("prepend /dd/song/play", 1000, 140, 140)
    stop = s.box("textbutton @text Loop", 1180, 20, 80, 24)
    stop_msg = s.msg("/dd/song/stop", 1180, 60, 100)
    for src, dst in ((song, dialog), (dialog, native), (native, play), (play, send), (stop, stop_msg), (stop_msg, send)):
        s.line(src, dst)
    s.show(song, (280, 96, 70, 24))
    s.show(stop, (356, 96, 50, 24))
    # a track's sound: the number picks the track, the menu offers its role's sounds (filled by the js, which asks
    # the daemon for each loop shown), and a choice is an edit of the loop (Like keeps it)
    track = b["sound_track"] = s.box(f"number @minimum 1 @maximum {MAX_TRACKS}", 1000, 200, 50)
    menu = b["sound_menu"] = s.box("umenu", 1070, 200, 150)
    for src, text, x in ((track, "prepend soundtrack", 1000), (menu, "prepend soundpick", 1070)):
        pre = s.box(text, x, 240, 120)
        s.line(src, pre)
        s.line(pre, js)
    s.line(js, menu, outlet=SOUND_MENU_OUTLET)
    s.show(s.comment("sound of track", 1000, 170, 100), (412, 100, 98, 20))
    s.show(track, (280, 124, 36, 18))
    s.show(menu, (320, 124, 150, 18))
    # the grid: the js fills the menu with the daemon's grids (sent to it at load) and shows the one playing
    pairs = s.box("loadmess grids " + " ".join(f"{n} {b}" for n, b in grid_pairs()), 1250, 200, 260)
    grid_menu = b["grid_menu"] = s.box("umenu", 1250, 240, 120)
    pick = s.box("prepend gridpick", 1250, 280, 120)
    for src, dst in ((pairs, js), (grid_menu, pick), (pick, js)):
        s.line(src, dst)
    s.line(js, grid_menu, outlet=GRID_MENU_OUTLET)
    s.show(s.comment("grid", 1250, 170, 40), (520, 100, 40, 20))
    s.show(grid_menu, (520, 124, 120, 18))
