"""Tables of poll options and votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
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


class PaperCount(Base):
    """One count entered by staff from a show of hands or paper ballots ("+12 for option B").

    Entries are never edited nor deleted but by a reset: a correction is a further entry (a
    negative one). `total_after` is the option's paper total once this entry counts; the database
    keeps it within [0, MAX_PAPER_TOTAL], so a correction can never make a total negative.
    `option_id` names the option (single, multiple) and `value` the scale's value (scale).
    """

    __tablename__ = "paper_counts"
    __table_args__ = (
        CheckConstraint("delta <> 0 AND delta BETWEEN -100000 AND 100000", name="delta"),
        CheckConstraint("total_after BETWEEN 0 AND 100000", name="total"),
        CheckConstraint("(option_id IS NULL) <> (value IS NULL)", name="target"),
        CheckConstraint("entered_by IN ('facilitator', 'moderator', 'import')", name="by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    option_id: Mapped[int | None] = mapped_column(ForeignKey("options.id", ondelete="CASCADE"))
    value: Mapped[int | None] = mapped_column(Integer)
    delta: Mapped[int] = mapped_column(Integer)
    total_after: Mapped[int] = mapped_column(Integer)
    entered_by: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
