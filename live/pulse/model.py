"""Tables of the room's pulse: whether it is on in a session, and each participant's marks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, SmallInteger, String
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
