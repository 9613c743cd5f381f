"""Archive jobs: purges and the retention, run by the archive worker, with their progress.

The organiser's confirmed request only records a job (`create`) and hands it to the worker
(`live.archive.worker.submit_job`); the answer is at once the job's page, which shows the
progress the worker writes in the same short transactions that delete the rows (`execute`).
The event loop never runs the purge: it only waits for the worker's future in a background
task, to record a worker that died. With `ARCHIVE_IN_PROCESS` (tests, CLI) the job runs
inline, in the same batches.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import delete, select, update

from live.archive import retention
from live.archive.model import ArchiveJob
from live.errors import DomainError
from live.sessions.model import Event
from live.store import utcnow

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=10)  # an unfinished job not heard of since: interrupted
SHOWN = 5  # jobs listed on the Archives page
CHECKPOINT_EVERY = 0.5  # seconds between the worker's own WAL checkpoints (SQLite)


def create(db, kind: str, sessions: list[int], force: bool) -> int:
    """Record a job purging `sessions` (`force`: also those not exported); its id."""
    job = ArchiveJob(kind=kind, state="queued", total=len(sessions), done=0, rows=0,
                     detail={"sessions": list(sessions), "force": bool(force), "current": None,
                             "purged": [], "skipped": []},
                     created_at=utcnow(), updated_at=utcnow())
    db.add(job)
    db.flush()
    return job.id


def execute(store, job_id: int, pause=None) -> None:
    """Run a job (in the worker, or inline): purge its sessions one after the other."""
    with store.write() as db:
        job = db.get(ArchiveJob, job_id)
        if job is None or job.state != "queued":
            return
        job.state, job.updated_at = "running", utcnow()
        detail = dict(job.detail or {})
        kind = job.kind
    purged, skipped, error = [], [], None

    def progress(db, rows: int) -> None:
        db.execute(update(ArchiveJob).where(ArchiveJob.id == job_id)
                   .values(rows=ArchiveJob.rows + rows, updated_at=utcnow()))

    try:
        for index, session_id in enumerate(detail.get("sessions", [])):
            _note(store, job_id, done=index, current=session_id, purged=purged, skipped=skipped)
            try:
                retention.purge(store, session_id, force=detail.get("force", False),
                                progress=progress, pause=pause)
            except DomainError as exc:
                skipped.append(session_id)
                error = exc.code
                continue
            purged.append(session_id)
    except Exception:  # noqa: BLE001 - recorded on the job; what was deleted stays deleted
        log.exception("archive job %s failed", job_id)
        _finish(store, job_id, purged, skipped, "job_failed")
        return
    failed = kind == "purge" and not purged
    _finish(store, job_id, purged, skipped, error if failed else None)


def _note(store, job_id: int, done: int, current: int, purged: list, skipped: list) -> None:
    with store.write() as db:
        job = db.get(ArchiveJob, job_id)
        job.done, job.updated_at = done, utcnow()
        job.detail = {**(job.detail or {}), "current": current, "purged": list(purged),
                      "skipped": list(skipped)}


def _finish(store, job_id: int, purged: list, skipped: list, error: str | None) -> None:
    with store.write() as db:
        job = db.get(ArchiveJob, job_id)
        job.state = "failed" if error else "done"
        job.error = error
        job.done = len(purged) + len(skipped)
        job.updated_at = job.finished_at = utcnow()
        job.detail = {**(job.detail or {}), "current": None, "purged": purged, "skipped": skipped}


def fail(store, job_id: int, code: str = "job_failed") -> None:
    """Record that a job could not run to its end (the worker died). An import cut short
    leaves nothing: the event its batches wrote so far is deleted with everything under it."""
    with store.write() as db:
        job = db.get(ArchiveJob, job_id)
        if job is not None and job.state in ("queued", "running"):
            job.state, job.error = "failed", code
            job.updated_at = job.finished_at = utcnow()
            written = (job.detail or {}).get("event") if job.kind == "import" else None
            if isinstance(written, int):
                db.execute(delete(Event).where(Event.id == written))
                job.detail = {}


def recent(db) -> list[ArchiveJob]:
    """The latest jobs, newest first."""
    return list(db.scalars(select(ArchiveJob).order_by(ArchiveJob.id.desc()).limit(SHOWN)))


def status(job: ArchiveJob, now=None) -> str:
    """queued, running, done, failed, or interrupted (unfinished and not heard of for long)."""
    if job.state in ("queued", "running") and (now or utcnow()) - job.updated_at > STALE_AFTER:
        return "interrupted"
    return job.state


def active(jobs: list[ArchiveJob]) -> bool:
    """Whether one of these jobs is still under way (the page then refreshes itself)."""
    return any(status(job) in ("queued", "running") for job in jobs)


def worker_pause(store):
    """In the worker, between two transactions: let the server's writers have the database.

    A server write that found the database locked retries after 1, 2, 5, 10, 15 ms... (SQLite's
    busy handler): a pause of at least 30 ms (three times the last transaction) lets it in on
    one of its first tries instead of starving it. On SQLite the worker also checkpoints the
    WAL itself every `CHECKPOINT_EVERY` seconds (PASSIVE: it never waits), so that a server
    commit rarely finds the WAL past its automatic checkpoint size and has to do it on the loop.
    """
    sqlite = store.engine.dialect.name == "sqlite"
    last = [time.perf_counter()]

    def pause(took: float) -> None:
        started = time.perf_counter()
        if sqlite and started - last[0] >= CHECKPOINT_EVERY:
            last[0] = started
            with store.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        rest = min(max(3 * took, 0.03), 0.2) - (time.perf_counter() - started)
        if rest > 0:
            time.sleep(rest)

    return pause
