"""The one table of dd_live's OSC addresses.

The daemon's dispatcher is built from it, ``docs/osc.md`` is generated from it
(:func:`markdown`), ``dd-live protocol --json`` prints it (:func:`as_dict`), and
the Max patches read their addresses and ports from it. Pure data: no sockets.

Argument types: ``i`` int32, ``f`` float32, ``s`` string, ``n`` a number (int or
float), ``*`` any number of further arguments. Optional arguments are in
brackets in the docs. Buttons: a trailing numeric ``value`` <= 0.5 (a button's
release) does nothing; no value, or a value > 0.5, acts.
"""

from __future__ import annotations

import json
from typing import Any

from .. import GRID_BEATS, GRID_STEPS, MAX_TRACKS, TEMPO_RANGE, VELOCITY_LEVELS
from .entries import Address, Arg

OSC_PORT = 7710
REPLY_PORT = 7711
WEB_PORT = 7712          # the browser front end's HTTP and WebSocket port (serve --web)
LOOPBACK = ("127.0.0.1", "::1", "localhost")   # --host values that serve this machine only (no warning)
DEFAULTS = {"osc_port": OSC_PORT, "reply_port": REPLY_PORT, "web_port": WEB_PORT}

#: error codes sent as the first argument of /dd/error
ERROR_CODES = {
    "parse": "the datagram is not valid OSC",
    "address": "no such address",
    "args": "wrong argument count, types or values",
    "unknown-id": "no candidate with that id",
    "state": "the command cannot be done now (nothing to rate, nothing to undo, ...)",
    "io": "a file could not be written",
    "backend": "MIDI or audio output is not available",
    "part": "a part of the daemon (MIDI, audio, the host's clock, the web page, takes, songs) failed; it is being "
            "restarted and the drums play on",
    "flood": "too many bad packets: further errors to this client are suppressed for a moment",
    "evicted": "more clients said /dd/hello than the daemon serves: this one, heard from least recently, "
               "gets no more replies until it says /dd/hello again",
}

#: replies go to at most this many clients that said /dd/hello (the least recently heard is evicted)
MAX_CLIENTS = 32
#: the front ends' keyboard shortcuts (the page and the Max patch): button command -> key
#: the panels of front ends' controls (an inbound address's ``page``): name -> title
PANELS = {"loop": "Loops", "play": "Play along (MIDI out and takes)", "song": "Songs"}
MAX_SOUND_CHOICES = 128      # the most sounds a /dd/sounds answer lists (a datagram of some 6 KB)
KEYS = {"like": "l", "dislike": "d", "next": "n", "undo": "u", "redo": "r", "export": "e"}
#: /dd/undo takes back at most this many ratings in a row (a new rating, or a /dd/redo, lets it go further)
UNDO_DEPTH = 16
#: a candidate's files stay on disk at least this long (s) after it was last announced
KEEP_FILES_S = 600


_ID = Arg("id", "i", "candidate id", lo=1, what="a candidate id from 1", exact=True)
_TRACK = Arg("track", "i", "track number", lo=1, hi=MAX_TRACKS, what=f"a track number 1-{MAX_TRACKS}")
_VALUE = Arg("value", "n", "button value, int or float: <= 0.5 is a release and does nothing", optional=True)

