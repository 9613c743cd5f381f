"""Idea walls and Q&A: one mechanism (contribute, moderate, vote), two displays. No Flask, no sockets."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, case, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DB

from live import activities
from live.boards import similar
from live.boards.model import (
    BOARD_KINDS,
    MAX_BUDGET,
    PUBLISHED,
    TEXT_LENGTH,
    UNMODERATED,
    BoardVote,
    Item,
    ModerationEntry,
)
from live.errors import DomainError, NotFound
from live.sessions import service as sessions
from live.sessions.model import Activity, LiveSession, Participant
from live.store import UTCDateTime, utcnow
from live.text import TextError, clean, clean_optional

MAX_COLUMNS = 6
COLUMN_LENGTH = 40
NAME_LENGTH = 40
POSTS_PER_MINUTE = 5
MAX_ITEMS_PER_PARTICIPANT = 30
MAX_SHOWN = 200  # published items sent in one view; the moderator console sees them all
SORTS = ("votes", "time")
BOOLEAN_SETTINGS = ("premoderation", "stack", "signed", "wall_visible")


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


def _int(value: object, code: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError(code, limit=high)
    return value


def _clean(value: object, field: str, limit: int) -> str:
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
        settings["budget"] = _int(raw["budget"], "bad_budget", low, MAX_BUDGET)
    if "sort" in raw:
        if raw["sort"] not in SORTS:
            raise DomainError("bad_sort")
        settings["sort"] = raw["sort"]
    if kind == "questions":
        settings["stack"] = False
    return settings


def add_board(db: DB, session: LiveSession, kind: object, prompt: object,
              settings: object = None) -> Activity:
    """Append an idea wall or a Q&A to the agenda."""
    clean_settings = check_settings(kind, settings, default_settings(kind, session.locale))
    activity = sessions.add_activity(db, session, kind, prompt, clean_settings)
    if kind == "questions":
        activity.revealed = True  # upvote counts are public in a Q&A unless hidden
    return activity


def update_settings(db: DB, session: LiveSession, activity: Activity, raw: object,
                    actor: str = "facilitator") -> None:
    """Change a board's settings; a column that holds items cannot disappear."""
    require_board(activity)
    settings = check_settings(activity.kind, raw, activity.settings)
    if len(settings["columns"]) < len(activity.settings["columns"]):
        used = db.scalar(select(func.max(Item.column)).where(
            Item.activity_id == activity.id, Item.status.notin_(("withdrawn", "merged"))))
        if used is not None and used >= len(settings["columns"]):
            raise DomainError("column_in_use")
    activity.settings = settings
    activity.version += 1
    sessions.record(db, session, "activity_edited", actor, activity)


# --- helpers -------------------------------------------------------------------------------

def require_board(activity: Activity) -> None:
    """Refuse activities that are not idea walls or Q&As."""
    if activity.kind not in BOARD_KINDS:
        raise DomainError("not_a_board")


def _require_open(session: LiveSession, activity: Activity) -> None:
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


def _published_changed(session: LiveSession) -> None:
    # What phones and the screen see changed: the next state push carries a newer version.
    session.version += 1


# --- participants --------------------------------------------------------------------------

def post(db: DB, session: LiveSession, activity: Activity, participant: Participant, body: object,
         column: object = 0, name: object = None, client_id: str | None = None) -> Item:
    """Store a participant's idea or question: pending (pre-moderation, flagged) or published."""
    _require_open(session, activity)
    settings = activity.settings
    body = _clean(body, "contribution", TEXT_LENGTH)
    columns = max(1, len(settings["columns"]))
    column = _int(column if column not in (None, "") else 0, "bad_column", 0, columns - 1)
    author = None
    if settings.get("signed") and name not in (None, ""):
        try:
            author = clean_optional(name, NAME_LENGTH)
        except TextError as exc:
            raise DomainError(f"text_{exc.code}", field="name", limit=exc.limit) from None
    _check_pace(db, activity, participant)
    flagged = similar.is_profane(body) or bool(author and similar.is_profane(author))
    status = "pending" if settings.get("premoderation") or flagged else "visible"
    now = utcnow()
    item = Item(activity_id=activity.id, participant_id=participant.id, column=column, text=body,
                original_text=body, history=[], author_name=author, status=status,
                flagged=flagged, client_id=client_id, created_at=now, updated_at=now)
    db.add(item)
    db.flush()
    if status == "visible":
        _published_changed(session)
    return item


