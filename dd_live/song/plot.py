"""A song's arrangement drawn (needs matplotlib, the ``plot`` extra): ``dd-live song --plot``; and the one check
that matplotlib is there, which every plot of dd_live's asks first."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import BackendError


def require_pyplot():
    """matplotlib's pyplot (Agg); BackendError in one line without it (call before the work a plot ends)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise BackendError("the plot needs matplotlib: pip install 'dd_live[plot]'") from err
    return plt


def plot_song(doc: dict, path: Path) -> Path:
    """A song's arrangement (``arrangement.json`` as a dict): per bar the other parts' intensity (line) and the
    drums' hits per quarter note (bars: fills, endings and lead-ins marked), sections shaded and labelled,
    crashes ticked."""
    plt = require_pyplot()
    from ..sound.audio import atomic_path

    bars = doc["bars"]
    x = np.arange(len(bars))
    level = np.array([b["intensity"]["level"] for b in bars])
    density = []
    for b in bars:
        p = doc["loops"].get(b["loop"]) if b["loop"] else None
        hits = 0 if p is None else sum(1 for t in p["tracks"] for v in t["velocities"][b["steps"][0]:b["steps"][1]] if v)
        quarters = (b["end_tick"] - b["start_tick"]) / doc["ticks_per_beat"]
        density.append(hits / max(quarters, 1e-9))
    density = np.array(density)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    colours = {"fill": "tab:red", "ending": "black", "lead-in": "tab:purple", "pickup": "tab:purple"}
    ax.bar(x, density / max(density.max(), 1e-9), width=0.85, color=[colours.get(b["kind"], "tab:blue") for b in bars],
           alpha=0.55, label="drum hits per quarter (scaled; red: fill, black: ending, purple: lead-in)")
    ax.plot(x, level / max(level.max(), 1e-9), color="tab:orange", lw=1.8, label="the song's intensity (scaled)")
    for k, sec in enumerate(doc["sections"]):
        if k % 2:
            ax.axvspan(sec["start"] - 0.5, sec["end"] - 0.5, color="0.9", zorder=0)
        ax.text((sec["start"] + sec["end"] - 1) / 2, 1.04, sec["label"] if sec["label"] != "silence" else "-",
                ha="center", va="bottom", fontsize=8)
    for b in bars:
        if b["crash"]:
            ax.plot([b["bar"] - 0.45], [1.0], marker="v", color="tab:green", ms=5)
    meters = [(b["bar"], b["time_signature"]) for k, b in enumerate(bars)
              if k == 0 or b["time_signature"] != bars[k - 1]["time_signature"]]
    for bar, sig in meters:
        ax.text(bar, -0.12, sig, fontsize=7, ha="left", va="top", color="0.3")
    rho = doc.get("summary", {}).get("spearman_density_intensity")
    ax.set_title(f"{doc['song']}: sections (letters, shaded), crashes (green), Spearman density vs intensity "
                 f"{'n/a' if rho is None else f'{rho:.2f}'}", fontsize=9)
    ax.set_xlabel("bar")
    ax.set_ylim(-0.2, 1.15)
    ax.set_xlim(-0.5, len(bars) - 0.5)
    ax.legend(loc="lower right", fontsize=7, framealpha=0.9)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path, force=True) as tmp:
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path
