"""The evaluation's plot (dd_live.lab.plot): Phase I curves and Phase II lines from reports."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.lab.plot import plot_reports


def test_reports_are_drawn_with_each_runs_curve_and_their_mean(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg

    rng = np.random.default_rng(0)
    reports = [{"phase1_likes": (rng.random(80) < np.linspace(0.3, 0.8, 80)).tolist(),
                "phase1_p_like": np.linspace(0.3, 0.8, 80).tolist(), "theta_init": 0.4, "theta_final": 0.7}
               for _ in range(3)]
    reports[2]["phase1_likes"] = reports[2]["phase1_likes"][:60]          # runs of other lengths: the mean is cut
    path = plot_reports(reports, tmp_path / "eval.png", title="test")
    img = mpimg.imread(str(path))
    assert img.shape[:2] == (400, 700) and np.unique(img.reshape(-1, img.shape[-1]), axis=0).shape[0] > 20