ADDRESSES: tuple[Address, ...] = (
    # ---------------------------------------------------------------- in
    Address("/dd/hello", "in", (Arg("reply_port", "i", "UDP port to send replies to (default: the sender's port)", True, lo=1, hi=65535,
                                  what="a UDP port 1-65535"),
                                Arg("cookie", "i", "from /dd/cookie: a sender on another machine repeats it", True,
                                    exact=True)),
            "Register the sender for replies; answered with /dd/status and the current candidate. A sender on "
            "another machine is first answered with /dd/cookie only, and registered when it says /dd/hello again "
            "with that cookie (so a forged /dd/hello cannot aim replies at someone else).", "hello"),
    Address("/dd/like", "in", (_VALUE,),
            "Like the candidate announced last; the next candidate follows at once.", "like", True),
    Address("/dd/dislike", "in", (_VALUE,),
            "Dislike the candidate announced last; the next candidate follows at once.", "dislike", True),
    Address("/dd/rate", "in", (_ID, Arg("label", "n", "the rating (1: like, 0: dislike)", choices=(1, 0), what="1 (like) or 0 (dislike)")),
            "Rate candidate `id` (rating it again replaces its label); if it is the current one the next follows.",
            "rate"),
    Address("/dd/edit", "in", (_ID, _TRACK,
                               Arg("step", "i", "step of the bar (0: the first)", lo=0, hi=63),
                               Arg("velocity", "i", "0: a rest; 1-127: a hit at that velocity", lo=0, hi=127)),
            "Edit loop `id`'s cell: the edited loop becomes a candidate of its own (stored, announced, played from "
            "the next bar line; then /dd/edited). Liking it is also a dislike of the loop it was made from, and "
            "the loops that follow lean towards the cells it changed.", "edit"),
    Address("/dd/edit/sound", "in", (_ID, _TRACK,
                                     Arg("sample", "s", "a sound of the daemon's samples: its key, or its name if "
                                                        "only one sound has it")),
            "Give loop `id`'s track another sound: a candidate of its own, as /dd/edit.", "edit_sound"),
    Address("/dd/sounds", "in", (_ID, _TRACK),
            "Ask which sounds loop `id`'s track may take (answered with /dd/sounds), for /dd/edit/sound.", "sounds"),
    Address("/dd/next", "in", (_VALUE,), "Skip to the next candidate without rating.", "next", True),
    Address("/dd/undo", "in", (_VALUE,),
            f"Take back the last rating (at most {UNDO_DEPTH} in a row); the critic retrains from the remaining ones, and the "
            "loop is announced again.", "undo", True),
    Address("/dd/redo", "in", (_VALUE,),
            "Bring back the rating undone last (answered with /dd/rated); the critic retrains with it.", "redo", True),
    Address("/dd/export", "in", (_VALUE,),
            "Export the candidate announced last as MIDI, WAV and SFZ into the session's exports folder.", "export", True),
    Address("/dd/export/loop", "in", (_ID,),
            "Export candidate `id` as MIDI, WAV and SFZ into the session's exports folder.", "export_loop"),
    Address("/dd/song", "in", (Arg("path", "s", "a MIDI song (.mid) on the daemon's machine, absolute path"),),
            "Write drums for the whole song in this session's taste into the session's songs folder: song.mid "
            "(its drums replaced), drums.mid, drums.wav, kit.sfz and arrangement.json; answered with "
            "/dd/song/done, or /dd/error.", "song"),
    Address("/dd/song/cancel", "in", (_VALUE,),
            "Stop arranging the song in progress, and one waiting (within a bar's work); their folders stay as "
            "they were. Each is answered with /dd/error state 'cancelled'.", "song_cancel", True, page="song"),
    Address("/dd/song/play", "in", (Arg("path", "s", "a MIDI song (.mid) on the daemon's machine, absolute path"),
                                    Arg("bar", "i", "the bar to start from (0: the first)", True, lo=0, hi=9999)),
            "Play the song's drums in this session's taste on MIDI out from the next bar line (written first, as "
            "/dd/song does, if not yet), from `bar`, round again at the end; following the host's clock, the bar "
            "the host is in. Takes while it plays teach the song's timing (/dd/song/feel). Answered with "
            "/dd/song/playing, or /dd/error.", "song_play"),
    Address("/dd/song/stop", "in", (_VALUE,), "Back to the loop at the next bar line (answered with /dd/song/stopped).", "song_stop", True, page="song"),
    Address("/dd/set/song/adapt", "in", (Arg("a", "n", "A: the share of the human's gap the song's drums take per take", lo=0, hi=2, step=0.05),
                                         Arg("b", "n", "B: the weight on where they played (default 1)", True, lo=0, hi=2, step=0.05)),
            "rolypoly~'s A and B for takes over a song (both 1 by default, the paper's; kept in the session).", "set_song_adapt", page="song"),
    Address("/dd/session/open", "in", (Arg("session", "s", "new (a new session), last (the newest other one), or "
                                                           "a session's name in the sessions folder"),
                                       Arg("samples", "s", "a new session's kit: default (the built-in kit), "
                                                           "research, or an absolute path to a sample folder (none: "
                                                           "this session's kit)", True)),
            "Serve another session: this one is kept as it is and the daemon starts again on that one (a new "
            "session keeps this one's tempo, grid, latency and note map), on the same ports; clients that said "
            "/dd/hello keep their replies. MIDI and audio ports and the clock stay open (a DAW's connections "
            "stay) and the playing loop plays on until the other session's first loop takes over at a bar line. "
            "A bad name or kit is an error and nothing changes.", "session_open"),
    Address("/dd/status", "in", (), "Ask for /dd/status.", "status"),
    Address("/dd/set/tempo", "in", (Arg("bpm", "n", "tempo in beats per minute", lo=TEMPO_RANGE[0], hi=TEMPO_RANGE[1], step=0.1),),
            "Set the session tempo (loops, previews and MIDI follow; the critic always hears 120 bpm).", "set_tempo", page="loop", setting="bpm"),
    Address("/dd/set/mode", "in", (Arg("mode", "s", "how loops are chosen", choices=("lean", "best", "explore")),),
            "lean (the default): each loop the best under one draw of what the critic may have learned "
            "(Thompson sampling), so loops lean towards the likes while the critic still learns; best: the "
            "loops the critic rates highest; explore: DeepDrummer's draws in proportion to the critic's score.",
            "set_mode", page="loop", setting="mode"),
    Address("/dd/set/fotf", "in", (Arg("on", "n", "switch", choices=(0, 1)),),
            "Four on the floor: track 1 plays every beat with a kick.", "set_fotf", page="loop", setting="fotf"),
    Address("/dd/set/temperature", "in", (Arg("s", "n", "sampling temperature (1: the paper's)", lo=0.05, hi=20, step=0.05),),
            "Lower follows the critic more closely, higher explores more.", "set_temperature", page="loop", setting="temperature"),
    Address("/dd/set/density", "in", (Arg("p", "n", "share of grid cells that play", lo=0.02, hi=0.98, step=0.01),),
            "Prior density of hits (0.5: the paper's, no preference).", "set_density", page="loop", setting="density"),
    Address("/dd/set/feel", "in", (Arg("on", "n", "switch", choices=(0, 1)),),
            "Loops with a feel of their own: accents and ghost notes, each track pushed or pulled, swing, searched "
            "for like the grid (0: DeepDrummer's loops, velocity 100 on the grid).", "set_feel", page="loop", setting="feel"),
    Address("/dd/set/swing", "in", (Arg("amount", "n", "delay of every odd step, fractions of a step (1/3: a "
                                                     "triplet shuffle; below 0: each loop's own)", lo=-1, hi=0.5, step=0.01,
                                    what="0-0.5, or -1 for each loop's own"),),
            "Swing every loop that follows by this amount (the critic hears it too); -1 gives each loop its own "
            "again (searched with /dd/set/feel 1, none without). Needs an even number of steps per beat.",
            "set_swing", page="loop", setting="swing"),
    Address("/dd/set/grid", "in", (Arg("steps", "i", "steps per bar", choices=GRID_STEPS),
                                   Arg("beats", "i", "beats per bar (the steps must divide into them)", choices=GRID_BEATS)),
            "Change the grid: the loops that follow have this many steps in this many beats (16 4: DeepDrummer's "
            "bar of 4/4; 12 4 or 24 4: triplets; 12 3 or 24 3: 3/4; 12 6 or 24 6: 6/4). The next loop comes at "
            "once; locks are released, a fixed swing the grid cannot play goes back to each loop's own, the feel "
            "layer is read at the same places in the bar; the critic keeps what it learned (it hears each bar in 2 "
            "s whatever its grid). Kept with the session.", "set_grid", page="loop", setting=("steps", "beats")),
    Address("/dd/set/lock", "in", (_TRACK, Arg("on", "n", "switch", choices=(0, 1))),
            "Lock a track: keep its sample and row from the current candidate in the loops that follow.", "set_lock"),
    Address("/dd/take/start", "in", (_VALUE,),
            "Start a take: the onsets that follow (/dd/onset, MIDI in) are matched against the drums playing.", "take_start", True, page="play"),
    Address("/dd/onset", "in", (Arg("beat", "n", "where the human's onset fell in the playing bar (beats from the "
                                                 "bar line; none: now, by the daemon's player clock)", True, lo=0, hi=64,
                                    what="a position in the bar, beats from 0"),),
            "One onset of the human playing along (a front end's bonk~ or envelope follower).", "onset"),
    Address("/dd/take/end", "in", (_VALUE,),
            "End the take: the drums' feel moves towards where the human played (answered with /dd/take and "
            "/dd/feel).", "take_end", True, page="play"),
    Address("/dd/set/autotake", "in", (Arg("bars", "n", "bars per take (0: takes only by /dd/take/start and "
                                                     "/dd/take/end)", lo=0, hi=64, step=1),),
            "Takes by themselves: every this many bars the running take ends (the feel moves towards the "
            "human) and the next starts; a take nobody played in changes nothing.", "set_autotake", page="play", setting="autotake"),
    Address("/dd/set/latency", "in", (Arg("ms", "n", "milliseconds: later if positive, earlier if negative",
                                          lo=-250, hi=250, step=1),),
            "Shift every note MIDI out plays by this much, for the performer's interface (kept in the session).",
            "set_latency", page="play", setting="latency"),
    Address("/dd/feel", "in", (), "Ask for /dd/feel.", "feel"),
    Address("/dd/feel/reset", "in", (_VALUE,), "Play straight again (the feel layer back to zero; undoable).",
            "feel_reset", True, page="play"),
    Address("/dd/feel/undo", "in", (_VALUE,), "Forget the last take (or reset): the feel layer before it plays.",
            "feel_undo", True, page="play"),
    Address("/dd/set/adapt", "in", (Arg("rate", "n", "share of the gap to the human closed per take (0: the feel "
                                                   "stays as it is)", lo=0, hi=1, step=0.05),),
            "How fast the drums' timing follows a human across takes.", "set_adapt", page="play", setting="adapt"),
    Address("/dd/play", "in", (_VALUE,), "Start looping the current candidate (MIDI out and audio out).", "play", True, page="play"),
    Address("/dd/stop", "in", (_VALUE,), "Stop playback; all notes off.", "stop", True, page="play"),
    # ---------------------------------------------------------------- out
    Address("/dd/candidate", "out", (
        Arg("id", "i", "candidate id"), Arg("score", "f", "critic score P(like), 0-1"), Arg("bpm", "f", "tempo of the files"),
        Arg("loop_wav", "s", "one-bar seamless loop, absolute path"), Arg("preview_wav", "s", "4 bars + 1 s tail"),
        Arg("midi_file", "s", "one-bar MIDI file, channel 10, notes 36 + track (GM notes by family with serve --gm)"), Arg("trained_on", "i", "ratings the critic that chose it was trained on")),
        "A new current candidate. Its files are on disk before this is sent."),
    Address("/dd/shape", "out", (Arg("tracks", "i", "tracks (rows)"), Arg("steps", "i", "steps per bar (columns)"),
                                 Arg("beats", "i", "beats per bar")),
            "The grid the candidates have (serve --steps/--beats); sent before each /dd/grid."),
    Address("/dd/grid", "out", (Arg("id", "i", "candidate id"), Arg("cells", "*", "tracks x steps ints, row by row: velocity 0-127 (0: rest)")),
            "The candidate's pattern.", extra={"tracks": 4, "steps": 16}),
    Address("/dd/samples", "out", (Arg("id", "i", "candidate id"), Arg("names", "*", "one sample name per track")),
            "The candidate's samples."),
    Address("/dd/sounds", "out", (Arg("id", "i", "candidate id"), Arg("track", "i", "track number"),
                                  Arg("keys", "*", "sample keys (its first the track's own sound)")),
            f"The sounds of the daemon's samples that track `track` of loop `id` may take: those of its sound's role "
            f"(kicks for a kick, snares and claps for a snare ...), at most {MAX_SOUND_CHOICES}."),
    Address("/dd/notes", "out", (Arg("id", "i", "candidate id"),
                                 Arg("notes", "*", "(pitch i, start in beats f, velocity i) per hit, in time order")),
            "The candidate's notes for building a one-bar clip (pitches 36 + track: Drum Rack pads; with serve --gm, "
            "a General MIDI note of each sound's family)."),
    Address("/dd/edited", "out", (Arg("id", "i", "the edited loop's candidate id"), Arg("parent", "i", "the loop edited"),
                                  Arg("root", "i", "the loop the daemon proposed, which a like of this one dislikes")),
            "An edit became candidate `id` (after its /dd/candidate)."),
    Address("/dd/rated", "out", (Arg("id", "i", "candidate id"), Arg("label", "s", "like or dislike"),
                                 Arg("likes", "i", "likes stored"), Arg("dislikes", "i", "dislikes stored")),
            "A rating is committed to the session database."),
    Address("/dd/trained", "out", (Arg("version", "i", "critic version"), Arg("ratings", "i", "ratings it was trained on"),
                                   Arg("loss", "f", "mean training loss of the last round")),
            "A newly trained critic now chooses the candidates."),
    Address("/dd/cookie", "out", (Arg("cookie", "i", "the number to send back: /dd/hello reply_port cookie"),),
            "Answer to /dd/hello from another machine (about the size of the hello): say /dd/hello again with it."),
    Address("/dd/status", "out", (Arg("ratings", "i", "ratings stored"), Arg("likes", "i", ""), Arg("dislikes", "i", ""),
                                  Arg("version", "i", "critic version"), Arg("queue", "i", "candidates ready")),
            "Answer to /dd/status and /dd/hello, and sent after undo."),
    Address("/dd/take", "out", (Arg("onsets", "i", "onsets in the take"), Arg("matched", "i", "onsets matched to a drum hit"),
                                Arg("gap_ms", "f", "mean |human - drum| over matched onsets, ms at the session tempo"),
                                Arg("centred_gap_ms", "f", "the same with the human's latency (mean gap on the "
                                                           "beats) removed, ms"),
                                Arg("takes", "i", "takes stored in the session")),
            "A take was heard and the feel layer updated."),
    Address("/dd/feel", "out", (Arg("offsets", "*", "one float per step of the bar: the drums' timing offset, "
                                                    "fractions of a step, -0.5-0.5 (late is positive)"),),
            "The feel layer the drums play with; answer to /dd/feel, sent after a take, reset or undo."),
    Address("/dd/sync", "out", (Arg("source", "s", "the clock the drums follow: internal, midi or link"),
                                Arg("bpm", "f", "its tempo (the host's when following one; 0 while unknown)"),
                                Arg("phase", "f", "how far into the bar MIDI out is, 0-1 (-1 while not playing)"),
                                Arg("running", "i", "1 while the clock runs (the host's transport plays)")),
            "Where the drums' clock is; answer to /dd/status, and sent when a followed host starts, stops, "
            "continues or moves."),
    Address("/dd/settings", "out", (Arg("bpm", "f", "session tempo"), Arg("mode", "s", "lean, best or explore"),
                                    Arg("fotf", "i", "four on the floor (0/1)"),
                                    Arg("temperature", "f", "sampling temperature"),
                                    Arg("density", "f", "prior density of hits"),
                                    Arg("feel", "i", "loops with a feel of their own (0/1)"),
                                    Arg("swing", "f", "every loop's swing (-1: each loop's own)"),
                                    Arg("latency", "f", "ms MIDI out plays later"),
                                    Arg("autotake", "i", "bars per automatic take (0: off)"),
                                    Arg("adapt", "f", "share of the gap to the human closed per take"),
                                    Arg("steps", "i", "steps per bar"), Arg("beats", "i", "beats per bar"),
                                    Arg("locks", "*", "one int (0/1) per track: locked")),
            "The performer's settings; answer to /dd/status and /dd/hello, and sent after every /dd/set/..."),
    Address("/dd/exported", "out", (Arg("id", "i", "candidate id"), Arg("dir", "s", "export folder, absolute path")),
            "An export is complete."),
    Address("/dd/song/done", "out", (Arg("song", "s", "the song's file name"),
                                     Arg("dir", "s", "the folder its drums were written to, absolute path")),
            "A song's drums are written (see /dd/song)."),
    Address("/dd/song/playing", "out", (Arg("song", "s", "the song's file name"), Arg("bar", "i", "the bar it starts from"),
                                        Arg("bars", "i", "the song's bars")),
            "A song's drums play from the next bar line (see /dd/song/play)."),
    Address("/dd/song/stopped", "out", (Arg("song", "s", "the song's file name"),), "The loop plays again from the next bar line."),
    Address("/dd/song/feel", "out", (Arg("song", "s", "the song's file name"),
                                     Arg("sections", "*", "(label s, the drums' mean offset in ms f) per section label")),
            "What a take over the song taught: each section's timing (after /dd/take)."),
    Address("/dd/part", "out", (Arg("part", "s", "the part's thread name (dd-midi, dd-audio, dd-clock, dd-web, ...)"),
                                Arg("state", "s", "failed or restarted"), Arg("message", "s", "one line")),
            "A part of the daemon failed (also sent as /dd/error part) or is running again after a restart."),
    Address("/dd/error", "out", (Arg("code", "s", "one of: " + ", ".join(ERROR_CODES)), Arg("message", "s", "one line")),
            "Something sent to the daemon was refused; the daemon keeps serving."),
)

