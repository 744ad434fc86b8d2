"""A song's arrangement drawn (dd_live.song.plot), and the one check that matplotlib is there."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from dd_live.errors import BackendError
from dd_live.song import plot


def _doc(bars=8):
    loop = {"tracks": [{"velocities": [100, 0, 0, 0] * 4}, {"velocities": [0, 0, 0, 0, 100, 0, 0, 0] * 2}]}
    rows = [{"bar": k, "intensity": {"level": 0.2 + 0.1 * k}, "loop": "a" if k < bars - 1 else None,
             "steps": [0, 16], "start_tick": 384 * k, "end_tick": 384 * (k + 1), "kind": "fill" if k == 3 else "groove",
             "crash": k == 4, "time_signature": "4/4"} for k in range(bars)]
    return {"song": "test.mid", "ticks_per_beat": 96, "bars": rows, "loops": {"a": loop},
            "sections": [{"start": 0, "end": 4, "label": "A"}, {"start": 4, "end": bars, "label": "B"}],
            "summary": {"spearman_density_intensity": 0.5}}


def test_the_arrangement_is_drawn_into_the_file_asked_for(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg

    path = plot.plot_song(_doc(), tmp_path / "song.png")
    img = mpimg.imread(str(path))
    assert img.shape[0] > 300 and img.shape[1] > 1000                     # 10 x 3.6 in at 110 dpi
    assert np.unique(img.reshape(-1, img.shape[-1]), axis=0).shape[0] > 20  # drawn on, not a blank canvas
    assert not list(tmp_path.glob("*.tmp*"))                              # written whole, in place


def test_without_matplotlib_the_plot_is_refused_in_one_line(monkeypatch):
    real = builtins.__import__

    def no_matplotlib(name, *args, **kw):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(BackendError, match=r"^the plot needs matplotlib: pip install 'dd_live\[plot\]'$"):
        plot.require_pyplot()
