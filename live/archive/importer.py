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
import logging
import secrets
import stat
import time
import zipfile
from functools import lru_cache

from sqlalchemy import delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import Session as OrmSession

from live import footprint, validation
from live.archive import kinds
from live.archive import pulse as archived_pulse
from live.archive.contents import ImportRefused, check_contents
from live.archive.document import FORMAT, SCHEMA_VERSION
from live.archive.export import SCHEMA_PATH
from live.archive.model import ArchiveJob, ArchiveState
from live.archive.timefmt import parse_date, parse_time
from live.errors import DomainError
from live.sessions import doorcodes
from live.sessions import service as sessions
from live.sessions.model import Activity, Event, Participant, TimelineEntry
from live.store import storage_problem, utcnow

log = logging.getLogger(__name__)
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
    # jsonschema-rs: the same Draft 2020-12 checks as `jsonschema`, about 500 times faster (an
    # archive of 200,000 participants is checked in 0.1 s instead of 25 s).
    import jsonschema_rs

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


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
    """How deep the document nests; refused beyond `limit`, or with any string beyond MAX_STRING.

    Level by level, containers only: 200,000 participants take a few tenths of a second.
    """
    level, depth = [value], 0
    while level:
        depth += 1
        if depth > limit:
            raise ImportRefused("import_bad_json")
        below = []
        for item in level:
            if type(item) is dict:
                if item and max(map(len, item)) > MAX_STRING:
                    _too_long(value)
                values = item.values()
            elif type(item) is list:
                values = item
            else:
                continue
            for v in values:
                kind = type(v)
                if kind is str:
                    if len(v) > MAX_STRING:
                        _too_long(value)
                elif kind is dict or kind is list:
                    below.append(v)
        level = below
    return depth


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


def _no_lone_surrogates(raw: bytes, doc) -> None:
    """JSON can escape half of a UTF-16 pair ("\\ud800"), which no text may hold: the schema's
    date checks and the database would fail on it later. Refused; the costly check only runs
    when the file has such an escape at all."""
    if b"\\ud" in raw or b"\\uD" in raw:
        try:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ImportRefused("import_bad_json") from None


def parse_document(raw: bytes) -> dict:
    """session.json parsed and checked against the schema and its own references."""
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ImportRefused("import_bad_json") from None
    _depth(doc)
    _no_lone_surrogates(raw, doc)
    if not isinstance(doc, dict):
        raise ImportRefused("import_bad_json")
    export = doc.get("export")  # an object in every archive Palabre wrote; anything else is refused
    if doc.get("schema_version") != SCHEMA_VERSION or not isinstance(export, dict) \
            or export.get("format") != FORMAT:
        raise ImportRefused("import_wrong_version", version=str(doc.get("schema_version"))[:10])
    errors = sorted(_validator().iter_errors(doc), key=lambda e: [str(p) for p in e.instance_path])
    if errors:
        _say_why(doc)
        where = "/".join(str(p) for p in errors[0].instance_path) or "/"
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
    archived_pulse.check_references(doc, people_set)
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
    """Recreate the archived sessions (read only) in one new event; their ids.

    Rows are inserted in batches (`kinds.insert_rows`); when `db.info["checkpoint"]` is set (the
    worker's `run_import`), each batch is committed on its own and `db.info["import_event"]`
    names the event to delete should a later batch fail.
    """
    first = docs[0]["event"]
    event = Event(title=first["title"], place=first["place"], date=parse_date(first["date"]))
    db.add(event)
    db.flush()
    db.info["import_event"] = event.id
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
    db.add(ArchiveState(session_id=live_session.id, imported_at=utcnow(), original_state=s["state"],
                        original_ended_at=parse_time(s["ended_at"]), purged_at=parse_time(s["purged_at"]),
                        participant_count=s["participant_count"]))
    db.flush()
    participant_ids = _create_participants(db, live_session.id, doc["participants"])
    codes = s.get("door_codes")
    if codes:  # the counts come back; no code does (an imported session admits nobody anyway)
        if codes["used"] + codes["revoked"] + codes["unused"] != codes["issued"]:
            raise ImportRefused("import_bad_reference", where="session/door_codes")
        doorcodes.restore(db, live_session.id, codes["issued"], codes["used"], codes["revoked"])
    footprint.restore(db, live_session.id, doc.get("footprint"))  # what the original served
    archived_pulse.restore(db, live_session.id, doc, participant_ids)  # pace, hands, reactions
    purged = s["purged_at"] is not None
    frozen: dict[str, dict] = {}
    activity_ids: dict[str, int] = {}
    for a in sorted(doc["activities"], key=lambda a: int(a["ref"][1:])):
        activity = Activity(session_id=live_session.id, position=a["position"], kind=a["kind"],
                            type=a["type"], prompt=a["prompt"], settings=a["settings"],
                            state=a["state"], revealed=a["revealed"],
                            created_at=parse_time(a["created_at"]), opened_at=parse_time(a["opened_at"]),
                            closed_at=parse_time(a["closed_at"]))
        _set_timer(activity, a.get("timer"))
        db.add(activity)
        db.flush()
        activity_ids[a["ref"]] = activity.id
        part = kinds.part_for(a["kind"])
        if part.import_ is not None:
            part.import_(db, activity, a, participant_ids)
        if purged or part.import_ is None:
            frozen[a["ref"]] = {k: v for k, v in a.items() if k not in _ACTIVITY_FIELDS}
    kinds.insert_rows(db, TimelineEntry, [
        {"session_id": live_session.id, "activity_id": activity_ids.get(t["activity"]),
         "action": t["action"], "actor": t["actor"], "detail": t["detail"], "at": parse_time(t["at"])}
        for t in doc["timeline"]])
    if frozen:
        db.execute(update(ArchiveState).where(ArchiveState.session_id == live_session.id)
                   .values(frozen=frozen))
    db.flush()
    return live_session.id


