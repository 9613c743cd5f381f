"""Idea walls and Q&A: one mechanism (contribute, moderate, vote), two displays. No Flask, no sockets.

This module holds what participants do (post, edit, withdraw, vote) and the board's lifecycle
(add, settings); moderation lives in `moderation`, what each role sees in `views`, limits and
settings in `rules`. Their public names are re-exported here: callers import only `service`.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import bindparam, case, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DB

from live import activities, validation
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
from live.boards.moderation import (  # noqa: F401 - re-exported
    DISPLAY_KEYS,
    FLAGS,
    MAX_BULK,
    MOD_ACTIONS,
    TRANSITIONS,
    moderate,
    moderate_or_trace,
    set_display,
)
from live.boards.rules import (  # noqa: F401 - re-exported
    BOOLEAN_SETTINGS,
    COLUMN_LENGTH,
    LIVE_STATUSES,
    MAX_COLUMNS,
    MAX_ITEMS_PER_PARTICIPANT,
    MAX_SHOWN,
    NAME_LENGTH,
    POSTS_PER_MINUTE,
    SORTS,
    check_settings,
    default_settings,
    get_item,
    published_changed,
    require_board,
    require_open,
)
from live.boards.views import (  # noqa: F401 - re-exported
    contributor_count,
    is_private,
    items_for_archive,
    items_per_column,
    log_entries,
    log_entry,
    mine,
    moderation_item,
    moderation_view,
    people_concerned,
    public_item,
    reset_board,
    results,
    view,
    view_for_role,
    vote_counts,
)
from live.errors import DomainError, NotFound
from live.sessions import service as sessions
from live.sessions.model import Activity, LiveSession, Participant
from live.store import UTCDateTime, lock_row, utcnow

# --- lifecycle -----------------------------------------------------------------------------

def add_board(db: DB, session: LiveSession, kind: object, prompt: object,
              settings: object = None) -> Activity:
    """Append an idea wall or a Q&A to the agenda."""
    clean_settings = check_settings(kind, settings, default_settings(kind, session.locale))
    activity = sessions.add_activity(db, session, kind, prompt, clean_settings)
    if kind == "questions":
        activity.revealed = True  # upvote counts are public in a Q&A unless hidden
    return activity


def update_settings(db: DB, session: LiveSession, activity: Activity, raw: object,
                    actor: str = "facilitator", prompt: object = None,
                    sources: list | None = None) -> None:
    """Change a board's settings (and its prompt, when given).

    Columns: without `sources` the new list replaces the old one position by position (a
    trailing column that holds items cannot disappear). With `sources`, one entry per new
    column: the index of the old column it renames (None for a new column); an old column that
    is not named there is removed, which only an empty one may be, and the items follow their
    column to its new position.
    """
    require_board(activity)
    old = activity.settings
    settings = check_settings(activity.kind, raw, old)
    if activity.kind == "ideas":
        _remap_columns(db, activity, len(old["columns"]), len(settings["columns"]), sources)
    _check_votes_fit(db, activity, old, settings)
    if prompt is not None:
        activity.prompt = validation.text(prompt, "prompt", validation.PROMPT_LENGTH)
    activity.settings = settings
    activity.version += 1
    sessions.record(db, session, "activity_edited", actor, activity)


def _remap_columns(db: DB, activity: Activity, before: int, after: int, sources: list | None) -> None:
    live = Item.status.notin_(("withdrawn", "merged"))
    if sources is None:
        if after < before:
            used = db.scalar(select(func.max(Item.column)).where(Item.activity_id == activity.id, live))
            if used is not None and used >= after:
                raise DomainError("column_in_use")
        return
    if len(sources) != after or any(
            s is not None and (not isinstance(s, int) or isinstance(s, bool) or not 0 <= s < before)
            for s in sources) or len({s for s in sources if s is not None}) != len(
            [s for s in sources if s is not None]):
        raise DomainError("bad_columns", limit=MAX_COLUMNS)
    mapping = {old: new for new, old in enumerate(sources) if old is not None}
    removed = [old for old in range(before) if old not in mapping]
    if removed and db.scalar(select(func.count(Item.id)).where(
            Item.activity_id == activity.id, live, Item.column.in_(removed))):
        raise DomainError("column_in_use")
    moves = {old: new for old, new in mapping.items() if old != new}
    for old in removed:  # withdrawn or merged items of a removed column: first column
        moves[old] = 0
    if moves:
        db.execute(update(Item).where(Item.activity_id == activity.id, Item.column.in_(list(moves)))
                   .values(column=case(moves, value=Item.column)))


def _check_votes_fit(db: DB, activity: Activity, old: dict, new: dict) -> None:
    """Dots already spent must fit the new rules: no slot beyond a lower budget, no item
    holding two dots of one participant once stacking is turned off. A Q&A may also go from
    unlimited upvotes (budget 0: no slots) to a budget and back: the upvotes take slots then."""
    old_budget, new_budget = old.get("budget") or 0, new["budget"]
    if new_budget and new_budget < old_budget and db.scalar(select(func.count(BoardVote.id)).where(
            BoardVote.activity_id == activity.id, BoardVote.slot > new_budget)):
        raise DomainError("budget_in_use")
    if new_budget and not old_budget:
        _number_upvotes(db, activity, new_budget)
    elif old_budget and not new_budget:  # counted upvotes become unlimited ones (one per question)
        db.execute(update(BoardVote).where(BoardVote.activity_id == activity.id).values(slot=None))
    if activity.kind != "ideas":
        return
    if old.get("stack") and not new["stack"] and db.scalar(
            select(func.count()).select_from(
                select(BoardVote.participant_id).where(BoardVote.activity_id == activity.id)
                .group_by(BoardVote.participant_id, BoardVote.item_id)
                .having(func.count(BoardVote.id) > 1).subquery())):
        raise DomainError("stack_in_use")
    if old.get("stack") and not new["stack"]:
        # Every dot becomes "one per item" again: the database keeps it so from now on.
        db.execute(update(BoardVote).where(BoardVote.activity_id == activity.id)
                   .values(once_item_id=BoardVote.item_id))


def _number_upvotes(db: DB, activity: Activity, budget: int) -> None:
    """Unlimited upvotes become counted ones: each takes a slot 1..budget, in the order given;
    refused if someone already has more than the new budget."""
    rows = db.execute(select(BoardVote.id, BoardVote.participant_id).where(
        BoardVote.activity_id == activity.id).order_by(BoardVote.id)).all()
    if max(Counter(pid for _, pid in rows).values(), default=0) > budget:
        raise DomainError("budget_in_use")
    taken: Counter = Counter()
    slots = []
    for vote_id, participant_id in rows:
        taken[participant_id] += 1
        slots.append({"vote": vote_id, "slot": taken[participant_id]})
    if slots:
        table = BoardVote.__table__
        db.execute(update(table).where(table.c.id == bindparam("vote")).values(slot=bindparam("slot")),
                   slots)


# --- participants --------------------------------------------------------------------------

def post(db: DB, session: LiveSession, activity: Activity, participant: Participant, body: object,
         column: object = 0, name: object = None, client_id: str | None = None) -> Item:
    """Store a participant's idea or question: pending (pre-moderation, flagged) or published."""
    require_open(session, activity)
    settings = activity.settings
    body = validation.text(body, "contribution", TEXT_LENGTH)
    columns = max(1, len(settings["columns"]))
    column = validation.integer(column if column not in (None, "") else 0, "bad_column", 0, columns - 1)
    author = None
    if settings.get("signed") and name not in (None, ""):
        author = validation.optional_text(name, "name", NAME_LENGTH)
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
        published_changed(session)
    return item