COMMANDS = tuple(a.command for a in ADDRESSES if a.direction == "in")


def arg(command: str, name: str) -> Arg:
    """The argument ``name`` of the inbound address that runs ``command`` (KeyError if none)."""
    for a in ADDRESSES:
        if a.direction == "in" and a.command == command:
            for x in a.args:
                if x.name == name:
                    return x
    raise KeyError((command, name))


def inbound() -> dict[str, Address]:
    return {a.address: a for a in ADDRESSES if a.direction == "in"}


def outbound() -> dict[str, Address]:
    return dict(_OUTBOUND)


_OUTBOUND: dict[str, Address] = {a.address: a for a in ADDRESSES if a.direction == "out"}


def named(address: str, args: tuple | list) -> dict[str, Any]:
    """A reply's arguments by their names in the table (a ``*`` argument takes the rest, as a list); an argument
    the table does not name (none should be: the tests check every reply) keeps its place as ``"argN"``."""
    entry = _OUTBOUND.get(address)
    out: dict[str, Any] = {}
    for i, a in enumerate(entry.args if entry is not None else ()):
        if a.type == "*":
            out[a.name] = list(args[i:])
            return out
        if i < len(args):
            out[a.name] = args[i]
    out.update({f"arg{i}": v for i, v in enumerate(args) if entry is None or i >= len(entry.args)})
    return out


