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


def test_a_client_id_sent_twice_in_one_group_commit_is_stored_once_and_answered_the_same(app, store, live):
    """The acks of a group commit are read in one query; an id repeated inside the same group
    commit is still answered as the first time, and a rolled-back first one is not an answer."""
    from live.acks import ClientAck
    from live.writer import _Job

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
