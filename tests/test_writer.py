"""The group-commit write queue: refused jobs spoil nothing, results come after the commit."""

import threading

import pytest

from live.errors import DomainError
from live.sessions import service
from live.sessions.model import Event


def test_a_refused_job_leaves_the_rest_of_its_batch_stored(app, store):
    writer = app.extensions["palabre.writer"]
    results, errors = {}, {}

    def job(n):
        def work(db):
            if n == 3:
                service.create_event(db, "will be rolled back")
                raise DomainError("bad_date")
            return service.create_event(db, f"event {n}").id
        try:
            results[n] = writer.run(work)
        except DomainError as exc:
            errors[n] = exc.code

    threads = [threading.Thread(target=job, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == {3: "bad_date"}
    with store.read() as db:
        titles = sorted(e.title for e in db.query(Event))
    assert titles == sorted(f"event {n}" for n in range(8) if n != 3)


def test_unexpected_errors_reach_the_caller(app):
    def work(db):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        app.extensions["palabre.writer"].run(work)


def test_jobs_run_with_the_app_context(app):
    from flask import current_app

    writer = app.extensions["palabre.writer"]
    assert writer.run(lambda db: current_app.config["SECRET_KEY"]) == "test-secret-key"


def _replayable(live, fail_after_storing: bool = False):
    """A job as the socket door makes it: answer a replayed client id as the first time."""
    from live import acks

    actor = f"f{live['id']}"

    def work(db):
        prior = acks.previous(db, actor, "same-id", "command", "digest")
        if prior is not None:
            return "replay", prior
        acks.remember(db, actor, "same-id", "command", {"ok": True}, live["id"], None, "digest")
        if fail_after_storing:
            raise DomainError("bad_date")  # its savepoint is rolled back: nothing of it stored
        return "first", None
    return work, (actor, "same-id")


def test_a_client_id_sent_twice_in_one_group_commit_is_stored_once_and_answered_the_same(app, store, live,
                                                                                        monkeypatch):
    """The acks of a group commit are read in one query; an id repeated inside the same group
    commit is still answered as the first time, and a rolled-back first one is not an answer."""
    from live.acks import ClientAck
    from live.writer import _Job

    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)  # one commit, however slow

    writer = app.extensions["palabre.writer"]
    failing, key = _replayable(live, fail_after_storing=True)
    working, _key = _replayable(live)
    jobs = [_Job(failing, threading.Event(), key), _Job(working, threading.Event(), key),
            _Job(working, threading.Event(), key)]
    with app.app_context():
        assert writer._commit(jobs) == 3
    assert isinstance(jobs[0].error, DomainError)
    assert [job.result for job in jobs[1:]] == [("first", None), ("replay", {"ok": True})]
    with store.read() as db:
        assert db.query(ClientAck).filter_by(client_id="same-id").count() == 1


# --- votes of a group commit: one multi-row statement per table ------------------------------

def _vote_job(live, poll, participant_id, cid, option, batched=True):
    """A vote as the socket door makes it (`realtime._run`): a replay answered as the first
    time, else the vote and its ack, both deferred to the group commit's multi-row statements."""
    from live import acks
    from live.polls import operations
    from live.sessions.model import Participant
    from live.writer import _Job

    actor, payload = f"p{participant_id}", {"cid": cid, "activity": poll, "choice": option}
    sent = acks.digest(payload)

    def work(db):
        prior = acks.previous(db, actor, cid, "vote", sent)
        if prior is not None:
            return "replay", prior
        live_session = service.get_session(db, live["id"])
        activity = service.get_activity(db, live_session, poll)
        stored, _changed = operations.vote(db, live_session, activity, db.get(Participant, participant_id),
                                           option, cid)
        answer = {"ok": True, "activity": poll, "choice": stored}
        acks.remember(db, actor, cid, "vote", answer, live["id"], participant_id, sent)
        return "first", answer
    return _Job(work, threading.Event(), (actor, cid), batched)


def _voters(store, live, poll, count):
    from live.polls import service as polls

    with store.write() as db:
        live_session = service.get_session(db, live["id"])
        people = [service.join(db, live_session, f"device-{n}").id for n in range(count)]
        options = [o.id for o in polls.options_of(db, service.get_activity(db, live_session, poll))]
    return people, options


def _stored_votes(store, poll):
    from live.polls.model import Vote

    with store.read() as db:
        return {v.participant_id: (v.choice, v.changes) for v in db.query(Vote).filter_by(activity_id=poll)}


def test_the_votes_of_a_group_commit_share_one_statement_and_each_gets_its_own_answer(app, store, live, poll,
                                                                                       monkeypatch):
    from sqlalchemy import event

    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)  # one commit, however slow

    from live.acks import ClientAck

    people, options = _voters(store, live, poll, 4)
    jobs = [_vote_job(live, poll, person, f"c{n}", options[n % 2]) for n, person in enumerate(people)]
    jobs.append(_vote_job(live, poll, people[0], "c-again", options[2]))  # changes its vote
    jobs.append(_vote_job(live, poll, people[1], "c1", options[1]))  # a replay of c1
    inserts = []
    sqlite = store.engine.dialect.name == "sqlite"
    if sqlite:  # what SQLite itself runs (the rows go to the driver's cursor, `store.write_rows`)
        def trace(dbapi_connection, _record, _proxy):
            dbapi_connection.set_trace_callback(
                lambda sql: inserts.append(sql) if sql.lstrip().startswith("INSERT") else None)
        hook = "checkout"
    else:  # PostgreSQL: through SQLAlchemy's execution (one event per statement, executemany too)
        def trace(*args):
            if args[2].lstrip().startswith("INSERT"):
                inserts.append(args[2])
        hook = "before_cursor_execute"
    event.listen(store.engine, hook, trace)
    with app.app_context():
        assert app.extensions["palabre.writer"]._commit(jobs) == len(jobs)
    event.remove(store.engine, hook, trace)
    assert [job.error for job in jobs] == [None] * len(jobs)
    assert [job.result[0] for job in jobs] == ["first"] * 5 + ["replay"]
    assert jobs[-1].result[1] == jobs[1].result[1]
    acks_inserts = [sql for sql in inserts if "INTO client_acks" in sql]
    vote_upserts = [sql for sql in inserts if "INTO votes" in sql]
    if sqlite:
        # The five acks in multi-row statements of 2^k rows (4 and 1), each once; one prepared
        # upsert run for each vote, in two rounds: first a row for each participant, then the
        # second vote of the participant who voted twice (one upsert cannot touch a row twice).
        assert sorted(sql.count("), (") + 1 for sql in acks_inserts) == [1, 4], acks_inserts
        every = " ".join(acks_inserts)
        assert all(every.count(f"'{cid}'") == 1 for cid in ("c0", "c1", "c2", "c3", "c-again")), acks_inserts
        assert len(vote_upserts) == 5 and len(inserts) == 7, inserts
        assert "'c-again'" in vote_upserts[-1], vote_upserts
    else:
        # One statement for the acks, one for the votes, a second one for the participant who
        # voted twice (one upsert cannot touch a row twice).
        assert (len(acks_inserts), len(vote_upserts)) == (1, 2), inserts
    assert _stored_votes(store, poll) == {people[0]: ([options[2]], 1), people[1]: ([options[1]], 0),
                                          people[2]: ([options[0]], 0), people[3]: ([options[1]], 0)}
    with store.read() as db:
        assert db.query(ClientAck).count() == 5


