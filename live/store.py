"""Database engine, the declarative base, the one write path and migrations.

Every write goes through `write()`: one short transaction at a time, committed before the
caller acknowledges anything ("acknowledged = stored"). Nothing that yields to the event
loop (an emit, a sleep, network I/O) may run inside it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, Integer, MetaData, String, bindparam, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, SessionTransaction, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from live.errors import StorageProblem

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every table."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """A timestamp stored naive in UTC and always returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


# --- the agenda's generation: what a group commit of votes may keep from the last one ---------

class Generation(Base):
    """A number that moves whenever a row of some tables changes, by any process or tool.

    `agenda`: the live sessions, their activities and the polls' options, whatever a vote
    reads to be checked. On SQLite, triggers on those tables add one to it in the transaction
    that changes them (migration 0012): the write queue keeps what its last group commit of
    votes read of them (`live.writer._Kept`) and reads only this number at the next one
    while it stays the same. A migration that rebuilds one of those tables must create its
    triggers again (tests/test_kept_reads.py fails otherwise). PostgreSQL has the row, no
    triggers: nothing is kept there."""

    __tablename__ = "generations"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


AGENDA = "agenda"
AGENDA_TABLES = ("live_sessions", "activities", "options")
# In a unit of work (`db.info`): values derived from the agenda's tables only (a poll's option
# ids...), which the write queue carries from one group commit to the next with the objects.
AGENDA_READS = "palabre.agenda_reads"


def agenda_reads(db: Session) -> dict:
    """This unit of work's values derived from the agenda's tables (see `AGENDA_READS`)."""
    return db.info.setdefault(AGENDA_READS, {})


def agenda_generation(db: Session) -> int | None:
    """The agenda's generation now, in `db`'s transaction (None without the row)."""
    row = first_row(db, _GENERATION, {"name": AGENDA})
    return None if row is None else row[0]


_GENERATION = select(Generation.value).where(Generation.name == bindparam("name"))


class Store:
    """An engine plus the serialized write path."""

    def __init__(self, url: str, sqlite_synchronous: str = "FULL", busy_timeout: float = 5.0):
        self.url = url
        # How long a write waits for SQLite's write lock held by another process (a backup, the
        # command line...) before the client is told "busy, try again".
        self.busy_timeout = float(busy_timeout)
        self.engine: Engine = create_engine(url, **_engine_options(url))
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine, sqlite_synchronous)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # One writer at a time. Under eventlet/gevent this lock is cooperative (monkey
        # patched), so a writer never waits inside SQLite's C code for another writer.
        self._write_lock = threading.Lock()
        # Writes that found SQLite's lock taken, their failed tries, seconds waited (`figures`).
        self.lock_waits = self.lock_tries = 0
        self.lock_waited = self.lock_longest = 0.0
        # Seconds its write transactions held SQLite's write lock (BEGIN IMMEDIATE to the end of
        # COMMIT, with the WAL checkpoint SQLite runs after some commits, the lock let go), the CPU
        # this process's thread spent meanwhile, the longest hold (`figures`).
        self.held = self.held_cpu = self.held_longest = 0.0

    def set_info(self, **info) -> None:
        """Values every unit of work sees in `db.info` (e.g. the key capability links derive from)."""
        self._sessions.configure(info=info)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read-only unit of work."""
        with self._sessions() as db:
            yield db

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One serialized, short transaction, committed (durably) on exit."""
        with self._write_lock:
            try:
                db, transaction = self._begin_write()
                held_from, cpu_from = time.perf_counter(), time.thread_time()
                try:
                    with db, transaction:
                        yield db
                finally:
                    self._count_hold(time.perf_counter() - held_from, time.thread_time() - cpu_from)
            except DBAPIError as exc:
                # Locked or full for now: a refusal every door already shows in the user's
                # language (a socket ack, a flashed form, a refused connection).
                problem = storage_problem(exc)
                if problem:
                    raise StorageProblem(problem) from exc
                raise

    def _begin_write(self) -> tuple[Session, SessionTransaction]:
        """A session in a write transaction, SQLite's write lock taken.

        SQLite waits for a lock held by another process inside its C code, which would freeze
        the whole event loop: it waits at most `LOCK_POLL seconds` there, and the rest of
        `busy_timeout` is spent in short sleeps (1 to 10 ms) that let the loop run (cooperative under
        eventlet/gevent). Past `busy_timeout` the OperationalError ("database is locked") is
        raised: nothing was written. The waits are counted (`figures`, /healthz).
        """
        started = time.monotonic()
        deadline = started + self.busy_timeout
        pause, longest = LOCK_RETRY
        tries = 0
        while True:
            db = self._sessions()
            try:
                transaction = db.begin()
                db.connection(execution_options={"palabre_write": True})
                if tries:
                    self._count_wait(tries, time.monotonic() - started)
                return db, transaction
            except OperationalError as exc:
                db.close()
                tries += 1
                if storage_problem(exc) != "database_busy" or time.monotonic() >= deadline:
                    self._count_wait(tries, time.monotonic() - started)
                    raise
            time.sleep(pause)
            pause = min(pause * 2, longest)

    def _count_wait(self, tries: int, seconds: float) -> None:
        self.lock_waits += 1
        self.lock_tries += tries
        self.lock_waited += seconds
        self.lock_longest = max(self.lock_longest, seconds)

    def _count_hold(self, seconds: float, cpu: float) -> None:
        self.held += seconds
        self.held_cpu += cpu
        self.held_longest = max(self.held_longest, seconds)

    def figures(self) -> dict:
        """For /healthz: the writes that found SQLite's write lock held by another process (or
        connection), the tries they made (each one up to `LOCK_POLL` waiting inside SQLite, the
        event loop held), the seconds they waited in all and the longest wait; then how long this
        process's write transactions held the lock in all, the CPU its thread used meanwhile (on
        SQLite nothing else runs on the loop during a transaction: a hold much longer than its
        CPU is a process that waited for a core, or for the disk, while the other waited for
        it) and the longest hold."""
        return {"write_lock_waits": self.lock_waits, "write_lock_tries": self.lock_tries,
                "write_lock_waited_ms": round(self.lock_waited * 1000, 1),
                "write_lock_longest_ms": round(self.lock_longest * 1000, 1),
                "write_lock_held_ms": round(self.held * 1000, 1),
                "write_lock_held_cpu_ms": round(self.held_cpu * 1000, 1),
                "write_lock_held_longest_ms": round(self.held_longest * 1000, 1)}

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


