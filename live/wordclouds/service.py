"""Word clouds: definitions, entries, grouping with moderation, and the cloud's frequencies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session as DB

from live import activities, validation
from live.config import Defaults
from live.errors import DomainError
from live.sessions import service as sessions
from live.sessions.model import Activity, LiveSession, Participant
from live.store import lock_row, utcnow
from live.wordclouds.model import WordEntry, WordGroupState
from live.wordclouds.normalize import EntryError, group_key, is_profane, label, normalize_entry

# The settings rules and limits live in `live.validation` (forms, sockets and imports share them).
DEFAULTS = validation.WORDCLOUD_DEFAULTS
MAX_ENTRIES = validation.MAX_ENTRIES
LENGTH_RANGE = validation.ENTRY_LENGTH_RANGE
CLOUD_WORDS = 200
check_settings = validation.wordcloud_settings


def add_wordcloud(db: DB, session: LiveSession, prompt: object, settings: object = None) -> Activity:
    """Append a word cloud to the agenda."""
    return sessions.add_activity(db, session, "wordcloud", prompt, check_settings(settings))


def update_wordcloud(db: DB, session: LiveSession, activity: Activity, prompt: object,
                     settings: object = None) -> None:
    """Change a word cloud's prompt and settings (the limits only while it has no entries)."""
    _require_cloud(activity)
    clean = check_settings(settings)
    if _entry_count(db, activity) and (
            clean["entries_per_participant"] < activity.settings["entries_per_participant"]
            or clean["max_length"] < activity.settings["max_length"]):
        raise DomainError("has_answers")
    activity.prompt = validation.text(prompt, "prompt", validation.PROMPT_LENGTH)
    activity.settings = {**clean, "frozen": activity.settings.get("frozen")} \
        if activity.settings.get("frozen") is not None else clean
    activity.version += 1
    sessions.record(db, session, "activity_edited", "facilitator", activity)


def _require_cloud(activity: Activity) -> None:
    if activity.kind != "wordcloud":
        raise DomainError("not_a_wordcloud")


def slow_down(db: DB, participant_id: int, limit: int | None = None) -> None:
    """A participant floods (many sockets, the form, or a script): refuse beyond the word rate
    (`limit` entries sent or withdrawn per 10 s; the configured `LIVE_WORDCLOUD_RATE_PER_10S`,
    which both doors pass, else the default).

    Counted from the stored entries, so that it holds across sockets and form posts, and
    whichever thread or process runs the write.
    """
    limit = Defaults.WORDCLOUD_RATE_PER_10S if limit is None else limit
    # One word of a participant at a time (sent or taken back): without the lock, words sent in
    # the same instant through a phone's socket and its offline form (two processes) counted the
    # same ones and overran the rate, or took the same slot in `add_entry`.
    lock_row(db, Participant, participant_id)
    since = utcnow() - timedelta(seconds=10)
    recent = db.scalar(select(func.count(WordEntry.id)).where(
        WordEntry.participant_id == participant_id,
        or_(WordEntry.created_at >= since, WordEntry.withdrawn_at >= since)))
    if recent >= limit:
        raise DomainError("words_too_fast")


def add_entry(db: DB, session: LiveSession, activity: Activity, participant: Participant,
              text: object, client_id: str | None = None, word_rate: int | None = None) -> WordEntry:
    """Store one entry in the participant's next free slot; refused past the cap or the rate."""
    slow_down(db, participant.id, word_rate)  # and the participant's row locked until committed
    _require_cloud(activity)
    if session.state == "ended":
        raise DomainError("session_ended")
    if activity.state != "open":
        raise DomainError("activity_closed" if activity.state == "closed" else "activity_not_open")
    try:
        entry = normalize_entry(text, activity.settings["max_length"])
    except EntryError as exc:
        raise DomainError(f"entry_{exc.code}", limit=exc.limit) from None
    cap = activity.settings["entries_per_participant"]
    used = set(db.scalars(select(WordEntry.slot).where(
        WordEntry.activity_id == activity.id, WordEntry.participant_id == participant.id,
        WordEntry.slot.is_not(None))))
    free = [slot for slot in range(1, cap + 1) if slot not in used]
    if not free:
        raise DomainError("too_many_entries", limit=cap)
    row = WordEntry(activity_id=activity.id, participant_id=participant.id, slot=free[0],
                    text=entry.text, key=group_key(entry.text, session.locale),
                    held=activity.settings["hold_profanity"] and is_profane(entry.text),
                    client_id=client_id, created_at=utcnow())
    db.add(row)
    db.flush()  # the unique (activity, participant, slot) constraint decides here
    return row


def withdraw_entry(db: DB, activity: Activity, participant: Participant, entry_id: object,
                   word_rate: int | None = None) -> None:
    """Take back one of one's own entries while the activity is open (within the word rate)."""
    slow_down(db, participant.id, word_rate)
    _require_cloud(activity)
    if activity.state != "open":
        raise DomainError("activity_closed")
    valid_id = isinstance(entry_id, int) and not isinstance(entry_id, bool)
    row = db.get(WordEntry, entry_id) if valid_id else None
    if row is None or (row.activity_id, row.participant_id) != (activity.id, participant.id) \
            or row.slot is None:
        raise DomainError("entry_not_found")
    row.slot = None
    row.withdrawn_at = utcnow()


