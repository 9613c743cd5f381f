"""What each role sees of idea walls and Q&A: published items, counts, one's own items, the
moderator console's data, the archive's rows. Read-only; no Flask, no sockets."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session as DB

from live.boards import similar
from live.boards.model import PUBLISHED, UNMODERATED, BoardVote, Item, ModerationEntry
from live.boards.rules import LIVE_STATUSES, MAX_SHOWN, require_board
from live.errors import is_id
from live.sessions.model import Activity


def vote_counts(db: DB, activity: Activity) -> dict[int, int]:
    """Dots (or upvotes) per item, derived from the stored votes."""
    rows = db.execute(select(BoardVote.item_id, func.count(BoardVote.id))
                      .where(BoardVote.activity_id == activity.id).group_by(BoardVote.item_id))
    return dict(rows.all())


def _published(db: DB, activity: Activity) -> list[Item]:
    return list(db.scalars(select(Item).where(Item.activity_id == activity.id,
                                              Item.status.in_(PUBLISHED)).order_by(Item.id)))


def _ordered(items: list[Item], counts: dict[int, int] | None, sort: str) -> list[Item]:
    if counts is not None and sort == "votes":
        return sorted(items, key=lambda i: (not i.pinned, -counts.get(i.id, 0), i.id))
    return sorted(items, key=lambda i: (not i.pinned, i.id))


def public_item(item: Item, counts: dict[int, int] | None, with_time: bool = False) -> dict:
    """What anyone may see of a published item (never who sent it, unless signed); `with_time`:
    when it was sent (for the staff's and the archive's views: the phones and the screen never
    show it, and each phone would get it for every item)."""
    data = {"id": item.id, "column": item.column, "text": item.text, "author": item.author_name,
            "pinned": item.pinned, "highlighted": item.highlighted, "answered": item.answered}
    if with_time:
        data["at"] = item.created_at.isoformat()
    if counts is not None:
        data["votes"] = counts.get(item.id, 0)
    return data


def is_private(activity: Activity) -> bool:
    """Whether the wall still keeps each one's items to themselves (private, not revealed)."""
    return bool(activity.settings.get("private")) and not activity.revealed


def _public_settings(settings: dict) -> dict:
    public = {k: settings.get(k) for k in ("columns", "premoderation", "budget", "stack", "signed",
                                           "wall_visible", "sort", "spotlight", "current")}
    if settings.get("private"):  # (no key otherwise: a phone's first load is counted in bytes)
        public["private"] = True
    return public


def view(db: DB, activity: Activity, include_results: bool) -> dict:
    """What phones see: published items only; counts when results are shown."""
    return view_for_role(db, activity, include_results, "participant")


def view_for_role(db: DB, activity: Activity, include_results: bool, role: str) -> dict:
    """What `role` sees: published items only, never someone's unreviewed one.

    Phones see the items when `wall_visible` is on or once revealed; the screen and the staff
    always see them (the wall is projected even when phones only get the prompt). Vote counts
    only come with `include_results` (staff, or revealed). A `private` wall not yet revealed
    shows phones and the screen no one's items, only their count (each phone has its own
    items in `mine`); the facilitator and moderators see everything.
    """
    settings = activity.settings
    if is_private(activity) and role not in ("facilitator", "moderator"):
        return {"settings": _public_settings(settings), "items": None, "spotlight": None,
                "current": None, "published": len(_published(db, activity))}
    counts = vote_counts(db, activity) if include_results else None
    data: dict = {"settings": _public_settings(settings), "items": None}
    published = _published(db, activity)
    by_id = {i.id: i for i in published}
    for key in ("spotlight", "current"):
        item = by_id.get(settings.get(key))
        data[key] = public_item(item, counts) if item else None
    if settings.get("wall_visible") or include_results or role != "participant":
        ordered = _ordered(published, counts, settings.get("sort", "time"))[:MAX_SHOWN]
        data["items"] = [public_item(i, counts) for i in ordered]
    data["published"] = len(published)
    if role in ("facilitator", "moderator"):  # the agenda shows what moderation did
        statuses = dict(db.execute(select(Item.status, func.count(Item.id)).where(
            Item.activity_id == activity.id).group_by(Item.status)).all())
        data["moderation"] = {"queue": sum(statuses.get(k, 0) for k in UNMODERATED),
                              "published": len(published), "rejected": statuses.get("rejected", 0),
                              "hidden": statuses.get("hidden", 0)}
    return data


