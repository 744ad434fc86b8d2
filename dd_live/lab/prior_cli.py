"""``dd-live prior``: build the drum prior from Debian's drum parts (and a performer's own MIDI), or show one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(sub) -> None:
    """Add ``prior`` to the ``dd-live`` subcommands ``sub``."""
    pr = sub.add_parser("prior", help="the drum prior: build it from real drum parts, or show one",
                        description="The drummer's prior new loops are drawn from: where kick, snare, hats and "
                                    "the rest play, learned from drum MIDI.")
    ps = pr.add_subparsers(dest="prior_command", metavar="ACTION")
    ps.required = True
    b = ps.add_parser("build", help="learn a prior", description="Learn a drum prior from simutrans-data's songs and "
                      "mma's groove library (Debian's packages, read in place), and/or folders of drum MIDI files.")
    b.add_argument("--out", required=True, metavar="FILE", help="where to write the prior (JSON)")
    b.add_argument("--patterns", action="append", metavar="DIR", help="a folder of drum MIDI files (repeatable); "
                   "alone unless --debian is given too")
    b.add_argument("--debian", action="store_true", help="with --patterns: also learn from Debian's material")
    b.add_argument("--no-mma", action="store_true", help="leave out mma's grooves")
    b.add_argument("--no-simutrans", action="store_true", help="leave out simutrans-data's songs")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--force", action="store_true", help="replace an existing file")
    b.set_defaults(func=cmd_build)
    s = ps.add_parser("show", help="what a prior holds", description="Sources, grids and components of a prior.")
    s.add_argument("file", nargs="?", help="a prior's file (default: the shipped one)")
    s.add_argument("--json", action="store_true", help="as JSON")
    s.set_defaults(func=cmd_show)


def cmd_build(a: argparse.Namespace) -> int:
    from ..sound.audio import write_bytes
    from .drum_sources import build

    debian = a.debian or not a.patterns
    doc, seconds, skipped = build(mma=debian and not a.no_mma, simutrans=debian and not a.no_simutrans,
                                  patterns=[Path(p) for p in a.patterns or ()], seed=a.seed)
    for line in skipped:
        print(f"dd-live: skipped {line}", file=sys.stderr)
    write_bytes(Path(a.out), (json.dumps(doc, separators=(",", ":")) + "\n").encode(), force=a.force)
    bars = sum(s.get("bars", 0) for s in doc["sources"])
    print(f"dd-live: a drum prior from {bars} bars ({', '.join(s['name'] for s in doc['sources'])}) in "
          f"{seconds:.1f} s: {a.out}", file=sys.stderr)
    return 0


def cmd_show(a: argparse.Namespace) -> int:
    from ..loops.prior import load_prior

    prior = load_prior(a.file)
    summary = {"file": prior.name, "sources": [{k: v for k, v in s.items() if k != "failed"} for s in prior.sources],
               "grids": {k: {"bars": g.bars, "components": int(g.weights.size)} for k, g in prior.grids.items()}}
    if a.json:
        print(json.dumps(summary))
        return 0
    print(f"drum prior {summary['file']}")
    for s in summary["sources"]:
        print(f"  from {s['name']}: {s.get('bars', '?')} bars ({s.get('what', '')})")
    for k, g in summary["grids"].items():
        print(f"  grid {k}: {g['bars']} bars, {g['components']} components")
    return 0
