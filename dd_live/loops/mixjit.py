"""The renderer's compiled mixing kernel (numba), loaded lazily by :mod:`dd_live.loops.render`.

numpy's mixing adds each hit with one slice-add, but the Python between those adds
holds the GIL, so two mixing threads in one process go no faster than one. This
kernel does the same sums (hit by hit, in the same order) in machine code with the
GIL released, so blocks of bars mix on every thread the renderer is given.

Importing this module imports numba and so takes about a second; the kernel itself
is compiled on first use (a fraction of a second, cached on disk by numba).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, fastmath=True, error_model="numpy", boundscheck=False)
def mix_block(out: np.ndarray, bar: np.ndarray, pos: np.ndarray, offs: np.ndarray, lens: np.ndarray,
              gain: np.ndarray, flat: np.ndarray, wrap: bool) -> None:  # pragma: no cover - compiled
    """Overwrite the bars of ``out`` (float32, (bars, samples)) with the sum of the hits.

    Hit h adds ``gain[h] * flat[offs[h]: offs[h] + lens[h]]`` into bar ``bar[h]`` at
    sample ``pos[h]``. With ``wrap`` positions lie in [0, bar length) and whatever rings
    past the bar line wraps into its start (as often as it is longer than a bar);
    without it, the part past the end is dropped (``pos`` must then be >= 0).
    """
    length = out.shape[1]
    out[:, :] = 0.0
    for h in range(bar.shape[0]):
        row = out[bar[h]]
        p = pos[h]
        o = offs[h]
        n = lens[h] if wrap else min(lens[h], length - p)
        g = gain[h]
        done = 0
        while done < n:
            m = min(n - done, length - p)
            dst = row[p: p + m]
            src = flat[o + done: o + done + m]
            for k in range(m):
                dst[k] += g * src[k]
            done += m
            p = 0
