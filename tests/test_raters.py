from __future__ import annotations

import shutil

import numpy as np
import pytest

from dd_live.lab.evaluate import Candidate, run_protocol, summarize
from dd_live.loops.pattern import Pattern, from_arrays, random_arrays
from dd_live.lab.raters import RATERS, GrooveRater, describe_audio, sound_of
from dd_live.sound.samples import load_kit


@pytest.fixture(scope="module")
def kit():
    return load_kit()


def _random_candidates(kit, n, seed):
    rng = np.random.default_rng(seed)
    hits, idx = random_arrays(kit, rng, n)
    return [Candidate(from_arrays(h, i, kit), [kit.samples[j].path for j in i], np.zeros(1, np.float32), 0.5)
            for h, i in zip(hits, idx)]


@pytest.mark.parametrize("name", sorted(RATERS))
def test_random_loops_are_liked_25_to_45_percent(kit, name):
    rater = RATERS[name](seed=3)
    votes = [rater(c) for c in _random_candidates(kit, 1500, seed=11)]
    assert 0.25 <= np.mean(votes) <= 0.45


@pytest.mark.parametrize("name", sorted(RATERS))
def test_raters_are_inconsistent_like_people(kit, name):
    rater = RATERS[name](seed=0)
    cands = _random_candidates(kit, 200, seed=2)
    p = np.array([rater.p_like(c) for c in cands])
    assert p.min() >= rater.noise - 1e-9 and p.max() <= 1 - rater.noise + 1e-9
    best = cands[int(np.argmax(p))]
    votes = [rater(best) for _ in range(400)]
    assert 0.5 < np.mean(votes) < 0.97  # liked mostly, not always


def test_tastes_differ(kit):
    """All raters dislike harsh sounds (as DeepDrummer's users did); what they like differs."""
    cands = [c for c in _random_candidates(kit, 800, seed=4) if not any(sound_of(p).harsh for p in c.sample_paths)]
    tastes = {name: np.array([cls(seed=0).taste(c) for c in cands]) for name, cls in RATERS.items()}
    names = sorted(tastes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert np.corrcoef(tastes[a], tastes[b])[0, 1] < 0.5, (a, b)


def test_raters_judge_audio_not_file_names(kit, tmp_path):
    """The same sounds under misleading names get the same judgement."""
    cands = _random_candidates(kit, 40, seed=5)
    rater = GrooveRater(seed=0)
    for k, c in enumerate(cands):
        renamed = []
        for t, p in enumerate(c.sample_paths):
            q = tmp_path / f"{k}_{t}_snare_kick_hat.wav"
            shutil.copyfile(p, q)
            renamed.append(q)
        assert rater.taste(c) == rater.taste(Candidate(c.pattern, renamed, c.audio, c.score))


def test_groove_rater_likes_a_house_beat_more(kit):
    kick = next(s for s in kit.samples if sound_of(s.path).kick_like and sound_of(s.path).duration < 1.0)
    hat = next(s for s in kit.samples if s.category == "hat_closed" and sound_of(s.path).bright_short)
    harsh = next(s for s in kit.samples if s.category == "harsh")
    hits = np.zeros((4, 16), bool)
    hits[0, ::4] = True
    hits[1, 2::4] = True
    house = Candidate(Pattern(hits=hits, samples=(kick.key, hat.key, hat.key, hat.key)), [kick.path, hat.path, hat.path, hat.path], np.zeros(1, np.float32), 0.5)
    hits2 = hits.copy()
    hits2[2] = True
    noisy = Candidate(Pattern(hits=hits2, samples=(kick.key, hat.key, harsh.key, hat.key)), [kick.path, hat.path, harsh.path, hat.path], np.zeros(1, np.float32), 0.5)
    r = GrooveRater()
    assert r.p_like(house) > 0.8 and r.p_like(noisy) < 0.5


def test_describe_audio_basics():
    t = np.arange(44100) / 44100
    boom = np.sin(2 * np.pi * 50 * t) * np.exp(-t * 8)
    tone = 0.5 * np.sin(2 * np.pi * 9000 * t[:13000])
    s1, s2 = describe_audio(boom), describe_audio(tone)
    assert s1.kick_like and not s1.harsh and s1.low > 0.9
    assert s2.harsh and s2.centroid > 8000


def test_protocol_runs_and_reports(kit):
    calls = []

    def rater(c: Candidate) -> bool:
        calls.append(c)
        assert c.audio.shape == (88200,) and c.sample_rate == 44100 and len(c.sample_paths) == 4
        assert c.pattern.hits.shape == (4, 16) and 0 <= c.score <= 1
        return bool(c.pattern.hits[0, 0])

    rep = run_protocol(rater, ratings=3, per_model=2, seed=1, library=kit, chains=4, best_steps=3)
    assert len(calls) == 3 + 4
    assert len(rep["phase1_likes"]) == 3 and len(rep["phase1_curve"]) == 3
    assert 0 <= rep["theta_init"] <= 1 and 0 <= rep["theta_final"] <= 1
    assert rep["delta"] == pytest.approx(rep["theta_final"] - rep["theta_init"])
    s = summarize([rep, rep])
    assert s["runs"] == 2 and s["delta_mean"] == pytest.approx(rep["delta"])
    assert rep["init"] == "pretrained" and rep["learn"] == "head" and rep["best_temperature"] == 0.2


def test_protocol_from_the_papers_random_start_learns_the_papers_way(kit):
    rep = run_protocol(lambda c: bool(c.pattern.hits[0, 0]), ratings=2, per_model=1, seed=1, library=kit, chains=2,
                       best_steps=1, init="random", temperature=0.5, best_temperature=1.0)
    assert rep["learn"] == "budget" and rep["train_s_mean"] > 0
    assert rep["temperature"] == 0.5 and rep["best_temperature"] == 1.0


def test_protocol_rejects_a_bad_rater(kit):
    with pytest.raises(TypeError, match="True or False"):
        run_protocol(lambda c: "yes", ratings=1, per_model=1, library=kit, chains=2, best_steps=1)


def test_final_ensemble_judges_phase2_with_the_last_critics(kit, monkeypatch):
    from dd_live.learn import sampler

    sizes = []
    real = sampler.Scorer.set_critics

    def spy(self, critics):
        sizes.append(len(critics) if isinstance(critics, (list, tuple)) else 1)
        return real(self, critics)

    monkeypatch.setattr(sampler.Scorer, "set_critics", spy)
    rep = run_protocol(lambda c: bool(c.pattern.hits[0, 0]), ratings=4, per_model=1, seed=2, library=kit,
                       chains=2, best_steps=2, final_ensemble=3)
    assert sizes[-1] == 3 and 0 <= rep["theta_final"] <= 1


def test_the_old_import_paths_of_the_rater_interface_keep_working():
    """Users' raters and scripts name dd_live.evaluate and dd_live.raters (README: --rater dd_live.raters:NAME)."""
    import dd_live.evaluate as old_evaluate
    import dd_live.raters as old_raters
    from dd_live.lab.evaluate import load_rater as _load_rater
    from dd_live.lab import evaluate, raters

    assert old_evaluate.run_protocol is evaluate.run_protocol and old_evaluate.Candidate is evaluate.Candidate
    assert old_evaluate.summarize is evaluate.summarize
    for name in ("GrooveRater", "MinimalRater", "BreakRater", "Rater"):
        assert getattr(old_raters, name) is getattr(raters, name)
    assert isinstance(_load_rater("dd_live.raters:GrooveRater", 0), raters.GrooveRater)
