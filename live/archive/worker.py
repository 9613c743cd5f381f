"""The archive's worker process: builds ZIPs and reads uploaded archives off the event loop.

A `live.procpool.ProcessPool` of one spawned worker, started when first needed. Waiting on its futures is
cooperative under eventlet and gevent once the standard library is monkey-patched (measured:
the loop's largest stall stays a few ms while a worker computes), so no module here needs to
know which async library runs. With `ARCHIVE_IN_PROCESS` (tests, CLI) the work runs inline.

The worker draws charts in its own chart processes (`live.archive.drawing`: one per core, at
most two, forked from it once warm) and remembers them on disk in the instance folder.
"""

from __future__ import annotations

import logging
import os

from live.procpool import ProcessPool

log = logging.getLogger(__name__)

_pool: ProcessPool | None = None
_settings: tuple = (None, 64.0)  # the chart cache's folder and size, for the worker's start
IDLE_SECONDS = 300.0  # the worker stops after this long without an archive (the next starts it)
_idle_seconds = IDLE_SECONDS  # WORKER_IDLE_SECONDS, given at the server's start
_stores: dict = {}
_in_worker = False  # set in the worker process
_drawing_ready = False
_worker_settings: tuple = (None, 64.0)  # in the worker: the chart cache given at its start


def _executor() -> ProcessPool:
    """The archive worker: one spawned process at a lower priority (`live.procpool`)."""
    global _pool
    if _pool is None:
        _pool = ProcessPool(1, initializer=_mark_worker, initargs=_settings, max_pending=64,
                            idle_timeout=_idle_seconds)
    return _pool


def in_process(config) -> bool:
    """Whether archives are built inline (threading mode, tests) rather than in the worker."""
    from live.realtime import socketio

    configured = config.get("ARCHIVE_IN_PROCESS")
    return socketio.async_mode == "threading" if configured is None else bool(configured)


def chart_cache(config, instance_path: str | None = None) -> str | None:
    """The folder of drawn charts (`ARCHIVE_CHART_CACHE`; empty: in the instance folder; "off")."""
    configured = config.get("ARCHIVE_CHART_CACHE") or ""
    if configured.lower() in ("off", "none", "0"):
        return None
    if configured:
        return configured
    return os.path.join(instance_path, "chart-cache") if instance_path else None


def start(config, instance_path: str | None = None) -> None:
    """At server start: note where the worker keeps drawn charts; the worker itself starts with
    the first archive (and stops after IDLE_SECONDS without one: an idle worker, matplotlib
    loaded, weighs tens of megabytes a full hall needs more). The first archive then pays for
    starting Python and importing matplotlib (a second or two); the chart cache on disk
    (`chart_cache(config, instance_path)`) spares it redrawing what was drawn before."""
    global _settings, _idle_seconds
    if not in_process(config):
        _settings = (chart_cache(config, instance_path), float(config.get("ARCHIVE_CHART_CACHE_MB", 64)))
        _idle_seconds = float(config.get("WORKER_IDLE_SECONDS", IDLE_SECONDS))


def warm_up(cache_folder: str | None = None, cache_mb: float = 64) -> int:
    """In the worker: import and exercise everything an archive needs, once; start chart processes."""
    from live.archive import report
    from live.render import charts

    _store_modules()
    charts.render({"chart": "bars", "name": "warm", "title": "Palabre", "labels": ["a", "b"],
                   "values": [1, 2], "unit": "", "total": 3, "percent": True, "vertical": False,
                   "note": ""})
    charts.render({"chart": "wordcloud", "name": "warm", "frequencies": {"Palabre": 2, "sobriété": 1}})
    report._env().get_template("report.html")
    report._env().get_template("event_report.html")
    _setup_drawing(cache_folder, cache_mb)
    return os.getpid()


def _setup_drawing(cache_folder: str | None = None, cache_mb: float = 64) -> None:
    """In the worker (once): chart processes and the chart cache. Inline: neither."""
    global _drawing_ready
    if _in_worker and not _drawing_ready:
        from live.archive import drawing

        drawing.configure(cache_folder, cache_mb)
        _drawing_ready = True


def _drawer():
    from live.archive import drawing

    _setup_drawing(*_worker_settings)
    return drawing.drawer()


def _mark_worker(cache_folder: str | None = None, cache_mb: float = 64) -> None:
    """In the worker, at its start: archives are built here (charts in chart processes, started
    with the first archive, drawn charts kept in `cache_folder`)."""
    global _in_worker, _worker_settings
    _in_worker = True
    _worker_settings = (cache_folder, cache_mb)


def run(in_process: bool, fn, *args):
    """`fn(*args)` in the worker process (or inline), waiting without blocking the loop."""
    if in_process:
        return fn(*args)
    return _executor().run(fn, *args)


def submit(fn, *args):
    """Start `fn(*args)` in the worker process and return its future at once."""
    return _executor().submit(fn, *args)


def shutdown() -> None:
    """Stop the worker process (tests, benchmarks)."""
    if _pool is not None:
        _pool.shutdown()


