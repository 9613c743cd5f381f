"""Client-generated ids already answered: a replayed message gets the same answer, nothing new.

Both doors use it: the socket handler pipeline (`live.realtime`) and participants' plain forms
(`live.sessions.access`). An actor is who sent the id (`p<participant id>`, or a staff role
and session); the same id sent again for another event, or with another payload (a digest of
what was sent, `digest()`), is refused (`cid_reused`): a phone's outbox sends an item again
until it is answered, and it must be the same item.

A response can repeat what a participant sent (a vote, a word, an idea), so every ack names
its session and, for a participant, that participant: deleting either deletes the ack
(purge, retention, deletion of a session). And acks expire on their own: a replay comes from
a client's outbox (sent again within seconds, or on reconnection while the page is open) or
from a no-JavaScript form sent twice; none comes once the page is gone. So an ack is kept
`ACK_TTL_HOURS` (24 h by default), then deleted by the write queue, a few hundred at a time
at most once a minute (`Expiry`), and by `flask --app wsgi archive apply-retention`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as DB

from live.errors import DomainError
from live.store import Base, UTCDateTime, deferred_rows, utcnow

DEFAULT_TTL_HOURS = 24
EXPIRE_EVERY = 60.0  # seconds between two expiry passes of the write queue
EXPIRE_BATCH = 500  # acks deleted by one pass (one short transaction)


class ClientAck(Base):
    """The answer already given to a client-generated id: a replay gets it again."""

    __tablename__ = "client_acks"
    __table_args__ = (UniqueConstraint("actor", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(80))
    client_id: Mapped[str] = mapped_column(String(64))
    # The event the id was first used for ("vote", "command"...; "form" for plain forms; empty
    # in rows older than this column): the same id sent with another event is refused.
    event: Mapped[str | None] = mapped_column(String(40))
    # A digest of what was sent with the id (`digest()`; empty in older rows): the same id sent
    # with another payload is refused.
    digest: Mapped[str | None] = mapped_column(String(64))
    response: Mapped[dict] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=repr)  # built once


def digest(payload: dict, leave_out: tuple[str, ...] = ("cid",)) -> str:
    """A digest of what a message carries (its `cid`, and `leave_out`, aside): two sends of the
    same item give the same digest, whatever the order of their keys."""
    kept = {str(k): v for k, v in payload.items() if k not in leave_out}
    text = _CANONICAL.encode(kept)
    return hashlib.sha256(text.encode()).hexdigest()


# In a unit of work (`db.info`): the acks already read or written, by (actor, client id), and
# the keys they were looked up for (`prefetch`): a group commit reads all of its ids in one query.
_KNOWN = "palabre.acks.known"
_CHECKED = "palabre.acks.checked"
_WRITTEN = "palabre.acks.written"
PREFETCH_CHUNK = 256  # pairs read by one query (a group commit's, `writer.MAX_BATCH`)


def prefetch(db: DB, keys) -> None:
    """Read the acks of these (actor, client id) pairs in one query, for `previous` in this unit
    of work (the write queue calls it for each group commit: one query, not one per message)."""
    keys = list(dict.fromkeys(keys))
    known = db.info.setdefault(_KNOWN, {})
    checked = db.info.setdefault(_CHECKED, set())
    for start in range(0, len(keys), PREFETCH_CHUNK):
        chunk = keys[start:start + PREFETCH_CHUNK]
        size = _size_class(len(chunk))
        chunk += chunk[-1:] * (size - len(chunk))  # (a pair twice finds its row once)
        values = {}
        for i, (actor, client_id) in enumerate(chunk):
            values[f"a{i}"], values[f"c{i}"] = actor, client_id
        for row in db.execute(_prefetch_statement(size), values):
            known[(row.actor, row.client_id)] = (row.response, row.event, row.digest)
    checked.update(keys)


def _size_class(count: int) -> int:
    """The least power of two holding `count` pairs: a few statements, each compiled once."""
    return 1 << max(count - 1, 0).bit_length()


@functools.cache
def _prefetch_statement(size: int):
    """The acks of `size` pairs (`:a0`, `:c0`...): each pair an equality on the unique (actor,
    client id) index, one lookup per pair in SQLite and PostgreSQL. Two IN lists (actors, ids)
    made SQLite look up every actor with every id: 40,000 lookups for a group commit of 200
    votes, 7 ms, where these pairs take 0.3 ms."""
    table = ClientAck.__table__
    pairs = " OR ".join(f"(actor = :a{i} AND client_id = :c{i})" for i in range(size))
    return text(f"SELECT actor, client_id, response, event, digest FROM {table.name} WHERE {pairs}").columns(  # noqa: S608 - binds only
        table.c.actor, table.c.client_id, table.c.response, table.c.event, table.c.digest)


def _prior(db: DB, actor: str, client_id: str) -> tuple | None:
    key = (actor, client_id)
    if key in db.info.get(_CHECKED, ()):
        return db.info[_KNOWN].get(key)
    row = db.execute(select(ClientAck.response, ClientAck.event, ClientAck.digest).where(
        ClientAck.actor == actor, ClientAck.client_id == client_id)).first()
    return tuple(row) if row is not None else None


def previous(db: DB, actor: str, client_id: str, event: str, sent: str | None = None) -> dict | None:
    """The answer already given to this id for this event, or None if it is new.

    Raises `cid_reused` if the id was first used for another event, or with another payload
    (`sent`: its `digest()`).
    """
    prior = _prior(db, actor, client_id)
    if prior is None:
        return None
    response, first_event, first_digest = prior
    if first_event not in (None, event):  # the id of another message: refused
        raise DomainError("cid_reused")
    if None not in (first_digest, sent) and first_digest != sent:  # the same id, another item
        raise DomainError("cid_reused")
    return response


def remember(db: DB, actor: str, client_id: str, event: str, response: dict, session_id: int,
             participant_id: int | None = None, sent: str | None = None) -> None:
    """Store the answer to this id (in the same transaction as what it did), with the digest of
    what was sent (`sent`). One Core INSERT (no ORM flush): the unique (actor, client id)
    constraint refuses a second answer to the same id. In a group commit that defers rows
    (`live.store.DeferredRows`), the ack is the write's guard: inserted with the others' in one
    statement, and if another process answered the same id meanwhile, nothing of the write is
    stored (the write queue answers it as a replay)."""
    row = {"actor": actor, "client_id": client_id, "event": event, "response": response,
           "session_id": session_id, "participant_id": participant_id, "digest": sent, "at": utcnow()}
    key = (actor, client_id)
    deferred = deferred_rows(db)
    if deferred is None:
        db.execute(ClientAck.__table__.insert(), row)
    else:
        deferred.guard = (_guarded_insert(db.bind.dialect.name), row, key)
    if key in db.info.get(_CHECKED, ()):
        db.info[_KNOWN][key] = (response, event, sent)
        db.info.setdefault(_WRITTEN, set()).add(key)


@functools.cache
def _guarded_insert(dialect: str):
    """INSERT ... ON CONFLICT (actor, client id) DO NOTHING RETURNING the keys stored."""
    table = ClientAck.__table__
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_nothing(index_elements=[table.c.actor, table.c.client_id]) \
        .returning(table.c.actor, table.c.client_id)


def forget_unstored(db: DB, key: tuple[str, str] | None) -> None:
    """The work that remembered `key` was rolled back (its savepoint): forget it was answered."""
    if key is not None and key in db.info.get(_WRITTEN, ()):
        db.info[_WRITTEN].discard(key)
        db.info[_KNOWN].pop(key, None)


def read_again(db: DB, key: tuple[str, str] | None) -> None:
    """Forget what this unit of work knows of `key`'s ack: `previous` reads it from the database
    (another process stored it meanwhile)."""
    forget_unstored(db, key)
    db.info.get(_CHECKED, set()).discard(key)


# --- expiry ----------------------------------------------------------------------------------

def ttl(config) -> timedelta:
    """How long an ack is kept (`ACK_TTL_HOURS`, at least a minute)."""
    try:
        hours = float(config.get("ACK_TTL_HOURS", DEFAULT_TTL_HOURS))
    except (TypeError, ValueError):
        hours = DEFAULT_TTL_HOURS
    return timedelta(hours=max(hours, 1 / 60))


def expire(db: DB, older_than: timedelta, limit: int | None = EXPIRE_BATCH, now=None) -> int:
    """Delete up to `limit` acks given before now - `older_than`; how many were deleted."""
    limit_at = (now or utcnow()) - older_than
    query = select(ClientAck.id).where(ClientAck.at < limit_at).order_by(ClientAck.at)
    if limit is not None:
        query = query.limit(limit)
    ids = list(db.scalars(query))
    if ids:
        db.execute(delete(ClientAck).where(ClientAck.id.in_(ids)))
    return len(ids)


class Expiry:
    """Runs `expire` from the write queue at most every `EXPIRE_EVERY` seconds."""

    def __init__(self, config):
        self.config = config
        self.next_at = 0.0

    def due(self) -> bool:
        """True when a pass should run now (and schedules the next one)."""
        now = time.monotonic()
        if now < self.next_at:
            return False
        self.next_at = now + EXPIRE_EVERY
        return True

    def run(self, store) -> int:
        """One pass: a short write deleting a bounded number of expired acks."""
        with store.write() as db:
            return expire(db, ttl(self.config))
