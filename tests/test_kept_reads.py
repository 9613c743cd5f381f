"""Group commits of votes keep what they read of the session and the poll while nothing of it
changes (`live.writer._Kept`, `live.store.Generation`): a change made anywhere - another server
process, the command line, a command in the same group commit - is seen by the next vote. On a
real SQLite file, the other process played by another connection to it."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from contextlib import closing

import pytest
from sqlalchemy import event

from live import realtime
from live.polls import service as polls
from live.polls.events import on_vote
from live.sessions import service as sessions
from live.writer import _Job


@pytest.fixture
def room(app, store, live, poll):
    with store.write() as db:
        live_session = sessions.get_session(db, live["id"])
        people = [sessions.join(db, live_session, f"device-{n}").id for n in range(6)]
        options = [o.id for o in polls.options_of(db, sessions.get_activity(db, live_session, poll))]
    app.extensions["palabre.writer"].batch_seconds = 60  # one commit, however slow the host
    return {"session": live["id"], "poll": poll, "people": people, "options": options,
            "file": store.engine.url.database}


def _vote(room, person: int, option: int) -> _Job:
    """A phone's vote as the socket door queues it."""
    conn = realtime.Connection(sid="t", session_id=room["session"], role="participant", locale="en",
                               participant_id=person)
    payload = {"cid": uuid.uuid4().hex[:16], "activity": room["poll"], "choice": option}
    return _Job(realtime.write_work(on_vote.__wrapped__, conn, payload, "vote"), threading.Event(),
                (conn.actor, payload["cid"]), batched=True)


def _commit(app, jobs: list[_Job]) -> list:
    """Run the jobs in one group commit: each one's answer, or its error's code."""
    with app.app_context():
        assert app.extensions["palabre.writer"]._commit(jobs) == len(jobs)
    return [job.result[1]["ok"] if job.error is None else getattr(job.error, "code", job.error)
            for job in jobs]


def _elsewhere(room, sql: str, *params) -> None:
    """A change made by another process (its own connection to the file, its own transaction)."""
    with closing(sqlite3.connect(room["file"], isolation_level=None)) as other:
        other.execute("PRAGMA foreign_keys=ON")
        other.execute("BEGIN IMMEDIATE")
        other.execute(sql, params)
        other.execute("COMMIT")


def test_the_next_group_commit_of_votes_reads_neither_the_session_nor_the_poll_again(app, store, room):
    people, options = room["people"], room["options"]
    first = [_vote(room, people[0], options[0]), _vote(room, people[1], options[1])]
    assert _commit(app, first) == [True, True]
    selects = []

    def trace(dbapi_connection, _record, _proxy):
        dbapi_connection.set_trace_callback(
            lambda sql: selects.append(sql) if sql.lstrip().upper().startswith("SELECT") else None)

    event.listen(store.engine, "checkout", trace)
    try:
        second = [_vote(room, people[2], options[2]), _vote(room, people[0], options[1])]
        assert _commit(app, second) == [True, True]
    finally:
        event.remove(store.engine, "checkout", trace)
    assert any("FROM generations" in sql for sql in selects), selects
    read_again = [sql for sql in selects if any(f"FROM {table}" in sql for table in
                                                 ("live_sessions", "activities", "options"))]
    assert read_again == []
    with store.read() as db:
        activity = sessions.get_activity(db, sessions.get_session(db, room["session"]), room["poll"])
        assert polls.tally(db, activity)["phone_total"] == 3


def test_a_poll_closed_by_another_process_refuses_the_next_vote(app, room):
    people, options = room["people"], room["options"]
    assert _commit(app, [_vote(room, people[0], options[0])]) == [True]
    _elsewhere(room, "UPDATE activities SET state = 'closed' WHERE id = ?", room["poll"])
    assert _commit(app, [_vote(room, people[1], options[0])]) == ["poll_closed"]
    _elsewhere(room, "UPDATE activities SET state = 'open' WHERE id = ?", room["poll"])
    assert _commit(app, [_vote(room, people[1], options[0])]) == [True]


def test_a_session_ended_by_another_process_refuses_the_next_vote(app, room):
    people, options = room["people"], room["options"]
    assert _commit(app, [_vote(room, people[0], options[0])]) == [True]
    _elsewhere(room, "UPDATE live_sessions SET state = 'ended' WHERE id = ?", room["session"])
    assert _commit(app, [_vote(room, people[1], options[0])]) == ["session_ended"]


def test_an_option_removed_by_another_process_is_no_longer_a_choice(app, room):
    people, options = room["people"], room["options"]
    assert _commit(app, [_vote(room, people[0], options[2])]) == [True]
    _elsewhere(room, "DELETE FROM options WHERE id = ?", options[2])
    assert _commit(app, [_vote(room, people[1], options[2]), _vote(room, people[2], options[1])]) == [
        "unknown_option", True]


def test_a_command_among_the_votes_is_seen_by_the_votes_after_it_and_by_the_next_commit(app, room):
    people, options, poll = room["people"], room["options"], room["poll"]
    assert _commit(app, [_vote(room, people[0], options[0])]) == [True]

    def close(db):
        sessions.apply_command(db, sessions.get_session(db, room["session"]), "close", poll)
        return None, {"ok": True}

    jobs = [_vote(room, people[1], options[0]), _Job(close, threading.Event()),
            _vote(room, people[2], options[0])]
    assert _commit(app, jobs) == [True, True, "poll_closed"]
    assert _commit(app, [_vote(room, people[3], options[0])]) == ["poll_closed"]


def test_nothing_is_kept_after_a_group_commit_that_failed(app, room, monkeypatch):
    """A commit that stored nothing (the disk full) keeps nothing of what it read: the next
    one reads everything again."""
    from live import writer as writer_module

    people, options = room["people"], room["options"]
    writer = app.extensions["palabre.writer"]
    assert _commit(app, [_vote(room, people[0], options[0])]) == [True]
    assert writer.kept.generation is not None and writer.kept.objects

    def full(_db, _pending):
        exc = sqlite3.OperationalError("database or disk is full")
        exc.sqlite_errorcode = 13  # SQLITE_FULL: the whole group commit is given up
        raise exc

    monkeypatch.setattr(writer_module, "_store_rows", full)
    jobs = [_vote(room, people[1], options[1])]
    with app.app_context():
        writer._commit(jobs)
    assert isinstance(jobs[0].error, sqlite3.OperationalError)
    assert writer.kept.generation is None and writer.kept.objects == ()
    monkeypatch.undo()
    assert _commit(app, [_vote(room, people[1], options[1])]) == [True]


def test_a_refused_vote_keeps_the_reads_of_the_others(app, room):
    """A vote refused by its checks (a choice the poll does not offer) changes nothing: the
    group commit is still one of votes alone, what it read is kept."""
    people, options = room["people"], room["options"]
    writer = app.extensions["palabre.writer"]
    assert _commit(app, [_vote(room, people[0], 10**6), _vote(room, people[1], options[0])]) == [
        "unknown_option", True]
    kept = {type(instance).__tablename__ for instance in writer.kept.objects}
    assert kept == {"live_sessions", "activities"} and writer.kept.reads
