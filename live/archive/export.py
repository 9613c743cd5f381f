"""Session and event archives: the files of a ZIP, built from session documents.

`session_zip` and `event_zip` read the database and do CPU work (charts, report, deflate):
the HTTP routes run them in the archive worker process (`live.archive.worker`), never on
the event loop.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session as DB

from live.archive import drawing, kinds, report, tallies
from live.archive import pulse as archived_pulse
from live.archive.csvsafe import to_csv
from live.archive.document import SCHEMA_VERSION, session_document, sessions_of_event
from live.archive.labels import labels_for

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "archive.schema.json"
# Fixed member dates: the same session gives the same ZIP bytes apart from session.json.
ZIP_DATE = (2000, 1, 1, 0, 0, 0)


def slug(text: str, limit: int = 40) -> str:
    """A file-name-safe ASCII slug."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-") or "session"


def activity_stem(doc: dict) -> str:
    """The file name stem of an activity: "activities/01-poll"."""
    return f"activities/{int(doc['ref'][1:]):02d}-{doc['kind']}"


def participation_spec(doc: dict, labels: dict) -> dict | None:
    """Joins (cumulative) and answers per time bucket, from the document's timestamps."""
    joins = sorted(p["joined_at"] for p in doc["participants"] if p.get("joined_at"))
    answers = sorted(t for a in doc["activities"] for t in kinds.part_for(a["kind"]).answer_times(a) if t)
    parsed = {t: datetime.fromisoformat(t) for t in {*joins, *answers}}  # each timestamp once
    if not parsed:
        return None
    start, end = min(parsed.values()), max(parsed.values())
    span = max((end - start).total_seconds() / 60, 1)
    minutes = next(m for m in (1, 2, 5, 10, 15, 30, 60, 120, 240, 1440) if span / m <= 40)
    start = start.replace(second=0, microsecond=0, minute=start.minute - start.minute % minutes
                          if minutes < 60 else 0)
    count = int((end - start).total_seconds() // (minutes * 60)) + 1
    buckets = [start + timedelta(minutes=minutes * i) for i in range(count)]
    per_bucket = [0] * count
    for t in answers:
        per_bucket[int((parsed[t] - start).total_seconds() // (minutes * 60))] += 1
    joined, running, index = [], 0, 0
    join_times = [parsed[t] for t in joins]
    for b in buckets:
        while index < len(join_times) and join_times[index] < b + timedelta(minutes=minutes):
            running += 1
            index += 1
        joined.append(running)
    return {"chart": "participation", "name": "participation", "title": labels["participation"],
            "buckets": [b.replace(tzinfo=None).isoformat() for b in buckets], "minutes": minutes,
            "answers": per_bucket, "joined": joined, "time_label": labels["time_axis"],
            "answers_label": labels["answers_per_bucket"].format(minutes=minutes),
            "joined_label": labels["joins"]}


def document_json(value, depth: int = 0) -> str:
    """session.json text: indented down to the rows, then one row per line.

    `json.dumps(indent=...)` runs the pure-Python encoder, seconds for a session of thousands
    of votes and entries; each row here goes through the C encoder, and the file stays readable
    and diff-friendly (one vote, entry or item per line).
    """
    if isinstance(value, Encoded):
        return value
    pad, inner = " " * depth, " " * (depth + 1)
    # Blocks of the document and activities are spread over lines; rows stay on one line.
    if isinstance(value, dict) and value and (depth < 2 or (depth == 2 and "kind" in value)):
        body = ",\n".join(f"{inner}{_encode(k)}: {document_json(v, depth + 1)}" for k, v in value.items())
        return "{\n" + body + "\n" + pad + "}"
    if isinstance(value, list) and value and depth < 4 and any(isinstance(v, (dict, Encoded)) for v in value):
        if depth >= 3:  # rows (votes, entries, items): nothing below is spread, encode each at once
            body = ",\n".join([inner + _encode(v) for v in value])
        else:
            body = ",\n".join(inner + document_json(v, depth + 1) for v in value)
        return "[\n" + body + "\n" + pad + "]"
    return _encode(value)


# `json.dumps(value, ensure_ascii=False)` without building an encoder per call (10^5 rows).
_encode = json.JSONEncoder(ensure_ascii=False).encode


class Encoded(str):
    """An activity block already written by `document_json` (in a chart process), kept as is."""


def activity_files(activity: dict, locale: str) -> tuple[str, dict[str, bytes]]:
    """An activity's block of session.json and its CSV files (in a chart process if there is one)."""
    labels = labels_for(locale)
    stem = activity_stem(activity)
    files = {}
    for table in kinds.part_for(activity["kind"]).tables(activity, labels):
        name = f"{stem}-{table.suffix}.csv" if table.suffix else f"{stem}.csv"
        files[name] = to_csv(table.header, table.rows, locale)
    return document_json(activity, 2), files


def cached_render(spec: dict) -> dict[str, bytes]:
    """`charts.render`, remembered: the next export of a session redraws only what changed."""
    return drawing.Drawer()(spec)


def chart_specs(doc: dict, labels: dict) -> list[dict]:
    """The chart specs of an activity document."""
    return kinds.part_for(doc["kind"]).charts(doc, labels)


def session_files(doc: dict, render=None) -> dict[str, bytes]:
    """Every file of a session archive (name → bytes), from its document.

    `render` draws a chart spec (default: a `drawing.Drawer`, remembered). With a drawer that
    has chart processes, every chart and every activity's files (`activity_files`) are started
    there first and collected last, while this process writes the rest.
    """
    render = render or drawing.Drawer()
    locale = doc["session"]["locale"]
    labels = labels_for(locale)
    participation = participation_spec(doc, labels)
    specs = [(activity, spec) for activity in doc["activities"] for spec in chart_specs(activity, labels)]
    prefetch = getattr(render, "prefetch", None)
    if prefetch is not None:  # no-ops for what `session_zip` started while reading
        for spec in ([participation] if participation else []) + [spec for _, spec in specs]:
            prefetch(spec)
    start = getattr(render, "start", None)
    if start is not None:
        for activity in doc["activities"]:
            start(("files", activity["ref"]), activity_files, activity, locale)
    job = getattr(render, "job", None) or (lambda key, fn, *args: fn(*args))
    blocks, tables_files = [], {}
    for activity in doc["activities"]:
        block, tables = job(("files", activity["ref"]), activity_files, activity, locale)
        blocks.append(Encoded(block))
        tables_files.update(tables)
    files: dict[str, bytes] = {
        "session.json": document_json({**doc, "activities": blocks}).encode("utf-8"),
        **tables_files,
    }
    if SCHEMA_PATH.exists():
        files["archive.schema.json"] = SCHEMA_PATH.read_bytes()
    images: dict[str, dict[str, str]] = {}
    files["participants.csv"] = to_csv(
        [labels["participant"], labels["joined_at"], labels["display_name"]],
        [[p["id"], p["joined_at"], p["display_name"]] for p in doc["participants"]], locale)
    files["timeline.csv"] = to_csv(
        [labels["at"], labels["action"], labels["actor"], labels["activity"], labels["detail"]],
        [[t["at"], t["action"], t["actor"], t["activity"],
          json.dumps(t["detail"], ensure_ascii=False) if t["detail"] else ""] for t in doc["timeline"]],
        locale)
    files.update(tallies.csv_files(doc, labels, locale))
    files.update(archived_pulse.files(doc, labels, locale, render, images))
    if participation:
        drawn = render(participation)
        files["participation.svg"], files["participation.png"] = drawn["svg"], drawn["png"]
        images["participation"] = {"svg": "participation.svg", "png": "participation.png"}
    for activity, spec in specs:
        stem = activity_stem(activity)
        drawn = render(spec)
        for fmt in ("svg", "png"):
            files[f"{stem}-{spec['name']}.{fmt}"] = drawn[fmt]
        images[activity["ref"]] = {fmt: f"{stem}-{spec['name']}.{fmt}" for fmt in ("svg", "png")}
    files["report.html"] = report.session_report(doc, files, images).encode("utf-8")
    files["README.txt"] = report.readme(doc, sorted(files)).encode("utf-8")
    return files


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A ZIP of `files` (deflated, except already-compressed PNGs and nested ZIPs)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            stored = name.endswith((".png", ".zip"))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name], compresslevel=6)
    return buffer.getvalue()


def _started(render, locale: str):
    """A callback for `session_document`: start drawing each activity's charts once it is read."""
    prefetch = getattr(render, "prefetch", None)
    if prefetch is None:
        return None
    labels = labels_for(locale)
    start = getattr(render, "start", None)

    def started(activity: dict) -> None:
        for spec in chart_specs(activity, labels):
            prefetch(spec)
        if start is not None:
            start(("files", activity["ref"]), activity_files, activity, locale)

    return started


def session_zip(db: DB, session_id: int, render=None) -> tuple[bytes, str, dict]:
    """The ZIP of one session, its file name and its document."""
    from live.archive.document import load_session

    render = render or drawing.Drawer()
    live_session = load_session(db, session_id)
    doc = session_document(db, live_session, _started(render, live_session.locale))
    name = f"palabre-{doc['session']['date'] or 'session'}-{slug(live_session.title)}.zip"
    return zip_bytes(session_files(doc, render)), name, doc


def event_zip(db: DB, event_id: int, render=None) -> tuple[bytes, str, dict]:
    """The ZIP of an event: every session's archive plus a synthesis across sessions."""
    from live.archive import synthesis
    from live.sessions import service

    render = render or drawing.Drawer()
    event = service.get_event(db, event_id)
    docs, files = [], {}
    for index, live_session in enumerate(sessions_of_event(db, event_id), start=1):
        doc = session_document(db, live_session, _started(render, live_session.locale))
        docs.append(doc)
        files[f"sessions/{index:02d}-{slug(live_session.title)}.zip"] = zip_bytes(
            session_files(doc, render))
    files.update(synthesis.event_files(event, docs, render))
    name = f"palabre-event-{event.date.isoformat() if event.date else event.id}-{slug(event.title)}.zip"
    return zip_bytes(files), name, {"sessions": len(docs)}


__all__ = ["SCHEMA_VERSION", "event_zip", "session_zip", "session_files", "zip_bytes"]
