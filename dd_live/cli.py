"""The ``dd-live`` command line.

Exit codes: 0 ok, 1 failure, 2 usage or input error. Errors print one line on
stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .bench import add_arguments as add_bench_arguments
from .lab import POLICIES
from .errors import DDLiveError, InputError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _say(line: str) -> None:
    print(f"dd-live: {line}", file=sys.stderr)


def _library(folders: Sequence[str] | None, tracks: int = 1):
    from .sound.samples import open_library

    return open_library(folders, tracks=tracks)


# ---------------------------------------------------------------- commands

def cmd_render(a: argparse.Namespace) -> int:
    import numpy as np

    from .loops.export import export_pattern
    from .loops.pattern import Constraints, random_pattern

    if a.seed is not None and a.seed < 0:
        raise InputError(f"--seed must be 0 or more, got {a.seed}")
    lib = _library(a.samples, a.tracks)
    rng = np.random.default_rng(a.seed)
    pattern = random_pattern(lib, rng, tracks=a.tracks, steps=a.steps, density=a.density, swing=a.swing,
                             constraints=Constraints(fotf=a.fotf))
    paths = export_pattern(Path(a.out), pattern, lib, bpm=a.bpm, gm=a.gm, repeats=a.repeats, bits=a.bits,
                           force=a.force)
    for t, key in enumerate(pattern.samples):
        row = "".join("x" if h else "." for h in pattern.hits[t])
        print(f"track {t + 1}: {row}  {key}")
    print(f"wrote {', '.join(sorted(paths))} and samples/ to {a.out}")
    return 0


def cmd_kit_build(a: argparse.Namespace) -> int:
    from .sound.kit import build_kit
    from .sound.samples import default_kit_dir

    out = Path(a.out) if a.out else default_kit_dir()
    kit_json = build_kit(out)
    entries = json.loads(kit_json.read_text())["samples"]
    research = sum(bool(e.get("research_only")) for e in entries)
    print(f"built {len(entries)} samples into {out}: the default kit's {len(entries) - research}, and "
          f"{research} more in the research kit (--samples research)")
    return 0


def cmd_kit_list(a: argparse.Namespace) -> int:
    from .sound.kit import listing

    lines, lib = listing(Path(a.dir) if a.dir else None)
    for line in lines:
        print(line)
    for s in lib.skipped:
        _say(str(s))
    print(f"{len(lib)} usable sample(s), {len(lib.skipped)} skipped")
    return 0


def cmd_kit_check(a: argparse.Namespace) -> int:
    from .sound.kit import check_report

    print(check_report(Path(a.dir)))
    return 0


def cmd_evaluate(a: argparse.Namespace) -> int:
    from .lab.evaluate import load_rater, progress_bar, report_table, run_protocol, write_reports

    try:
        seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    except ValueError:
        raise InputError(f"--seeds must be comma-separated integers, got {a.seeds!r}") from None
    if not seeds or a.ratings < 1 or a.per_model < 1:
        raise InputError("need at least one seed, one rating and one loop per model")
    if a.best_temperature is not None and not 0 < a.best_temperature <= 100:
        raise InputError(f"--best-temperature must be in (0, 100], got {a.best_temperature}")
    load_rater(a.rater, seeds[0])  # fail early on a bad rater, or a plot that could not be drawn
    if a.plot:
        from .song.plot import require_pyplot

        require_pyplot()
    lib = _library(a.samples, 4)
    prior = _prior(a.prior)
    reports = []
    for seed in seeds:
        rater = load_rater(a.rater, seed)
        rep = run_protocol(rater, ratings=a.ratings, per_model=a.per_model, seed=seed, library=lib,
                           threads=a.threads, init=a.init, learn=a.learn, best_temperature=a.best_temperature,
                           policy=a.policy, feel=a.feel, progress=progress_bar(f"seed {seed}"), prior=prior)
        rep["rater"] = a.rater
        reports.append(rep)
    print(report_table(reports))
    write_reports(reports, json_path=a.json and Path(a.json), plot_path=a.plot and Path(a.plot), title=a.rater)
    return 0


def _prior(spec: str):
    """--prior: the shipped drum prior, none (DeepDrummer's uniform draws) or a file from dd-live prior build."""
    from .loops.prior import load_prior

    if spec == "none":
        return None
    return load_prior(None if spec == "shipped" else Path(spec))


def cmd_pretrain(a: argparse.Namespace) -> int:
    from .lab.evaluate import progress_bar
    from .learn.pretrain import PretrainConfig, pretrain, save, user_path

    if a.loops < 256 or a.epochs < 1:
        raise InputError("--loops must be at least 256 and --epochs at least 1")
    lib = _library(a.samples, 4)
    out = Path(a.out) if a.out else user_path()
    pre = pretrain(lib, PretrainConfig(loops=a.loops, epochs=a.epochs, seed=a.seed, start=a.start), threads=a.threads,
                   progress=progress_bar("pretrain"))
    save(out, pre)
    r = pre.report
    print(f"wrote {out}: holdout loss {r['holdout_loss_start']:.3f} -> {r['holdout_loss'][-1]:.3f} (1.0 = no better "
          f"than the mean), {r['wall_s']:.0f} s; start a session from it with dd-live serve --init {out}")
    return 0


def cmd_bench(a: argparse.Namespace) -> int:
    from .bench import run

    result = run(a.what, seconds=a.seconds, batch=a.batch, files=a.files, threads=a.threads, learn=a.learn,
                 rater=a.rater, seed=a.seed, samples=a.samples, feel=a.feel, screenshot=a.screenshot, busy=a.busy,
                 precision=a.precision, jack_period=a.jack_period, ratings=a.ratings)
    if a.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>18}: {v}")
    return 0


