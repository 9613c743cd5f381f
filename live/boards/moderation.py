"""Moderation of idea walls and Q&A: approve, reject, hide, edit, merge, move, pin, highlight,
answer (all or nothing, with optimistic versions), and what the screen shows. No Flask, no sockets."""

from __future__ import annotations

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session as DB

from live import validation
from live.boards.model import PUBLISHED, TEXT_LENGTH, BoardVote, Item, ModerationEntry
from live.boards.rules import (
    LIVE_STATUSES,
    NAME_LENGTH,
    SORTS,
    get_item,
    published_changed,
    require_board,
)
from live.boards.views import moderation_item
from live.errors import DomainError
from live.sessions import service as sessions
from live.sessions.model import Activity, LiveSession
from live.store import utcnow

# --- moderation ----------------------------------------------------------------------------

# action -> statuses it applies to (None: any live status) and the status it leads to.
TRANSITIONS = {
    "approve": (("pending", "visible", "rejected", "hidden"), "approved"),
    "reject": (("pending", "visible"), "rejected"),
    "hide": (("visible", "approved"), "hidden"),
}
FLAGS = {"pin": ("pinned", True), "unpin": ("pinned", False),
         "highlight": ("highlighted", True), "unhighlight": ("highlighted", False),
         "answer": ("answered", True), "unanswer": ("answered", False)}
MOD_ACTIONS = (*TRANSITIONS, *FLAGS, "edit", "move", "merge")
MAX_BULK = 100


def _snapshot(item: Item) -> dict:
    return {"status": item.status, "text": item.text, "column": item.column,
            "pinned": item.pinned, "highlighted": item.highlighted, "answered": item.answered,
            "version": item.version}


def _refs(raw: object) -> list[tuple[int, int]]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BULK:
        raise DomainError("bad_items", limit=MAX_BULK)
    refs = []
    for ref in raw:
        if not isinstance(ref, dict):
            raise DomainError("bad_items", limit=MAX_BULK)
        item_id, version = ref.get("id"), ref.get("version")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (item_id, version)):
            raise DomainError("bad_items", limit=MAX_BULK)
        refs.append((item_id, version))
    if len({r[0] for r in refs}) != len(refs):
        raise DomainError("bad_items", limit=MAX_BULK)
    return refs


def _load_checked(db: DB, activity: Activity, refs: list[tuple[int, int]]) -> list[Item]:
    items = [get_item(db, activity, item_id) for item_id, _ in refs]
    stale = [item for item, (_, version) in zip(items, refs, strict=True) if item.version != version]
    if stale:
        raise DomainError("changed_meanwhile", state={"items": [moderation_item(db, i) for i in stale]})
    return items


def moderate(db: DB, session: LiveSession, activity: Activity, action: object, refs: object,
             link: str, moderator: object = None, body: object = None, column: object = None,
             into: object = None) -> list[Item]:
    """Apply one moderation action to one or several items, all or nothing.

    Each item names the version the moderator saw; if any changed meanwhile, nothing is done
    and the error carries the current state of those items.
    """
    require_board(activity)
    if action not in MOD_ACTIONS:
        raise DomainError("bad_action")
    who = _who(moderator)
    checked = _refs(refs)
    if action == "merge":
        target_ref = _refs([into])
        checked = [r for r in checked if r[0] != target_ref[0][0]]
        if not checked:
            raise DomainError("bad_items", limit=MAX_BULK)
        items = _load_checked(db, activity, [*target_ref, *checked])
        _merge(db, activity, items[0], items[1:], link, who)
    else:
        items = _load_checked(db, activity, checked)
        for item in items:
            _apply(db, activity, item, action, body, column, link, who)
    published_changed(session)
    db.flush()
    return items


def moderate_or_trace(db: DB, session: LiveSession, activity: Activity, action: object,
                      refs: object, link: str, moderator: object = None, body: object = None,
                      column: object = None, into: object = None) -> tuple[list[Item], DomainError | None]:
    """`moderate`, except that an attempt refused because items changed meanwhile is logged.

    Returns (items, None) when done, or ([], the `changed_meanwhile` error) when refused: then
    nothing but the log entries was written, and the caller commits them and reports the error.
    Both doors (socket event and form) call this, so both leave the same trace.
    """
    try:
        with db.begin_nested():
            return moderate(db, session, activity, action, refs, link, moderator, body, column,
                            into), None
    except DomainError as exc:
        if exc.code != "changed_meanwhile":
            raise
        seen = dict(_refs(refs))
        if action == "merge":
            seen.update(_refs([into]))
        who = _who(moderator)
        for current in (exc.state or {}).get("items", []):
            db.add(ModerationEntry(
                activity_id=activity.id, item_id=current["id"], link=link, moderator=who,
                action="refused", before={"version": seen.get(current["id"])},
                after={"refused": action, "reason": "changed_meanwhile",
                       "version": current["version"]}, at=utcnow()))
        db.flush()
        return [], exc


def _who(moderator: object) -> str | None:
    """The name a moderator gave (cleaned), for the log; None if absent or unusable."""
    try:
        if isinstance(moderator, str):
            return validation.optional_text(moderator, "name", NAME_LENGTH)
        return None
    except DomainError:
        return None


