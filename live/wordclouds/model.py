"""Tables of word-cloud entries and of the moderation of their groups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from live.store import Base, UTCDateTime, utcnow


class WordEntry(Base):
    """One entry a participant sent; `slot` (1..entries allowed) makes the cap a constraint.

    A withdrawn entry keeps its row for the record, with `slot` cleared (NULLs never collide).
    """

    __tablename__ = "word_entries"
    __table_args__ = (UniqueConstraint("activity_id", "participant_id", "slot",
                                       name="uq_word_entries_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"),
                                                index=True)
    slot: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(200))
    # The grouping key (case, accents and plurals folded) under which the cloud counts it.
    key: Mapped[str] = mapped_column(String(200), index=True)
    # Matched the profanity list: held back until a moderator releases its group.
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WordGroupState(Base):
    """A moderator's decision on a group: hidden, released (if held), or merged into another."""

    __tablename__ = "word_groups"
    __table_args__ = (UniqueConstraint("activity_id", "key", name="uq_word_groups_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
