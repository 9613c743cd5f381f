"""Polls: definitions (single, multiple, scale, ranking), votes and tallies. No Flask, no sockets."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as DB

from live import activities
from live.errors import DomainError
from live.polls.model import POLL_TYPES, Option, Vote
from live.sessions import service as sessions
from live.sessions.model import Activity, LiveSession, Participant
from live.store import utcnow
from live.text import TextError, clean

MAX_OPTIONS = 12
MAX_SCALE = 10
OPTION_LENGTH = 120
SCALE_LABEL_LENGTH = 40


def _label(value: object, field: str, max_length: int, required: bool = True) -> str:
    try:
        return clean(value, max_length, required=required)
    except TextError as exc:
        raise DomainError(f"text_{exc.code}", field=field, limit=exc.limit) from None


def _int(value: object, code: str) -> int:
    if isinstance(value, bool):
        raise DomainError(code)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise DomainError(code)
    return value


def check_definition(poll_type: object, options: object, settings: object) -> tuple[list[str], dict]:
    """Validate a poll's type, options and settings; return clean option labels and settings."""
    if poll_type not in POLL_TYPES:
        raise DomainError("bad_poll_type")
    settings = settings if isinstance(settings, dict) else {}
    if poll_type == "scale":
        scale_max = _int(settings.get("scale_max", 5), "bad_scale")
        if not 2 <= scale_max <= MAX_SCALE:
            raise DomainError("bad_scale", limit=MAX_SCALE)
        low = _label(settings.get("label_low") or "", "label_low", SCALE_LABEL_LENGTH, False)
        high = _label(settings.get("label_high") or "", "label_high", SCALE_LABEL_LENGTH, False)
        return [], {"scale_max": scale_max, "label_low": low, "label_high": high}
    if not isinstance(options, list):
        raise DomainError("bad_options")
    labels = [_label(o, "option", OPTION_LENGTH, False) for o in options]
    labels = [label for label in labels if label]
    if not 2 <= len(labels) <= MAX_OPTIONS:
        raise DomainError("option_count", limit=MAX_OPTIONS)
    if len({label.casefold() for label in labels}) != len(labels):
        raise DomainError("duplicate_options")
    clean_settings: dict = {}
    if poll_type == "multiple":
        max_choices = _int(settings.get("max_choices") or len(labels), "bad_max_choices")
        if not 1 <= max_choices <= len(labels):
            raise DomainError("bad_max_choices", limit=len(labels))
        clean_settings["max_choices"] = max_choices
    return labels, clean_settings


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
    activity.prompt = sessions._text(prompt, "prompt", 300)
    activity.settings = clean_settings
    activity.version += 1
    db.execute(delete(Option).where(Option.activity_id == activity.id))
    _set_options(db, activity, labels)
    sessions.record(db, session, "activity_edited", "facilitator", activity)


def _set_options(db: DB, activity: Activity, labels: list[str]) -> None:
    for position, label in enumerate(labels, start=1):
        db.add(Option(activity_id=activity.id, position=position, label=label))
    db.flush()


def _require_poll(activity: Activity) -> None:
    if activity.kind != "poll":
        raise DomainError("not_a_poll")


def options_of(db: DB, activity: Activity) -> list[Option]:
    """The poll's options in order."""
    return list(db.scalars(select(Option).where(Option.activity_id == activity.id)
                           .order_by(Option.position)))


def check_choice(db: DB, activity: Activity, choice: object) -> list[int]:
    """Validate a participant's answer against the poll; return it in stored form."""
    if activity.type == "scale":
        value = _int(choice[0] if isinstance(choice, list) and len(choice) == 1 else choice,
                     "bad_choice")
        if not 1 <= value <= activity.settings["scale_max"]:
            raise DomainError("choice_out_of_range", limit=activity.settings["scale_max"])
        return [value]
    ids = {o.id for o in options_of(db, activity)}
    picked = choice if isinstance(choice, list) else [choice]
    picked = [_int(c, "bad_choice") for c in picked]
    if not picked:
        raise DomainError("empty_choice")
    if len(set(picked)) != len(picked):
        raise DomainError("duplicate_choice")
    if not set(picked) <= ids:
        raise DomainError("unknown_option")
    if activity.type == "single" and len(picked) != 1:
        raise DomainError("one_choice_only")
    if activity.type == "multiple" and len(picked) > activity.settings["max_choices"]:
        raise DomainError("too_many_choices", limit=activity.settings["max_choices"])
    if activity.type == "ranking" and set(picked) != ids:
        raise DomainError("rank_all")
    return picked


