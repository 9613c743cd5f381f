"""A group commit's rows on SQLite go straight to the driver's cursor (`live.store.write_rows`):
the very text SQLAlchemy's execution stores, the same rows returned, the same errors. Two real
SQLite files, one written each way, compared byte for byte."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from live import acks
from live.polls import service as polls
from live.sessions import service as sessions
from live.store import Store, rows_savepoint, upgrade, write_rows


def _store(path) -> Store:
    url = f"sqlite:///{path}"
    upgrade(url)
    return Store(url)


@pytest.fixture
def stores(tmp_path):
    """Two fresh databases with the same session, poll and participants (the same ids)."""
    made = [_store(tmp_path / "driver.db"), _store(tmp_path / "sqlalchemy.db")]
    ids = [_prepare(store) for store in made]
    assert ids[0] == ids[1]
    yield made, ids[0], [tmp_path / "driver.db", tmp_path / "sqlalchemy.db"]
    for store in made:
        store.dispose()


def _prepare(store: Store) -> dict:
    with store.write() as db:
        event = sessions.create_event(db, "Rows")
        live = sessions.create_session(db, event, "workshop", "Rows", locale="fr")
        poll = polls.add_poll(db, live, "multiple", "Lesquelles ?", ["Un", "Deux", "Trois"])
        people = [sessions.join(db, live, f"device-{n}").id for n in range(40)]
        return {"session": live.id, "poll": poll.id, "people": people,
                "options": [o.id for o in polls.options_of(db, poll)]}


def _ack_rows(ids: dict, count: int, start: int = 0) -> list[dict]:
    """Acks as `acks.remember` makes them: odd ones a staff member's (no participant), with text
    and numbers of every kind in their answer, times with microseconds in another time zone."""
    paris = timezone(timedelta(hours=2))
    rows = []
    for n in range(start, start + count):
        person = ids["people"][n % len(ids["people"])]
        rows.append({"actor": f"p{person}" if n % 2 == 0 else f"facilitator{ids['session']}",
                     "client_id": f"cid-{n}-é🙂", "event": "vote", "digest": f"{n:064x}",
                     "response": {"ok": True, "choice": [n, n + 1], "note": "Ça « va » \u2028 ok",
                                  "ratio": n / 7, "none": None},
                     "session_id": ids["session"], "participant_id": person if n % 2 == 0 else None,
                     "at": datetime(2026, 12, 4, 21, 30, 5, 123456 + n, tzinfo=paris)})
    return rows


def _vote_rows(ids: dict, choices: list[list[int]]) -> list[dict]:
    now = datetime(2026, 12, 4, 19, 0, 0, 654321, tzinfo=UTC)
    return [{"activity_id": ids["poll"], "participant_id": person, "choice": choice, "client_id": f"v{n}",
             "changes": 0, "created_at": now, "updated_at": now + timedelta(microseconds=n)}
            for n, (person, choice) in enumerate(zip(ids["people"], choices, strict=False))]


def _table(path, name: str) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT * FROM {name} ORDER BY id").fetchall()  # noqa: S608 - our names


def test_rows_written_through_the_driver_are_stored_as_sqlalchemy_stores_them(stores):
    (driver, through_sqlalchemy), ids, paths = stores
    guard, upsert = acks._guarded_insert("sqlite"), polls._upsert("sqlite")
    rows = _ack_rows(ids, 23)  # 16 + 4 + 2 + 1 rows a statement
    first = _vote_rows(ids, [[ids["options"][n % 3]] for n in range(30)])
    again = _vote_rows(ids, [[ids["options"][2], ids["options"][0]] for _n in range(10)])

    with driver.write() as db:
        returned = write_rows(db, guard, rows)
        assert write_rows(db, upsert, first) == []
    with driver.write() as db:  # ten of them change their vote: the upsert's `changes + 1`
        write_rows(db, upsert, again)
    with through_sqlalchemy.write() as db:
        expected = [tuple(row) for row in db.execute(guard, rows)]
        db.execute(upsert, first)
    with through_sqlalchemy.write() as db:
        db.execute(upsert, again)

    assert sorted(returned) == sorted(expected) == sorted((row["actor"], row["client_id"]) for row in rows)
    assert _table(paths[0], "client_acks") == _table(paths[1], "client_acks")
    votes = _table(paths[0], "votes")
    assert votes == _table(paths[1], "votes") and len(votes) == 30
    with sqlite3.connect(paths[0]) as connection:  # ten changed their vote once
        assert connection.execute("SELECT changes, count(*) FROM votes GROUP BY changes").fetchall() == [
            (0, 20), (1, 10)]


def test_an_id_already_answered_is_not_stored_again_nor_returned(stores):
    (driver, _other), ids, paths = stores
    guard = acks._guarded_insert("sqlite")
    with driver.write() as db:
        write_rows(db, guard, _ack_rows(ids, 5, start=10))
    with driver.write() as db:
        returned = write_rows(db, guard, _ack_rows(ids, 23))  # ids 10 to 14 among them
    assert sorted(client_id for _actor, client_id in returned) == sorted(
        f"cid-{n}-é🙂" for n in range(23) if not 10 <= n < 15)
    assert len(_table(paths[0], "client_acks")) == 23


def test_a_refused_row_is_sqlalchemys_error_and_nothing_of_the_transaction_is_stored(stores):
    (driver, _other), ids, paths = stores
    rows = _vote_rows(ids, [[ids["options"][0]]] * 3)
    rows[1]["participant_id"] = 999_999  # no such participant: the foreign key refuses it
    with pytest.raises(IntegrityError), driver.write() as db:
        write_rows(db, acks._guarded_insert("sqlite"), _ack_rows(ids, 2))
        write_rows(db, polls._upsert("sqlite"), rows)
    assert _table(paths[0], "votes") == [] and _table(paths[0], "client_acks") == []


def test_a_statement_refused_in_the_rows_savepoint_undoes_its_own_rows_and_nothing_else(stores):
    """A group commit's rows are written in a savepoint (`rows_savepoint`, on SQLite through the
    driver): the votes' `executemany` refused at its second row has stored its first, which the
    savepoint takes back; what was written before it stays, the transaction goes on and commits."""
    (driver, _other), ids, paths = stores
    votes = _vote_rows(ids, [[ids["options"][0]], [ids["options"][1]], [ids["options"][2]]])
    ghost = dict(votes[1], participant_id=999_999, client_id="ghost")  # the foreign key refuses it
    with driver.write() as db:
        write_rows(db, acks._guarded_insert("sqlite"), _ack_rows(ids, 2))
        with pytest.raises(IntegrityError), rows_savepoint(db):
            write_rows(db, polls._upsert("sqlite"), [votes[0], ghost])
        with rows_savepoint(db):
            write_rows(db, polls._upsert("sqlite"), [votes[2]])
    stored = _table(paths[0], "votes")
    assert [(row[2], row[3]) for row in stored] == [(ids["people"][2], f"[{ids['options'][2]}]")]
    assert [row[2] for row in _table(paths[0], "client_acks")] == ["cid-0-é🙂", "cid-1-é🙂"]


def test_a_row_without_a_column_that_has_a_python_default_gets_its_default(stores):
    """`at` has a Python default (the time now): rows without it go through SQLAlchemy, which
    fills it in."""
    (driver, _other), ids, paths = stores
    rows = _ack_rows(ids, 3)
    for row in rows:
        del row["at"]
    before = datetime.now(UTC).replace(tzinfo=None)
    with driver.write() as db:
        assert len(write_rows(db, acks._guarded_insert("sqlite"), rows)) == 3
    with sqlite3.connect(paths[0]) as connection:
        stored = [datetime.fromisoformat(at) for (at,) in connection.execute("SELECT at FROM client_acks")]
    assert len(stored) == 3 and all(at >= before - timedelta(seconds=1) for at in stored)


def test_more_rows_than_one_sqlite_statement_takes_are_all_stored_and_returned(stores):
    """SQLite takes 32,766 parameters a statement: 5,000 acks of 8 values each go in several."""
    (driver, _other), ids, paths = stores
    rows = _ack_rows(ids, 5000)
    with driver.write() as db:
        returned = write_rows(db, acks._guarded_insert("sqlite"), rows)
    assert len(set(returned)) == 5000 and len(_table(paths[0], "client_acks")) == 5000
