"""Rules shared by idea walls and Q&A: limits, settings, item lookup. No Flask, no sockets."""

from __future__ import annotations

from sqlalchemy.orm import Session as DB

from live.boards.model import BOARD_KINDS, MAX_BUDGET, Item
from live.errors import DomainError, NotFound
from live.sessions.model import Activity, LiveSession
from live.text import TextError, clean

MAX_COLUMNS = 6
COLUMN_LENGTH = 40
NAME_LENGTH = 40
POSTS_PER_MINUTE = 5
MAX_ITEMS_PER_PARTICIPANT = 30
MAX_SHOWN = 200  # published items sent in one view; the moderator console sees them all
SORTS = ("votes", "time")
BOOLEAN_SETTINGS = ("premoderation", "stack", "signed", "wall_visible")
# Statuses a moderator can still act on (withdrawn and merged items are gone for good).
LIVE_STATUSES = ("pending", "visible", "approved", "rejected", "hidden")


# --- settings ------------------------------------------------------------------------------

def default_settings(kind: str, locale: str = "fr") -> dict:
    """The settings of a new idea wall or Q&A."""
    if kind == "questions":
        return {"columns": [], "premoderation": False, "budget": 0, "stack": False,
                "signed": True, "wall_visible": True, "sort": "votes",
                "spotlight": None, "current": None}
    return {"columns": ["Idées" if locale == "fr" else "Ideas"], "premoderation": True,
            "budget": 3, "stack": False, "signed": False, "wall_visible": True, "sort": "votes",
            "spotlight": None, "current": None}


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes", "oui")
    return bool(value)


def int_in(value: object, code: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError(code, limit=high)
    return value


def clean_text(value: object, field: str, limit: int) -> str:
    try:
        return clean(value, limit)
    except TextError as exc:
        raise DomainError(f"text_{exc.code}", field=field, limit=exc.limit) from None


def check_settings(kind: object, raw: object, base: dict | None = None) -> dict:
    """Validate an idea wall's or Q&A's settings over `base`; return them in stored form."""
    if kind not in BOARD_KINDS:
        raise DomainError("not_a_board")
    settings = dict(base or default_settings(kind))
    raw = raw if isinstance(raw, dict) else {}
    for key in BOOLEAN_SETTINGS:
        if key in raw:
            settings[key] = _flag(raw[key])
    if kind == "ideas" and "columns" in raw:
        columns = raw["columns"]
        if isinstance(columns, str):
            columns = columns.splitlines()
        if not isinstance(columns, list):
            raise DomainError("bad_columns", limit=MAX_COLUMNS)
        names = []
        for name in columns:
            if not isinstance(name, str):
                raise DomainError("bad_columns", limit=MAX_COLUMNS)
            try:
                name = clean(name, COLUMN_LENGTH, required=False)
            except TextError as exc:
                raise DomainError(f"text_{exc.code}", field="column", limit=exc.limit) from None
            if name:
                names.append(name)
        if not 1 <= len(names) <= MAX_COLUMNS:
            raise DomainError("bad_columns", limit=MAX_COLUMNS)
        settings["columns"] = names
    if "budget" in raw:
        low = 0 if kind == "questions" else 1
        settings["budget"] = int_in(raw["budget"], "bad_budget", low, MAX_BUDGET)
    if "sort" in raw:
        if raw["sort"] not in SORTS:
            raise DomainError("bad_sort")
        settings["sort"] = raw["sort"]
    if kind == "questions":
        settings["stack"] = False
    return settings


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