def my_entries(db: DB, activity: Activity, participant_id: int) -> list[dict]:
    """The participant's own current entries."""
    rows = db.scalars(select(WordEntry).where(
        WordEntry.activity_id == activity.id, WordEntry.participant_id == participant_id,
        WordEntry.slot.is_not(None)).order_by(WordEntry.id))
    return [{"id": r.id, "text": r.text} for r in rows]


def _entry_count(db: DB, activity: Activity) -> int:
    return db.scalar(select(func.count(WordEntry.id)).where(
        WordEntry.activity_id == activity.id, WordEntry.slot.is_not(None))) or 0


def contributor_count(db: DB, activity: Activity) -> int:
    """How many participants have at least one entry in the cloud."""
    return db.scalar(select(func.count(func.distinct(WordEntry.participant_id))).where(
        WordEntry.activity_id == activity.id, WordEntry.slot.is_not(None))) or 0


# --- groups and moderation ---------------------------------------------------------------

@dataclass
class CloudGroup:
    """Entries counted together, after merges; what the moderator sees."""

    key: str
    text: str = ""
    count: int = 0
    spellings: Counter = field(default_factory=Counter)
    members: list = field(default_factory=list)  # keys merged into this one
    member_spellings: dict = field(default_factory=dict)  # key merged in -> Counter of its texts
    own_texts: set = field(default_factory=set)  # spellings of the group itself (not merged in)
    hidden: bool = False
    held: int = 0  # entries held back (profanity) and not released
    released: bool = False
    held_texts: Counter = field(default_factory=Counter)  # spellings of the held entries

    def as_dict(self) -> dict:
        """Plain data for snapshots and the moderator console."""
        return {"key": self.key, "text": self.text, "count": self.count, "hidden": self.hidden,
                "held": self.held, "released": self.released,
                # The groups merged into this one, by their key (to unmerge) and their label.
                "members": [{"key": key, "text": self.member_label(key)} for key in sorted(self.members)],
                "spellings": [{"text": t, "count": n} for t, n in self.spellings.most_common()]}


    def member_label(self, key: str) -> str:
        """How a group merged into this one is shown: its own label, never its stem."""
        spellings = self.member_spellings.get(key)
        return label(spellings) if spellings else key


def _states(db: DB, activity: Activity) -> dict[str, WordGroupState]:
    return {s.key: s for s in db.scalars(select(WordGroupState).where(
        WordGroupState.activity_id == activity.id))}


def _root(key: str, states: dict[str, WordGroupState]) -> str:
    seen = set()
    while key in states and states[key].merged_into and key not in seen:
        seen.add(key)
        key = states[key].merged_into
    return key


def groups(db: DB, activity: Activity, upto: int | None = None) -> list[CloudGroup]:
    """Every group with its moderation state, most counted first (ties: first seen).

    `upto`: only the entries with an id up to it (what a frozen cloud shows).
    """
    states = _states(db, activity)
    found: dict[str, CloudGroup] = {}
    seen_per_participant: set[tuple[int, str]] = set()
    query = (select(WordEntry.participant_id, WordEntry.text, WordEntry.key, WordEntry.held)
             .where(WordEntry.activity_id == activity.id, WordEntry.slot.is_not(None))
             .order_by(WordEntry.id))
    if upto is not None:
        query = query.where(WordEntry.id <= upto)
    rows = db.execute(query)
    for participant_id, text, key, held in rows:
        root = _root(key, states)
        group = found.setdefault(root, CloudGroup(root))
        if key != root:
            if key not in group.members:
                group.members.append(key)
            group.member_spellings.setdefault(key, Counter())[text] += 1
        else:
            group.own_texts.add(text)
        state = states.get(root)
        if held and not (state and state.released):
            group.held += 1
            group.held_texts[text] += 1
            continue
        # A participant counts at most once per group ("sobriété" and "sobriete" from one phone).
        if (participant_id, root) in seen_per_participant:
            group.spellings[text] += 1
            continue
        seen_per_participant.add((participant_id, root))
        group.count += 1
        group.spellings[text] += 1
    for root, group in found.items():
        state = states.get(root)
        group.hidden = bool(state and state.hidden)
        group.released = bool(state and state.released)
        # A group with only held entries shows the moderator what was typed (it is not in the cloud).
        counted = group.spellings or group.held_texts
        group.text = label(_own_first(counted, group.own_texts)) if counted else root
    return sorted(found.values(), key=lambda g: -g.count)


def _own_first(spellings: Counter, own: set) -> Counter:
    """The spellings with the group's own first: on a tie, the group a moderator merged into
    keeps its name (merging "IA" into "intelligence artificielle" shows the latter)."""
    ordered = Counter({text: n for text, n in spellings.items() if text in own})
    ordered.update({text: n for text, n in spellings.items() if text not in own})
    return ordered


