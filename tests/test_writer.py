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
