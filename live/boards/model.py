"""Tables of idea walls and Q&A: contributed items, dot votes and the moderation log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from live.store import Base, UTCDateTime, utcnow

BOARD_KINDS = ("ideas", "questions")
# pending: waits for a moderator, seen by its author only (pre-moderation, or flagged).
# visible: published at once (post-moderation), not yet reviewed: still in the queue.
# approved: reviewed and published. rejected / hidden: refused before / after publication.
# withdrawn: taken back by its author. merged: folded into another item (merged_into_id).
STATUSES = ("pending", "visible", "approved", "rejected", "hidden", "withdrawn", "merged")
PUBLISHED = ("visible", "approved")
UNMODERATED = ("pending", "visible")
TEXT_LENGTH = 280
MAX_BUDGET = 20


class Item(Base):
    """An idea on a wall or a question to the panel, sent by a participant."""

    __tablename__ = "board_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    column: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    # What the author first sent; moderator edits and merges are appended to `history`.
    original_text: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    history: Mapped[list] = mapped_column(JSON, default=list)
    author_name: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    highlighted: Mapped[bool] = mapped_column(Boolean, default=False)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("board_items.id", ondelete="SET NULL")
    )
    # Optimistic concurrency: a moderator's action names the version it saw.
    version: Mapped[int] = mapped_column(Integer, default=1)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}


class BoardVote(Base):
    """One dot a participant put on an item.

    The database enforces the budget: a dot takes a slot 1..budget, unique per (activity,
    participant, slot). `once_item_id` is the item id when one dot per item is the rule (NULL
    otherwise), unique per participant. Q&A upvotes have no budget: slot NULL, once per item.
    """

    __tablename__ = "board_votes"
    __table_args__ = (
        UniqueConstraint("activity_id", "participant_id", "slot", name="uq_board_votes_slot"),
        UniqueConstraint("participant_id", "once_item_id", name="uq_board_votes_once"),
        CheckConstraint(f"slot IS NULL OR (slot >= 1 AND slot <= {MAX_BUDGET})", name="slot_range"),
        CheckConstraint("slot IS NOT NULL OR once_item_id IS NOT NULL", name="bounded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("board_items.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    slot: Mapped[int | None] = mapped_column(Integer)
    once_item_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModerationEntry(Base):
    """One moderation action: who (which link), when, what, and the item before and after."""

    __tablename__ = "board_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int | None] = mapped_column(ForeignKey("board_items.id", ondelete="SET NULL"))
    # The capability link used ("moderator" or "facilitator") and the name the moderator gave.
    link: Mapped[str] = mapped_column(String(20))
    moderator: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
