from __future__ import annotations

import json

import numpy as np
import pytest

from dd_live.errors import PatternError
from dd_live.loops.pattern import (
    Constraints,
    Pattern,
    propose,
    propose_arrays,
    random_arrays,
    random_pattern,
    validate,
)


def _pattern(**kw) -> Pattern:
    hits = np.zeros((4, 16), bool)
    hits[0, ::4] = True
    hits[1, 4::8] = True
    hits[2, 1::2] = True
    args = dict(hits=hits, samples=("test/s0.wav", "test/s1.wav", "test/s2.wav", "test/s3.wav"))
    args.update(kw)
    return Pattern(**args)


def test_json_round_trip_keeps_everything(rng):
    vel = rng.integers(1, 128, (4, 16))
    off = np.round(rng.uniform(-0.5, 0.5, (4, 16)), 3)
    p = _pattern(velocities=vel, offsets=off, swing=0.25)
    q = Pattern.from_json(p.to_json())
    assert q == p
    assert np.array_equal(q.velocities[p.hits], vel[p.hits])
    assert np.allclose(q.offsets[p.hits], off[p.hits], atol=1e-6)
    assert q.swing == 0.25
    d = json.loads(p.to_json())
    assert d["schema"] == "dd_live.pattern" and d["version"] == 1
    assert d["tracks"][0]["velocities"][0] == vel[0, 0] and d["tracks"][0]["velocities"][1] == 0


def test_round_trip_triplet_grid():
    hits = np.zeros((3, 12), bool)
    hits[:, ::3] = True
    p = Pattern(hits=hits, samples=("a", "b", "c"))
    assert Pattern.from_dict(p.to_dict()) == p
    assert p.steps_per_beat == 3


@pytest.mark.parametrize("kw, message", [
    (dict(hits=np.zeros((4, 16, 2), bool)), "grid"),
    (dict(hits=np.full((4, 16), 2)), "booleans"),
    (dict(hits=np.zeros((17, 16), bool), samples=("x",) * 17), "tracks"),
    (dict(hits=np.zeros((4, 65), bool)), "steps"),
    (dict(hits=np.zeros((4, 15), bool)), "multiple of beats"),
    (dict(velocities=np.zeros((4, 16), int)), "1-127"),
    (dict(velocities=np.full((4, 16), 128)), "1-127"),
    (dict(velocities=np.full((4, 15), 100)), "same shape"),
    (dict(velocities=np.full((4, 16), 100.5)), "whole numbers"),
    (dict(offsets=np.full((4, 16), 0.7)), "offsets"),
    (dict(offsets=np.full((4, 16), np.nan)), "offsets"),
    (dict(swing=0.6), "swing"),
    (dict(swing=float("nan")), "swing"),
    (dict(swing="0.1"), "swing"),
    (dict(samples=("a", "b", "c")), "one sample per track"),
    (dict(samples=("a", "b", "", "d")), "non-empty"),
])
def test_validation_errors(kw, message):
    with pytest.raises(PatternError, match=message):
        _pattern(**kw)


def test_swing_needs_even_steps_per_beat():
    hits = np.zeros((2, 12), bool)
    with pytest.raises(PatternError, match="even number of steps per beat"):
        Pattern(hits=hits, samples=("a", "b"), swing=0.2)


@pytest.mark.parametrize("text, message", [
    ("not json", "not valid JSON"),
    ("[]", "JSON object"),
    ('{"schema": "other"}', "not a dd_live pattern"),
    ('{"schema": "dd_live.pattern", "version": 99}', "version 99"),
    ('{"schema": "dd_live.pattern", "version": 1, "steps": 16, "tracks": []}', "no tracks"),
    ('{"schema": "dd_live.pattern", "version": 1, "steps": 16, "tracks": [{"sample": "a"}]}', "malformed"),
    ('{"schema": "dd_live.pattern", "version": 1, "steps": 4, "tracks": [{"sample": "a", "velocities": [1, 2, 300, 0]}]}', "0 \\(rest\\) or 1-127"),
    ('{"schema": "dd_live.pattern", "version": 1, "steps": 4, "tracks": [{"sample": "a", "velocities": [1, 2]}]}', "every track"),
    ('{"schema": "dd_live.pattern", "version": 1, "steps": 4, "tracks": [{"sample": 5, "velocities": [1, 0, 0, 0]}]}', "string"),
])
def test_json_errors(text, message):
    with pytest.raises(PatternError, match=message):
        Pattern.from_json(text)