def _store_modules() -> None:
    # Every table (what live.models lists; that module sits above this package).
    from live import acks  # noqa: F401
    from live.archive import model  # noqa: F401
    from live.archive.kinds import load
    from live.boards import model as boards_model  # noqa: F401
    from live.polls import model as polls_model  # noqa: F401
    from live.sessions import model as sessions_model  # noqa: F401
    from live.wordclouds import model as wordclouds_model  # noqa: F401

    load()


def _store(url: str, synchronous: str = "FULL"):
    from live.store import Store

    if (url, synchronous) not in _stores:
        _store_modules()
        _stores[url, synchronous] = Store(url, synchronous)
    return _stores[url, synchronous]


def session_zip(url: str, session_id: int) -> tuple[bytes, str]:
    """Build a session archive from the database at `url` (runs in the worker)."""
    from live.archive import export

    drawer = _drawer()
    try:
        with _store(url).read() as db:
            data, name, _ = export.session_zip(db, session_id, drawer)
    finally:
        drawer.close()
    return data, name


def event_zip(url: str, event_id: int) -> tuple[bytes, str]:
    """Build an event archive from the database at `url` (runs in the worker)."""
    from live.archive import export

    drawer = _drawer()
    try:
        with _store(url).read() as db:
            data, name, _ = export.event_zip(db, event_id, drawer)
    finally:
        drawer.close()
    return data, name


def open_export(url: str, scope: str, ident: int, fmt: str) -> tuple[bytes, str]:
    """A session's or an event's minutes (`md`) or spreadsheet (`ods`), and its file name
    (runs in the worker; no chart is drawn)."""
    from live.archive import openformats
    from live.archive.document import load_session, session_document, sessions_of_event
    from live.sessions import service

    with _store(url).read() as db:
        if scope == "event":
            event = service.get_event(db, ident)
            docs = [session_document(db, s) for s in sessions_of_event(db, ident)]
            title, date = event.title, event.date.isoformat() if event.date else None
        else:
            docs = [session_document(db, load_session(db, ident))]
            title, date = docs[0]["session"]["title"], docs[0]["session"]["date"]
    if fmt == "md":
        text = (openformats.event_markdown(title, docs) if scope == "event"
                else openformats.session_markdown(docs[0]))
        data = text.encode("utf-8")
    else:
        data = openformats.spreadsheet(docs)
    return data, openformats.file_name(title, date, fmt, event=scope == "event")


def session_report(url: str, session_id: int) -> str:
    """The report.html of a session (runs in the worker)."""
    from live.archive import export
    from live.archive.document import load_session, session_document

    drawer = _drawer()
    try:
        with _store(url).read() as db:
            doc = session_document(db, load_session(db, session_id))
        return export.session_files(doc, drawer)["report.html"].decode("utf-8")
    finally:
        drawer.close()


def import_archive(url: str, job_id: int, path: str) -> None:
    """Check and write the archive uploaded to `path` (a private temporary file, deleted here)
    into the database at `url`, reporting on job `job_id`.

    A path, not the bytes: arguments travel to the worker through a pipe, and a large one
    written while the worker is busy would block the server until the worker reads it.
    """
    from live.archive.importer import run_import

    try:
        with open(path, "rb") as upload:
            data = upload.read()
    finally:
        os.remove(path)
    from live.archive.jobs import worker_pause

    _store_modules()
    # SQLite: as a purge, commits without an fsync each (WAL, synchronous=NORMAL): the server's
    # own commits do not queue behind the import's on the disk. A power cut during an import
    # interrupts it anyway (its page says so); importing again gives the whole archive.
    store = _store(url, "NORMAL")
    run_import(store, job_id, data, pause=worker_pause(store))


def read_archive(data: bytes) -> dict:
    """Check an uploaded archive: {"docs": [...]} or {"error": code, "params": {...}} (worker)."""
    from live.archive.importer import ImportRefused
    from live.archive.importer import read_archive as read

    try:
        return {"docs": read(data)}
    except ImportRefused as exc:
        return {"error": exc.code, "params": exc.params}


def archive_job(url: str, job_id: int) -> None:
    """Run a recorded archive job (purge, retention) on the database at `url` (worker)."""
    from live.archive import jobs

    # SQLite: commits without an fsync each (WAL, synchronous=NORMAL), so that the write lock is
    # held for the deletes alone; a purge lost by a power cut is finished by purging again.
    store = _store(url, "NORMAL")
    jobs.execute(store, job_id, pause=jobs.worker_pause(store))


def submit_job(app, job_id: int) -> None:
    """Hand a recorded job to the archive worker (inline in in-process mode)."""
    from live.archive import jobs
    from live.realtime import socketio

    store = app.extensions["palabre.store"]
    if in_process(app.config):
        jobs.execute(store, job_id, pause=lambda _took: socketio.sleep(0))
        return
    future = submit(archive_job, store.url, job_id)

    def watch() -> None:  # waits cooperatively; records a job whose worker died
        try:
            future.result()
        except Exception:  # noqa: BLE001
            log.exception("archive job %s: the worker failed", job_id)
            jobs.fail(store, job_id)

    socketio.start_background_task(watch)
