"""Word clouds in archives: every entry (pseudonymous, timed), the groups after moderation, the cloud.

- `entries`: what participants sent, in the order they sent it, withdrawn ones included
  (`withdrawn_at`), with the grouping key the cloud counted it under and the profanity hold.
- `groups`: the groups after moderation, as the moderator saw them: the groups the cloud
  counts (text shown, count, spellings, the keys merged into each, hidden, held, released)
  then the keys merged into another group (`merged_into`, count 0: their entries count in
  the target). `decided_at` is when a moderator last changed the group (null: never).
- `words`: what the cloud shows, `{text, count}`, most counted first (hidden and held groups
  left out). The report, the event synthesis and its combined cloud read this key.

Moderation actions themselves are on the session timeline (`word_hide`, `word_merge`...).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from live.archive.kinds import ArchiveKind, Refs, Table, delete_some, insert_rows, register, stored_utc
from live.archive.timefmt import parse_time, time_text
from live.wordclouds import service as clouds
from live.wordclouds.model import WordEntry, WordGroupState
from live.wordclouds.normalize import label

ALL_WORDS = 10**6


def export(db: DB, activity, refs: Refs) -> dict:
    """Entries, groups, words and counts of one word cloud."""
    rows = db.execute(select(WordEntry.participant_id, WordEntry.text, WordEntry.key, WordEntry.held,
                             stored_utc(WordEntry.created_at), stored_utc(WordEntry.withdrawn_at))
                      .where(WordEntry.activity_id == activity.id).order_by(WordEntry.id))
    entries = [{"participant": refs.participant(participant_id), "text": text, "group": key,
                "held": held, "created_at": time_text(created_at), "withdrawn_at": time_text(withdrawn_at)}
               for participant_id, text, key, held, created_at, withdrawn_at in rows]
    states = {s.key: s for s in db.scalars(select(WordGroupState).where(
        WordGroupState.activity_id == activity.id).order_by(WordGroupState.key))}
    found = clouds.groups(db, activity)
    groups = []
    for g in found:
        state = states.get(g.key)
        groups.append({"key": g.key, "text": g.text, "count": g.count,
                       "spellings": [{"text": t, "count": n} for t, n in g.spellings.most_common()],
                       "members": sorted(g.members), "hidden": g.hidden, "held": g.held,
                       "released": g.released, "merged_into": None,
                       "decided_at": time_text(state.updated_at) if state else None})
    listed = {g.key for g in found}
    for key, state in states.items():
        if key in listed:
            continue
        spellings = Counter(e["text"] for e in entries if e["group"] == key and e["withdrawn_at"] is None)
        groups.append({"key": key, "text": label(spellings) if spellings else key,
                       "count": 0, "spellings": [], "members": [], "hidden": state.hidden, "held": 0,
                       "released": state.released, "merged_into": state.merged_into,
                       "decided_at": time_text(state.updated_at)})
    words = [{"text": g.text, "count": g.count} for g in found if not g.hidden and g.count > 0]
    active = [e for e in entries if e["withdrawn_at"] is None]
    results = {"total": len({e["participant"] for e in active}), "entries": len(active),
               "withdrawn": len(entries) - len(active), "held": sum(g.held for g in found),
               "groups": len(found), "shown": len(words)}
    return {"entries": entries, "groups": groups, "words": words, "results": results}


def tables(doc: dict, labels: dict) -> list[Table]:
    """The cloud's words, its groups after moderation, and every entry."""
    out = [Table("", [labels["word"], labels["count"]],
                 [[w["text"], w["count"]] for w in doc.get("words", [])])]
    out.append(Table("groups", [labels["group"], labels["text"], labels["count"], labels["spellings"],
                                labels["merged_keys"], labels["hidden"], labels["held"],
                                labels["released"], labels["merged_into"]],
                     [[g["key"], g["text"], g["count"],
                       " | ".join(f"{s['text']} ({s['count']})" for s in g["spellings"]),
                       " | ".join(g["members"]), _yes(g["hidden"], labels), g["held"],
                       _yes(g["released"], labels), g["merged_into"] or ""]
                      for g in doc.get("groups", [])]))
    if doc.get("entries"):
        out.append(Table("entries", [labels["participant"], labels["text"], labels["group"],
                                     labels["held"], labels["sent_at"], labels["withdrawn_at"]],
                         [[e["participant"], e["text"], e["group"], _yes(e["held"], labels),
                           e["created_at"], e["withdrawn_at"] or ""] for e in doc["entries"]]))
    return out


def _yes(value: bool, labels: dict) -> str:
    return labels["yes"] if value else labels["no"]


def charts(doc: dict, labels: dict) -> list[dict]:
    """The cloud as shown after moderation (nothing when it has no word)."""
    words = doc.get("words") or []
    if not words:
        return []
    return [{"chart": "wordcloud", "name": "cloud", "title": doc["prompt"],
             "frequencies": {w["text"]: w["count"] for w in words[:clouds.CLOUD_WORDS]}}]


def import_(db: DB, activity, doc: dict, participant_ids: dict) -> None:
    """Recreate the entries (in their order, so the groups come out the same) and decisions."""
    slots: Counter = Counter()
    rows = []
    for e in doc.get("entries", []):
        participant = participant_ids[e["participant"]]
        slot = None
        if e["withdrawn_at"] is None:
            slots[participant] += 1
            slot = slots[participant]
        rows.append({"activity_id": activity.id, "participant_id": participant, "slot": slot,
                     "text": e["text"], "key": e["group"], "held": e["held"], "client_id": None,
                     "created_at": parse_time(e["created_at"]),
                     "withdrawn_at": parse_time(e["withdrawn_at"])})
    insert_rows(db, WordEntry, rows)
    decisions = [{"activity_id": activity.id, "key": g["key"], "hidden": g["hidden"],
                  "released": g["released"], "merged_into": g["merged_into"],
                  "updated_at": parse_time(g["decided_at"])}
                 for g in doc.get("groups", []) if g["decided_at"] is not None]
    insert_rows(db, WordGroupState, decisions)


def purge(db: DB, activity, limit: int) -> int:
    """Delete up to `limit` entries (the groups, their spellings and the words stay frozen in the archive)."""
    return delete_some(db, WordEntry, activity.id, limit)


def strip(doc: dict) -> dict:
    """The cloud without its per-participant entries."""
    return {**doc, "entries": []}


def answer_times(doc: dict) -> list[str]:
    """When each contributor first sent an entry still in the cloud: one answer per contributor,
    as `results.total` counts them."""
    first: dict[str, str] = {}
    for e in doc.get("entries", []):
        who, sent = e["participant"], e["created_at"]
        if e["withdrawn_at"] is None and (who not in first or sent < first[who]):
            first[who] = sent
    return list(first.values())


register("wordcloud", ArchiveKind(export=export, tables=tables, charts=charts, import_=import_,
                                  purge=purge, strip=strip, answer_times=answer_times))
