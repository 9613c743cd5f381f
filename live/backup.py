"""Online backup and restore of the database: `flask --app wsgi db backup` / `db restore`.

SQLite: the backup is SQLite's online backup API, a consistent copy taken while the server keeps
running (in WAL mode the copy is one read transaction: writers are not held up), written to a
temporary file, checked (`PRAGMA integrity_check`) and only then renamed into place. A restore
checks the file the same way (a SQLite database with Palabre's schema), keeps a copy of the
current database next to it, copies the backup in with the same API, then migrates it to the
newest schema. PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists` (only
the schema named by the URL's `search_path` option when it has one).
Restore with the server stopped: a running server keeps counts and rooms in memory.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup or restore that could not be done; nothing was changed."""


def default_target(url: str, instance_path: str) -> Path:
    """Where a backup goes unless told: <instance>/backups/palabre-<UTC time>.<db|dump>."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    suffix = "db" if _is_sqlite(url) else "dump"
    return Path(instance_path) / "backups" / f"palabre-{stamp}.{suffix}"


def backup(url: str, target: Path) -> Path:
    """Copy the live database to `target` (created or replaced only once complete)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        if _is_sqlite(url):
            with closing(sqlite3.connect(_sqlite_path(url), timeout=30)) as source, \
                    closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)  # every page in one step: one consistent snapshot
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check_sqlite(partial)
        else:
            _run_pg(["pg_dump", "--format=custom", "--no-owner", *_schema_options(url),
                     "--file", str(partial)], url)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def restore(url: str, source: Path) -> Path | None:
    """Replace the database's content with the backup `source`; return the safety copy made of
    the current database (SQLite), or None."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    if not _is_sqlite(url):
        _run_pg(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                 "--exit-on-error", str(source)], url, database_option="--dbname")
        _upgrade(url)
        return None
    _check_sqlite(source)
    live = Path(_sqlite_path(url))
    saved, generation = None, 0
    if live.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        saved = backup(url, live.with_name(f"{live.name}.before-restore-{stamp}"))
        generation = _generation(live)
    with closing(sqlite3.connect(source)) as backup_file, \
            closing(sqlite3.connect(live, timeout=30)) as database:
        backup_file.backup(database)
    _check_sqlite(live)
    _upgrade(url)
    # The agenda's generation past the one replaced (live.store.Generation): a server that
    # kept what it read of the replaced sessions (it should have been stopped) reads them again.
    with closing(sqlite3.connect(live, timeout=30)) as database, database:
        database.execute("UPDATE generations SET value = MAX(value, ?) + 1 WHERE name = 'agenda'",
                         (generation,))
    return saved


def _generation(path: Path) -> int:
    """The agenda's generation in this SQLite file (0 before the table)."""
    with closing(sqlite3.connect(path, timeout=30)) as database:
        try:
            row = database.execute("SELECT value FROM generations WHERE name = 'agenda'").fetchone()
        except sqlite3.OperationalError:  # a database older than the table
            return 0
    return row[0] if row else 0


def _upgrade(url: str) -> None:
    from live.store import upgrade

    upgrade(url)


def _schema_options(url: str) -> list[str]:
    """`--schema=NAME` when the URL sets a search_path (Palabre then lives in that schema only:
    the backup holds it alone, not the other schemas of the database)."""
    options = make_url(url).query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    for option in str(options).split():
        name, _, value = option.removeprefix("-c").partition("=")
        if name.strip() == "search_path" and value.split(",")[0].strip():
            return [f"--schema={value.split(',')[0].strip()}"]
    return []


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return database


def _check_sqlite(path: Path) -> None:
    """A readable, intact SQLite file that holds Palabre's schema; else BackupError."""
    try:
        with closing(sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)) as con:
            (status,) = con.execute("PRAGMA integrity_check").fetchone()
            tables = {name for (name,) in con.execute("select name from sqlite_master where type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a readable SQLite database ({exc})") from None
    if status != "ok":
        raise BackupError(f"{path}: integrity check failed ({status})")
    if not {"alembic_version", "live_sessions"} <= tables:
        raise BackupError(f"{path}: not a Palabre database")


def _run_pg(command: list[str], url: str, database_option: str = "--dbname") -> None:
    """Run a PostgreSQL client tool on `url` (the password passed in the environment)."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)")
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    libpq = parsed.set(password=None).render_as_string(hide_password=False)
    done = subprocess.run([*command, f"{database_option}={libpq}"], env=env, capture_output=True,  # noqa: S603 - pg_dump/psql, no shell
                          text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")
