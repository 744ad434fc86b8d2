from __future__ import annotations

import shutil

import numpy as np
import pytest

from dd_live.lab.evaluate import Candidate, run_protocol, summarize
from dd_live.loops.pattern import Pattern, from_arrays, random_arrays
from dd_live.lab.raters import RATERS, GrooveRater, describe_audio, sound_of


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


def test_groove_rater_likes_a_house_beat_more(research_kit):
    kit = research_kit
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


def test_protocol_reports_what_the_rater_answered(kit):
    """Phase I's likes are the rater's answers in order, Phase II asks about per_model loops of each critic,
    and theta_init / theta_final are the like rates of exactly those answers (a report that mixed up the
    halves, counted Phase I in Phase II, or rated too few loops fails here)."""
    calls = []

    def rater(c: Candidate) -> bool:
        assert c.audio.shape == (88200,) and c.sample_rate == 44100 and len(c.sample_paths) == 4
        assert c.pattern.hits.shape == (4, 16) and 0 <= c.score <= 1
        assert [p.name for p in c.sample_paths] == [k.rsplit("/", 1)[-1] for k in c.pattern.samples]
        answer = bool(c.pattern.hits[:, :4].sum() % 2)   # about half the loops, from what the loop plays
        calls.append((c.origin, answer))
        return answer

    rep = run_protocol(rater, ratings=5, per_model=4, seed=1, library=kit, chains=4, best_steps=3)
    phase1 = [a for o, a in calls if o == "phase1"]
    by_origin = {o: [a for oo, a in calls if oo == o] for o in ("init", "final")}
    assert [o for o, _ in calls[:5]] == ["phase1"] * 5 and len(calls) == 5 + 8
    assert rep["phase1_likes"] == [int(a) for a in phase1]
    assert rep["phase1_curve"][-1] == pytest.approx(np.mean(phase1))
    assert [len(v) for v in by_origin.values()] == [4, 4]
    assert rep["theta_init"] == pytest.approx(np.mean(by_origin["init"]))
    assert rep["theta_final"] == pytest.approx(np.mean(by_origin["final"]))
    assert rep["delta"] == pytest.approx(rep["theta_final"] - rep["theta_init"])
    assert rep["phase1_late_likes"] == pytest.approx(np.mean(phase1[2:])) and rep["phase1_late_p_like"] is None
    assert rep["init"] == "pretrained" and rep["learn"] == "head" and rep["best_temperature"] == 0.2


def test_summarize_counts_the_papers_success_measures():
    runs = [{"delta": d, "theta_init": 0.3, "theta_final": 0.3 + d, "wall_s": 1.0, "phase1_late_likes": 0.5 + d,
             "phase1_late_p_like": 0.4 + d, "phase1_late_distinct": 40 - k, "phase1_late_grid_distance": 20.0 + k}
            for k, d in enumerate((0.3, -0.1, 0.0, 0.2))]
    s = summarize(runs)
    assert s["phase1_late_distinct_min"] == 37 and s["phase1_late_grid_distance_min"] == 20.0
    assert s["runs"] == 4 and s["delta_mean"] == pytest.approx(0.1)
    assert s["improved"] == 0.5 and s["improved_by_0.2"] == 0.5          # 0.0 is not an improvement
    assert s["theta_final_mean"] == pytest.approx(0.4)
    assert s["phase1_late_likes_mean"] == pytest.approx(0.6) and s["phase1_late_p_like_mean"] == pytest.approx(0.5)
    runs[1]["phase1_late_p_like"] = None                                  # a rater without p_like
    assert summarize(runs)["phase1_late_p_like_mean"] is None


def test_the_second_half_of_phase1_is_measured_by_coin_p_like_and_variety():
    from dd_live.lab.evaluate import late_phase1

    a, b = np.zeros((4, 16), bool), np.zeros((4, 16), bool)
    b[0, :5] = True
    grids = [a, a, a, b, b, a]                 # second half: b, b, a
    late = late_phase1([True, True, True, False, True, False], [0.9, 0.9, 0.9, 0.2, 0.6, 0.1], grids)
    assert late["phase1_late_likes"] == pytest.approx(1 / 3) and late["phase1_late_p_like"] == pytest.approx(0.3)
    assert late["phase1_late_distinct"] == 2
    assert late["phase1_late_grid_distance"] == pytest.approx((0 + 5 + 5) / 3)


def _capture_trainer(monkeypatch) -> list:
    from dd_live.learn.trainer import Trainer

    made, real = [], Trainer.__init__

    def spy(self, *a, **k):
        real(self, *a, **k)
        made.append(self)

    monkeypatch.setattr(Trainer, "__init__", spy)
    return made


def _changed(critic, initial) -> set[str]:
    start = initial.state_dict()
    return {k for k, v in critic.state_dict().items() if v.dtype.is_floating_point and not np.array_equal(
        v.detach().numpy(), start[k].detach().numpy())}


def test_protocol_from_the_papers_random_start_learns_every_weight(kit, monkeypatch):
    """The paper's way (random start, budget learning) trains every weight; a pretrained start (head
    learning) changes the output layer only and keeps the pretrained features."""
    made = _capture_trainer(monkeypatch)
    rep = run_protocol(lambda c: bool(c.pattern.hits[0, 0]), ratings=2, per_model=1, seed=1, library=kit, chains=2,
                       best_steps=1, init="random", temperature=0.5, best_temperature=1.0)
    assert rep["learn"] == "budget" and rep["temperature"] == 0.5 and rep["best_temperature"] == 1.0
    trainer = made[0]
    weights = {k for k, _ in trainer.critic.named_parameters()}
    assert weights - _changed(trainer.critic, trainer.initial_critic()) == set()

    made.clear()
    labels = iter([True, False])  # both kinds: a flat start's weights move only when there is a direction
    run_protocol(lambda c: next(labels) if c.origin == "phase1" else True, ratings=2, per_model=1, seed=1,
                 library=kit, chains=2, best_steps=1)
    trainer = made[0]
    out = trainer.critic.output_name()
    assert _changed(trainer.critic, trainer.initial_critic()) == {f"{out}.weight", f"{out}.bias"}


def test_a_raters_p_like_of_the_loops_served_is_reported(kit):
    asked = []

    class Dark(RATERS["dark"]):
        def __call__(self, candidate):
            asked.append(candidate)
            return super().__call__(candidate)

    rep = run_protocol(Dark(seed=4), ratings=4, per_model=1, seed=3, library=kit, chains=2, best_steps=1)
    served = [Dark().p_like(c) for c in asked[:4]]       # p_like is noise-free: any instance gives the same
    assert rep["phase1_p_like"] == [round(p, 4) for p in served]
    assert rep["phase1_late_p_like"] == pytest.approx(np.mean(served[2:]))


def test_protocol_rejects_a_bad_rater(kit):
    with pytest.raises(TypeError, match="True or False"):
        run_protocol(lambda c: "yes", ratings=1, per_model=1, library=kit, chains=2, best_steps=1)


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
