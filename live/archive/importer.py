"""Import: an archive from another Palabre instance recreates its sessions, read only.

The file is hostile until proven otherwise. `read_archive` (pure, CPU-bound: run it in the
worker) refuses, with a code that names the reason, absolute paths or paths leaving the
archive, symlinks, oversized or deeply compressed members, too many members, nested archives
beyond one level, malformed JSON and documents that do not match docs/archive.schema.json or
refer to things they do not contain. Only then does `create_sessions` write, in one
transaction: all or nothing.
"""

from __future__ import annotations

import io
import json
import secrets
import stat
import zipfile
from functools import lru_cache

from sqlalchemy import insert
from sqlalchemy.orm import Session as DB

from live import validation
from live.archive import kinds
from live.archive.contents import ImportRefused, check_contents
from live.archive.document import FORMAT, SCHEMA_VERSION
from live.archive.export import SCHEMA_PATH
from live.archive.model import ArchiveState
from live.archive.timefmt import parse_date, parse_time
from live.sessions import service as sessions
from live.sessions.model import Activity, Event, Participant, TimelineEntry
from live.store import utcnow

MAX_UPLOAD = 64 * 1024 * 1024  # bytes of the uploaded file
MAX_MEMBERS = 2000
MAX_MEMBER_SIZE = 100 * 1024 * 1024  # uncompressed bytes of one member
MAX_TOTAL_SIZE = 400 * 1024 * 1024  # uncompressed bytes of every member
MAX_RATIO = 100  # uncompressed / compressed, for members larger than RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_SESSIONS = 100
MAX_JSON_DEPTH = 64
# No text a Palabre stores is longer than a question (300 characters); dates, refs and keys are
# shorter. Any longer string, wherever it hides (results, history), refuses the archive.
MAX_STRING = validation.PROMPT_LENGTH


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _check_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if (not name or "\x00" in name or name.startswith(("/", "\\")) or "\\" in name
            or (len(name) > 1 and name[1] == ":") or ".." in parts or len(name) > 255):
        raise ImportRefused("import_bad_path", name=name[:80])