def test_a_vote_whose_id_another_process_answered_meanwhile_gets_that_answer(app, store, live, poll,
                                                                             monkeypatch):
    """Two processes (PostgreSQL) may take the same client id at once (a phone resending on its
    new socket): the group commit that finds its ack already stored stores nothing of that vote
    and answers it as the first time; the other votes of the statement are stored."""
    from live import acks

    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)
    people, options = _voters(store, live, poll, 3)
    with app.app_context():
        app.extensions["palabre.writer"]._commit([_vote_job(live, poll, people[1], "c1", options[0])])
    # This group commit read the acks before the other process stored c1's.
    monkeypatch.setattr(acks, "prefetch", lambda db, keys: db.info.setdefault(
        acks._CHECKED, set()).update(keys) or db.info.setdefault(acks._KNOWN, {}))
    jobs = [_vote_job(live, poll, people[0], "c0", options[1]),
            _vote_job(live, poll, people[1], "c1", options[0]),
            _vote_job(live, poll, people[2], "c2", options[2])]
    with app.app_context():
        app.extensions["palabre.writer"]._commit(jobs)
    assert [job.error for job in jobs] == [None] * 3
    assert [job.result[0] for job in jobs] == ["first", "replay", "first"]
    assert jobs[1].result[1]["choice"] == [options[0]]
    assert _stored_votes(store, poll) == {people[0]: ([options[1]], 0), people[1]: ([options[0]], 0),
                                          people[2]: ([options[2]], 0)}


