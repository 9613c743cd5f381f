"""A group commit reads the acks of its client ids in one query (`acks.prefetch`): exactly the
pairs asked for, whatever their number, with one index lookup per pair. Two IN lists (actors,
ids) looked up every actor with every id: 65,536 lookups for a group commit of 256 votes, 9-12 ms
of the server's single core, paid by every vote of a burst."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

import live
from live import acks
from live.store import Base, utcnow

for _module in pkgutil.walk_packages(live.__path__, "live."):
    if _module.name.endswith(".model"):
        importlib.import_module(_module.name)  # every table the acks' foreign keys name


@pytest.fixture
def db():
    engine = create_engine("sqlite://")
    event.listen(engine, "connect", lambda conn, _record: conn.execute("PRAGMA foreign_keys=OFF"))
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(acks.ClientAck.__table__.insert(), [
            {"actor": f"p{n}", "client_id": f"cid-{n}-{k}", "event": "vote", "response": {"ok": True, "n": n},
             "session_id": 1, "participant_id": None, "digest": f"d{n}", "at": utcnow()}
            for n in range(2000) for k in range(2)])
        session.commit()
        yield session
    engine.dispose()


def _steps(db: Session, keys) -> int:
    """SQLite's virtual machine steps taken by a prefetch of `keys`, in thousands."""
    raw = db.connection().connection.driver_connection
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    raw.set_progress_handler(count, 1000)
    try:
        acks.prefetch(db, keys)
    finally:
        raw.set_progress_handler(None, 0)
    return steps[0]


@pytest.mark.parametrize("count", [1, 3, 200, 256, 300])
def test_prefetch_knows_exactly_the_pairs_asked_for(db, count):
    """Half the pairs answered before, half new, and an actor's answered id asked under another
    actor: `previous` answers the first from what was read, and finds nothing for the others."""
    keys = [(f"p{n}", f"cid-{n}-1" if n % 2 else f"new-{n}") for n in range(count)]
    crossed = ("p1999", "cid-0-1")  # both exist, not together
    acks.prefetch(db, [*keys, crossed])
    for actor, cid in keys:
        n = int(actor[1:])
        expected = {"ok": True, "n": n} if n % 2 else None
        assert acks.previous(db, actor, cid, "vote", f"d{n}") == expected
    assert acks.previous(db, *crossed, "vote") is None
    assert db.info[acks._CHECKED] >= {*keys, crossed}


def test_a_group_commits_acks_are_read_with_a_lookup_per_pair(db):
    """256 pairs of 256 actors: some 4,000 steps of SQLite's virtual machine (a lookup per
    pair), where the two IN lists took about 300,000 (256 x 256 lookups)."""
    keys = [(f"p{n}", f"cid-{n}-1") for n in range(0, 1024, 4)]
    assert _steps(db, keys) <= 40
