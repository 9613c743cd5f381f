"""The screen's counts with several processes: a process refused the push slot comes back when
the slot ends, not at its own next tick (live/sessions/push.py, live/cluster.py `claim`).

Each aggregate goes out once per interval for the whole room: the process that pushes takes a
slot in Redis for the interval (`SET NX PX`). A process whose votes came just after that push
used to try again at its next tick, up to an interval after the slot had ended: with two
processes the screen got 7.5 pushes a second instead of 10 (`python -m bench load --scenario
steady --processes 2`). `tests/test_multiprocess.py` checks the rate through nginx and Redis.
"""

from __future__ import annotations

import time

from multiprocess import Redis
from support import wait_until

from live.loops import Loop
from live.realtime import socketio

KEY = (1, 1)  # (session, activity)


def test_a_refused_slot_says_when_it_ends_and_is_granted_then(tmp_path):
    """Through a real Redis, as two processes see it."""
    from live import cluster

    redis = Redis(tmp_path).start()
    try:
        first, second = cluster.Slots(redis.url), cluster.Slots(redis.url)
        assert first.claim("results:7", 0.4) == 0.0
        left = second.claim("results:7", 0.4)
        assert 0.0 < left <= 0.4
        assert 0.0 < first.claim("results:7", 0.4) <= left  # the holder too waits for its end
        assert second.claim("results:8", 0.4) == 0.0  # another activity has its own slot
        time.sleep(left + 0.02)
        assert second.claim("results:7", 0.4) == 0.0
        assert 0.0 < first.claim("results:7", 0.4) <= 0.4
        redis.stop()  # Redis gone: each process keeps the pace on its own
        assert first.claim("results:7", 0.4) == 0.0
        assert 0.0 < first.claim("results:7", 0.4) <= 0.4
    finally:
        redis.stop()


def test_counts_refused_their_slot_are_pushed_when_it_ends(app, monkeypatch):
    broadcaster = app.extensions["palabre.broadcaster"]
    pushed = []
    monkeypatch.setattr(broadcaster, "_push", lambda session_id, activity_id: pushed.append(activity_id))
    monkeypatch.setattr(broadcaster, "_claim",
                        lambda key, seconds: 0.04 if key.startswith("results:") else 0.0)
    broadcaster.dirty.add(KEY)
    before = time.monotonic()
    broadcaster._push_pending()
    assert pushed == []  # another process pushed these counts this interval
    assert KEY in broadcaster.dirty  # still to push ...
    assert before < broadcaster.loop.next_at <= time.monotonic() + 0.04  # ... when its slot ends
    assert broadcaster.loop.next_at < before + app.config["PUSH_INTERVAL"]
    monkeypatch.setattr(broadcaster, "_claim", lambda key, seconds: 0.0)
    broadcaster._push_pending()
    assert pushed == [KEY[1]] and not broadcaster.dirty


def test_a_cadence_loop_woken_in_a_moment_steps_then_and_keeps_its_cadence_after(app):
    steps = []

    def step():
        steps.append(time.monotonic())
        if len(steps) == 1:
            loop.wake_in(0.05)  # what a refused slot asks

    loop = Loop("test-wake-in", socketio, step, lambda: 30.0, cadence=True)
    try:
        loop.start()
        assert wait_until(lambda: len(steps) >= 2, 10), "the step asked for came an interval (30 s) later"
        assert steps[1] - steps[0] >= 0.05
        time.sleep(0.3)
        assert len(steps) == 2  # then the interval again (30 s), not a step per pause
    finally:
        loop.stop()