def test_a_refused_row_fails_its_own_vote_only(app, store, live, poll, monkeypatch):
    """A row the database refuses in the multi-row statement (here a vote of a participant who
    does not exist: a foreign key) fails its own write; the others are stored and acked."""
    from live import acks
    from live.acks import ClientAck
    from live.polls import service as polls
    from live.store import utcnow, write_row
    from live.writer import _Job

    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)
    people, options = _voters(store, live, poll, 2)

    def ghost(db):
        write_row(db, polls._upsert(db.bind.dialect.name), {
            "activity_id": poll, "participant_id": 10**6, "choice": [options[0]], "client_id": "g",
            "changes": 0, "created_at": utcnow(), "updated_at": utcnow()}, unique=(poll, 10**6))
        acks.remember(db, "p1000000", "g", "vote", {"ok": True}, live["id"], None, "digest")
        return "first", {"ok": True}

    jobs = [_vote_job(live, poll, people[0], "c0", options[0]),
            _Job(ghost, threading.Event(), ("p1000000", "g"), True),
            _vote_job(live, poll, people[1], "c1", options[1])]
    with app.app_context():
        app.extensions["palabre.writer"]._commit(jobs)
    assert jobs[0].error is None and jobs[2].error is None
    assert jobs[1].error is not None and jobs[1].result is None
    assert _stored_votes(store, poll) == {people[0]: ([options[0]], 0), people[1]: ([options[1]], 0)}
    with store.read() as db:
        assert sorted(a.client_id for a in db.query(ClientAck)) == ["c0", "c1"]


def test_a_write_run_on_its_own_sees_the_votes_queued_before_it(app, store, live, poll, monkeypatch):
    """A write that is not a vote (a command, a word...) runs after the votes queued before it
    are stored and before those queued after it, as if each had been stored alone."""
    from live.polls import service as polls
    from live.writer import _Job

    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)
    people, options = _voters(store, live, poll, 2)

    def count(db):
        return polls.vote_count(db, service.get_activity(db, service.get_session(db, live["id"]), poll))

    jobs = [_vote_job(live, poll, people[0], "c0", options[0]), _Job(count, threading.Event()),
            _vote_job(live, poll, people[1], "c1", options[1]), _Job(count, threading.Event())]
    with app.app_context():
        app.extensions["palabre.writer"]._commit(jobs)
    assert [job.error for job in jobs] == [None] * 4
    assert [jobs[1].result, jobs[3].result] == [1, 2]


def test_a_burst_of_200_writes_queued_together_is_stored_in_one_group_commit(app, store, monkeypatch):
    """A hall voting at one instant: the writes waiting together share one commit (and its
    fixed cost), not one per 64; each is stored and woken."""
    from live.writer import _Job

    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)  # one commit, however slow
    writer = app.extensions["palabre.writer"]
    jobs = [_Job(lambda db, n=n: service.create_event(db, f"burst {n}").id,
                 writer.socketio.server.eio.create_event()) for n in range(200)]
    writer.jobs.extend(jobs)
    before = writer.commits
    with app.app_context():
        writer._drain_all()
    assert writer.commits - before == 1
    assert all(job.done.is_set() and job.error is None for job in jobs)
    with store.read() as db:
        assert db.query(Event).filter(Event.title.like("burst %")).count() == 200


