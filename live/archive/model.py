"""What the archive keeps about sessions: imports, exports, purges, frozen aggregates, retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from live.store import Base, UTCDateTime, utcnow


class ArchiveState(Base):
    """The archive's record of one session (a row only once something happened to it)."""

    __tablename__ = "archive_sessions"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True)
    # Set on sessions recreated from an archive: they are read-only.
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The state the session had in its archive (an imported session is stored as ended).
    original_state: Mapped[str | None] = mapped_column(String(10))
    original_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Participant-level data dropped; aggregates below replace what votes gave.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {activity_ref: {...}}: the results and kind data frozen when the session was purged.
    frozen: Mapped[dict | None] = mapped_column(JSON)
    participant_count: Mapped[int | None] = mapped_column(Integer)


class ArchiveSettings(Base):
    """Instance-wide archive settings (one row, id 1)."""

    __tablename__ = "archive_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Purge participant-level data this many days after a session ends; None keeps it.
    retention_days: Mapped[int | None] = mapped_column(Integer)


class ArchiveJob(Base):
    """Long archive work run by the archive worker (a purge, the retention): its progress.

    The worker updates the row as it goes (in the transactions that do the work); the
    Archives page shows it. `done`/`total` count sessions, `rows` the rows deleted so far.
    """

    __tablename__ = "archive_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "purge", "retention"
    state: Mapped[str] = mapped_column(String(10), default="queued")  # running, done, failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    # {"sessions": [ids], "force": bool, "current": id, "purged": [ids], "skipped": [ids]}
    detail: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(40))  # a message code (live.i18n)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