# --- rows deferred to the end of a group commit ---------------------------------------------

# In a unit of work (`db.info`): the rows of the write being run, when the write queue defers
# them (`live.writer`: the writes of a group commit that only read, check and defer share one
# multi-row statement per table instead of a statement and a savepoint each).
DEFERRED = "palabre.deferred_rows"


class DeferredRows:
    """What one write defers: an optional guard row, then rows of upsert statements.

    The guard (`guard`: statement, row, key) is inserted first with `ON CONFLICT DO NOTHING
    RETURNING` its key: if it conflicts (the same client id answered meanwhile by another
    process), nothing of the write is stored. `rows`: (statement, unique key or None, row), run
    in the order given; two rows of the same statement and unique key go in successive
    statements (an upsert cannot touch one row twice in one statement)."""

    __slots__ = ("guard", "rows")

    def __init__(self):
        self.guard: tuple | None = None
        self.rows: list[tuple] = []


def deferred_rows(db: Session) -> DeferredRows | None:
    """The rows of the write being run, if the write queue defers them; else None."""
    return db.info.get(DEFERRED)


def write_row(db: Session, statement, row: dict, unique: tuple | None = None) -> None:
    """Run `statement` (an INSERT or upsert) for `row` now, or at the end of the group commit
    with the rows of the other writes (see `DeferredRows`): its outcome is known then."""
    rows = db.info.get(DEFERRED)
    if rows is None:
        db.execute(statement, row)
    else:
        rows.rows.append((statement, unique, row))


def lock_row(db: Session, model, row_id: int) -> None:
    """Lock one row (`SELECT ... FOR UPDATE`) until the transaction ends: a read-then-write
    under a rule (the last number, a free slot, a count under a limit) made by two processes at
    once is then made one after the other. PostgreSQL runs two processes' transactions at the
    same time; SQLite has one writer anyway and ignores FOR UPDATE."""
    db.execute(select(model.id).where(model.id == row_id).with_for_update())