def _check_pace(db: DB, activity: Activity, participant: Participant) -> None:
    mine = select(func.count(Item.id)).where(Item.activity_id == activity.id,
                                            Item.participant_id == participant.id)
    if (db.scalar(mine.where(Item.status != "withdrawn")) or 0) >= MAX_ITEMS_PER_PARTICIPANT:
        raise DomainError("too_many_items", limit=MAX_ITEMS_PER_PARTICIPANT)
    recent = db.scalar(mine.where(Item.created_at >= utcnow() - timedelta(minutes=1))) or 0
    if recent >= POSTS_PER_MINUTE:
        raise DomainError("posting_too_fast", limit=POSTS_PER_MINUTE)


def _own_unmoderated(db: DB, activity: Activity, participant: Participant, item_id: object) -> Item:
    item = get_item(db, activity, item_id)
    if item.participant_id != participant.id:
        raise NotFound("item_not_found")
    if item.status not in UNMODERATED:
        raise DomainError("already_moderated")
    return item


def edit_own(db: DB, session: LiveSession, activity: Activity, participant: Participant,
             item_id: object, body: object) -> Item:
    """The author rewrites an item no moderator has reviewed yet."""
    _require_open(session, activity)
    item = _own_unmoderated(db, activity, participant, item_id)
    body = _clean(body, "contribution", TEXT_LENGTH)
    item.history = [*item.history, {"by": "author", "text": item.text, "at": utcnow().isoformat()}]
    item.text = item.original_text = body
    item.flagged = similar.is_profane(body)
    if item.flagged and item.status == "visible":
        item.status = "pending"
    item.updated_at = utcnow()
    if item.status == "visible" or item.flagged:
        _published_changed(session)
    db.flush()
    return item


def withdraw(db: DB, session: LiveSession, activity: Activity, participant: Participant,
             item_id: object) -> Item:
    """The author takes back an item no moderator has reviewed yet (its votes are returned)."""
    require_board(activity)
    item = _own_unmoderated(db, activity, participant, item_id)
    was_published = item.status == "visible"
    item.status = "withdrawn"
    item.updated_at = utcnow()
    db.execute(delete(BoardVote).where(BoardVote.item_id == item.id))
    if was_published:
        _published_changed(session)
    db.flush()
    return item


_TAKE_SLOT = text(
    "INSERT INTO board_votes (activity_id, item_id, participant_id, slot, once_item_id, created_at) "
    "SELECT :activity, :item, :participant, MIN(s.n), :once, :now FROM ({slots}) AS s "
    "WHERE s.n NOT IN (SELECT v.slot FROM board_votes v WHERE v.activity_id = :activity "
    "AND v.participant_id = :participant AND v.slot IS NOT NULL) HAVING MIN(s.n) IS NOT NULL"
)


def vote(db: DB, session: LiveSession, activity: Activity, participant: Participant,
         item_id: object) -> None:
    """Put one of the participant's dots (or their upvote) on a published item.

    The database decides: the dot takes the lowest free slot 1..budget in one INSERT..SELECT;
    unique (activity, participant, slot) and unique (participant, once_item_id) refuse the rest.
    """
    _require_open(session, activity)
    item = get_item(db, activity, item_id)
    if item.status not in PUBLISHED:
        raise DomainError("item_not_votable")
    budget = activity.settings.get("budget") or 0
    once = None if (activity.settings.get("stack") and budget) else item.id
    try:
        with db.begin_nested():
            if not budget:
                db.add(BoardVote(activity_id=activity.id, item_id=item.id,
                                 participant_id=participant.id, slot=None, once_item_id=once,
                                 created_at=utcnow()))
                db.flush()
                return
            slots = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(1, min(budget, MAX_BUDGET) + 1))
            statement = text(_TAKE_SLOT.text.format(slots=slots)).bindparams(
                bindparam("now", type_=UTCDateTime()))
            result = db.execute(statement, {"activity": activity.id, "item": item.id,
                                            "participant": participant.id, "once": once,
                                            "now": utcnow()})
    except IntegrityError:
        raise DomainError("already_voted") from None
    if result.rowcount == 0:
        raise DomainError("no_votes_left", limit=budget)


def unvote(db: DB, session: LiveSession, activity: Activity, participant: Participant,
           item_id: object) -> None:
    """Take back one of the participant's dots from an item."""
    _require_open(session, activity)
    item = get_item(db, activity, item_id)
    vote_id = db.scalar(select(BoardVote.id).where(
        BoardVote.item_id == item.id, BoardVote.participant_id == participant.id)
        .order_by(BoardVote.slot.desc()).limit(1))
    if vote_id is None:
        raise DomainError("no_vote_to_take_back")
    db.execute(delete(BoardVote).where(BoardVote.id == vote_id))


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
LIVE_STATUSES = ("pending", "visible", "approved", "rejected", "hidden")
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
    _published_changed(session)
    db.flush()
    return items