def cloud(db: DB, activity: Activity, limit: int = CLOUD_WORDS) -> dict[str, int]:
    """`{text shown: count}` of what the cloud shows (hidden and held groups left out).

    A frozen cloud shows the entries it had when it was frozen; moderation still applies to
    them (a word hidden after the freeze leaves the screen all the same).
    """
    shown = [g for g in groups(db, activity, frozen_at(activity)) if not g.hidden and g.count > 0]
    return {g.text: g.count for g in shown[:limit]}


# --- freezing ------------------------------------------------------------------------------

def frozen_at(activity: Activity) -> int | None:
    """The last entry id a frozen cloud shows, or None when the cloud is not frozen."""
    value = (activity.settings or {}).get("frozen")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def freeze(db: DB, session: LiveSession, activity: Activity, actor: str = "facilitator") -> None:
    """Stop the image from changing; entries are still accepted (and counted) meanwhile."""
    _require_cloud(activity)
    if frozen_at(activity) is not None:
        raise DomainError("already_frozen")
    last = db.scalar(select(func.max(WordEntry.id)).where(WordEntry.activity_id == activity.id)) or 0
    activity.settings = {**activity.settings, "frozen": last}
    activity.version += 1
    sessions.record(db, session, "word_freeze", actor, activity, upto=last)


def unfreeze(db: DB, session: LiveSession, activity: Activity, actor: str = "facilitator") -> None:
    """Let the image follow the entries again (it catches up at once)."""
    _require_cloud(activity)
    if frozen_at(activity) is None:
        raise DomainError("not_frozen")
    activity.settings = {k: v for k, v in activity.settings.items() if k != "frozen"}
    activity.version += 1
    sessions.record(db, session, "word_unfreeze", actor, activity)


MODERATION = ("hide", "restore", "merge", "unmerge", "release", "hold")


def moderate(db: DB, session: LiveSession, activity: Activity, action: object, key: object,
             into: object = None, actor: str = "moderator") -> None:
    """Hide, restore, merge (into another group), unmerge, release or hold a group."""
    _require_cloud(activity)
    if action not in MODERATION:
        raise DomainError("bad_command")
    if not isinstance(key, str) or not key:
        raise DomainError("group_not_found")
    states = _states(db, activity)
    known = set(db.scalars(select(WordEntry.key).where(WordEntry.activity_id == activity.id)))
    if key not in known and key not in states:
        raise DomainError("group_not_found")
    state = states.get(key) or WordGroupState(activity_id=activity.id, key=key)
    detail: dict = {"key": key}
    if action == "merge":
        if not isinstance(into, str) or into not in known or _root(into, states) == _root(key, states):
            raise DomainError("bad_merge")
        target = _root(into, states)
        state.merged_into = target
        # Groups merged into `key` earlier follow it.
        for other in states.values():
            if other.merged_into == key:
                other.merged_into = target
        detail["into"] = target
    elif action == "unmerge":
        if not state.merged_into:
            raise DomainError("not_merged")
        detail["from"] = state.merged_into
        state.merged_into = None
    else:
        if state.merged_into:
            # The group it is in decides whether it is shown: acting on the spelling alone
            # would be acknowledged and change nothing.
            root = _root(key, states)
            shown = {g.key: g.text for g in groups(db, activity)}
            raise DomainError("word_merged", into=shown.get(root, root))
        attribute, value = {"hide": ("hidden", True), "restore": ("hidden", False),
                            "release": ("released", True), "hold": ("released", False)}[action]
        setattr(state, attribute, value)
    state.updated_at = utcnow()
    db.add(state)
    activity.version += 1
    sessions.record(db, session, f"word_{action}", actor, activity, **detail)


def reset_entries(db: DB, activity: Activity) -> None:
    """Delete every entry and moderation decision of the cloud (and unfreeze it)."""
    db.execute(delete(WordEntry).where(WordEntry.activity_id == activity.id))
    db.execute(delete(WordGroupState).where(WordGroupState.activity_id == activity.id))
    if frozen_at(activity) is not None:
        activity.settings = {k: v for k, v in activity.settings.items() if k != "frozen"}


def results(db: DB, activity: Activity) -> dict:
    """Counts for screens and facilitators: contributors, entries, the cloud's words."""
    frequencies = cloud(db, activity)
    return {"total": contributor_count(db, activity), "entries": _entry_count(db, activity),
            "words": [{"text": t, "count": n} for t, n in frequencies.items()]}


def counts(db: DB, activity: Activity) -> dict:
    """What anyone may know even while the cloud is hidden: how many entries it has."""
    return {"entries": _entry_count(db, activity)}


def view(db: DB, activity: Activity, include_results: bool) -> dict:
    """What anyone who sees the cloud may know (the words only when results are allowed)."""
    data: dict = {"settings": activity.settings}
    if include_results:
        data["results"] = results(db, activity)
    return data


activities.register("wordcloud", activities.KindHooks(
    view=view,
    results=results,
    mine=my_entries,
    reset=reset_entries,
    answer_count=contributor_count,
    commands={"freeze": freeze, "unfreeze": unfreeze},
    counts=counts,
))
