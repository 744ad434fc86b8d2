"""Learning on a kit dd_live was not made with: Debian's sonic-pi-samples (164 usable one-shots and
loops from several kits, read in place)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.sonic_pi


def test_the_lean_policy_learns_a_taste_on_a_third_party_kit(sonic_pi_kit):
    """Groove likes about 31% of this kit's random loops; after 20 ratings the loops it hears should be
    liked far more often (seeds 0-1 of the full protocol: 0.87 over ratings 41-80)."""
    from dd_live.lab.evaluate import run_protocol
    from dd_live.lab.raters import GrooveRater

    rep = run_protocol(GrooveRater(seed=3), ratings=40, per_model=5, seed=3, library=sonic_pi_kit, threads=2)
    assert rep["phase1_late_p_like"] > 0.5
    assert rep["phase1_late_distinct"] == 20


def test_the_shipped_features_describe_a_third_party_kits_loops(sonic_pi_kit):
    from dd_live.learn.pretrain import PretrainConfig, pretrain

    pre = pretrain(sonic_pi_kit, PretrainConfig(loops=512, epochs=1, seed=1), threads=2)
    assert pre.report["holdout_loss_start"] < 0.9 and pre.report["holdout_loss"][-1] < 0.9
