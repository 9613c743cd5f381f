"""`flask --app wsgi db backup` while the real server takes votes, and `db restore`.

The commands run as an operator runs them (a subprocess of the CLI); the server is the real one
(`python wsgi.py`); outcomes are read in the SQLite files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from realserver import ROOT
from support import new_cid, query, server_room, skewed_choices, sqlite_url

PHONES = 30


def flask_cli(database_url: str, *args: str, tmp: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_")}
    env.update({"LIVE_DATABASE_URL": database_url, "LIVE_SECRET_KEY": "k-cli", "PYTHONUNBUFFERED": "1"})
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def votes(database: Path) -> int:
    return query(database, "select count(*) from votes")[0][0]


@pytest.mark.server
def test_an_online_backup_during_votes_then_a_restore_brings_that_moment_back(tmp_path):
    backup = tmp_path / "saved" / "palabre-backup.db"
    with server_room(tmp_path) as room:
        database = room.setup.database
        url = sqlite_url(database)
        for action in ("show", "open", "reveal"):
            room.command(action)
        phones = room.join(PHONES)
        first = room.burst(skewed_choices(room.setup.options, PHONES // 2), phones[:PHONES // 2], timeout=30)
        assert first.ok == PHONES // 2

        # The backup runs while the other half votes: the server keeps answering.
        for index, phone in enumerate(phones[PHONES // 2:]):
            phone.emit("vote", {"cid": new_cid(), "activity": room.setup.activity,
                                "choice": room.setup.options[index % len(room.setup.options)]})
        made = flask_cli(url, "db", "backup", "--output", str(backup), tmp=tmp_path)
        assert made.returncode == 0, made.stderr[-2000:]
        assert "backup written" in made.stdout and backup.is_file()
        assert room.server.alive()
        at_backup = votes(backup)
        assert PHONES // 2 <= at_backup <= PHONES
        assert query(backup, "PRAGMA integrity_check") == [("ok",)]
        assert query(backup, "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
        assert room.settled_results(PHONES, timeout=15)["answers"] == PHONES
    assert votes(database) == PHONES

    # Restore (server stopped): the database is the backup again; the newer one is kept aside.
    restored = flask_cli(url, "db", "restore", str(backup), "--yes", tmp=tmp_path)
    assert restored.returncode == 0, restored.stderr[-2000:]
    assert votes(database) == at_backup
    assert query(database, "PRAGMA integrity_check") == [("ok",)]
    kept = sorted(database.parent.glob(f"{database.name}.before-restore-*"))
    assert len(kept) == 1 and votes(kept[0]) == PHONES
    # The agenda's generation moved past the replaced one (which the backup's equals here): a
    # server that kept the replaced session and poll would read them again.
    generation = "select value from generations where name = 'agenda'"
    before, restored = query(kept[0], generation)[0][0], query(database, generation)[0][0]
    assert restored > before == query(backup, generation)[0][0]

    # The restored database serves again.
    (tmp_path / "again").mkdir()
    with server_room(tmp_path / "again", setup=room.setup) as again:
        phone = again.join(1)[0]
        snapshot = phone.call("sync", {"cid": new_cid()}, timeout=15)["snapshot"]
        assert snapshot["current"]["answers"] == at_backup


@pytest.mark.parametrize("content", [b"", b"not a database at all", "sqlite-without-palabre"])
def test_restoring_something_that_is_no_palabre_backup_is_refused_and_changes_nothing(tmp_path, content):
    from support import prepare

    setup = prepare(tmp_path / "palabre.db")
    url = sqlite_url(setup.database)
    before = query(setup.database, "select id, title from live_sessions")
    bad = tmp_path / "bad.db"
    if content == "sqlite-without-palabre":
        import sqlite3

        with sqlite3.connect(bad) as con:
            con.execute("create table notes (text)")
        con.close()
    else:
        bad.write_bytes(content)

    refused = flask_cli(url, "db", "restore", str(bad), "--yes", tmp=tmp_path)

    assert refused.returncode != 0
    assert "Error:" in refused.stderr and ("not a" in refused.stderr), refused.stderr[-2000:]
    assert "Traceback" not in refused.stderr
    assert query(setup.database, "select id, title from live_sessions") == before
    assert not list(tmp_path.glob("palabre.db.before-restore-*"))


def test_restore_asks_for_confirmation(tmp_path):
    from support import prepare

    setup = prepare(tmp_path / "palabre.db")
    made = flask_cli(sqlite_url(setup.database), "db", "backup", "-o", str(tmp_path / "b.db"), tmp=tmp_path)
    assert made.returncode == 0, made.stderr
    asked = flask_cli(sqlite_url(setup.database), "db", "restore", str(tmp_path / "b.db"), tmp=tmp_path)
    assert asked.returncode != 0 and "Replace everything" in asked.stdout + asked.stderr
    assert "Aborted" in asked.stderr


POSTGRES_URL = os.environ.get("PALABRE_POSTGRES_URL", "")


def test_backup_and_restore_on_postgresql(tmp_path):
    """pg_dump / pg_restore through the same commands (CI sets PALABRE_POSTGRES_URL)."""
    if not POSTGRES_URL.startswith("postgresql"):
        if os.environ.get("PALABRE_REQUIRE_POSTGRES") == "1":
            pytest.fail("PALABRE_POSTGRES_URL is not set and PALABRE_REQUIRE_POSTGRES=1", pytrace=False)
        pytest.skip("PALABRE_POSTGRES_URL does not name a PostgreSQL database")
    import uuid

    from sqlalchemy import create_engine, text

    from live.store import upgrade

    # Palabre in a schema of its own, beside others (as the PostgreSQL tests leave them): the
    # backup holds that schema alone, and the restore touches nothing else.
    schema = f"backup_{uuid.uuid4().hex[:10]}"
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    upgrade(url)

    def titles():
        with engine.connect() as connection:
            return sorted(connection.execute(text("select title from events")).scalars())

    try:
        assert flask_cli(url, "event", "create", "--title", "Kept", tmp=tmp_path).returncode == 0
        dump = tmp_path / "pg.dump"
        made = flask_cli(url, "db", "backup", "-o", str(dump), tmp=tmp_path)
        assert made.returncode == 0, made.stderr[-2000:]
        assert flask_cli(url, "event", "create", "--title", "Later", tmp=tmp_path).returncode == 0
        assert titles() == ["Kept", "Later"]
        engine.dispose()
        restored = flask_cli(url, "db", "restore", str(dump), "--yes", tmp=tmp_path)
        assert restored.returncode == 0, restored.stderr[-2000:]
        assert titles() == ["Kept"]
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
