"""The daemon's workers: the gate between trainer and generator, the generator's density prior and
hold-off, the trainer's rounds."""

from __future__ import annotations

import copy
import threading
import time

import numpy as np
import pytest
import torch

from dd_live.session.session import Session
from dd_live.worker import Gate


def test_gate_lets_the_generator_in_between_training_chunks():
    gate = Gate()
    order = []
    gate.acquire(high=False)
    t = threading.Thread(target=lambda: (gate.acquire(high=True), order.append("gen"), gate.release()))
    t.start()
    while not gate._waiting_high:
        pass
    order.append("train-chunk")
    gate.yield_to_high()
    order.append("train-chunk")
    gate.release()
    t.join(5)
    assert order == ["train-chunk", "gen", "train-chunk"]


def test_density_prior_sets_the_mean_density_under_a_flat_critic(small_lib):
    from dd_live.learn.sampler import Chains

    class Flat:
        def __call__(self, hits, idx):
            return np.full(hits.shape[0], 0.5)

    for p in (0.2, 0.75):
        ch = Chains(small_lib, Flat(), n=64, rng=np.random.default_rng(0), density=0.5)
        ch.density = p
        ch.run(400)
        dens = []
        for _ in range(100):
            ch.run(5)
            dens.append(ch.hits.mean())
        assert np.mean(dens) == pytest.approx(p, abs=0.03)


def test_generator_holds_off_while_a_new_critic_is_coming(small_lib, tmp_path):
    """While training runs the generator keeps one ready loop, not a full queue from the outgoing critic;
    when the trainer goes idle it fills the queue again."""
    import time

    from dd_live.learn.critic import Critic
    from dd_live.live.generator import GeneratorWorker
    from dd_live.session.settings import LiveSettings

    training = threading.Event()
    session = Session(tmp_path / "s")
    gen = GeneratorWorker(small_lib, session, Critic(), gate=Gate(), settings=LiveSettings(),
                          rng=np.random.default_rng(0), chains=4, queue_size=3, hold_off=training.is_set)

    def wait_for(cond, timeout=60.0):
        end = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < end, "timed out"
            time.sleep(0.01)

    gen.start()
    try:
        wait_for(lambda: gen.ready_count() == 3)
        training.set()
        made = gen._made
        assert gen.take() is not None and gen.take() is not None
        time.sleep(1.0)
        assert gen.ready_count() == 1 and gen._made == made      # one ready loop is enough meanwhile
        assert gen.take() is not None
        wait_for(lambda: gen.ready_count() == 1)                  # but never none
        training.clear()
        gen.wake()
        wait_for(lambda: gen.ready_count() == 3)
        assert not gen.wait_for_version(1, timeout=0.05)
        gen.set_critic(Critic(), 1, 1)                            # a new critic: its first loop comes at once
        assert gen.wait_for_version(1, timeout=60)
        assert gen.take().version == 1
    finally:
        gen.stop()
        gen.join(10)
        session.close()
    assert not gen.is_alive() and gen.error is None


def _trainer_worker(tmp_path, rng, *, stale_after: float, learn: str = "budget", candidates: int = 2):
    """A TrainerWorker on a session with ``candidates`` candidates (noise for audio) whose training rounds call
    ``worker.hook`` once, at their first pause; the worker's thread is not started."""
    from dd_live.sound.audio import write_wav
    from dd_live.learn.critic import Critic
    from dd_live.learn.trainer import TrainConfig, Trainer
    from dd_live.live.trainer_worker import TrainerWorker

    session = Session(tmp_path / "s")
    for cid in range(1, candidates + 1):
        session.add_candidate(cid, "{}", 0.5, 0, 0, 120.0, "explore")
        session.candidate_dir(cid).mkdir(parents=True, exist_ok=True)
        write_wav(session.candidate_dir(cid) / "critic.wav", rng.normal(0, 0.1, 88200).astype(np.float32), bits=32)

    class Hooked(Trainer):
        def train(self, batches=None, *, between=None, every=8):
            def pause():
                hook, worker.hook = worker.hook, None
                if hook:
                    hook()
                between()
            return super().train(batches, between=pause, every=1)

    published, idle = [], []
    worker = TrainerWorker(Hooked(Critic(), TrainConfig(batches=4, learn=learn)), session, None, gate=Gate(),
                           publish=lambda critic, version, trained_on, loss: published.append(trained_on),
                           on_idle=lambda: idle.append(True))
    worker.max_stale_s = stale_after
    worker.hook = None
    return worker, session, published, idle


