"""When the phones are told a revealed tally (live/sessions/push.py, `Broadcaster._phones_due`).

The broadcaster's decision, on the application's own broadcaster and write queue: a tally owed
to the phones goes out once the counts have been still a moment, or once an interval has passed
since it was first owed; while votes wait in the write queue for their ack, that interval is
stretched (acks before tallies: 5,000-phone bursts whose phones got tallies in the middle ended
1.8-1.9 s after hidden ones). `tests/test_fanout.py` checks the rates through the real server.
"""

from __future__ import annotations

import time

from live.sessions.push import BUSY_STRETCH

KEY = (1, 1)  # (session, activity)


def _broadcaster(app, monkeypatch, queued: int):
    """The application's broadcaster, its write queue holding `queued` writes."""
    monkeypatch.setattr(app.extensions["palabre.writer"], "queued", lambda: queued)
    return app.extensions["palabre.broadcaster"]


def _owed(broadcaster, since: float, changed: float) -> None:
    broadcaster.owed[KEY] = since
    broadcaster.changed_at[KEY] = changed


def test_a_tally_still_changing_waits_an_interval_when_no_vote_waits(app, monkeypatch):
    broadcaster = _broadcaster(app, monkeypatch, queued=0)
    interval = broadcaster._phone_interval()
    since = 1000.0
    now = since + 0.9 * interval
    _owed(broadcaster, since, changed=now - 0.001)  # the counts changed just now
    assert not broadcaster._phones_due(KEY, since, now)
    now = since + 1.01 * interval
    broadcaster.changed_at[KEY] = now - 0.001
    assert broadcaster._phones_due(KEY, since, now)


def test_while_votes_wait_for_their_ack_a_changing_tally_waits_longer(app, monkeypatch):
    broadcaster = _broadcaster(app, monkeypatch, queued=37)
    interval = broadcaster._phone_interval()
    since = 1000.0
    for waited in (1.01 * interval, (BUSY_STRETCH - 0.01) * interval):
        broadcaster.changed_at[KEY] = since + waited - 0.001
        assert not broadcaster._phones_due(KEY, since, since + waited), waited
    # ... but not for ever: a tally that keeps changing still reaches the phones.
    now = since + (BUSY_STRETCH + 0.01) * interval
    broadcaster.changed_at[KEY] = now - 0.001
    assert broadcaster._phones_due(KEY, since, now)


def test_counts_that_stopped_changing_go_out_at_once_even_with_votes_waiting(app, monkeypatch):
    """Votes waiting in the queue (the database locked by another process, say) do not hold
    back a tally whose counts have been still: nothing newer is on its way to the screen."""
    broadcaster = _broadcaster(app, monkeypatch, queued=37)
    since = 1000.0
    now = since + broadcaster.phone_quiet() + 0.01
    _owed(broadcaster, since, changed=since)
    assert broadcaster._phones_due(KEY, since, now)


def test_a_tally_is_never_due_within_the_interval_of_the_last_one(app, monkeypatch):
    broadcaster = _broadcaster(app, monkeypatch, queued=0)
    interval = broadcaster._phone_interval()
    since = 1000.0
    broadcaster.last_participant_push[KEY[1]] = since + 0.5 * interval
    _owed(broadcaster, since, changed=since)
    assert not broadcaster._phones_due(KEY, since, since + 1.2 * interval)
    assert broadcaster._phones_due(KEY, since, since + 1.51 * interval)


def _commit_writes(app, monkeypatch, count: int) -> None:
    """`count` writes queued together, run by the application's write queue (one group commit)."""
    from live.sessions import service
    from live.writer import _Job

    writer = app.extensions["palabre.writer"]
    monkeypatch.setattr(writer, "batch_seconds", 60)  # one commit, however slow the host
    writer.jobs.extend(_Job(lambda db, n=n: service.create_event(db, f"crowd {n}").id,
                            writer.socketio.server.eio.create_event()) for n in range(count))
    with app.app_context():
        writer._drain_all()


def test_during_a_burst_a_changing_tally_waits_longer_though_the_queue_is_empty_for_a_moment(
        app, monkeypatch):
    """Between two group commits of a burst the queue is often empty (the loop is reading the
    next votes from the sockets): a commit of a crowd of writes keeps the tally waiting, a
    commit of a few (a steady stream) does not."""
    from live.writer import CROWD, CROWD_MEMORY

    broadcaster = _broadcaster(app, monkeypatch, queued=0)
    writer = app.extensions["palabre.writer"]
    interval = broadcaster._phone_interval()
    _commit_writes(app, monkeypatch, CROWD - 1)
    assert not writer.crowded()
    _commit_writes(app, monkeypatch, CROWD)
    assert writer.crowded()
    now = time.monotonic()
    since = now - 1.01 * interval
    _owed(broadcaster, since, changed=now - 0.001)  # still changing, an interval owed
    assert not broadcaster._phones_due(KEY, since, now)
    assert broadcaster._phones_due(KEY, now - (BUSY_STRETCH + 0.01) * interval, now)
    writer.crowded_at = now - CROWD_MEMORY - 0.01  # the burst is over: the crowd forgotten
    assert not writer.crowded() and broadcaster._phones_due(KEY, since, now)