def cmd_protocol(a: argparse.Namespace) -> int:
    from .osc import protocol

    if a.markdown:
        sys.stdout.write(protocol.markdown())
        return 0
    print(protocol.to_json() if a.json else
          "\n".join(x.signature().ljust(40) + ("-> " if x.direction == "in" else "<- ") + x.doc
                    for x in protocol.ADDRESSES))
    return 0


def cmd_patches(a: argparse.Namespace) -> int:
    from .max.maxpatch import build

    written = build(Path(a.out), svg_dir=Path(a.svg) if a.svg else None)
    for path in written.values():
        print(path)
    return 0


def cmd_sessions(a: argparse.Namespace) -> int:
    from .session.folders import list_sessions, sessions_table

    rows = list_sessions(Path(a.root) if a.root else None)
    print(json.dumps(rows) if a.json else sessions_table(rows, Path(a.root) if a.root else None))
    return 0


def cmd_export(a: argparse.Namespace) -> int:
    import os

    from .session.folders import DB_NAME, resolve
    from .session.session import Session
    from .session.settings import LiveSettings

    folder = resolve(a.session)
    try:
        session = Session(folder, create=False)
    except InputError:
        if os.access(folder, os.W_OK) and os.access(folder / DB_NAME, os.W_OK):
            raise
        session = Session(folder, create=False, readonly=True)   # a read-only disk, or another user's session
    try:
        stored = session.settings()
        gm = a.gm if a.gm is not None else LiveSettings.from_dict(stored.get("live", {})).gm
        done = session.export_rated(Path(a.out), lambda: _library(stored.get("samples") or None, 1), liked=a.liked,
                                    bpm=a.bpm, gm=gm, force=a.force)
    finally:
        session.close()
    if not done.asked:
        print(f"nothing to export: {'no liked loops' if a.liked else 'no rated loops'} in {session.folder}")
        return 0
    print(f"exported {done.written} loops (MIDI, WAV, SFZ) to {a.out}" +
          (f"; {done.already} were there already" if done.already else ""))
    for line in done.failed:
        _say(f"error: {line}")
    return 1 if done.failed else 0


# ---------------------------------------------------------------- parser