def _who(moderator: object) -> str | None:
    """The name a moderator gave (cleaned), for the log; None if absent or unusable."""
    try:
        return clean_optional(moderator, NAME_LENGTH) if isinstance(moderator, str) else None
    except TextError:
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
        new_text = _clean(body, "contribution", TEXT_LENGTH)
        item.history = [*item.history, {"by": link, "moderator": who, "text": item.text,
                                         "at": utcnow().isoformat()}]
        item.text = new_text
    elif action == "move":
        if activity.kind != "ideas":
            raise _invalid(db, item)
        item.column = _int(column, "bad_column", 0, max(1, len(activity.settings["columns"])) - 1)
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


# --- views ---------------------------------------------------------------------------------

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


def public_item(item: Item, counts: dict[int, int] | None) -> dict:
    """What anyone may see of a published item (never who sent it, unless signed)."""
    data = {"id": item.id, "column": item.column, "text": item.text, "author": item.author_name,
            "pinned": item.pinned, "highlighted": item.highlighted, "answered": item.answered,
            "at": item.created_at.isoformat()}
    if counts is not None:
        data["votes"] = counts.get(item.id, 0)
    return data


def view(db: DB, activity: Activity, include_results: bool) -> dict:
    """What the screen and phones see: published items only; counts when results are shown."""
    settings = activity.settings
    counts = vote_counts(db, activity) if include_results else None
    public_settings = {k: settings.get(k) for k in
                       ("columns", "premoderation", "budget", "stack", "signed", "wall_visible",
                        "sort", "spotlight", "current")}
    data: dict = {"settings": public_settings, "items": None}
    published = _published(db, activity)
    by_id = {i.id: i for i in published}
    for key in ("spotlight", "current"):
        item = by_id.get(settings.get(key))
        data[key] = public_item(item, counts) if item else None
    if settings.get("wall_visible") or include_results:
        ordered = _ordered(published, counts, settings.get("sort", "time"))[:MAX_SHOWN]
        data["items"] = [public_item(i, counts) for i in ordered]
    data["published"] = len(published)
    return data


def results(db: DB, activity: Activity) -> dict:
    """Live aggregates for the coalesced pushes: counts per item, order, moderation counters."""
    counts = vote_counts(db, activity)
    statuses = dict(db.execute(select(Item.status, func.count(Item.id)).where(
        Item.activity_id == activity.id).group_by(Item.status)).all())
    ordered = _ordered(_published(db, activity), counts, activity.settings.get("sort", "time"))
    stamp = db.execute(select(func.count(Item.id), func.coalesce(func.sum(Item.version), 0))
                       .where(Item.activity_id == activity.id)).one()
    voters = db.scalar(select(func.count(func.distinct(BoardVote.participant_id)))
                       .where(BoardVote.activity_id == activity.id)) or 0
    return {"votes": {str(k): v for k, v in counts.items()}, "order": [i.id for i in ordered][:MAX_SHOWN],
            "voters": voters, "published": len(ordered),
            "queue": statuses.get("pending", 0) + statuses.get("visible", 0),
            "rejected": statuses.get("rejected", 0), "hidden": statuses.get("hidden", 0),
            "stamp": f"{stamp[0]}.{stamp[1]}"}


def mine(db: DB, activity: Activity, participant_id: int) -> dict:
    """This participant's own items (any status but withdrawn), dots per item and dots left."""
    items = db.scalars(select(Item).where(Item.activity_id == activity.id,
                                          Item.participant_id == participant_id,
                                          Item.status != "withdrawn").order_by(Item.id))
    votes = db.execute(select(BoardVote.item_id, func.count(BoardVote.id)).where(
        BoardVote.activity_id == activity.id, BoardVote.participant_id == participant_id)
        .group_by(BoardVote.item_id)).all()
    budget = activity.settings.get("budget") or 0
    used = db.scalar(select(func.count(BoardVote.id)).where(
        BoardVote.activity_id == activity.id, BoardVote.participant_id == participant_id,
        BoardVote.slot.is_not(None))) or 0
    return {
        "items": [{"id": i.id, "column": i.column, "text": i.text, "status": i.status,
                   "version": i.version, "editable": i.status in UNMODERATED} for i in items],
        "votes": {str(item_id): n for item_id, n in votes},
        "budget": budget, "left": max(0, budget - used) if budget else None,
    }


def moderation_item(db: DB, item: Item, counts: dict[int, int] | None = None) -> dict:
    """Everything a moderator sees of an item, with the version to send back."""
    if counts is None:
        counts = {item.id: db.scalar(select(func.count(BoardVote.id)).where(
            BoardVote.item_id == item.id)) or 0}
    return {**public_item(item, counts), "status": item.status, "version": item.version,
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
        "state": activity.state, "settings": activity.settings,
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


for _kind in BOARD_KINDS:
    activities.register(_kind, activities.KindHooks(
        view=view, results=results, mine=mine, reset=reset_board, answer_count=contributor_count,
    ))
