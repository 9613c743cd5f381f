"""Polls in archives: options, every vote (pseudonymous, timed), tallies, CSVs, charts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from live.archive.kinds import ArchiveKind, Refs, Table, delete_some, insert_rows, register, stored_utc
from live.archive.timefmt import parse_time, time_text
from live.polls import service as polls
from live.polls.model import Option, PaperCount, Vote


def export(db: DB, activity, refs: Refs) -> dict:
    """Options, votes and results of one poll, with archive references."""
    options = polls.options_of(db, activity)
    option_ref = {o.id: f"o{o.position}" for o in options}
    # Plain rows, not ORM objects: a poll of thousands of votes is read in one pass.
    votes = db.execute(select(Vote.participant_id, Vote.choice, Vote.changes, stored_utc(Vote.created_at),
                              stored_utc(Vote.updated_at)).where(Vote.activity_id == activity.id)
                       .order_by(Vote.id))
    rows = []
    for participant_id, stored, changes, created_at, updated_at in votes:
        choice = stored if activity.type == "scale" else [option_ref.get(c) for c in stored]
        rows.append({"participant": refs.participant(participant_id), "choice": choice,
                     "changes": changes, "created_at": time_text(created_at),
                     "updated_at": time_text(updated_at)})
    rows.sort(key=lambda r: (r["created_at"], r["participant"] or ""))
    return {"options": [{"ref": option_ref[o.id], "label": o.label} for o in options],
            "votes": rows, "paper": _paper(db, activity, option_ref),
            "results": _results(polls.tally(db, activity), option_ref)}


def _paper(db: DB, activity, option_ref: dict) -> list[dict]:
    """Every paper count entered (who, when, how many, for what), oldest first."""
    return [{"option": e.value if e.option_id is None else option_ref[e.option_id], "count": e.delta,
             "total": e.total_after, "entered_by": e.entered_by, "at": time_text(e.created_at)}
            for e in polls.paper_log(db, activity)]


def _results(tally: dict, option_ref: dict) -> dict:
    results = {k: v for k, v in tally.items() if k != "options"}
    if "options" in tally:
        results["options"] = [{"ref": option_ref[o["id"]], **{k: v for k, v in o.items() if k != "id"}}
                              for o in tally["options"]]
    if results.get("mean") is not None:
        results["mean"] = round(results["mean"], 4)
    return results


def tables(doc: dict, labels: dict) -> list[Table]:
    """Results (one row per option or value) and the votes (one row per participant)."""
    results = doc["results"]
    total = results.get("total") or 0
    if doc["type"] == "scale":
        main = Table("", [labels["value"], labels["votes"], labels["percent"]],
                     [[b["value"], b["count"], _percent(b["count"], total)] for b in results["buckets"]])
    elif doc["type"] == "ranking":
        main = Table("", [labels["option"], labels["score"]],
                     [[o["label"], o["score"]] for o in results["options"]])
    else:
        main = Table("", [labels["option"], labels["votes"], labels["percent"]],
                     [[o["label"], o["count"], _percent(o["count"], total)] for o in results["options"]])
    out = [main]
    if doc.get("paper"):
        rows = results.get("buckets") or results.get("options") or []
        main.header += [labels["phone_votes"], labels["paper_votes"]]
        for row, counted in zip(main.rows, rows, strict=True):
            row += [counted.get("phone", counted.get("count")), counted.get("paper", 0)]
        out.append(_paper_table(doc, labels))
    if doc.get("votes"):
        label_of = {o["ref"]: o["label"] for o in doc.get("options", [])}
        header = [labels["participant"], labels["answer"], labels["changes"], labels["first_answer"],
                  labels["last_change"]]
        rows = []
        for v in doc["votes"]:
            if doc["type"] == "scale":
                answer = str(v["choice"][0])
            else:
                answer = " | ".join(label_of.get(c, "?") for c in v["choice"])
            rows.append([v["participant"], answer, v["changes"], v["created_at"], v["updated_at"]])
        out.append(Table("votes", header, rows))
    return out


def _paper_table(doc: dict, labels: dict) -> Table:
    label_of = {o["ref"]: o["label"] for o in doc.get("options", [])}
    header = [labels["at"], labels["actor"], labels["option"], labels["count"], labels["paper_total"]]
    return Table("paper", header,
                 [[e["at"], e["entered_by"], label_of.get(e["option"], e["option"]), e["count"], e["total"]]
                  for e in doc["paper"]])


def _percent(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def charts(doc: dict, labels: dict) -> list[dict]:
    """One bar chart of the poll's results."""
    results = doc["results"]
    if doc["type"] == "scale":
        settings = doc.get("settings") or {}
        names = [str(b["value"]) for b in results["buckets"]]
        if settings.get("label_low"):
            names[0] += f" ({settings['label_low']})"
        if settings.get("label_high"):
            names[-1] += f" ({settings['label_high']})"
        values = [b["count"] for b in results["buckets"]]
        unit = labels["votes"]
    elif doc["type"] == "ranking":
        names = [o["label"] for o in results["options"]]
        values = [o["score"] for o in results["options"]]
        unit = labels["score_borda"]
    else:
        names = [o["label"] for o in results["options"]]
        values = [o["count"] for o in results["options"]]
        unit = labels["votes"]
    spec = {"chart": "bars", "name": "results", "title": doc["prompt"], "labels": names,
            "values": values, "unit": unit, "total": results.get("total") or 0,
            "percent": doc["type"] in ("single", "multiple", "scale"),
            "vertical": doc["type"] == "scale",
            "note": labels["answers_n"].format(n=results.get("total") or 0)}
    if doc.get("paper") and doc["type"] != "ranking":  # phones and paper apart, stacked
        rows = results.get("buckets") or results.get("options") or []
        spec["stack"] = [[r.get("phone", r["count"]) for r in rows], [r.get("paper", 0) for r in rows]]
        spec["legend"] = [labels["phone_votes"], labels["paper_votes"]]
    return [spec]