def results(db: DB, activity: Activity) -> dict:
    """Live aggregates for the coalesced pushes: counts per item, order, moderation counters."""
    counts = vote_counts(db, activity)
    statuses = dict(db.execute(select(Item.status, func.count(Item.id)).where(
        Item.activity_id == activity.id).group_by(Item.status)).all())
    ordered = _ordered(_published(db, activity), counts, activity.settings.get("sort", "time"))
    voters = db.scalar(select(func.count(func.distinct(BoardVote.participant_id)))
                       .where(BoardVote.activity_id == activity.id)) or 0
    return {"votes": {str(k): v for k, v in counts.items()}, "order": [i.id for i in ordered][:MAX_SHOWN],
            "voters": voters, "published": len(ordered),
            "queue": statuses.get("pending", 0) + statuses.get("visible", 0),
            "rejected": statuses.get("rejected", 0), "hidden": statuses.get("hidden", 0),
            "stamp": stamp(db, activity)}


def stamp(db: DB, activity: Activity) -> str:
    """Changes when any item of the board changes (count of items, sum of their versions): the
    moderator page asks for a board's moderation data again only for a stamp it has not drawn."""
    count, versions = db.execute(select(func.count(Item.id), func.coalesce(func.sum(Item.version), 0))
                                 .where(Item.activity_id == activity.id)).one()
    return f"{count}.{versions}"


def mine(db: DB, activity: Activity, participant_id: int) -> dict:
    """This participant's own items (any status but withdrawn), dots per item and dots left."""
    items = db.scalars(select(Item).where(Item.activity_id == activity.id,
                                          Item.participant_id == participant_id,
                                          Item.status != "withdrawn").order_by(Item.id))
    votes = db.execute(select(BoardVote.item_id, func.count(BoardVote.id)).where(
        BoardVote.activity_id == activity.id, BoardVote.participant_id == participant_id)
        .group_by(BoardVote.item_id)).all()
    reviewed = set(db.scalars(select(ModerationEntry.item_id).where(
        ModerationEntry.activity_id == activity.id, ModerationEntry.item_id.in_(
            select(Item.id).where(Item.activity_id == activity.id,
                                  Item.participant_id == participant_id)))))
    budget = activity.settings.get("budget") or 0
    used = db.scalar(select(func.count(BoardVote.id)).where(
        BoardVote.activity_id == activity.id, BoardVote.participant_id == participant_id,
        BoardVote.slot.is_not(None))) or 0
    return {
        "items": [{"id": i.id, "column": i.column, "text": i.text, "status": i.status,
                   "version": i.version,
                   "editable": i.status in UNMODERATED and i.id not in reviewed} for i in items],
        "votes": {str(item_id): n for item_id, n in votes},
        "budget": budget, "left": max(0, budget - used) if budget else None,
    }


def moderation_item(db: DB, item: Item, counts: dict[int, int] | None = None) -> dict:
    """Everything a moderator sees of an item, with the version to send back."""
    if counts is None:
        counts = {item.id: db.scalar(select(func.count(BoardVote.id)).where(
            BoardVote.item_id == item.id)) or 0}
    return {**public_item(item, counts, with_time=True), "status": item.status, "version": item.version,
            "flagged": item.flagged, "original": item.original_text, "history": item.history,
            "merged_into": item.merged_into_id}


