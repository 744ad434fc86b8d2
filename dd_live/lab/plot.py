"""The evaluation's plot (needs matplotlib, the ``plot`` extra): the like rate against the number of ratings
(a song's arrangement is drawn by :mod:`dd_live.song.plot`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..song.plot import require_pyplot


def plot_reports(reports: Sequence[dict], path: Path, *, title: str = "", window: int = 20) -> Path:
    """Phase I like rate (running mean over ``window`` ratings) per run and on average, the raters' P(like) of
    the loops served where they give it, and Phase II's thetas."""
    plt = require_pyplot()
    from ..sound.audio import atomic_path
    from .evaluate import running_rate

    fig, ax = plt.subplots(figsize=(7, 4))
    curves = []
    for r in reports:
        curve = running_rate(r["phase1_likes"], window)
        curves.append(curve)
        ax.plot(np.arange(1, len(curve) + 1), curve, color="0.75", linewidth=0.8)
    n = min(len(c) for c in curves)
    mean = np.mean([c[:n] for c in curves], axis=0)
    ax.plot(np.arange(1, n + 1), mean, color="C0", linewidth=2.2, label=f"Phase I like rate (last {window}), mean")
    if all(r.get("phase1_p_like") for r in reports):  # the rater's noise-free P(like) of the loops served
        p = np.mean([running_rate(r["phase1_p_like"], window)[:n] for r in reports], axis=0)
        ax.plot(np.arange(1, n + 1), p, color="C1", linewidth=1.6, label=f"Phase I P(like) (last {window}), mean")
    ti = float(np.mean([r["theta_init"] for r in reports]))
    tf = float(np.mean([r["theta_final"] for r in reports]))
    ax.axhline(ti, color="C3", linestyle="--", label=f"Phase II, initial critic: {ti:.2f}")
    ax.axhline(tf, color="C2", linestyle="--", label=f"Phase II, final critic: {tf:.2f}")
    ax.set_xlabel("number of ratings")
    ax.set_ylabel("like rate")
    ax.set_ylim(0, 1)
    ax.set_title(f"{title} ({len(reports)} run{'s' if len(reports) != 1 else ''})")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    with atomic_path(Path(path), force=True) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return Path(path)