def _invalid(db: DB, item: Item) -> DomainError:
    return DomainError("not_possible_now", state={"items": [moderation_item(db, item)]})


def _log(db: DB, activity: Activity, item: Item, action: str, before: dict, link: str,
         who: str | None, **extra) -> None:
    after = {**_snapshot(item), **extra}
    after.pop("version")  # the new version is known once flushed
    db.add(ModerationEntry(activity_id=activity.id, item_id=item.id, link=link, moderator=who,
                           action=action, before=before, after=after, at=utcnow()))


def _refund(db: DB, item: Item) -> None:
    db.execute(delete(BoardVote).where(BoardVote.item_id == item.id))


def _apply(db: DB, activity: Activity, item: Item, action: str, body: object, column: object,
           link: str, who: str | None) -> None:
    before = _snapshot(item)
    if item.status not in LIVE_STATUSES:
        raise _invalid(db, item)
    if action in TRANSITIONS:
        allowed, target = TRANSITIONS[action]
        if item.status not in allowed:
            raise _invalid(db, item)
        item.status = target
        if target in ("rejected", "hidden"):
            _refund(db, item)  # dots on an item nobody sees go back to their owners
            _clear_display(activity, item.id)
    elif action in FLAGS:
        field, value = FLAGS[action]
        if field == "answered" and activity.kind != "questions":
            raise _invalid(db, item)
        setattr(item, field, value)
        if field == "answered":
            item.answered_at = utcnow() if value else None
            if value and activity.settings.get("current") == item.id:
                _clear_display(activity, item.id)
    elif action == "edit":
        new_text = validation.text(body, "contribution", TEXT_LENGTH)
        item.history = [*item.history, {"by": link, "moderator": who, "text": item.text,
                                         "at": utcnow().isoformat()}]
        item.text = new_text
    elif action == "move":
        if activity.kind != "ideas":
            raise _invalid(db, item)
        last = max(1, len(activity.settings["columns"])) - 1
        item.column = validation.integer(column, "bad_column", 0, last)
    item.updated_at = utcnow()
    _log(db, activity, item, action, before, link, who)


def _merge(db: DB, activity: Activity, target: Item, sources: list[Item], link: str,
           who: str | None) -> None:
    if target.status not in LIVE_STATUSES or target.status == "rejected":
        raise _invalid(db, target)
    for source in sources:
        if source.status not in LIVE_STATUSES:
            raise _invalid(db, source)
    before = _snapshot(target)
    for source in sources:
        source_before = _snapshot(source)
        if target.status not in PUBLISHED:
            # A hidden or pending target shows nobody its dots: the sources' dots go back to
            # their owners, as when an item is hidden.
            _refund(db, source)
        # Each participant counts once: a voter of both keeps the target's dots and gets the
        # source's back; the others' dots move to the target.
        target_voters = select(BoardVote.participant_id).where(BoardVote.item_id == target.id)
        db.execute(delete(BoardVote).where(BoardVote.item_id == source.id,
                                           BoardVote.participant_id.in_(target_voters)))
        db.execute(update(BoardVote).where(BoardVote.item_id == source.id).values(
            item_id=target.id,
            once_item_id=case((BoardVote.once_item_id.is_(None), None), else_=target.id)))
        target.history = [*target.history, {"by": link, "moderator": who, "merged": source.id,
                                             "text": source.text, "history": source.history,
                                             "at": utcnow().isoformat()}]
        source.status = "merged"
        source.merged_into_id = target.id
        source.updated_at = utcnow()
        _clear_display(activity, source.id)
        _log(db, activity, source, "merged_into", source_before, link, who, into=target.id)
    target.updated_at = utcnow()
    _log(db, activity, target, "merge", before, link, who, sources=[s.id for s in sources])


def _clear_display(activity: Activity, item_id: int) -> None:
    settings = dict(activity.settings)
    changed = False
    for key in ("spotlight", "current"):
        if settings.get(key) == item_id:
            settings[key] = None
            changed = True
    if changed:
        activity.settings = settings
        activity.version += 1


DISPLAY_KEYS = {"facilitator": ("sort", "spotlight", "current"), "moderator": ("current",)}


def set_display(db: DB, session: LiveSession, activity: Activity, role: str, changes: dict,
                link: str | None = None, moderator: object = None) -> None:
    """Sort, spotlight an item full-screen, or set the question being answered."""
    require_board(activity)
    allowed = DISPLAY_KEYS.get(role, ())
    changes = {k: v for k, v in changes.items() if k in ("sort", "spotlight", "current")}
    if not changes:
        raise DomainError("bad_display")
    if any(k not in allowed for k in changes):
        raise DomainError("forbidden")
    settings = dict(activity.settings)
    for key, value in changes.items():
        if key == "sort":
            if value not in SORTS:
                raise DomainError("bad_sort")
        elif value is not None:
            item = get_item(db, activity, value)
            if item.status not in PUBLISHED:
                raise DomainError("item_not_published")
            if key == "current" and activity.kind != "questions":
                raise DomainError("not_questions")
            if key == "current":
                before = _snapshot(item)
                item.answered, item.answered_at = False, None
                _log(db, activity, item, "current", before, link or role,
                     _who(moderator))
        settings[key] = value
    activity.settings = settings
    activity.version += 1
    sessions.record(db, session, "board_display", role, activity, **changes)

