"""Rules shared by idea walls and Q&A: limits, settings, item lookup. No Flask, no sockets."""

from __future__ import annotations

from sqlalchemy.orm import Session as DB

from live import validation
from live.boards.model import BOARD_KINDS, Item
from live.errors import DomainError, NotFound
from live.sessions.model import Activity, LiveSession

# The limits and settings rules live in `live.validation` (forms, sockets and imports share them).
MAX_COLUMNS = validation.MAX_COLUMNS
COLUMN_LENGTH = validation.COLUMN_LENGTH
NAME_LENGTH = validation.NAME_LENGTH
POSTS_PER_MINUTE = 5
MAX_ITEMS_PER_PARTICIPANT = 30
MAX_SHOWN = 200  # published items sent in one view; the moderator console sees them all
SORTS = validation.SORTS
BOOLEAN_SETTINGS = validation.BOARD_FLAGS
# Statuses a moderator can still act on (withdrawn and merged items are gone for good).
LIVE_STATUSES = ("pending", "visible", "approved", "rejected", "hidden")

default_settings = validation.board_defaults
check_settings = validation.board_settings


# --- helpers -------------------------------------------------------------------------------

def require_board(activity: Activity) -> None:
    """Refuse activities that are not idea walls or Q&As."""
    if activity.kind not in BOARD_KINDS:
        raise DomainError("not_a_board")


def require_open(session: LiveSession, activity: Activity) -> None:
    require_board(activity)
    if session.state == "ended":
        raise DomainError("session_ended")
    if activity.state != "open":
        raise DomainError("board_closed" if activity.state == "closed" else "board_not_open")


def get_item(db: DB, activity: Activity, item_id: object) -> Item:
    """An item of this board, or NotFound (items of other boards are not found)."""
    ok = isinstance(item_id, int) and not isinstance(item_id, bool)
    item = db.get(Item, item_id) if ok else None
    if item is None or item.activity_id != activity.id:
        raise NotFound("item_not_found")
    return item


def published_changed(session: LiveSession) -> None:
    """What phones and the screen see changed: the next state push carries a newer version."""
    # What phones and the screen see changed: the next state push carries a newer version.
    session.version += 1