def test_missing_sample_is_reported(small_lib):
    p = _pattern(samples=("test/s0.wav", "test/s1.wav", "test/s2.wav", "nope.wav"))
    with pytest.raises(PatternError, match="nope.wav"):
        validate(p, small_lib)
    validate(_pattern(), small_lib)


def test_random_density_and_uniform_samples(small_lib, rng):
    hits, idx = random_arrays(small_lib, rng, 4000, density=0.5)
    assert hits.shape == (4000, 4, 16) and idx.shape == (4000, 4)
    assert abs(hits.mean() - 0.5) < 0.01
    counts = np.bincount(idx.ravel(), minlength=len(small_lib))
    assert counts.min() > 0.8 * counts.mean()
    sparse, _ = random_arrays(small_lib, rng, 4000, density=0.1)
    assert abs(sparse.mean() - 0.1) < 0.01


def test_four_on_the_floor(small_lib, rng):
    hits, idx = random_arrays(small_lib, rng, 500, constraints=Constraints(fotf=True))
    assert hits[:, 0, ::4].all()
    assert set(small_lib.categories[idx[:, 0]]) == {"kick"}
    new_hits, new_idx = propose_arrays(hits, idx, small_lib, rng, p_toggle=0.5, p_sample=1.0,
                                       constraints=Constraints(fotf=True))
    assert new_hits[:, 0, ::4].all()
    assert set(small_lib.categories[new_idx[:, 0]]) == {"kick"}


def test_fotf_without_kicks_is_a_clear_error(rng, make_library):
    
    lib = make_library([100, 200, 300, 400], ["snare", "snare", "hat_closed", "perc"])
    with pytest.raises(PatternError, match="kick"):
        random_arrays(lib, rng, 1, constraints=Constraints(fotf=True))


def test_proposal_rates_match_the_paper(small_lib, rng):
    hits, idx = random_arrays(small_lib, rng, 5000)
    new_hits, new_idx = propose_arrays(hits, idx, small_lib, rng)
    assert abs((new_hits != hits).mean() - 0.05) < 0.005
    # a redraw may draw the same sample again: P(change) = 0.15 * (1 - 1/len)
    expected = 0.15 * (1 - 1 / len(small_lib))
    assert abs((new_idx != idx).mean() - expected) < 0.01


def test_locks_keep_rows_and_samples(small_lib, rng):
    base = random_pattern(small_lib, rng)
    c = Constraints(lock_sample=(True, False, False, False), lock_row=(False, True, False, False))
    for _ in range(50):
        p = random_pattern(small_lib, rng, constraints=c, base=base)
        assert p.samples[0] == base.samples[0]
        assert np.array_equal(p.hits[1], base.hits[1])
    q = base
    for _ in range(200):
        q = propose(q, small_lib, rng, p_toggle=0.3, p_sample=0.9, constraints=c)
    assert q.samples[0] == base.samples[0]
    assert np.array_equal(q.hits[1], base.hits[1])
    assert not np.array_equal(q.hits[2:], base.hits[2:])


def test_step_times_include_swing_and_offsets():
    off = np.zeros((4, 16))
    off[2, 3] = -0.25
    p = _pattern(swing=0.5, offsets=off)
    times = p.step_times()
    assert times[0, 0] == 0 and times[0, 4] == 4
    assert times[2, 1] == 1.5
    assert times[2, 3] == 3.25
