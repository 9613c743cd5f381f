"""Tables of events, sessions, their agenda of activities, participants and the timeline."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from live.acks import ClientAck  # noqa: F401 - the table lives in live.acks; kept importable here
from live.sessions.lifecycle import ACTIVITY_STATES, SESSION_STATES, check_constraint
from live.store import Base, UTCDateTime, utcnow

SESSION_KINDS = ("round_table", "workshop")
ACTIVITY_KINDS = ("poll", "wordcloud", "ideas", "questions")


class Event(Base):
    """An occasion that groups sessions."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(200))
    date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sessions: Mapped[list[LiveSession]] = relationship(
        back_populates="event", order_by="LiveSession.id", cascade="all, delete-orphan"
    )


class LiveSession(Base):
    """One round table or workshop: join code, capability tokens, agenda, state."""

    __tablename__ = "live_sessions"
    __table_args__ = (CheckConstraint(check_constraint("state", SESSION_STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(200))
    date: Mapped[date | None] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    join_code: Mapped[str] = mapped_column(String(12), unique=True)
    state: Mapped[str] = mapped_column(String(10), default="draft")
    # The activity on the screen; None shows the join banner. (Not a foreign key: the two
    # tables would reference each other; the service clears it when the activity goes.)
    current_activity_id: Mapped[int | None] = mapped_column(Integer)
    # Increases on every change of what clients see; snapshots carry it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship(back_populates="sessions")
    activities: Mapped[list[Activity]] = relationship(
        back_populates="session",
        order_by="Activity.position",
        cascade="all, delete-orphan",
        foreign_keys="Activity.session_id",
    )
    links: Mapped[list[SessionLink]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True,
    )

    # The clear capability tokens exist only in memory, right after they are issued (creation,
    # rotation): the database keeps their SHA-256 (see live/sessions/capabilities.py).
    facilitator_token = None
    moderator_token = None
    screen_token = None


LINK_ROLES = ("facilitator", "moderator", "screen")


class SessionLink(Base):
    """One capability link of a session (facilitator, moderator, screen): the SHA-256 of its
    token, and the nonce it is derived from with the server's secret key (None when it was
    not derived: it can be shown only when issued)."""

    __tablename__ = "session_links"
    __table_args__ = (
        UniqueConstraint("session_id", "role"),
        CheckConstraint(check_constraint("role", LINK_ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str | None] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[LiveSession] = relationship(back_populates="links")


class Activity(Base):
    """One item of a session's agenda: a poll, a word cloud, an idea wall or a Q&A."""

    __tablename__ = "activities"
    __table_args__ = (CheckConstraint(check_constraint("state", ACTIVITY_STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    # Poll type: single, multiple, scale, ranking; None for other kinds.
    type: Mapped[str | None] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default="draft")
    revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Its timer (live/sessions/timer.py): the deadline while it runs (never a countdown, so a
    # restart loses nothing), the seconds left while paused, the whole length, and whether the
    # activity closes itself at the deadline.
    timer_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    timer_left: Mapped[float | None] = mapped_column(Float)
    timer_duration: Mapped[int | None] = mapped_column(Integer)
    timer_autoclose: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    session: Mapped[LiveSession] = relationship(
        back_populates="activities", foreign_keys=[session_id]
    )


class Participant(Base):
    """An anonymous device that joined a session (its key comes from a signed cookie).

    Ids are never reused, even after a purge deleted the newest participants (SQLite
    AUTOINCREMENT; PostgreSQL sequences never go back): nothing keyed by a participant id
    can attach to someone who joins later.
    """

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("session_id", "device_key"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    device_key: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(40))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimelineEntry(Base):
    """When something happened in a session: opened, closed, revealed, reset, on screen..."""

    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DoorCode(Base):
    """A one-time voting code of a session, handed out at the door: a session with codes admits
    a new participant only with an unused one. The database keeps the SHA-256 of the code
    (looked up by it) and the nonce it is derived from with the server's secret key (None: it
    cannot be shown again); never who used it. `number` is what the organiser revokes it by."""

    __tablename__ = "door_codes"
    __table_args__ = (
        UniqueConstraint("session_id", "number"),
        UniqueConstraint("session_id", "code_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    code_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str | None] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
