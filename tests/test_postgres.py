"""PostgreSQL: migrations, and one vote per participant under truly concurrent transactions.

On SQLite, writers are serialized by the database itself; on PostgreSQL twenty transactions
really run at once, so this is where the unique constraint on votes earns its keep. The test
database comes from PALABRE_POSTGRES_URL (CI starts a PostgreSQL server and sets it);
without it the tests are skipped, or fail when PALABRE_REQUIRE_POSTGRES=1 (the `pg_url`
fixture of conftest.py: each test in a new schema, migrated).
"""

from __future__ import annotations

import threading

from sqlalchemy import create_engine, text

THREADS = 20


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


def _race(stores, work) -> tuple[list, list[BaseException]]:
    """Run work(db, index) in one thread per store, released together; (results, errors)."""
    start = threading.Barrier(len(stores), timeout=30)
    results: list = []
    errors: list[BaseException] = []

    def run(index):
        start.wait()
        try:
            with stores[index].write() as db:
                results.append(work(db, index))
        except Exception as exc:  # noqa: BLE001 - counted by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for store in stores:
        store.dispose()
    return results, errors


def test_twenty_phones_joining_at_once_with_one_door_code_admit_exactly_one(pg_url):
    """One-time codes (issue 10, item 1): twenty transactions really at once, each a new phone
    with the same code; the database's conditional UPDATE lets one through."""
    from live.errors import DomainError
    from live.sessions import doorcodes
    from live.sessions import service as sessions
    from live.store import Store

    store = Store(pg_url)
    with store.write() as db:
        live_session = sessions.create_session(db, sessions.create_event(db, "PG"), "workshop", "Door")
        session_id = live_session.id
        ((_number, code),) = doorcodes.issue(db, live_session, 1)
    store.dispose()

    def join(db, index):
        return sessions.join(db, sessions.get_session(db, session_id), f"phone-{index}", code).id

    admitted, errors = _race([Store(pg_url) for _ in range(THREADS)], join)
    assert len(admitted) == 1, admitted
    assert sorted({e.code for e in errors if isinstance(e, DomainError)}) == ["door_code_used"]
    assert len(errors) == THREADS - 1
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from participants where session_id = :s"),
                                  {"s": session_id}).scalar() == 1
        assert connection.execute(text("select count(*) from door_codes where used_at is not null")
                                  ).scalar() == 1
    engine.dispose()


def test_twenty_concurrent_paper_corrections_never_take_a_total_below_zero(pg_url):
    """Paper counts (issue 10, item 2): a paper total of 10, then twenty corrections of -1 at the
    same instant from twenty transactions: ten go through, ten are refused, the total ends at 0
    and each entry's `total_after` is the running total (the archive checks it on import)."""
    from live.errors import DomainError
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store

    session_id, activity_id, options = _open_poll(pg_url)
    store = Store(pg_url)
    with store.write() as db:
        live_session = sessions.get_session(db, session_id)
        polls.add_paper(db, live_session, sessions.get_activity(db, live_session, activity_id),
                        options[1], 10, "facilitator")
    store.dispose()

    def correct(db, index):
        live_session = sessions.get_session(db, session_id)
        activity = sessions.get_activity(db, live_session, activity_id)
        return polls.add_paper(db, live_session, activity, options[1], -1, "moderator").total_after

    totals, errors = _race([Store(pg_url) for _ in range(THREADS)], correct)
    assert sorted(totals) == list(range(10)), totals
    assert {e.code for e in errors if isinstance(e, DomainError)} == {"paper_negative"}
    assert len(errors) == THREADS - 10
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        rows = connection.execute(text("select delta, total_after from paper_counts "
                                       "where activity_id = :a order by id"), {"a": activity_id}).all()
    engine.dispose()
    running = 0
    for delta, total_after in rows:
        running += delta
        assert total_after == running >= 0, rows


def test_a_code_revoked_while_a_phone_uses_it_ends_either_used_or_revoked(pg_url):
    """One-time codes: the organiser revokes ten codes at the very instant ten phones use them
    (twenty transactions at once). Each code ends used (its phone admitted, the revocation
    refused) or revoked (the phone refused), never both: the archive's counts add up."""
    from live.errors import DomainError
    from live.sessions import doorcodes
    from live.sessions import service as sessions
    from live.store import Store

    store = Store(pg_url)
    with store.write() as db:
        live_session = sessions.create_session(db, sessions.create_event(db, "PG"), "workshop", "Door")
        session_id, codes = live_session.id, doorcodes.issue(db, live_session, THREADS // 2)
    store.dispose()

    def use_or_revoke(db, index):
        number, code = codes[index // 2]
        live_session = sessions.get_session(db, session_id)
        if index % 2:
            doorcodes.revoke(db, live_session, number)
            return ("revoked", number)
        sessions.join(db, live_session, f"phone-{index}", code)
        return ("used", number)

    done, errors = _race([Store(pg_url) for _ in range(THREADS)], use_or_revoke)
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert sorted(number for _, number in done) == list(range(1, THREADS // 2 + 1))  # one each
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        rows = dict(connection.execute(text(
            "select number, case when used_at is not null and revoked_at is not null then 'both' "
            "when used_at is not null then 'used' else 'revoked' end from door_codes "
            "where session_id = :s"), {"s": session_id}).all())
    engine.dispose()
    assert rows == {number: state for state, number in done}


def test_twenty_consoles_adding_a_minute_at_once_add_twenty_minutes(pg_url):
    """The timer (issue 10, item 4): twenty "+1 min" from twenty transactions at the same instant
    (facilitator tabs, processes) all count: none overwrites another's minute."""
    from live.sessions import service as sessions
    from live.sessions import timer
    from live.store import Store

    session_id, activity_id, _options = _open_poll(pg_url)
    store = Store(pg_url)
    with store.write() as db:
        live_session = sessions.get_session(db, session_id)
        timer.command(db, live_session, sessions.get_activity(db, live_session, activity_id), "start", 60)
    with store.read() as db:
        deadline = sessions.get_activity(db, sessions.get_session(db, session_id), activity_id).timer_ends_at
    store.dispose()

    def add(db, index):
        live_session = sessions.get_session(db, session_id)
        timer.command(db, live_session, sessions.get_activity(db, live_session, activity_id), "add")

    _done, errors = _race([Store(pg_url) for _ in range(THREADS)], add)
    assert errors == []
    store = Store(pg_url)
    with store.read() as db:
        activity = sessions.get_activity(db, sessions.get_session(db, session_id), activity_id)
        assert activity.timer_duration == 60 + THREADS * 60
        assert (activity.timer_ends_at - deadline).total_seconds() == THREADS * 60
    store.dispose()
