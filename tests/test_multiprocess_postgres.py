"""PostgreSQL under eventlet and gevent: a query waiting for a lock holds only its own request,
a driver that would block the event loop stops the start, and processes started together on an
empty database migrate one at a time.

The database comes from PALABRE_POSTGRES_URL (CI sets it): without it these tests skip, or fail
when PALABRE_REQUIRE_POSTGRES=1. Each test works in a new schema of its own (conftest.py's
`pg_empty_url`).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from multiprocess import health, prepare_workshop, scalar, servers, wait_until
from realserver import close_all, connect, http_get, join_cookie, new_cid
from sqlalchemy import create_engine, text
from test_multiprocess import _start_status

LOCK_SECONDS = 3.0


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_vote_waiting_for_a_lock_does_not_freeze_the_other_sockets(tmp_path, pg_empty_url, mode):
    setup = prepare_workshop(pg_empty_url)
    (server,) = servers(tmp_path, pg_empty_url, (mode,))
    clients = []
    try:
        server.start(60)
        facilitator = connect(server.url, {"token": setup["facilitator"], "lang": "en"})
        clients.append(facilitator)
        for action in ("show", "open"):
            ack = facilitator.call("command", {"cid": new_cid(), "action": action,
                                               "activity": setup["poll"]}, timeout=15)
            assert ack.get("ok"), ack
        voter, reader = (connect(server.url, {"code": setup["code"], "lang": "en"},
                                 cookie=join_cookie(server.url, setup["code"])) for _ in range(2))
        clients += [voter, reader]
        health(server)  # starts the heartbeat
        waited, answers, gap = _vote_behind_a_lock(pg_empty_url, server, setup, voter, reader)
        print(f"{mode}: vote acked after {waited:.2f} s; other socket answered in "
              f"{max(answers) * 1000:.0f} ms at most ({len(answers)} answers); largest stall {gap} ms "
              "(less its waits for a core)")
        assert waited >= LOCK_SECONDS * 0.8  # the vote did wait for the lock
        # Frozen, the other socket got one answer, after the whole 3 s; a loaded machine
        # (two cores, load average 25) still answered within 0.6 s.
        assert len(answers) >= 5 and max(answers) < LOCK_SECONDS / 2, answers
        assert gap < LOCK_SECONDS / 2 * 1000, f"the event loop stalled {gap} ms"
    finally:
        close_all(clients)
        server.stop()


def _vote_behind_a_lock(pg_empty_url, server, setup, voter, reader) -> tuple[float, list[float], float]:
    """Another session locks the votes table for 3 s; one phone votes (it waits), another asks
    for its snapshot again and again meanwhile. Returns (vote's wait, the reads' times, stall)."""
    engine = create_engine(pg_empty_url)
    locked, acked = threading.Event(), threading.Event()
    answers: list[float] = []
    try:
        with engine.connect() as connection, ThreadPoolExecutor(1) as pool:
            transaction = connection.begin()
            connection.execute(text("LOCK TABLE votes IN EXCLUSIVE MODE"))
            http_get(server.url, "/healthz?reset=1")
            locked.set()
            sent = time.perf_counter()
            voter.emit("vote", {"cid": new_cid(), "activity": setup["poll"],
                                "choice": setup["options"][0]}, callback=lambda *_a: acked.set())
            future = pool.submit(_read_while, reader, locked, answers)
            time.sleep(LOCK_SECONDS)  # the other session's transaction: the point of the test
            transaction.commit()
            locked.clear()
            future.result(30)
            assert acked.wait(30), "the vote was never acknowledged"
            waited = time.perf_counter() - sent
    finally:
        engine.dispose()
    return waited, answers, health(server)["max_loop_held_ms"]  # a blocking wait on the loop is in it


def _read_while(reader, locked: threading.Event, answers: list[float]) -> None:
    while locked.is_set() and len(answers) < 200:
        start = time.perf_counter()
        ack = reader.call("sync", {"cid": new_cid()}, timeout=15)
        assert ack.get("ok"), ack
        answers.append(time.perf_counter() - start)
        time.sleep(0.05)


def test_a_driver_that_would_block_the_event_loop_stops_the_start(tmp_path):
    # psycopg2 waits for PostgreSQL in C code: every socket would freeze meanwhile.
    status, output = _start_status(tmp_path, {
        "LIVE_ASYNC_MODE": "eventlet",
        "LIVE_DATABASE_URL": "postgresql+psycopg2://palabre:x@127.0.0.1:1/palabre"})
    assert status == 2, output
    assert "Palabre cannot start: the PostgreSQL driver 'psycopg2' would block" in output
    # psycopg forced to its C wait function under gevent: the same.
    status, output = _start_status(tmp_path, {
        "LIVE_ASYNC_MODE": "gevent", "PSYCOPG_WAIT_FUNC": "wait_c",
        "LIVE_DATABASE_URL": "postgresql+psycopg://palabre:x@127.0.0.1:1/palabre"})
    assert status == 2, output
    assert "Palabre cannot start: psycopg waits for PostgreSQL in C code under gevent" in output


def test_servers_started_together_on_an_empty_postgresql_database_migrate_one_at_a_time(
        tmp_path, pg_empty_url):
    pair = servers(tmp_path, pg_empty_url, ("gevent", "eventlet"))
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda s: s.start(60), pair))  # raises if one of them died
        assert wait_until(lambda: all(server.alive() for server in pair), 1)
        assert scalar(pg_empty_url, "select count(*) from alembic_version") >= 1
        assert scalar(pg_empty_url, "select count(*) from live_sessions") == 0
    finally:
        for server in pair:
            server.stop()
