"""Tables of the room's pulse: whether it is on in a session, participants' pace marks, raised
hands and quick reactions (each kept as a timeline for the archive)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from live.store import Base, UTCDateTime, utcnow


class PulseSetting(Base):
    """The facilitator switched the pulse widget on (or off) in this session."""

    __tablename__ = "pulse_settings"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)


class PulseMark(Base):
    """One choice of a participant: the pace (-1 too slow, 0 OK, 1 too fast), kept as a timeline.

    A participant's latest mark counts while it is younger than `service.WINDOW`; older ones
    stay for the archive's timeline.
    """

    __tablename__ = "pulse_marks"
    __table_args__ = (
        CheckConstraint("kind IN ('pace')", name="ck_pulse_marks_kind"),
        CheckConstraint("value BETWEEN -1 AND 1", name="ck_pulse_marks_value"),
        Index("ix_pulse_marks_session_at", "session_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default="pace")
    value: Mapped[int] = mapped_column(SmallInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PulseHand(Base):
    """A raised hand ("I'd like to speak"): open while `ended_at` is NULL, kept for the timeline.

    The queue is the open hands in the order they were raised; the database keeps one open
    hand per participant (a partial unique index) and one ticket number per session (the
    number the facilitator calls out: participants are anonymous).
    """

    __tablename__ = "pulse_hands"
    __table_args__ = (
        CheckConstraint("outcome IS NULL OR outcome IN ('lowered', 'spoke', 'cleared')",
                        name="ck_pulse_hands_outcome"),
        CheckConstraint("(ended_at IS NULL) = (outcome IS NULL)", name="ck_pulse_hands_ended"),
        UniqueConstraint("session_id", "ticket", name="uq_pulse_hands_ticket"),
        Index("uq_pulse_hands_open", "session_id", "participant_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    ticket: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(40))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(10))


class PulseReaction(Base):
    """One quick emoji reaction of a participant (👏 👍 ❤️ 😂 🤔 ❓), by name, kept as a timeline."""

    __tablename__ = "pulse_reactions"
    __table_args__ = (
        CheckConstraint("reaction IN ('clap', 'like', 'love', 'laugh', 'think', 'question')",
                        name="ck_pulse_reactions_reaction"),
        Index("ix_pulse_reactions_session_at", "session_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    reaction: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
