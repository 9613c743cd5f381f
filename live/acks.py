"""Client-generated ids already answered: a replayed message gets the same answer, nothing new.

Both doors use it: the socket handler pipeline (`live.realtime`) and participants' plain forms
(`live.sessions.access`). An actor is who sent the id (`p<participant id>`, or a staff role
and session); the same id sent again for another event is refused (`cid_reused`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as DB

from live.errors import DomainError
from live.store import Base, UTCDateTime, utcnow


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
    response: Mapped[dict] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def previous(db: DB, actor: str, client_id: str, event: str) -> dict | None:
    """The answer already given to this id for this event, or None if it is new.

    Raises `cid_reused` if the id was first used for another event.
    """
    prior = db.execute(select(ClientAck.response, ClientAck.event).where(
        ClientAck.actor == actor, ClientAck.client_id == client_id)).first()
    if prior is None:
        return None
    if prior.event not in (None, event):  # the id of another message: refused
        raise DomainError("cid_reused")
    return prior.response


def remember(db: DB, actor: str, client_id: str, event: str, response: dict) -> None:
    """Store the answer to this id (in the same transaction as what it did)."""
    db.add(ClientAck(actor=actor, client_id=client_id, event=event, response=response))
    db.flush()