def first_row(db: Session, statement, params: dict) -> tuple | None:
    """The first row of `statement` (a SELECT built once, its parameters bound by name), run in
    `db`'s transaction on the driver's own cursor, or None. Its values are those SQLAlchemy
    would give (each column's result processing, e.g. JSON decoded on SQLite) without its
    execution machinery (an execution context, a result object): about a third of a phone's
    identity and vote reads at each reconnection (30 of ~100 us each). The statement is
    compiled once per dialect."""
    connection = db.connection()
    dialect = connection.dialect
    kept = _COMPILED.get((statement, dialect.name))
    if kept is None:
        compiled = statement.compile(dialect=dialect)
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in statement.selected_columns]
        kept = _COMPILED[(statement, dialect.name)] = (compiled, processors if any(processors) else None)
    compiled, processors = kept
    values = [params[name] for name in compiled.positiontup] if compiled.positional else params
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(compiled.string, values)
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None or processors is None:
        return row
    return tuple(value if process is None else process(value)
                 for value, process in zip(row, processors, strict=True))


_COMPILED: dict = {}  # (statement, dialect name) -> (compiled, result processors or None)


def write_rows(db: Session, statement, rows: list[dict]) -> list[tuple]:
    """Run `statement` (an INSERT or upsert built once, see `write_row`) for each of `rows` in
    `db`'s transaction; the rows its RETURNING gave, if it has one (in no particular order).

    On SQLite the rows go straight to the driver's cursor: the statement is compiled once per
    shape, each value goes through its column's bind processing (the very text SQLAlchemy would
    store); a statement with RETURNING takes its rows in multi-row VALUES of 2^k rows (23 rows:
    16, 4, 2 and 1; a few shapes compiled in all; none over SQLite's parameter limit), one
    without runs once per row, prepared once
    (`executemany`). These are a group commit's votes and acks, inside SQLite's write lock:
    3-8 % less CPU for a commit of 24 votes than SQLAlchemy's execution of the same rows, 9-18 %
    for 256 (`python -m bench groupcommit --compare rows`; docs/performance.md, 4 December,
    night). Elsewhere (PostgreSQL), for rows of different keys, or
    for a statement that would need a column's Python default: through SQLAlchemy. A refusal
    is SQLAlchemy's error either way (IntegrityError, OperationalError...)."""
    if not rows:
        return []
    connection = db.connection()
    dialect = connection.dialect
    keys = tuple(rows[0])
    returning = len(statement.exported_columns) > 0
    plans = None
    if dialect.name == "sqlite" and all(tuple(row) == keys for row in rows):
        sizes = _chunks(len(rows), SQLITE_PARAMETERS // len(keys)) if returning else (1,)
        plans = [_row_plan(statement, dialect, keys, size) for size in sizes]
    if plans is None or None in plans:
        result = db.execute(statement, rows)
        return [tuple(row) for row in result] if returning else []
    import sqlite3

    cursor = connection.connection.driver_connection.cursor()
    sql, parameters = "", []
    try:
        if not returning:
            sql, _size, order = plans[0]
            parameters = [_bound(order, (row,)) for row in rows]
            cursor.executemany(sql, parameters)
            return []
        stored, start = [], 0
        for sql, size, order in plans:
            parameters = _bound(order, rows[start:start + size])
            start += size
            cursor.execute(sql, parameters)
            stored += cursor.fetchall()
        return stored
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, parameters, exc, sqlite3.Error, dialect=dialect) from exc
    finally:
        cursor.close()


@contextmanager
def rows_savepoint(db: Session) -> Iterator[None]:
    """A savepoint around rows written by `write_rows`: a statement refused in it undoes all the
    rows written in it, and only those (an `executemany` refused at its tenth row keeps nine).

    On SQLite through the driver's cursor (`SAVEPOINT`, then `RELEASE`, or `ROLLBACK TO` on an
    error): SQLAlchemy's `begin_nested` (its flush, its nested transaction's bookkeeping and
    events) was about a fifth of a group commit of one vote's CPU, 7-12 % of one of 24 votes
    (`python -m bench groupcommit --compare savepoint`; docs/performance.md, 4 December). The
    unit of work is flushed first, as `begin_nested` does. Elsewhere (PostgreSQL):
    `begin_nested`."""
    if db.new or db.dirty or db.deleted:
        db.flush()
    connection = db.connection()
    if connection.dialect.name != "sqlite":
        with db.begin_nested():
            yield
        return
    import sqlite3

    driver = connection.connection.driver_connection
    driver.execute("SAVEPOINT palabre_rows")
    try:
        yield
    except BaseException:
        try:
            driver.execute("ROLLBACK TO palabre_rows")
            driver.execute("RELEASE palabre_rows")
        except sqlite3.Error:  # SQLite rolled back the whole transaction (full disk...): given up
            pass
        raise
    driver.execute("RELEASE palabre_rows")