def vote(db: DB, session: LiveSession, activity: Activity, participant: Participant, choice: object,
         client_id: str | None = None) -> list[int]:
    """Store (or change) a participant's vote; one row per (poll, participant) in the database."""
    _require_poll(activity)
    if session.state == "ended":
        raise DomainError("session_ended")
    if activity.state != "open":
        raise DomainError("poll_closed" if activity.state == "closed" else "poll_not_open")
    stored = check_choice(db, activity, choice)
    now = utcnow()
    insert = pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(Vote).values(
        activity_id=activity.id, participant_id=participant.id, choice=stored,
        client_id=client_id, changes=0, created_at=now, updated_at=now)
    # The unique constraint decides: a second vote from the same participant updates the first.
    statement = statement.on_conflict_do_update(
        index_elements=[Vote.activity_id, Vote.participant_id],
        set_={"choice": statement.excluded.choice, "client_id": statement.excluded.client_id,
              "updated_at": now, "changes": Vote.changes + 1})
    db.execute(statement)
    return stored


def my_vote(db: DB, activity: Activity, participant_id: int) -> list[int] | None:
    """What this participant answered, if anything."""
    return db.scalar(select(Vote.choice).where(
        Vote.activity_id == activity.id, Vote.participant_id == participant_id))


def vote_count(db: DB, activity: Activity) -> int:
    """How many participants voted."""
    return db.scalar(select(func.count(Vote.id)).where(Vote.activity_id == activity.id)) or 0


def tally(db: DB, activity: Activity) -> dict:
    """The poll's results, derived from the stored votes."""
    choices = list(db.scalars(select(Vote.choice).where(Vote.activity_id == activity.id)))
    total = len(choices)
    if activity.type == "scale":
        scale_max = activity.settings["scale_max"]
        counts = {value: 0 for value in range(1, scale_max + 1)}
        for choice in choices:
            counts[choice[0]] = counts.get(choice[0], 0) + 1
        mean = sum(c[0] for c in choices) / total if total else None
        return {"total": total, "mean": mean,
                "buckets": [{"value": v, "count": n} for v, n in counts.items()]}
    options = options_of(db, activity)
    counts = {o.id: 0 for o in options}
    if activity.type == "ranking":
        # Borda count: with n options, first place gets n-1 points, last gets 0.
        n = len(options)
        for choice in choices:
            for rank, option_id in enumerate(choice):
                if option_id in counts:
                    counts[option_id] += n - 1 - rank
        return {"total": total, "max_score": total * (n - 1),
                "options": [{"id": o.id, "label": o.label, "score": counts[o.id]} for o in options]}
    for choice in choices:
        for option_id in choice:
            if option_id in counts:
                counts[option_id] += 1
    return {"total": total,
            "options": [{"id": o.id, "label": o.label, "count": counts[o.id]} for o in options]}


def view(db: DB, activity: Activity, include_results: bool) -> dict:
    """What anyone who sees this poll may know about it (results only when asked)."""
    data: dict = {"type": activity.type, "settings": activity.settings,
                  "options": [{"id": o.id, "label": o.label} for o in options_of(db, activity)]}
    if include_results:
        data["results"] = tally(db, activity)
    return data


def reset_votes(db: DB, activity: Activity) -> None:
    """Delete every vote of the poll."""
    db.execute(delete(Vote).where(Vote.activity_id == activity.id))


activities.register("poll", activities.KindHooks(
    view=view,
    results=tally,
    mine=my_vote,
    reset=reset_votes,
    answer_count=vote_count,
))
