"""Polls: definitions (single, multiple, scale, ranking), votes and tallies. No Flask, no sockets."""

from __future__ import annotations

import functools
import json

from sqlalchemy import Text, bindparam, cast, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as DB

from live import activities, store, validation
from live.errors import DomainError
from live.polls.model import Option, PaperCount, Vote
from live.sessions import service as sessions
from live.sessions.model import Activity, LiveSession, Participant
from live.store import lock_row, utcnow

# The limits and rules of a poll live in `live.validation` (forms, sockets and imports share them).
MAX_OPTIONS = validation.MAX_OPTIONS
MAX_SCALE = validation.MAX_SCALE
OPTION_LENGTH = validation.OPTION_LENGTH
SCALE_LABEL_LENGTH = validation.SCALE_LABEL_LENGTH
check_definition = validation.poll_definition


def add_poll(db: DB, session: LiveSession, poll_type: object, prompt: object, options: object = None,
             settings: object = None) -> Activity:
    """Append a poll to the session's agenda."""
    labels, clean_settings = check_definition(poll_type, options, settings)
    activity = sessions.add_activity(db, session, "poll", prompt, clean_settings, type_=poll_type)
    _set_options(db, activity, labels)
    return activity


def update_poll(db: DB, session: LiveSession, activity: Activity, prompt: object, options: object = None,
                settings: object = None) -> None:
    """Change a poll's question, options or settings (only while it has no votes)."""
    _require_poll(activity)
    sessions.require_editable(db, activity)
    labels, clean_settings = check_definition(activity.type, options, settings)
    activity.prompt = validation.text(prompt, "prompt", validation.PROMPT_LENGTH)
    activity.settings = clean_settings
    activity.version += 1
    db.execute(delete(Option).where(Option.activity_id == activity.id))
    _set_options(db, activity, labels)
    sessions.record(db, session, "activity_edited", "facilitator", activity)


def _set_options(db: DB, activity: Activity, labels: list[str]) -> None:
    for position, label in enumerate(labels, start=1):
        db.add(Option(activity_id=activity.id, position=position, label=label))
    db.flush()
    store.agenda_reads(db).pop((_OPTION_IDS, activity.id), None)


# In a unit of work's agenda reads (`store.agenda_reads`): the option ids of each poll voted on.
# A group commit of votes (live/writer.py) reads a poll's options once, not once per vote, and
# not at all while the agenda's generation stays (`store.Generation`); `_set_options` forgets them.
_OPTION_IDS = "poll_option_ids"


def _option_ids(db: DB, activity: Activity) -> frozenset[int]:
    cache = store.agenda_reads(db)
    ids = cache.get((_OPTION_IDS, activity.id))
    if ids is None:
        ids = cache[(_OPTION_IDS, activity.id)] = frozenset(db.scalars(select(Option.id).where(
            Option.activity_id == activity.id)))
    return ids


@functools.cache
def _upsert(dialect: str):
    """The vote statement, built once per dialect (building it cost more than running it): one
    row per (poll, participant); a second vote from the same participant updates the first."""
    table = Vote.__table__
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.activity_id, table.c.participant_id],
        set_={"choice": statement.excluded.choice, "client_id": statement.excluded.client_id,
              "updated_at": statement.excluded.updated_at, "changes": table.c.changes + 1})


def _require_poll(activity: Activity) -> None:
    if activity.kind != "poll":
        raise DomainError("not_a_poll")


def options_of(db: DB, activity: Activity) -> list[Option]:
    """The poll's options in order."""
    return list(db.scalars(select(Option).where(Option.activity_id == activity.id)
                           .order_by(Option.position)))


def check_choice(db: DB, activity: Activity, choice: object) -> list[int]:
    """Validate a participant's answer against the poll; return it in stored form."""
    option_ids = frozenset() if activity.type == "scale" else _option_ids(db, activity)
    return validation.poll_choice(activity.type, activity.settings, option_ids, choice)