def _set_timer(activity: Activity, timer: dict | None) -> None:
    """The timer as archived (an imported session is ended: the server's loop leaves it alone)."""
    if timer is not None:
        activity.timer_duration, activity.timer_left = timer["duration"], timer["left"]
        activity.timer_ends_at = parse_time(timer["ends_at"])
        activity.timer_autoclose = timer["autoclose"]


def _create_participants(db: DB, session_id: int, people: list[dict]) -> dict[str, int]:
    """Insert the participants; their ids by pseudonym. An imported participant's device key
    names its pseudonym (nobody joins a read-only session), so the ids are read back at once."""
    prefix = f"import-{secrets.token_urlsafe(12)}-"
    times: dict[str, object] = {}  # an archive repeats the same instants many times

    def joined(text: str):
        return times.get(text) or times.setdefault(text, parse_time(text))

    kinds.insert_rows(db, Participant, [
        {"session_id": session_id, "device_key": prefix + p["id"], "display_name": p["display_name"],
         "joined_at": joined(p["joined_at"])} for p in people])
    rows = db.execute(select(Participant.device_key, Participant.id).where(
        Participant.session_id == session_id, Participant.device_key.startswith(prefix, autoescape=True)))
    return {key[len(prefix):]: participant_id for key, participant_id in rows}


_ACTIVITY_FIELDS = {"ref", "position", "kind", "type", "prompt", "settings", "state", "revealed",
                    "created_at", "opened_at", "closed_at", "timer"}


# --- in the worker: a job with progress -------------------------------------------------------

_ANSWER_LISTS = ("votes", "entries", "groups", "items", "moderation")


def rows_to_write(docs: list[dict]) -> int:
    """About how many rows importing `docs` writes (the job's progress counts up to it)."""
    return sum(len(doc["participants"]) + len(doc["timeline"]) + archived_pulse.rows(doc)
               + sum(len(a.get(key) or []) for a in doc["activities"] for key in _ANSWER_LISTS)
               for doc in docs)


