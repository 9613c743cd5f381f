"""One vote per participant per poll under concurrency, and idempotent replays.

One participant fires 20 votes at the same moment (20 different client ids and choices) in a
single-choice poll: exactly one vote row may remain. This is checked twice:

- through the real server (eventlet): 20 WebSocket clients sharing ONE cookie;
- through the service, from 20 threads with 20 separate `Store`s (so that no in-process lock
  serializes them: only SQLite does) on a real SQLite file.

The database constraint `uq_votes_one_per_participant` is what enforces it. Proof, kept in the
suite: the `*_without_the_constraint_*` tests rebuild the `votes` table without that constraint
(`support.drop_vote_uniqueness`) and run the same scenario, which then no longer yields "20 ok,
one row" (the vote's upsert names the constraint's columns, so every vote fails). Checked by hand
as well: with the constraint removed from `live/polls/model.py` and the 0001 migration in a
scratch copy of the repository, `test_twenty_votes_at_once_*` fail (every vote is refused with
`server_error`, "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from support import (
    drop_vote_uniqueness,
    join_cookie,
    new_cid,
    open_poll,
    prepare,
    query,
    server_room,
    sqlite_url,
)

VOTES = 20


def _choices(options: list[int]) -> list[int]:
    return [options[i % len(options)] for i in range(VOTES)]


def _vote_rows(setup) -> list[tuple]:
    return query(setup.database, "select participant_id, choice, changes from votes where activity_id = ?",
                 (setup.activity,))


# --- through the real server ---------------------------------------------------------------

def _twenty_sockets_one_cookie(room):
    """20 sockets of one participant (one cookie) vote at once; the burst and the vote rows."""
    cookie = join_cookie(room.url, room.setup.code)
    phones = room.join(VOTES, cookie=cookie)
    burst = room.burst(_choices(room.setup.options), phones, timeout=30)
    return burst, _vote_rows(room.setup)


@pytest.mark.server
def test_twenty_votes_at_once_through_the_server_keep_one_row(tmp_path):
    with server_room(tmp_path) as room:
        room.command("show")
        room.command("open")
        burst, rows = _twenty_sockets_one_cookie(room)

    assert burst.acked == VOTES
    assert all(ack["ok"] for ack in burst.acks), [ack for ack in burst.acks if not ack["ok"]][:3]
    assert len(rows) == 1, rows
    _participant, choice, changes = rows[0]
    assert changes == VOTES - 1  # the first vote inserted, the 19 others replaced it
    assert choice in {f"[{c}]" for c in _choices(room.setup.options)}


@pytest.mark.server
def test_without_the_constraint_the_server_no_longer_keeps_one_row(tmp_path):
    """The same scenario on a schema without `uq_votes_one_per_participant`: it breaks."""
    setup = prepare(tmp_path / "loose.db")
    drop_vote_uniqueness(setup.database)
    with server_room(tmp_path, setup=setup) as room:
        room.command("show")
        room.command("open")
        burst, rows = _twenty_sockets_one_cookie(room)

    outcome = (sum(1 for ack in burst.acks if ack and ack.get("ok")), len(rows))
    print(f"\nwithout the constraint: {outcome[0]} ok acks of {VOTES}, {outcome[1]} vote rows;"
          f" first ack: {burst.acks[0]}")
    assert outcome != (VOTES, 1)


@pytest.mark.server
def test_a_replayed_client_id_gets_the_same_ack_and_stores_nothing(tmp_path):
    """Same cid again (one socket or ten at once): same ack, no write; with another choice:
    refused, no write."""
    with server_room(tmp_path) as room:
        room.command("show")
        room.command("open")
        first, second, third = room.setup.options[:3]
        db, activity = room.setup.database, room.setup.activity
        phone = room.join(1)[0]

        payload = {"cid": new_cid(), "activity": activity, "choice": first}
        ack = phone.call("vote", payload, timeout=10)
        assert ack == {"ok": True, "activity": activity, "choice": [first]}
        acks_stored = query(db, "select count(*) from client_acks")
        row = "select id, choice, changes, updated_at from votes where activity_id = ?"
        vote = query(db, row, (activity,))

        assert phone.call("vote", payload, timeout=10) == ack
        reused = phone.call("vote", {**payload, "choice": second}, timeout=10)
        assert reused["ok"] is False and reused["error"]["code"] == "cid_reused", reused
        assert query(db, row, (activity,)) == vote
        assert query(db, "select count(*) from client_acks") == acks_stored

        # Ten sockets of the same participant send one new cid at the same moment.
        twins = room.join(10, cookie=room.cookies[0])
        replayed = {"cid": new_cid(), "activity": activity, "choice": third}
        results: list = [None] * len(twins)
        done = threading.Barrier(len(twins) + 1, timeout=30)

        def send(index, twin):
            def on_ack(data=None, *_rest):
                results[index] = data
                done.wait()
            twin.emit("vote", replayed, callback=on_ack)

        for index, twin in enumerate(twins):
            send(index, twin)
        done.wait()

        assert results == [{"ok": True, "activity": activity, "choice": [third]}] * len(twins)
        rows = query(db, "select choice, changes from votes where activity_id = ?", (activity,))
        assert rows == [(f"[{third}]", 1)]  # applied once
        assert query(db, "select count(*) from client_acks") == [(acks_stored[0][0] + 1,)]


# --- through the service, without the server ----------------------------------------------

@dataclass
class Outcome:
    """What 20 concurrent service-level votes gave."""

    ok: int
    errors: list[BaseException]
    rows: list[tuple]


def _twenty_threads(setup) -> Outcome:
    """20 threads, each with its own Store (own engine, own write lock), vote at once."""
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store

    url = sqlite_url(setup.database)
    stores = [Store(url) for _ in range(VOTES)]
    with stores[0].write() as db:
        sessions.join(db, sessions.get_session(db, setup.session_id), "one-phone")
    choices = _choices(setup.options)
    start = threading.Barrier(VOTES, timeout=30)
    results: list = [None] * VOTES

    def vote(index: int) -> None:
        start.wait()
        try:
            with stores[index].write() as db:
                live_session = sessions.get_session(db, setup.session_id)
                person = sessions.join(db, live_session, "one-phone")
                activity = sessions.get_activity(db, live_session, setup.activity)
                polls.vote(db, live_session, activity, person, choices[index], f"cid-{index}")
            results[index] = True
        except Exception as exc:  # noqa: BLE001 - collected and reported by the test
            results[index] = exc

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(VOTES)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads), "a voting thread is stuck"
    finally:
        for store in stores:
            store.dispose()
    rows = _vote_rows(setup)
    return Outcome(sum(1 for r in results if r is True), [r for r in results if r is not True], rows)


def test_twenty_votes_at_once_through_the_service_keep_one_row(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)

    outcome = _twenty_threads(setup)

    assert outcome.errors == []
    assert outcome.ok == VOTES
    assert len(outcome.rows) == 1, outcome.rows
    assert outcome.rows[0][2] == VOTES - 1


def test_without_the_constraint_the_service_no_longer_keeps_one_row(tmp_path):
    """Same scenario, schema without `uq_votes_one_per_participant`: not "20 ok, one row"."""
    setup = prepare(tmp_path / "loose.db")
    drop_vote_uniqueness(setup.database)
    open_poll(setup)

    outcome = _twenty_threads(setup)

    print(f"\nwithout the constraint: {outcome.ok} ok of {VOTES}, {len(outcome.rows)} rows;"
          f" errors: {sorted({str(e).splitlines()[0] for e in outcome.errors})}")
    assert (outcome.ok, len(outcome.rows)) != (VOTES, 1)