def _members(data: bytes) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    if len(data) > MAX_UPLOAD:
        raise ImportRefused("import_too_large", limit=MAX_UPLOAD // (1024 * 1024))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise ImportRefused("import_not_zip") from None
    if len(infos) > MAX_MEMBERS:
        raise ImportRefused("import_too_many_members", limit=MAX_MEMBERS)
    total = 0
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        _check_name(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ImportRefused("import_symlink", name=info.filename[:80])
        if info.flag_bits & 0x1:
            raise ImportRefused("import_encrypted")
        if info.file_size > MAX_MEMBER_SIZE:
            raise ImportRefused("import_member_too_large", name=info.filename[:80])
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ImportRefused("import_compression_ratio", name=info.filename[:80])
        total += info.file_size
        if total > MAX_TOTAL_SIZE:
            raise ImportRefused("import_too_large", limit=MAX_TOTAL_SIZE // (1024 * 1024))
        if info.filename in members:
            raise ImportRefused("import_duplicate_member", name=info.filename[:80])
        members[info.filename] = info
    return archive, members


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than its declared size (headers can lie)."""
    try:
        with archive.open(info) as stream:
            data = stream.read(min(info.file_size, MAX_MEMBER_SIZE) + 1)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError):
        raise ImportRefused("import_not_zip") from None
    if len(data) > info.file_size:
        raise ImportRefused("import_member_too_large", name=info.filename[:80])
    return data


def _depth(value, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep the document nests; refused beyond `limit`, or with any string beyond MAX_STRING."""
    stack, deepest = [(value, 1)], 1
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            raise ImportRefused("import_bad_json")
        if isinstance(item, dict):
            if any(len(key) > MAX_STRING for key in item):
                _too_long(value)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str) and len(item) > MAX_STRING:
            _too_long(value)
    return deepest


def _too_long(doc) -> None:
    """Refuse the document, naming where its first overlong string is."""
    stack: list[tuple[object, str]] = [(doc, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            if any(len(key) > MAX_STRING for key in item):
                break
            stack.extend((v, f"{path}/{k}") for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, f"{path}/{n}") for n, v in reversed(list(enumerate(item))))
        elif isinstance(item, str) and len(item) > MAX_STRING:
            break
    raise ImportRefused("import_invalid", where=path.lstrip("/")[:80] or "/", reason="text_too_long",
                        reason_params={"field": "contribution", "limit": MAX_STRING})


def _refuse_constant(name: str):
    raise ValueError(name)


def parse_document(raw: bytes) -> dict:
    """session.json parsed and checked against the schema and its own references."""
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ImportRefused("import_bad_json") from None
    _depth(doc)
    if not isinstance(doc, dict):
        raise ImportRefused("import_bad_json")
    if doc.get("schema_version") != SCHEMA_VERSION or (doc.get("export") or {}).get("format") != FORMAT:
        raise ImportRefused("import_wrong_version", version=str(doc.get("schema_version"))[:10])
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        _say_why(doc)
        where = "/".join(str(p) for p in errors[0].absolute_path) or "/"
        raise ImportRefused("import_bad_schema", where=where[:80])
    _check_references(doc)
    check_contents(doc)
    return doc


def _say_why(doc: dict) -> None:
    """A document the schema refused: when the forms' validators can say why (a scale of 10^9,
    a budget of 999), their reason is the clearer message. Otherwise the schema's path is."""
    try:
        check_contents(doc)
    except ImportRefused:
        raise
    except Exception:  # noqa: BLE001, S110 - a shape the validators do not expect: the schema says where
        pass


def _check_references(doc: dict) -> None:
    people = [p["id"] for p in doc["participants"]]
    if len(set(people)) != len(people):
        raise ImportRefused("import_bad_reference", where="participants")
    people_set = set(people)
    refs = [a["ref"] for a in doc["activities"]]
    if len(set(refs)) != len(refs):
        raise ImportRefused("import_bad_reference", where="activities")
    for entry in doc["timeline"]:
        if entry["activity"] is not None and entry["activity"] not in refs:
            raise ImportRefused("import_bad_reference", where="timeline")
    for activity in doc["activities"]:
        if activity["kind"] == "wordcloud":
            _check_wordcloud(activity, people_set)
            continue
        if activity["kind"] in ("ideas", "questions"):
            _check_board(activity, people_set)
            continue
        if activity["kind"] != "poll":
            continue
        options = {o["ref"] for o in activity["options"]}
        voters = set()
        for vote in activity["votes"]:
            scale = activity["type"] == "scale"
            if (vote["participant"] not in people_set or vote["participant"] in voters
                    or any(isinstance(c, str) == scale for c in vote["choice"])
                    or (not scale and not set(vote["choice"]) <= options)):
                raise ImportRefused("import_bad_reference", where=activity["ref"])
            voters.add(vote["participant"])


def _check_wordcloud(activity: dict, people: set) -> None:
    keys = [g["key"] for g in activity["groups"]]
    if (len(set(keys)) != len(keys) or any(e["participant"] not in people for e in activity["entries"])
            or any(g["merged_into"] == g["key"] for g in activity["groups"])):
        raise ImportRefused("import_bad_reference", where=activity["ref"])


def _check_board(activity: dict, people: set) -> None:
    refs = [i["ref"] for i in activity["items"]]
    known = set(refs)
    if (len(known) != len(refs)
            or any(i["author"] is not None and i["author"] not in people for i in activity["items"])
            or any(i["merged_into"] is not None and i["merged_into"] not in known for i in activity["items"])
            or any(v["participant"] not in people or v["item"] not in known for v in activity["votes"])
            or any(m["item"] is not None and m["item"] not in known for m in activity["moderation"])):
        raise ImportRefused("import_bad_reference", where=activity["ref"])
    slots = [(v["participant"], v["slot"]) for v in activity["votes"] if v["slot"] is not None]
    upvotes = [(v["participant"], v["item"]) for v in activity["votes"] if v["slot"] is None]
    if len(set(slots)) != len(slots) or len(set(upvotes)) != len(upvotes):
        raise ImportRefused("import_bad_reference", where=activity["ref"])


def read_archive(data: bytes) -> list[dict]:
    """The session documents of a session archive (one) or an event archive (several)."""
    archive, members = _members(data)
    if "session.json" in members:
        return [parse_document(_read(archive, members["session.json"]))]
    nested = sorted(name for name in members if name.startswith("sessions/") and name.endswith(".zip"))
    if not nested:
        raise ImportRefused("import_no_session")
    if len(nested) > MAX_SESSIONS:
        raise ImportRefused("import_too_many_members", limit=MAX_SESSIONS)
    docs = []
    for name in nested:
        inner, inner_members = _members(_read(archive, members[name]))
        if "session.json" not in inner_members:
            raise ImportRefused("import_no_session")
        docs.append(parse_document(_read(inner, inner_members["session.json"])))
    return docs


# --- writing --------------------------------------------------------------------------------

def create_sessions(db: DB, docs: list[dict]) -> list[int]:
    """Recreate the archived sessions (read only) in one new event; their ids."""
    first = docs[0]["event"]
    event = Event(title=first["title"], place=first["place"],
                  date=parse_date(first["date"]))
    db.add(event)
    db.flush()
    return [_create_session(db, event, doc) for doc in docs]


def _create_session(db: DB, event: Event, doc: dict) -> int:
    from live import activities as registry

    unknown = {a["kind"] for a in doc["activities"]} - set(registry.registered())
    if unknown:
        raise ImportRefused("import_unknown_kind", kind=sorted(unknown)[0][:20])
    s = doc["session"]
    live_session = sessions.create_session(db, event, s["kind"], s["title"], s["place"], s["date"],
                                           s["locale"])
    live_session.date = parse_date(s["date"])
    live_session.state = "ended"  # read only: nobody can join, answer or change it
    live_session.created_at = parse_time(s["created_at"])
    live_session.started_at = parse_time(s["started_at"])
    live_session.ended_at = parse_time(s["ended_at"]) or utcnow()
    participant_ids: dict[str, int] = {}
    for p in doc["participants"]:
        row = Participant(session_id=live_session.id, device_key="import-" + secrets.token_urlsafe(16),
                          display_name=p["display_name"],
                          joined_at=parse_time(p["joined_at"]))
        db.add(row)
        db.flush()
        participant_ids[p["id"]] = row.id
    purged = s["purged_at"] is not None
    frozen: dict[str, dict] = {}
    activity_ids: dict[str, int] = {}
    for a in sorted(doc["activities"], key=lambda a: int(a["ref"][1:])):
        activity = Activity(session_id=live_session.id, position=a["position"], kind=a["kind"],
                            type=a["type"], prompt=a["prompt"], settings=a["settings"],
                            state=a["state"], revealed=a["revealed"],
                            created_at=parse_time(a["created_at"]), opened_at=parse_time(a["opened_at"]),
                            closed_at=parse_time(a["closed_at"]))
        db.add(activity)
        db.flush()
        activity_ids[a["ref"]] = activity.id
        part = kinds.part_for(a["kind"])
        if part.import_ is not None:
            part.import_(db, activity, a, participant_ids)
        if purged or part.import_ is None:
            frozen[a["ref"]] = {k: v for k, v in a.items() if k not in _ACTIVITY_FIELDS}
    if doc["timeline"]:
        db.execute(insert(TimelineEntry), [
            {"session_id": live_session.id, "activity_id": activity_ids.get(t["activity"]),
             "action": t["action"], "actor": t["actor"], "detail": t["detail"], "at": parse_time(t["at"])}
            for t in doc["timeline"]])
    db.add(ArchiveState(session_id=live_session.id, imported_at=utcnow(), original_state=s["state"],
                        original_ended_at=parse_time(s["ended_at"]), purged_at=parse_time(s["purged_at"]),
                        frozen=frozen or None, participant_count=s["participant_count"]))
    db.flush()
    return live_session.id


_ACTIVITY_FIELDS = {"ref", "position", "kind", "type", "prompt", "settings", "state", "revealed",
                    "created_at", "opened_at", "closed_at"}