# --- votes and commands in one group commit: each vote sees what the writes before it left ---

def _in_one_group_commit(app, store, sends) -> list:
    """Queue `sends` (each a call through the socket door, or a write of the queue, waiting for
    its answer) in this order, all in one group commit; their answers. The group commit waits
    for the store's write lock, held until every write is queued."""
    from support import wait_until

    writer = app.extensions["palabre.writer"]
    answers: list = [None] * len(sends)

    def send(index):
        try:
            answers[index] = sends[index]()
        except Exception as exc:  # noqa: BLE001 - a refused write of the queue: its error is the answer
            answers[index] = exc

    threads = []
    before = writer.commits
    with store._write_lock:
        for index in range(len(sends)):
            threads.append(threading.Thread(target=send, args=(index,)))
            threads[-1].start()
            assert wait_until(lambda n=index + 1: len(writer.jobs) == n, timeout=10)
    for thread in threads:
        thread.join(30)
    assert writer.commits - before == 1  # one group commit took them all
    return answers


def _vote(sock, poll, choice):
    from conftest import cid
    return lambda: sock.emit("vote", {"cid": cid(), "activity": poll, "choice": choice}, callback=True)


def _command(sock, action, activity):
    from conftest import cid
    return lambda: sock.emit("command", {"cid": cid(), "action": action, "activity": activity}, callback=True)


def _french_phone(app, live):
    from live.realtime import socketio

    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    return socketio.test_client(app, auth={"code": live["code"], "lang": "fr"}, flask_test_client=browser)


def _poll_options(store, live, poll):
    from live.polls import service as polls

    with store.read() as db:
        activity = service.get_activity(db, service.get_session(db, live["id"]), poll)
        return [o.id for o in polls.options_of(db, activity)]


def _stored(store, poll) -> list:
    from live.polls.model import Vote

    with store.read() as db:
        return sorted(v.choice for v in db.query(Vote).filter_by(activity_id=poll))


def _codes(answers) -> list:
    return ["ok" if a["ok"] else a["error"]["code"] for a in answers]


def test_votes_after_a_close_in_their_group_commit_are_refused_and_after_a_reopen_taken(
        app, store, live, poll, phone, staff, monkeypatch):
    """A burst's votes share their reads of the session and the poll; a close sent amid them is
    seen by every vote after it (refused in its phone's language, not stored), and so is the
    reopening after that, as when each vote was stored alone."""
    from live.i18n import message

    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)  # one commit, however slow
    a, b, c = _poll_options(store, live, poll)
    phones, french, facilitator = [phone() for _ in range(3)], _french_phone(app, live), staff("facilitator")
    answers = _in_one_group_commit(app, store, [
        _vote(phones[0], poll, a), _vote(phones[1], poll, b),
        _command(facilitator, "close", poll),
        _vote(phones[2], poll, c), _vote(phones[0], poll, c), _vote(french, poll, a),
        _command(facilitator, "open", poll),
        _vote(phones[2], poll, b),
    ])
    assert _codes(answers) == ["ok", "ok", "ok", "poll_closed", "poll_closed", "poll_closed", "ok", "ok"]
    with app.app_context():
        assert answers[5]["error"]["message"] == message("poll_closed", "fr") != message("poll_closed", "en")
    assert _stored(store, poll) == sorted([[a], [b], [b]])


def test_votes_after_the_session_ended_in_their_group_commit_are_refused(app, store, live, poll, phone, staff,
                                                                          monkeypatch):
    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)
    a, b, _c = _poll_options(store, live, poll)
    phones, facilitator = [phone() for _ in range(2)], staff("facilitator")
    answers = _in_one_group_commit(app, store, [
        _vote(phones[0], poll, a), _command(facilitator, "end", None), _vote(phones[1], poll, b)])
    assert _codes(answers) == ["ok", "ok", "session_ended"]
    assert _stored(store, poll) == [[a]]