def _check_pace(db: DB, activity: Activity, participant: Participant) -> None:
    # One idea of a participant at a time: without the lock, ideas sent in the same instant
    # through a socket and the offline form (two processes) counted the same ones and overran the
    # pace or the cap.
    lock_row(db, Participant, participant.id)
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
    # Reviewed: any moderator action on it (an edit, a move, a pin, a merge into it...) is
    # logged; from then on the author's rewrite would silently undo the moderator's work.
    if item.status not in UNMODERATED or db.scalar(select(ModerationEntry.id).where(
            ModerationEntry.item_id == item.id).limit(1)) is not None:
        raise DomainError("already_moderated")
    return item


def edit_own(db: DB, session: LiveSession, activity: Activity, participant: Participant,
             item_id: object, body: object) -> Item:
    """The author rewrites an item no moderator has reviewed yet."""
    require_open(session, activity)
    item = _own_unmoderated(db, activity, participant, item_id)
    body = validation.text(body, "contribution", TEXT_LENGTH)
    item.history = [*item.history, {"by": "author", "text": item.text, "at": utcnow().isoformat()}]
    item.text = item.original_text = body
    item.flagged = similar.is_profane(body)
    if item.flagged and item.status == "visible":
        item.status = "pending"
    item.updated_at = utcnow()
    if item.status == "visible" or item.flagged:
        published_changed(session)
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
        published_changed(session)
    db.flush()
    return item


def _require_revealed_if_private(activity: Activity) -> None:
    """A private wall takes no dot until revealed: a phone sees no one else's items (a vote on
    one could only come from a forged id) and voting for one's own would be voting blind.
    Checked before the item is looked up: the answer says nothing of which ids exist."""
    if is_private(activity):
        raise DomainError("votes_after_reveal")


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
    require_open(session, activity)
    _require_revealed_if_private(activity)
    item = get_item(db, activity, item_id)
    if item.status not in PUBLISHED:
        raise DomainError("item_not_votable")
    budget = activity.settings.get("budget") or 0
    once = None if (activity.settings.get("stack") and budget) else item.id
    if budget:
        # One dot of a participant at a time: without the lock, two taps through two processes
        # read the same free slot, and the second was refused as "already voted" with dots left.
        lock_row(db, Participant, participant.id)
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
    require_open(session, activity)
    _require_revealed_if_private(activity)
    item = get_item(db, activity, item_id)
    vote_id = db.scalar(select(BoardVote.id).where(
        BoardVote.item_id == item.id, BoardVote.participant_id == participant.id)
        .order_by(BoardVote.slot.desc()).limit(1))
    if vote_id is None:
        raise DomainError("no_vote_to_take_back")
    db.execute(delete(BoardVote).where(BoardVote.id == vote_id))



for _kind in BOARD_KINDS:
    activities.register(_kind, activities.KindHooks(
        view=view, results=results, mine=mine, reset=reset_board, answer_count=contributor_count,
        view_for_role=view_for_role,
    ))
