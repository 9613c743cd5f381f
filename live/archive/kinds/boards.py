"""Idea walls and Q&A in archives: every item with its history, every dot, the moderation log.

- `items`: every item (all states), numbered `i1`, `i2`... in the order they were sent:
  text, what the author first sent, author (pseudonym) and the name they signed with, state,
  flags, column, `score` (dots or upvotes), `merged_into`, `history` (the author's and
  moderators' edits and the merges, item numbers as archive refs) and times.
- `votes`: every dot or upvote: participant, item, budget slot (null for unbounded upvotes).
- `moderation`: the board's moderation log, oldest first: `{action, item, link, moderator,
  before, after, at}` (`after.into` and `after.sources` as item refs).
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session as DB

from live.archive.kinds import ArchiveKind, Refs, Table, insert_rows, register, stored_utc
from live.archive.timefmt import parse_time, time_text
from live.boards.model import PUBLISHED, BoardVote, Item, ModerationEntry

ITEM_FLAGS = ("flagged", "pinned", "highlighted", "answered")
_ITEM_COLUMNS = ("id", "participant_id", "column", "text", "original_text", "author_name", "status",
                 *ITEM_FLAGS, "merged_into_id", "history", "created_at", "updated_at", "answered_at")


def _map_history(history: list, ref) -> list:
    """History entries with the item ids of merges passed through `ref` (ids ↔ archive refs)."""
    out = []
    for entry in history or []:
        if isinstance(entry, dict):
            entry = dict(entry)
            if "merged" in entry:
                entry["merged"] = ref(entry["merged"])
            if isinstance(entry.get("history"), list):
                entry["history"] = _map_history(entry["history"], ref)
        out.append(entry)
    return out


def _map_detail(detail: dict | None, ref) -> dict | None:
    if not isinstance(detail, dict):
        return detail
    detail = dict(detail)
    if "into" in detail:
        detail["into"] = ref(detail["into"])
    if isinstance(detail.get("sources"), list):
        detail["sources"] = [ref(s) for s in detail["sources"]]
    return detail


def export(db: DB, activity, refs: Refs) -> dict:
    """Items, votes, moderation log and counts of one idea wall or Q&A."""
    # Plain rows, not ORM objects: twenty boards of hundreds of items are read in a blink.
    items = db.execute(select(*[stored_utc(getattr(Item, c)) if c.endswith("_at") else getattr(Item, c)
                                for c in _ITEM_COLUMNS])
                       .where(Item.activity_id == activity.id).order_by(Item.id)).all()
    item_ref = {item.id: f"i{n}" for n, item in enumerate(items, start=1)}
    counts = dict(db.execute(select(BoardVote.item_id, func.count(BoardVote.id))
                             .where(BoardVote.activity_id == activity.id).group_by(BoardVote.item_id)).all())
    documents = []
    for item in items:
        documents.append({
            "ref": item_ref[item.id], "column": item.column, "text": item.text,
            "original_text": item.original_text, "author": refs.participant(item.participant_id),
            "author_name": item.author_name, "state": item.status,
            **{flag: getattr(item, flag) for flag in ITEM_FLAGS},
            "score": counts.get(item.id, 0), "merged_into": item_ref.get(item.merged_into_id),
            "history": _map_history(item.history, item_ref.get),
            "created_at": time_text(item.created_at), "updated_at": time_text(item.updated_at),
            "answered_at": time_text(item.answered_at)})
    votes = [{"participant": refs.participant(participant_id), "item": item_ref[item_id], "slot": slot,
              "created_at": time_text(created_at)}
             for participant_id, item_id, slot, created_at in db.execute(
                 select(BoardVote.participant_id, BoardVote.item_id, BoardVote.slot,
                        stored_utc(BoardVote.created_at))
                 .where(BoardVote.activity_id == activity.id).order_by(BoardVote.id))]
    log = [{"action": action, "item": item_ref.get(item_id), "link": link, "moderator": moderator,
            "before": _map_detail(before, item_ref.get), "after": _map_detail(after, item_ref.get),
            "at": time_text(at)}
           for action, item_id, link, moderator, before, after, at in db.execute(
               select(ModerationEntry.action, ModerationEntry.item_id, ModerationEntry.link,
                      ModerationEntry.moderator, ModerationEntry.before, ModerationEntry.after,
                      stored_utc(ModerationEntry.at))
               .where(ModerationEntry.activity_id == activity.id).order_by(ModerationEntry.id))]
    return {"items": documents, "votes": votes, "moderation": log,
            "results": _results(documents, votes)}


def _results(items: list[dict], votes: list[dict]) -> dict:
    states: dict[str, int] = {}
    for item in items:
        states[item["state"]] = states.get(item["state"], 0) + 1
    return {"total": len({i["author"] for i in items if i["author"]}), "items": len(items),
            "published": sum(states.get(s, 0) for s in PUBLISHED), "states": dict(sorted(states.items())),
            "votes": sum(i["score"] for i in items), "voters": len({v["participant"] for v in votes}),
            "answered": sum(1 for i in items if i["answered"])}


def tables(doc: dict, labels: dict) -> list[Table]:
    """Items (most supported first), then every dot and the moderation log."""
    columns = (doc.get("settings") or {}).get("columns") or []
    ordered = sorted(doc.get("items", []), key=lambda i: (i["state"] not in PUBLISHED, -i["score"],
                                                          int(i["ref"][1:])))
    header = [labels["item"], labels["text"], labels["score"], labels["state"]]
    if doc["kind"] == "ideas":
        header.append(labels["column"])
    header += [labels["author"], labels["signed"], labels["pinned"],
               labels["answered"] if doc["kind"] == "questions" else labels["highlighted"],
               labels["merged_into"], labels["original_text"], labels["sent_at"]]
    rows = []
    for i in ordered:
        row = [i["ref"], i["text"], i["score"], labels.get(f"state_{i['state']}", i["state"])]
        if doc["kind"] == "ideas":
            row.append(columns[i["column"]] if 0 <= i["column"] < len(columns) else i["column"])
        row += [i["author"] or "", i["author_name"] or "", _yes(i["pinned"], labels),
                _yes(i["answered"] if doc["kind"] == "questions" else i["highlighted"], labels),
                i["merged_into"] or "", i["original_text"] if i["original_text"] != i["text"] else "",
                i["created_at"]]
        rows.append(row)
    out = [Table("", header, rows)]
    if doc.get("votes"):
        out.append(Table("votes", [labels["participant"], labels["item"], labels["slot"], labels["at"]],
                         [[v["participant"], v["item"], v["slot"] if v["slot"] is not None else "",
                           v["created_at"]] for v in doc["votes"]]))
    if doc.get("moderation"):
        out.append(Table("moderation", [labels["at"], labels["action"], labels["item"], labels["actor"],
                                        labels["moderator"], labels["state"], labels["text"]],
                         [[m["at"], m["action"], m["item"] or "", m["link"], m["moderator"] or "",
                           (m["after"] or {}).get("status", ""), (m["after"] or {}).get("text", "")]
                          for m in doc["moderation"]]))
    return out


def _yes(value: bool, labels: dict) -> str:
    return labels["yes"] if value else labels["no"]


def import_(db: DB, activity, doc: dict, participant_ids: dict) -> None:
    """Recreate the items (same order), then merges, dots and the moderation log."""
    items = doc.get("items", [])
    rows = [{"activity_id": activity.id, "participant_id": participant_ids.get(i["author"]),
             "column": i["column"], "text": i["text"], "original_text": i["original_text"], "history": [],
             "author_name": i["author_name"], "status": i["state"], "client_id": None, "version": 1,
             **{flag: i[flag] for flag in ITEM_FLAGS},
             "created_at": parse_time(i["created_at"]), "updated_at": parse_time(i["updated_at"]),
             "answered_at": parse_time(i["answered_at"])} for i in items]
    ids = dict(zip([i["ref"] for i in items], insert_rows(db, Item, rows, returning=Item.id), strict=True))
    for i in items:
        if not i["history"] and not i["merged_into"]:
            continue
        values = {"history": _map_history(i["history"], ids.get)}
        if i["merged_into"]:
            values["merged_into_id"] = ids[i["merged_into"]]
        # Core UPDATE: leaves the optimistic-concurrency version alone.
        db.execute(update(Item).where(Item.id == ids[i["ref"]]).values(**values))
    votes, once_taken = [], set()
    for v in doc.get("votes", []):
        participant, item = participant_ids[v["participant"]], ids[v["item"]]
        once = item if (v["slot"] is None or (participant, item) not in once_taken) else None
        once_taken.add((participant, item))
        votes.append({"activity_id": activity.id, "item_id": item, "participant_id": participant,
                      "slot": v["slot"], "once_item_id": once, "created_at": parse_time(v["created_at"])})
    insert_rows(db, BoardVote, votes)
    log = [{"activity_id": activity.id, "item_id": ids.get(m["item"]), "link": m["link"],
            "moderator": m["moderator"], "action": m["action"], "before": _map_detail(m["before"], ids.get),
            "after": _map_detail(m["after"], ids.get), "at": parse_time(m["at"])}
           for m in doc.get("moderation", [])]
    insert_rows(db, ModerationEntry, log)


def purge(db: DB, activity, limit: int) -> int:
    """Detach up to `limit` authors and signatures, or drop dots; texts, history and the log stay.

    Authors are detached here, before the participants are deleted, so that no foreign key
    (whatever its ON DELETE) can take the texts with them.
    """
    signed = (Item.participant_id.is_not(None) | Item.author_name.is_not(None) | Item.client_id.is_not(None))
    ids = list(db.scalars(select(Item.id).where(Item.activity_id == activity.id, signed).limit(limit)))
    if ids:
        db.execute(update(Item).where(Item.id.in_(ids))
                   .values(participant_id=None, author_name=None, client_id=None),
                   execution_options={"synchronize_session": False})
        return len(ids)
    ids = list(db.scalars(select(BoardVote.id).where(BoardVote.activity_id == activity.id).limit(limit)))
    if ids:
        db.execute(delete(BoardVote).where(BoardVote.id.in_(ids)))
    return len(ids)


def strip(doc: dict) -> dict:
    """The board without who wrote and who voted what (scores, texts and the log stay)."""
    return {**doc, "votes": [],
            "items": [{**i, "author": None, "author_name": None} for i in doc.get("items", [])]}


def answer_times(doc: dict) -> list[str]:
    """When each author first sent an item: one answer per author, as `results.total` counts them
    (a dot on someone else's idea is a vote, not an answer)."""
    first: dict[str, str] = {}
    for item in doc.get("items", []):
        author, sent = item.get("author"), item.get("created_at")
        if author and sent and (author not in first or sent < first[author]):
            first[author] = sent
    return list(first.values())


for _kind in ("ideas", "questions"):
    register(_kind, ArchiveKind(export=export, tables=tables, import_=import_, purge=purge,
                                strip=strip, answer_times=answer_times))