def new_job(db: DB) -> int:
    """Record an import about to start (an archive job of kind "import"); its id.

    `total`/`done` count the rows to write and written; `detail` holds the sessions created
    (`sessions`) or, when refused, the reason's parameters (`params`) beside `error`.
    """
    now = utcnow()
    job = ArchiveJob(kind="import", state="running", total=0, done=0, rows=0, detail={},
                     created_at=now, updated_at=now)
    db.add(job)
    db.flush()
    return job.id


def _set_job(db: DB, job_id: int, **values) -> None:
    if values.get("state") in ("done", "failed"):
        values["finished_at"] = utcnow()
    db.execute(update(ArchiveJob).where(ArchiveJob.id == job_id).values(updated_at=utcnow(), **values))


def run_import(store, job_id: int, data: bytes, pause=None) -> None:
    """Check an uploaded archive, then write it in short transactions, reporting on job `job_id`.

    Runs in the archive worker. Refused: nothing is written (the job says why). Written in
    batches of `kinds.BATCH_ROWS` rows, each its own transaction that also moves the job's
    progress on; should one fail, what was written is deleted again and the job says so.
    `pause(took)` runs between two batches (in the worker: `jobs.worker_pause`, which lets the
    server's own writes have the database).
    """
    try:
        docs = read_archive(data)
    except ImportRefused as exc:
        with store.write() as db:
            _set_job(db, job_id, state="failed", error=exc.code[:40], detail={"params": exc.params})
        return
    with store.write() as db:
        _set_job(db, job_id, total=rows_to_write(docs))
    steps = _Steps(store, job_id, pause)
    try:
        ids = steps.run(lambda db: create_sessions(db, docs))
    except Exception as exc:  # noqa: BLE001 - recorded on the job, what was written is undone
        log.exception("import %s failed", job_id)
        steps.undo()
        code, params = (exc.code, exc.params) if isinstance(exc, DomainError) else ("import_failed", {})
        with store.write() as db:
            _set_job(db, job_id, state="failed", error=code[:40], detail={"params": params})
        return
    with store.write() as db:
        _set_job(db, job_id, state="done", detail={"sessions": ids})


class _Steps:
    """One ORM session committed after each batch of rows (`checkpoint`), with the job's progress."""

    def __init__(self, store, job_id: int, pause=None):
        self.store = store
        self.job_id = job_id
        self.pause = pause
        self.began = 0.0
        self.done = 0
        self.event_id: int | None = None
        self.db: DB | None = None

    def run(self, write):
        with OrmSession(self.store.engine, expire_on_commit=False) as db:
            self.db = db
            db.info["checkpoint"] = self.checkpoint
            self._begin()
            try:
                result = write(db)
                _set_job(db, self.job_id, done=self.done, rows=self.done)
                db.commit()
                return result
            except BaseException:
                db.rollback()
                raise
            finally:
                self.event_id = db.info.get("import_event")

    def checkpoint(self, rows: int) -> None:
        self.done += rows
        # The event rides with the batch: should the worker die before the end, the server
        # (`jobs.fail`) knows what to delete.
        _set_job(self.db, self.job_id, done=self.done, rows=self.done,
                 detail={"event": self.db.info.get("import_event")})
        self.db.commit()
        took = time.perf_counter() - self.began
        if self.store.engine.dialect.name == "sqlite":
            # Keep the WAL short: a server commit that finds it past SQLite's automatic
            # checkpoint size copies it back into the database itself, on the event loop.
            with self.store.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        if self.pause is not None:
            self.pause(took)
        self._begin()

    def _begin(self) -> None:
        """A write transaction at once (BEGIN IMMEDIATE on SQLite), as `Store.write` does; while
        the server holds the lock, try again (SQLite waits only `LOCK_POLL` for it)."""
        deadline = time.monotonic() + self.store.busy_timeout * 6
        while True:
            try:
                self.db.connection(execution_options={"palabre_write": True})
                break
            except OperationalError as exc:
                self.db.rollback()
                if storage_problem(exc) != "database_busy" or time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)
        self.began = time.perf_counter()

    def undo(self) -> None:
        """Delete what earlier batches committed (everything hangs from the event)."""
        if self.event_id is None:
            return
        with self.store.write() as db:
            db.execute(delete(Event).where(Event.id == self.event_id))
