"""Tables of poll options and votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from live.store import Base, UTCDateTime, utcnow

POLL_TYPES = ("single", "multiple", "scale", "ranking")


class Option(Base):
    """One answer a poll offers (not used by rating scales)."""

    __tablename__ = "options"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))


class Vote(Base):
    """A participant's answer to a poll; at most one per (activity, participant)."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("activity_id", "participant_id", name="uq_votes_one_per_participant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    # Option ids (single, multiple; ranking in order) or [value] for a rating scale.
    choice: Mapped[list] = mapped_column(JSON)
    client_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