@pytest.mark.parametrize("stale_after, expected", [(60.0, [2, 2]), (0.0, [1, 2])])
def test_trainer_cuts_a_round_short_for_a_newer_rating_unless_its_critic_is_stale(tmp_path, rng, stale_after,
                                                                                   expected):
    """A click during the round that trains on the click before it: that round gives way and the next
    critic published has heard both (then the second budget is paid); but when the last critic
    published is older than max_stale_s, the round finishes and publishes first."""
    worker, session, published, idle = _trainer_worker(tmp_path, rng, stale_after=stale_after)
    try:
        session.rate(1, True)
        worker.sync()

        def second_click():
            session.rate(2, False)
            worker.sync()

        worker.hook = second_click
        worker._catch_up()
        assert published == expected
        assert worker.dataset == [(1, True), (2, False)] and worker.trainer.labels == [True, False]
        assert worker.trainer.rounds == len(expected)      # a cut round's budget is paid again
        worker._settled()
        assert not worker.busy.is_set() and idle
    finally:
        session.close()


def test_a_head_learning_trainer_fits_once_per_change_and_owes_nothing(tmp_path, rng):
    """With learn="head" a fit on all ratings so far is all a rating is owed: two clicks, one fit."""
    worker, session, published, idle = _trainer_worker(tmp_path, rng, stale_after=60.0, learn="head")
    try:
        session.rate(1, True)
        session.rate(2, False)
        worker.sync()
        worker._catch_up()
        assert published == [2] and worker.trainer.rounds == 1
        session.rate(2, True)                                   # a label replaced: one more fit
        worker.sync()
        worker._catch_up()
        assert published == [2, 2] and worker.trainer.labels == [True, True]
    finally:
        session.close()


def test_a_head_trainer_keeps_no_rated_loops_mfccs_and_a_restart_embeds_them_in_the_background(tmp_path, rng,
                                                                                              small_lib):
    """The daemon's trainer lets each rated loop's MFCCs go once embedded (they are made again from the stored
    pattern when needed); after a restart the rated loops are embedded on the trainer's thread,
    not at start but in the background, and the fit is the one before the restart."""
    worker, session, published, idle = _trainer_worker(tmp_path, rng, stale_after=60.0, learn="head")
    worker.library = small_lib                                  # the reference loops the head is standardised over
    try:
        worker.load_features()                                  # as the daemon does before it starts the worker
        session.rate(1, True)
        session.rate(2, False)
        worker.sync()
        worker._catch_up()
        assert worker.trainer.held_features == 0 and worker.trainer.feats == [None, None]
        before = worker.trainer.critic.output().weight.detach().clone()
        worker.trainer.critic.output().weight.data.zero_()
        worker.load_features()                                  # a restart: nothing made yet
        assert worker.trainer.held_features == 0 and worker.trainer.pending == 2
        worker.start()                                          # ... then embedded while nobody clicks
        deadline = time.monotonic() + 30
        while worker.trainer.pending and time.monotonic() < deadline:
            time.sleep(0.02)
        worker.stop()
        worker.join()
        assert worker.trainer.pending == 0 and worker.trainer.held_features == 0
        worker.trainer.train()
        assert torch.allclose(worker.trainer.critic.output().weight, before, atol=1e-6)
        assert worker.trainer.held_features == 0
    finally:
        session.close()