# The parameters one SQLite statement takes at most (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
SQLITE_PARAMETERS = 32766


def _chunks(count: int, most: int) -> list[int]:
    """`count` as a sum of powers of two, the largest first (23: 16, 4, 2, 1), none above `most`
    (rows of one statement: its parameters are bounded)."""
    largest = 1 << (max(most, 1).bit_length() - 1)
    whole, rest = divmod(count, largest)
    return [largest] * whole + [1 << bit for bit in range(rest.bit_length() - 1, -1, -1) if rest >> bit & 1]


def _bound(order: list[tuple], rows) -> list:
    """The parameters of one run of a row statement (`_row_plan`) for these rows."""
    return [key if index is None else rows[index][key] if process is None else process(rows[index][key])
            for index, key, process in order]


def _row_plan(statement, dialect, keys: tuple, size: int) -> tuple | None:
    """(SQL, rows, [(row index, key, bind processor or None) in the order of its parameters])
    of `statement` for `size` rows of these keys, compiled once; a literal of the statement
    (e.g. the 1 of `changes + 1`) is (None, its value as bound, None). None if the statement
    needs a column's Python default (a key the rows lack): SQLAlchemy runs it."""
    cache_key = (statement, dialect.name, keys, size)
    if cache_key in _ROW_PLANS:
        return _ROW_PLANS[cache_key]
    markers = [{key: _Marker(index, key) for key in keys} for index in range(size)]
    compiled = statement.values(markers if size > 1 else markers[0]).compile(dialect=dialect)
    plan = None
    if not (compiled.insert_prefetch or compiled.update_prefetch):
        order = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if isinstance(bind.value, _Marker):
                order.append((bind.value.index, bind.value.key, process))
            else:
                order.append((None, bind.value if process is None else process(bind.value), None))
        plan = (compiled.string, size, order)
    _ROW_PLANS[cache_key] = plan
    return plan


class _Marker:
    """Stands for one row's value while a row statement is compiled (`_row_plan`)."""

    __slots__ = ("index", "key")

    def __init__(self, index: int, key: str):
        self.index, self.key = index, key


_ROW_PLANS: dict = {}  # (statement, dialect name, keys, rows) -> `_row_plan`'s plan, or None

# SQLite's own wait for a lock, inside its C code (the event loop does not run meanwhile):
# one millisecond, then `Store._begin_write` (and the archive importer) wait in cooperative
# sleeps. With two server processes on one file, each group commit holds the write lock for
# up to ~25 ms of Python; 20 ms here froze the other process's loop 9-10 % of a burst (py-spy,
# 2,000 phones, docs/performance.md).
LOCK_POLL = 0.001
# The cooperative sleeps between two tries for the write lock: doubling from the first to the last.
LOCK_RETRY = (0.001, 0.01)

# SQLite result codes and PostgreSQL SQLSTATEs of a database that is there but cannot take a
# write right now: the client is told so (and may try again); nothing was written.
_SQLITE_PROBLEMS = {5: "database_busy", 6: "database_busy", 13: "storage_full"}
_POSTGRES_PROBLEMS = {"53100": "storage_full", "55P03": "database_busy", "40P01": "database_busy",
                      "40001": "database_busy", "57014": "database_busy"}


def app_store() -> Store:
    """The store of the Flask app handling this request or socket event (the one helper: the
    HTTP doors know it as `live.web.store`)."""
    from flask import current_app

    return current_app.extensions["palabre.store"]