def vote(db: DB, session: LiveSession, activity: Activity, participant: Participant | sessions.ParticipantRef,
         choice: object, client_id: str | None = None) -> list[int]:
    """Store (or change) a participant's vote; one row per (poll, participant) in the database."""
    _require_poll(activity)
    if session.state == "ended":
        raise DomainError("session_ended")
    if activity.state != "open":
        raise DomainError("poll_closed" if activity.state == "closed" else "poll_not_open")
    stored = check_choice(db, activity, choice)
    now = utcnow()
    # The unique constraint decides: a second vote from the same participant updates the first.
    # In a group commit, one statement stores the votes of all its writes (`store.write_row`).
    store.write_row(db, _upsert(db.bind.dialect.name), {
        "activity_id": activity.id, "participant_id": participant.id, "choice": stored,
        "client_id": client_id, "changes": 0, "created_at": now, "updated_at": now},
        unique=(activity.id, participant.id))
    return stored


def my_vote(db: DB, activity: Activity, participant_id: int) -> list[int] | None:
    """What this participant answered, if anything."""
    # On the driver's cursor in the session's transaction (every reconnection's snapshot reads it).
    row = store.first_row(db, _MY_VOTE, {"activity": activity.id, "participant": participant_id})
    return None if row is None else row[0]


# Built once: a phone's snapshot (every reconnection) reads its vote with it.
_MY_VOTE = select(Vote.choice).where(Vote.activity_id == bindparam("activity"),
                                     Vote.participant_id == bindparam("participant"))


def vote_count(db: DB, activity: Activity) -> int:
    """How many participants voted."""
    return db.scalar(select(func.count(Vote.id)).where(Vote.activity_id == activity.id)) or 0


def tally(db: DB, activity: Activity) -> dict:
    """The poll's results, derived from the stored votes and the paper counts: each bar's `count`
    is phones and paper together, `phone` and `paper` apart; `total` (what percentages are of)
    counts phone voters and paper ballots (for a multiple choice, at least the largest paper
    count of an option), `phone_total` and `paper_total` apart."""
    choices = _choices(db, activity)
    phones = sum(voters for _choice, voters in choices)
    if activity.type == "scale":
        return _scale_tally(activity, choices, phones, paper_totals(db, activity))
    options = options_of(db, activity)
    counts = {o.id: 0 for o in options}
    if activity.type == "ranking":
        # Borda count: with n options, first place gets n-1 points, last gets 0.
        n = len(options)
        for choice, voters in choices:
            for rank, option_id in enumerate(choice):
                if option_id in counts:
                    counts[option_id] += (n - 1 - rank) * voters
        return {"total": phones, "max_score": phones * (n - 1),
                "options": [{"id": o.id, "label": o.label, "score": counts[o.id]} for o in options]}
    for choice, voters in choices:
        for option_id in choice:
            if option_id in counts:
                counts[option_id] += voters
    paper = paper_totals(db, activity)
    ballots = (sum if activity.type == "single" else _largest)(paper.values())
    return {"total": phones + ballots, "phone_total": phones, "paper_total": ballots,
            "options": [{"id": o.id, "label": o.label, "count": counts[o.id] + paper.get(o.id, 0),
                         "phone": counts[o.id], "paper": paper.get(o.id, 0)} for o in options]}


def _choices(db: DB, activity: Activity) -> list[tuple[list, int]]:
    """Each distinct stored choice once, with how many voted it: the tally is pushed ten times a
    second during a burst, and reading (and decoding) every vote each time cost more than
    storing them. Grouped on the stored text (PostgreSQL's json cannot be grouped)."""
    text = cast(Vote.choice, Text)
    rows = db.execute(select(text, func.count()).where(Vote.activity_id == activity.id).group_by(text))
    return [(json.loads(stored), voters) for stored, voters in rows if stored is not None]


def _largest(values) -> int:
    return max(values, default=0)