def import_(db: DB, activity, doc: dict, participant_ids: dict) -> None:
    """Recreate the options and votes of an archived poll."""
    option_ids = {}
    for position, option in enumerate(doc.get("options", []), start=1):
        row = Option(activity_id=activity.id, position=position, label=option["label"])
        db.add(row)
        db.flush()
        option_ids[option["ref"]] = row.id
    rows = []
    for v in doc.get("votes", []):
        choice = v["choice"] if activity.type == "scale" else [option_ids[c] for c in v["choice"]]
        rows.append({"activity_id": activity.id, "participant_id": participant_ids[v["participant"]],
                     "choice": choice, "changes": v["changes"], "client_id": None,
                     "created_at": parse_time(v["created_at"]),
                     "updated_at": parse_time(v["updated_at"])})
    insert_rows(db, Vote, rows)
    insert_rows(db, PaperCount, [
        {"activity_id": activity.id, "delta": e["count"],
         "option_id": option_ids[e["option"]] if isinstance(e["option"], str) else None,
         "value": e["option"] if isinstance(e["option"], int) else None,
         "total_after": e["total"], "entered_by": e["entered_by"], "created_at": parse_time(e["at"])}
        for e in doc.get("paper", [])])


def purge(db: DB, activity, limit: int) -> int:
    """Delete up to `limit` of the poll's votes (its results are frozen in the archive state first)."""
    return delete_some(db, Vote, activity.id, limit)


def strip(doc: dict) -> dict:
    """The poll without its per-participant votes."""
    return {**doc, "votes": []}


def answer_times(doc: dict) -> list[str]:
    """When each vote was first cast (one per voter, as `results.total` counts them)."""
    return [v["created_at"] for v in doc.get("votes", [])]


register("poll", ArchiveKind(export=export, tables=tables, charts=charts, import_=import_,
                             purge=purge, strip=strip, answer_times=answer_times))