def as_dict() -> dict:
    """The table as ``dd-live protocol --json`` prints it."""
    return {
        "defaults": dict(DEFAULTS),
        "addresses": [
            {"address": a.address, "direction": a.direction,
             "args": [{"name": x.name, "type": x.type, "optional": x.optional, "doc": x.describe(), "lo": x.lo,
                       "hi": x.hi, "step": x.step, "choices": list(x.choices)} for x in a.args],
             "doc": a.doc, **({"command": a.command} if a.command else {}),
             **({"page": a.page, "setting": a.setting} if a.page else {})}
            for a in ADDRESSES
        ],
        "errors": dict(ERROR_CODES), "panels": dict(PANELS), "velocities": dict(VELOCITY_LEVELS),
    }


def to_json() -> str:
    return json.dumps(as_dict(), indent=1)


def markdown() -> str:
    """docs/osc.md, generated (``dd-live protocol --markdown``)."""
    lines = [
        "# dd_live OSC protocol",
        "",
        "<!-- generated by `dd-live protocol --markdown` from dd_live/osc/protocol.py; do not edit -->",
        "",
        f"The daemon listens on UDP port {OSC_PORT} (`--osc-port`) on 127.0.0.1 (`--host`), and replies to every",
        f"client that sent `/dd/hello` and to port {REPLY_PORT} (`--reply-port`) on 127.0.0.1.",
        "",
        "Types: `i` int32, `f` float32, `s` string, `n` int or float, `*` any number of further arguments;",
        "`[arg]` is optional. Buttons: a trailing numeric value <= 0.5 (a button's release) does nothing;",
        "no value or a value > 0.5 acts, whether the value is an int or a float (a Max message box `1`,",
        "a controller's `1.0`): `/dd/like`, `/dd/dislike` and `/dd/export` act on the candidate announced last;",
        "`/dd/rate id label` and `/dd/export/loop id` name a candidate by its id. Aliases in the config file",
        "map any other address (a controller's `/1/push1`) to a command; an alias's arguments are always a",
        "button value.",
        "",
        f"A candidate's files (`/dd/candidate`) stay on disk for at least {KEEP_FILES_S // 60} minutes after it was",
        "last announced (to any client: `/dd/hello` announces the current one again), and for good once it is rated.",
        f"Replies go to at most {MAX_CLIENTS} clients that said `/dd/hello`; a newer one evicts the one heard from",
        "least recently, which is told so (`/dd/error evicted`). Every datagram or bundle element that cannot be",
        "read gets `/dd/error parse`; errors to one client are rate-limited, and `flood` says once when they start",
        "being suppressed.",
        "",
    ]
    for direction, title in (("in", "To the daemon"), ("out", "From the daemon")):
        lines += [f"## {title}", "", "| address | arguments | what it does |", "|---|---|---|"]
        for a in ADDRESSES:
            if a.direction != direction:
                continue
            args = "<br>".join(f"{'[' if x.optional else ''}`{x.name}` {x.type}{']' if x.optional else ''}: {x.describe()}"
                               for x in a.args) or "none"
            lines.append(f"| `{a.address}` | {args} | {a.doc} |")
        lines.append("")
    lines += ["## Error codes", "", "| code | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in ERROR_CODES.items()]
    return "\n".join(lines) + "\n"
