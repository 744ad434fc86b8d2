"""``dd-live song SONG.mid --out DIR``: a drum track for a whole MIDI song (the parser and the command)."""

from __future__ import annotations

import argparse
import json
import sys

from .. import THREAD_RANGE


def add_parser(sub) -> None:
    s = sub.add_parser("song", help="write a drum track for a whole MIDI song",
                       description="Read a MIDI song, find its sections and write drums for all of it in the "
                                   "taste of a session's critic: song.mid (the song with its drums replaced), "
                                   "drums.mid, drums.wav, kit.sfz + samples/ and arrangement.json.")
    s.add_argument("song", metavar="SONG.mid", help="a standard MIDI file (type 0 or 1)")
    s.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    s.add_argument("--session", metavar="NAME|DIR", help="whose taste: a session's critic, kit, swing and feel "
                                                        "(default: a new session's critic and the built-in kit)")
    s.add_argument("--samples", action="append", metavar="DIR", help="sample folder (repeatable; without "
                                                                     "--session; default: the built-in kit)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0: the same song gives the same drums)")
    s.add_argument("--threads", type=int, default=2, help="torch and render threads (default 2)")
    s.add_argument("--force", action="store_true", help="overwrite an earlier song in DIR")
    s.add_argument("--json", action="store_true", help="print the arrangement's summary as one JSON line")
    s.add_argument("--plot", metavar="PNG", help="also draw the arrangement: intensity, sections and drum density "
                                                 "per bar (needs matplotlib: pip install 'dd_live[plot]')")
    s.set_defaults(func=cmd_song)


class Progress:
    """A progress bar on stderr, redrawn in place on a terminal; elsewhere one line at the end."""

    WIDTH = 30

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self.tty:
            fill = int(self.WIDTH * done / max(total, 1))
            self.stream.write(f"\rdd-live song: [{'#' * fill}{'.' * (self.WIDTH - fill)}] {done}/{total} sections")
            self.stream.flush()

    def close(self) -> None:
        if self.tty and self.total:
            self.stream.write("\n")
        elif self.total:
            self.stream.write(f"dd-live song: {self.done}/{self.total} sections arranged\n")
        self.stream.flush()


def cmd_song(a: argparse.Namespace) -> int:
    from ..errors import InputError
    from .make import make_song

    if a.seed < 0:
        raise InputError(f"--seed must be 0 or more, got {a.seed}")
    if not THREAD_RANGE[0] <= a.threads <= THREAD_RANGE[1]:
        raise InputError(f"--threads must be {THREAD_RANGE[0]}-{THREAD_RANGE[1]}, got {a.threads}")
    if a.session is not None and a.samples:
        raise InputError("--samples and --session do not go together: a session keeps its own kit")
    if a.plot:                       # before the work, not after it: a rerun would need --force
        from .plot import require_pyplot

        require_pyplot()
    def started(taste) -> None:
        print(f"dd-live song: drums for {a.song} in the taste of {taste.source}", file=sys.stderr, flush=True)

    timing = None
    if a.session is not None:   # what takes over this song in the session taught (songs/<name>.timing.pt)
        from pathlib import Path

        from ..loops.export import safe_name
        from ..session.folders import resolve
        from .score import timing_file

        timing = timing_file(resolve(a.session) / "songs" / safe_name(Path(a.song).stem, fallback="song"))
    progress = Progress()
    try:
        summary = make_song(a.song, a.out, session=a.session, samples=a.samples, seed=a.seed, force=a.force,
                            threads=a.threads, progress=progress, on_start=started, timing=timing)
    finally:
        progress.close()
    if a.plot:
        from pathlib import Path

        from .plot import plot_song

        plot_song(json.loads((Path(a.out) / "arrangement.json").read_text()), Path(a.plot))
    if a.json:
        print(json.dumps(summary))
    else:
        rho = summary["spearman_density_intensity"]
        print(f"{summary['song']}: {summary['bars']} bars, {summary['seconds']:.1f} s, {summary['sections']} sections "
              f"({' '.join(summary['labels'])}), fills before {summary['fills_before_boundaries']} of "
              f"{summary['boundaries']} boundaries, density vs intensity rho "
              f"{'n/a' if rho is None else f'{rho:.2f}'}; taste: {summary['taste']}")
        if "feel" in summary:
            print(f"timing from {summary['feel']['takes']} takes over this song: " + ", ".join(
                f"{k} {v:+.1f} ms" for k, v in summary["feel"]["sections_ms"].items()))
        print(f"wrote song.mid, drums.mid, drums.wav, kit.sfz, samples/ and arrangement.json to {a.out} "
              f"in {summary['timing_s']['total']:.1f} s")
    return 0