def moderation_view(db: DB, activity: Activity) -> dict:
    """The moderator console: queue, published, removed, duplicate suggestions, counters."""
    require_board(activity)
    counts = vote_counts(db, activity)
    items = list(db.scalars(select(Item).where(Item.activity_id == activity.id,
                                               Item.status.in_(LIVE_STATUSES)).order_by(Item.id)))
    queue = [i for i in items if i.status in UNMODERATED]
    published = _ordered([i for i in items if i.status in PUBLISHED], counts,
                         activity.settings.get("sort", "time"))
    removed = [i for i in items if i.status in ("rejected", "hidden")]
    live_items = [(i.id, i.text) for i in items if i.status not in ("rejected", "hidden")]
    return {
        "activity": activity.id, "kind": activity.kind, "prompt": activity.prompt,
        "state": activity.state, "settings": activity.settings, "version": activity.version,
        "stamp": stamp(db, activity), "private": is_private(activity),
        "queue": [moderation_item(db, i, counts) for i in queue],
        "published": [moderation_item(db, i, counts) for i in published],
        "removed": [moderation_item(db, i, counts) for i in removed],
        "duplicates": similar.duplicates([(i.id, i.text) for i in queue], live_items),
        "counts": {"queue": len(queue), "rejected": sum(i.status == "rejected" for i in removed),
                   "hidden": sum(i.status == "hidden" for i in removed)},
        "log": [log_entry(e) for e in log_entries(db, activity, limit=30)],
    }


def log_entry(entry: ModerationEntry) -> dict:
    """One moderation log entry as plain data (for consoles and the archive)."""
    return {"id": entry.id, "item": entry.item_id, "link": entry.link,
            "moderator": entry.moderator, "action": entry.action, "before": entry.before,
            "after": entry.after, "at": entry.at.isoformat()}


def log_entries(db: DB, activity: Activity, limit: int | None = None) -> list[ModerationEntry]:
    """The moderation log of a board, newest first (everything when no limit)."""
    query = select(ModerationEntry).where(ModerationEntry.activity_id == activity.id).order_by(
        ModerationEntry.id.desc())
    return list(db.scalars(query.limit(limit) if limit else query))


def items_for_archive(db: DB, activity: Activity) -> list[dict]:
    """Every item of a board (all statuses, with history and counts) for the archive."""
    counts = vote_counts(db, activity)
    return [moderation_item(db, i, counts) for i in
            db.scalars(select(Item).where(Item.activity_id == activity.id).order_by(Item.id))]


def people_concerned(db: DB, activity: Activity, item_ids: list) -> set[int]:
    """Who a moderation of these items may concern: their authors and their voters (whose dots
    come back on a reject, a hide or a merge). Read before the action."""
    ids = [i for i in item_ids if is_id(i)][:200]
    if not ids:
        return set()
    authors = db.scalars(select(Item.participant_id).where(
        Item.activity_id == activity.id, Item.id.in_(ids), Item.participant_id.is_not(None)))
    voters = db.scalars(select(BoardVote.participant_id).where(
        BoardVote.activity_id == activity.id, BoardVote.item_id.in_(ids)))
    return set(authors) | set(voters)


def items_per_column(db: DB, activity: Activity) -> dict[int, int]:
    """How many items (still in play: not withdrawn nor merged) each column holds."""
    return dict(db.execute(select(Item.column, func.count(Item.id)).where(
        Item.activity_id == activity.id, Item.status.notin_(("withdrawn", "merged")))
        .group_by(Item.column)).all())


def contributor_count(db: DB, activity: Activity) -> int:
    """How many participants sent at least one item."""
    return db.scalar(select(func.count(func.distinct(Item.participant_id))).where(
        Item.activity_id == activity.id)) or 0


def reset_board(db: DB, activity: Activity) -> None:
    """Delete every item and dot (the moderation log stays, for the record)."""
    db.execute(delete(BoardVote).where(BoardVote.activity_id == activity.id))
    db.execute(update(Item).where(Item.activity_id == activity.id).values(merged_into_id=None))
    db.execute(delete(Item).where(Item.activity_id == activity.id))
    activity.settings = {**activity.settings, "spotlight": None, "current": None}

