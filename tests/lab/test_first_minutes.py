"""A performer's first minutes: dislikes alone steer, and the first loops of a new session are drum kits."""

from __future__ import annotations

import pytest

from dd_live.lab.first_minutes import dislikes_only, first_loops


@pytest.mark.parametrize("seed", [5, 6])
def test_a_performer_who_only_dislikes_hats_hears_fewer_hats(kit, seed):
    """Every loop with a hat disliked, the rest skipped, never a like: hats in loops 31-60 at most half as
    often as in loops 1-30 (seeds the rule's settings were not chosen on)."""
    r = dislikes_only(kit, seed=seed)
    assert r["dislikes"] >= 3, r
    assert r["second_half"] <= r["first_half"] / 2, r


def test_a_new_sessions_first_loops_are_drum_kits(kit):
    """Over the built-in raters, most of a new session's first 20 loops hold a kick, a snare or clap and a hat
    or cymbal that play (DeepDrummer's uniform draws: about one in ten)."""
    r = first_loops(kit, seeds=(7,), raters=("groove", "minimal", "break"))
    assert r["kit_share"] >= 0.6, r
    plain = first_loops(kit, seeds=(7,), prior=None, raters=("groove",))
    assert plain["kit_share"] <= 0.3, plain