def test_a_vote_after_its_poll_was_deleted_in_the_same_group_commit_finds_no_poll(
        app, store, live, poll, phone, monkeypatch):
    """The poll a vote read earlier in the group commit (here a refused one) is deleted by a write
    queued after it: the next vote is told there is no such poll (not that it is closed)."""
    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)
    a, _b, _c = _poll_options(store, live, poll)
    writer = app.extensions["palabre.writer"]
    sock = phone()

    def close_and_delete(db):
        live_session = service.get_session(db, live["id"])
        service.apply_command(db, live_session, "close", poll)
        service.delete_activity(db, live_session, service.get_activity(db, live_session, poll))

    answers = _in_one_group_commit(app, store, [
        _vote(sock, poll, 424242), lambda: writer.run(close_and_delete), _vote(sock, poll, a)])
    assert answers[1] is None
    assert _codes([answers[0], answers[2]]) == ["unknown_option", "activity_not_found"]


def test_a_vote_after_its_poll_changed_options_in_the_same_group_commit_uses_the_new_ones(
        app, store, live, poll, phone, monkeypatch):
    """The options a vote checked earlier in the group commit are replaced by a write queued
    after it (the poll edited before anyone voted): the next votes are checked against the new."""
    from conftest import add_poll

    from live.polls import service as polls
    from live.polls.model import Option

    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)
    add_poll(store, live["id"])  # options after the poll's: its new ones cannot take its old ids
    old = _poll_options(store, live, poll)
    with store.read() as db:
        first_new = max(o.id for o in db.query(Option)) + 1  # the id the edit gives its first option
    writer = app.extensions["palabre.writer"]
    sock = phone()

    def edit(db):
        live_session = service.get_session(db, live["id"])
        activity = service.get_activity(db, live_session, poll)
        polls.update_poll(db, live_session, activity, "Autre ?", ["Rouge", "Vert"])

    answers = _in_one_group_commit(app, store, [
        _vote(sock, poll, 424242), lambda: writer.run(edit),
        _vote(sock, poll, old[0]), _vote(sock, poll, first_new)])
    assert _codes([answers[0], answers[2], answers[3]]) == ["unknown_option", "unknown_option", "ok"]
    assert _poll_options(store, live, poll) == [first_new, first_new + 1]
    assert _stored(store, poll) == [[first_new]]


def test_a_vote_after_its_participant_was_removed_in_the_same_group_commit_is_not_stored(
        app, store, live, poll, phone, monkeypatch):
    """A participant removed by a write queued amid a burst (their data purged): their next vote
    is refused and stores nothing; the others' votes of the group commit are stored."""
    from sqlalchemy import delete

    from live.sessions.model import Participant

    monkeypatch.setattr(app.extensions["palabre.writer"], "batch_seconds", 60)
    a, b, c = _poll_options(store, live, poll)
    phones = [phone() for _ in range(3)]
    with store.read() as db:
        people = sorted(p.id for p in db.query(Participant).filter_by(session_id=live["id"]))
    writer = app.extensions["palabre.writer"]

    def remove(db):
        db.execute(delete(Participant).where(Participant.id == people[1]))

    answers = _in_one_group_commit(app, store, [
        _vote(phones[0], poll, a), lambda: writer.run(remove),
        _vote(phones[1], poll, b), _vote(phones[2], poll, c)])
    assert answers[0]["ok"] and answers[1] is None and answers[3]["ok"]
    assert answers[2]["ok"] is False
    assert _stored(store, poll) == sorted([[a], [c]])


def test_a_poll_closed_by_another_process_between_two_group_commits_refuses_the_next_votes(
        app, store, live, poll, phone):
    """Nothing a group commit read outlives it: a poll closed by another process (another store
    on the same database) after one group commit is closed for the votes of the next."""
    from live.store import Store

    a, b, _c = _poll_options(store, live, poll)
    sock = phone()
    assert _vote(sock, poll, a)()["ok"]
    other = Store(store.url)
    try:
        with other.write() as db:
            service.apply_command(db, service.get_session(db, live["id"]), "close", poll)
    finally:
        other.dispose()
    assert _codes([_vote(sock, poll, b)()]) == ["poll_closed"]
    assert _stored(store, poll) == [[a]]