def test_a_head_trainer_rewinds_undos_and_redos_with_one_fit_keeping_what_it_embedded(tmp_path, rng):
    """Undos beyond the kept training states, and redos that put a rating back in its place: a head's fit depends
    on the ratings alone, so each change is one fit on the rows kept (their embeddings kept) and the ones brought
    back (made again), the same fit a trainer new to those ratings makes."""
    from dd_live.learn.trainer import Trainer

    worker, session, published, _ = _trainer_worker(tmp_path, rng, stale_after=60.0, learn="head", candidates=6)
    made = []
    features = worker._features
    worker._features = lambda cids: made.extend(cids) or features(cids)
    worker.trainer.remake = worker._features
    try:
        for cid in range(1, 7):
            session.rate(cid, cid % 2 == 0)
            worker._catch_up()
        session.rate(2, False)
        worker._catch_up()
        assert len(published) == 7
        made.clear()
        for _ in range(2):
            session.undo()                               # 2 (rated again last), then 6
        worker._catch_up()
        assert worker.dataset == session.ratings() == [(1, False), (3, False), (4, True), (5, False)]
        assert len(published) == 8 and made == [] and worker.trainer.labels == [False, False, True, False]
        session.redo()                                   # 6: at the end
        worker._catch_up()
        session.redo()                                   # 2: back in its place
        worker._catch_up()
        assert worker.dataset == session.ratings() and [c for c, _ in worker.dataset] == [1, 2, 3, 4, 5, 6]
        assert len(published) == 10 and made == [6, 2] and worker.trainer.held_features == 0
        fresh = Trainer(copy.deepcopy(worker.trainer.critic), worker.trainer.config)
        for f, (_, like) in zip(features([c for c, _ in worker.dataset]), worker.dataset):
            fresh.add(f, like)
        fresh.train()
        assert torch.allclose(fresh.critic.output().weight, worker.trainer.critic.output().weight, atol=1e-5)
    finally:
        session.close()


def test_every_part_of_a_daemon_has_one_lifecycle_and_its_close_releases_and_can_be_repeated(daemon):
    """Every part the daemon owns is a Part; after stop and join each has ended, its sockets and ports are
    released, and closing again (a second Ctrl-C, a supervisor racing the exit) is harmless."""
    from dd_live.testing.harness import stop_daemon
    from dd_live.worker import Part

    d, c = daemon(web_port=0)
    assert c.wait("/dd/status") is not None
    parts = d.workers
    assert len(parts) >= 7 and all(isinstance(p, Part) for p in parts), [p for p in parts if not isinstance(p, Part)]
    assert {p.name for p in parts} >= {"dd-supervisor", "dd-osc", "dd-trainer", "dd-generator", "dd-web", "dd-song"}
    stop_daemon(d, c)
    assert not any(p.is_alive() for p in parts)
    assert d.server._sock is None and d.web._sock is None               # released by the daemon's join
    for p in parts:
        p.close()
        p.close()
    assert all(p.error is None for p in parts)


@pytest.mark.parametrize("learn", ["head", "budget"])
def test_every_rating_undone_beyond_the_kept_states_publishes_the_critic_as_it_started(tmp_path, rng, learn):
    worker, session, published, _ = _trainer_worker(tmp_path, rng, stale_after=60.0, learn=learn, candidates=6)
    try:
        start = copy.deepcopy(worker.trainer.critic.state_dict())
        for cid in range(1, 7):
            session.rate(cid, cid % 2 == 0)
            worker._catch_up()
        n = len(published)
        while session.undo() is not None:
            pass
        worker._catch_up()
        assert worker.dataset == [] and len(published) == n + 1 and published[-1] == 0
        now = worker.trainer.critic.state_dict()
        assert all(torch.equal(start[k], now[k]) for k in start)
    finally:
        session.close()