def storage_problem(exc: BaseException | None) -> str | None:
    """"database_busy" or "storage_full" if `exc` (or what caused it) says the database could
    not write for now."""
    seen = 0
    while exc is not None and seen < 8:
        problem = _storage_problem(exc)
        if problem:
            return problem
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _storage_problem(exc: BaseException) -> str | None:
    if isinstance(exc, StorageProblem):
        return exc.code
    original = getattr(exc, "orig", exc)
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None:
        return _SQLITE_PROBLEMS.get(code & 0xFF)
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if sqlstate in _POSTGRES_PROBLEMS:
        return _POSTGRES_PROBLEMS[sqlstate]
    if sqlstate and sqlstate.startswith("53"):  # insufficient resources (disk, memory)
        return "storage_full"
    return None


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"check_same_thread": False, "timeout": LOCK_POLL}}
    return {"pool_pre_ping": True}


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    synchronous = synchronous.upper() if synchronous.upper() in {"FULL", "NORMAL", "EXTRA"} else "FULL"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, issue BEGIN (so that BEGIN IMMEDIATE works).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _wal_mode(cursor)
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(LOCK_POLL * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A write transaction takes SQLite's write lock at once (no upgrade deadlock);
        # reads stay deferred and, in WAL mode, never wait for a writer.
        if conn.get_execution_options().get("palabre_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # its "locked" is SQLAlchemy's error, retried
        else:
            # A deferred BEGIN takes no lock and cannot wait: sent to the driver as it is, not
            # through SQLAlchemy's execution (18 of the 120 us of a phone's identity read).
            conn.connection.driver_connection.execute("BEGIN")


# How long a new connection waits for the file's lock to set WAL mode (processes started
# together open the file in the same instant: LIVE_PROCESSES forks them at once).
WAL_WAIT_SECONDS = 5.0


def _wal_mode(cursor) -> None:
    """PRAGMA journal_mode=WAL, waiting in short cooperative sleeps while another process opening
    the same file holds its lock (with LOCK_POLL's 1 ms, one process of two started together
    died at start: 'database is locked')."""
    import sqlite3

    deadline = time.monotonic() + WAL_WAIT_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # cooperative: the process is monkey patched


def default_sqlite_url(instance_path: str) -> str:
    """The embedded default: a SQLite file in the instance folder."""
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'palabre.db'}"


def alembic_config(url: str):
    """An Alembic configuration pointing at our migrations and `url`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Create or migrate the database to the newest schema.

    Under a lock: several server processes started together on an empty database migrate one
    at a time (the first creates the tables, the others find them there and wait meanwhile).
    A database already at the newest schema (every restart) is recognised without Alembic:
    importing it and running its environment would leave 16 MB in the server for nothing.
    """
    if at_heads(url):
        return
    from alembic import command

    with migration_lock(url):
        command.upgrade(alembic_config(url), "heads")


def script_heads() -> set[str]:
    """The newest revisions of `live/migrations/versions` (those no other revision follows),
    read from the scripts' `revision` and `down_revision` assignments."""
    import ast

    revisions: set[str] = set()
    followed: set[str] = set()
    for script in (Path(__file__).parent / "migrations" / "versions").glob("*.py"):
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                else getattr(node, "target", None) if isinstance(node, ast.AnnAssign) else None
            name = getattr(target, "id", None)
            if name in ("revision", "down_revision") and node.value is not None:
                value = ast.literal_eval(node.value)
                values = set(value) if isinstance(value, (tuple, list)) else {value} - {None}
                (revisions if name == "revision" else followed).update(values)
    return revisions - followed


def at_heads(url: str) -> bool:
    """Whether the database's schema is the newest one (its `alembic_version` rows are exactly
    `script_heads()`); False when it has none (a new database) or cannot be read."""
    from sqlalchemy import pool, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            stored = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()
    return bool(stored) and stored == script_heads()


# pg_advisory_lock's key for migrations (any constant shared by every Palabre process).
MIGRATION_LOCK_KEY = 0x70616C6162  # "palab"


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Held while migrating: PostgreSQL's advisory lock, or a lock on a file next to SQLite's."""
    if url.startswith("postgresql"):
        from sqlalchemy import pool, text

        engine = create_engine(url, poolclass=pool.NullPool)
        try:
            with engine.connect() as connection:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        finally:
            engine.dispose()
        return
    path = _sqlite_path(url)
    if path is None:
        yield
        return
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".migrate-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # the next process waits here until we are done
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None: in memory, or not SQLite)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)
