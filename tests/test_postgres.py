"""PostgreSQL: migrations, and one vote per participant under truly concurrent transactions.

On SQLite, writers are serialized by the database itself; on PostgreSQL twenty transactions
really run at once, so this is where the unique constraint on votes earns its keep. The test
database comes from PALABRE_POSTGRES_URL (CI starts a PostgreSQL server and sets it);
without it the tests are skipped, or fail when PALABRE_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import create_engine, text

URL = os.environ.get("PALABRE_POSTGRES_URL", "")
THREADS = 20


@pytest.fixture
def pg_url():
    """An empty PostgreSQL schema, migrated to the newest revision."""
    if not URL.startswith("postgresql"):
        message = "PALABRE_POSTGRES_URL does not name a PostgreSQL database"
        if os.environ.get("PALABRE_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " and PALABRE_REQUIRE_POSTGRES=1", pytrace=False)
        pytest.skip(message)
    from live.store import upgrade

    engine = create_engine(URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(URL)
    return URL


def test_migrations_match_the_models_on_postgresql(pg_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from live.models import metadata

    engine = create_engine(pg_url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    engine.dispose()


def _open_poll(url):
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store

    store = Store(url)
    with store.write() as db:
        event = sessions.create_event(db, "PG")
        live_session = sessions.create_session(db, event, "workshop", "Concurrency")
        activity = polls.add_poll(db, live_session, "single", "Q?", ["A", "B", "C", "D"])
        sessions.apply_command(db, live_session, "open", activity.id)
        sessions.join(db, live_session, "one-phone")
        ids = (live_session.id, activity.id, [o.id for o in polls.options_of(db, activity)])
    store.dispose()
    return ids


def test_twenty_concurrent_votes_of_one_participant_keep_one_row(pg_url):
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store

    session_id, activity_id, options = _open_poll(pg_url)
    stores = [Store(pg_url) for _ in range(THREADS)]  # separate engines: no shared write lock
    start = threading.Barrier(THREADS, timeout=30)
    errors: list[BaseException] = []

    def vote(index):
        start.wait()
        try:
            with stores[index].write() as db:
                live_session = sessions.get_session(db, session_id)
                person = sessions.join(db, live_session, "one-phone")
                activity = sessions.get_activity(db, live_session, activity_id)
                polls.vote(db, live_session, activity, person, options[index % len(options)])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for store in stores:
        store.dispose()
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        rows = connection.execute(text("select changes from votes where activity_id = :a"),
                                  {"a": activity_id}).all()
    engine.dispose()
    assert errors == []
    assert len(rows) == 1 and rows[0][0] == THREADS - 1