LEARN_HELP = ("how the critic learns: auto (default: head for a pretrained start, the paper's budget for a random "
              "one), head (refit the output layer on every rating) or budget (40 minibatches of 16 on every "
              "weight per rating)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dd-live", description="Drum loops that learn what you like (DeepDrummer for live sets).")
    p.add_argument("--version", action="version", version=f"dd-live {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    r = sub.add_parser("render", help="render one random loop: WAV, MIDI, SFZ kit",
                       description="Render one random pattern as loop.wav, preview.wav, pattern.json, loop.mid, kit.sfz and samples/.")
    r.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    r.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
    r.add_argument("--bpm", type=float, default=120.0, help="tempo in beats per minute (default 120)")
    r.add_argument("--samples", action="append", metavar="DIR", help="sample folder (repeatable; default: the built-in kit)")
    r.add_argument("--fotf", action="store_true", help="four-on-the-floor: track 1 plays a kick on every beat")
    r.add_argument("--gm", action="store_true", help="General MIDI drum notes by sample category (default: pads 36-39)")
    r.add_argument("--tracks", type=int, default=4, help="tracks (default 4)")
    r.add_argument("--steps", type=int, default=16, help="steps per bar (default 16; 12 or 24 for triplets)")
    r.add_argument("--density", type=float, default=0.5, help="probability of a hit per cell (default 0.5)")
    r.add_argument("--swing", type=float, default=0.0, help="delay of odd steps, fraction of a step 0-0.5 (default 0)")
    r.add_argument("--repeats", type=int, default=4, help="bars in loop.mid (default 4)")
    r.add_argument("--bits", type=int, choices=(16, 24), default=16, help="WAV bit depth (default 16)")
    r.add_argument("--force", action="store_true", help="overwrite an existing export")
    r.set_defaults(func=cmd_render)

    k = sub.add_parser("kit", help="build, list or check sample kits", description="The default kit and sample folders.")
    ks = k.add_subparsers(dest="kit_command", metavar="ACTION", parser_class=_Parser)
    ks.required = True
    kb = ks.add_parser("build", help="synthesize the default kit", description="Synthesize the default kit (deterministic, CC0).")
    kb.add_argument("--out", metavar="DIR", help="where (default: the default kit folder)")
    kb.set_defaults(func=cmd_kit_build)
    kl = ks.add_parser("list", help="list a kit's samples", description="List the samples of a kit or sample folder.")
    kl.add_argument("dir", nargs="?", help="kit or sample folder (default: the default kit)")
    kl.set_defaults(func=cmd_kit_list)
    kc = ks.add_parser("check", help="report which files of a folder would be skipped, and why",
                       description="Report which files of a sample folder would be skipped, and why.")
    kc.add_argument("dir", help="sample folder")
    kc.set_defaults(func=cmd_kit_check)

    b = sub.add_parser("bench", help="measure speed", description="Benchmarks (figures for README; not tests).")
    add_bench_arguments(b)
    b.set_defaults(func=cmd_bench)

    e = sub.add_parser("evaluate", help="run DeepDrummer's protocol with a simulated rater",
                       description="Run DeepDrummer's two-phase protocol with a rater (MODULE:NAME, e.g. "
                                   "dd_live.raters:GrooveRater) for each seed; print a table, write JSON and a plot.")
    e.add_argument("--rater", required=True, metavar="MODULE:NAME", help="rater class or function")
    e.add_argument("--ratings", type=int, default=80, help="Phase I ratings (default 80)")
    e.add_argument("--per-model", type=int, default=30, help="Phase II loops per critic (default 30)")
    e.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    e.add_argument("--samples", action="append", metavar="DIR", help="sample folder (default: the built-in kit)")
    e.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    e.add_argument("--json", metavar="OUT", help="write the reports here")
    e.add_argument("--plot", metavar="PNG", help="write the like-rate plot here (needs matplotlib)")
    e.add_argument("--init", default="pretrained", metavar="pretrained|random|FILE",
                   help="the critic's start: the shipped pretrained features (default), the paper's random "
                        "weights, or a file from dd-live pretrain")
    e.add_argument("--learn", default="auto", choices=("auto", "head", "budget"),
                   help=LEARN_HELP)
    e.add_argument("--policy", default=POLICIES[0], choices=POLICIES,
                   help="how Phase I picks each loop: lean (default: Thompson sampling over the critic's output "
                        "layer, as the daemon's lean mode) or explore (the paper's draw from the chains)")
    e.add_argument("--feel", action="store_true", help="search each loop's feel too (accents, push, swing)")
    e.add_argument("--prior", default="shipped", metavar="shipped|none|FILE",
                   help="where new loops come from: dd_live's drum prior (default, as the daemon), none "
                        "(DeepDrummer's uniform cells and sounds) or a file from dd-live prior build")
    e.add_argument("--best-temperature", type=float, default=None, metavar="S",
                   help="MH temperature of Phase II's best-mode search over the chains, for --init random "
                        "(default 0.2; 1 = the chains' own)")
    e.set_defaults(func=cmd_evaluate)

    pt = sub.add_parser("pretrain", help="pretrain the critic's features on unrated random loops",
                        description="Teach the critic's features what plays on which step, from random loops of a "
                                    "kit (no ratings needed); sessions and evaluations start from the result.")
    pt.add_argument("--samples", action="append", metavar="DIR", help="sample folder (default: the built-in kit)")
    pt.add_argument("--loops", type=int, default=4000, help="random loops to learn from (default 4000)")
    pt.add_argument("--epochs", type=int, default=2, help="passes over them (default 2)")
    pt.add_argument("--from", dest="start", default="shipped", metavar="shipped|scratch|FILE",
                    help="go on from the shipped features (default), start from random weights, or go on from a file")
    pt.add_argument("--seed", type=int, default=0)
    pt.add_argument("--threads", type=int, default=2, help="torch and render threads (default 2)")
    pt.add_argument("--out", metavar="FILE", help="where to write (default: critic_pretrained.pt in the user data "
                    "dir, $DD_LIVE_DATA overrides; the package's shipped file only if named here)")
    pt.set_defaults(func=cmd_pretrain)

    from .lab.prior_cli import add_parser as add_prior
    from .live.serve_cli import add_parser as add_serve
    from .song.cli import add_parser as add_song

    add_serve(sub)
    add_song(sub)
    add_prior(sub)

    pr = sub.add_parser("protocol", help="the OSC address table", description="Print the daemon's OSC addresses.")
    pr.add_argument("--json", action="store_true", help="as JSON, with the default ports under 'defaults'")
    pr.add_argument("--markdown", action="store_true", help="as docs/osc.md")
    pr.set_defaults(func=cmd_protocol)

    mp = sub.add_parser("patches", help="build the Max patch and the Max for Live device",
                        description="Generate dd_live.maxpat, dd_live.amxd and dd_live.js with py2max "
                                    "(pip install 'dd_live[max]'), from the daemon's OSC table.")
    mp.add_argument("--out", default="max_patches", metavar="DIR", help="folder to write into (default: max_patches)")
    mp.add_argument("--svg", metavar="DIR", help="also write SVG pictures of each patch here (the README's: docs/img)")
    mp.set_defaults(func=cmd_patches)

    ss = sub.add_parser("sessions", help="list sessions", description="List sessions with their counts.")
    ss.add_argument("--root", metavar="DIR", help="sessions folder (default: $DD_LIVE_SESSIONS or the user data dir)")
    ss.add_argument("--json", action="store_true", help="as JSON")
    ss.set_defaults(func=cmd_sessions)

    ex = sub.add_parser("export", help="export a session's rated loops", description="Write MIDI + WAV + SFZ for "
                        "each rated (or liked) loop of a session.")
    ex.add_argument("session", metavar="SESSION", help="session name or folder")
    ex.add_argument("--liked", action="store_true", help="only liked loops")
    ex.add_argument("--out", required=True, metavar="DIR", help="folder to write into (one subfolder per loop)")
    ex.add_argument("--bpm", type=float, help="tempo (default: each loop's)")
    ex.add_argument("--gm", action=argparse.BooleanOptionalAction, default=None, help="General MIDI drum notes by "
                    "each sound's family; --no-gm: Drum Rack pads 36 + track (default: as the session serves)")
    ex.add_argument("--force", action="store_true", help="overwrite earlier exports")
    ex.set_defaults(func=cmd_export)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    for name, value in vars(a).items():  # no OS call takes a NUL: say so before any of them fails
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and "\0" in v:
                _say(f"error: --{name.replace('_', '-')} {v!r}: a name or path cannot hold a NUL character")
                return 2
    try:
        return int(a.func(a))
    except InputError as err:
        _say(f"error: {err}")
        return 2
    except DDLiveError as err:
        _say(f"error: {err}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except OSError as err:
        _say(f"error: {err.strerror or err}: {err.filename or ''}".rstrip(": "))
        return 1


if __name__ == "__main__":
    sys.exit(main())