def _scale_tally(activity: Activity, choices: list[tuple[list, int]], phones: int, paper: dict) -> dict:
    counts = {value: 0 for value in range(1, activity.settings["scale_max"] + 1)}
    for choice, voters in choices:
        counts[choice[0]] = counts.get(choice[0], 0) + voters
    ballots = sum(paper.values())
    total = phones + ballots
    weighted = sum(c[0] * voters for c, voters in choices) + sum(v * n for v, n in paper.items())
    return {"total": total, "phone_total": phones, "paper_total": ballots,
            "mean": weighted / total if total else None,
            "buckets": [{"value": v, "count": n + paper.get(v, 0), "phone": n, "paper": paper.get(v, 0)}
                        for v, n in counts.items()]}


# --- paper counts: a show of hands or paper ballots, entered by staff -----------------------

def paper_totals(db: DB, activity: Activity) -> dict[int, int]:
    """The paper total of each option id (or scale value) that has one."""
    target = PaperCount.value if activity.type == "scale" else PaperCount.option_id
    rows = db.execute(select(target, func.sum(PaperCount.delta)).where(
        PaperCount.activity_id == activity.id).group_by(target))
    return {key: int(total) for key, total in rows if total}


def add_paper(db: DB, session: LiveSession, activity: Activity, target: object, delta: object,
              actor: str) -> PaperCount:
    """Add (or, negative, take back) votes counted on paper or by a show of hands for one option
    (a scale's value); logged with who entered it and when. A total never goes below zero."""
    _require_poll(activity)
    if session.state == "ended":
        raise DomainError("session_ended")
    if activity.state not in ("open", "closed"):
        raise DomainError("poll_not_open")
    option_ids = frozenset() if activity.type == "scale" else _option_ids(db, activity)
    scale_max = (activity.settings or {}).get("scale_max", 0)
    option_id, value, count = validation.paper_entry(activity.type, option_ids, scale_max, target, delta)
    # One paper entry of a poll at a time: without the lock, two corrections of -5 on a total of
    # 5 both pass, and the archive's running totals disagree.
    lock_row(db, Activity, activity.id)
    before = db.scalar(select(func.coalesce(func.sum(PaperCount.delta), 0)).where(
        PaperCount.activity_id == activity.id, PaperCount.option_id == option_id if option_id is not None
        else PaperCount.value == value)) or 0
    if before + count < 0:
        raise DomainError("paper_negative", total=before)
    if before + count > validation.MAX_PAPER_TOTAL:
        raise DomainError("bad_paper_count", low=-validation.MAX_PAPER_ENTRY,
                          limit=validation.MAX_PAPER_ENTRY)
    entry = PaperCount(activity_id=activity.id, option_id=option_id, value=value, delta=count,
                       total_after=before + count, entered_by=actor, created_at=utcnow())
    db.add(entry)
    db.flush()
    return entry


def paper_log(db: DB, activity: Activity) -> list[PaperCount]:
    """Every paper entry of the poll, oldest first."""
    return list(db.scalars(select(PaperCount).where(PaperCount.activity_id == activity.id)
                           .order_by(PaperCount.id)))


def view(db: DB, activity: Activity, include_results: bool) -> dict:
    """What anyone who sees this poll may know about it (results only when asked)."""
    data: dict = {"type": activity.type, "settings": activity.settings,
                  "options": [{"id": o.id, "label": o.label} for o in options_of(db, activity)]}
    if include_results:
        data["results"] = tally(db, activity)
    return data


def reset_votes(db: DB, activity: Activity) -> None:
    """Delete every vote of the poll, and its paper counts."""
    db.execute(delete(Vote).where(Vote.activity_id == activity.id))
    db.execute(delete(PaperCount).where(PaperCount.activity_id == activity.id))


activities.register("poll", activities.KindHooks(
    view=view,
    results=tally,
    mine=my_vote,
    reset=reset_votes,
    answer_count=vote_count,
))
