"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from live.models import metadata
from live.store import upgrade


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    engine.dispose()


def test_upgrade_twice_is_harmless(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    upgrade(url)


def test_state_checks_keep_existing_rows_and_refuse_unknown_states(tmp_path):
    """Adding the CHECK constraints rebuilds two SQLite tables: nothing below them is lost."""
    import sqlite3

    import pytest
    from alembic import command

    from live.store import alembic_config

    path = tmp_path / "old.db"
    config = alembic_config(f"sqlite:///{path}")
    for revision in ("0002", "0003", "0004"):  # the schema before the checks
        command.upgrade(config, revision)
    con = sqlite3.connect(path)
    con.executescript("""
        INSERT INTO events (id, title, created_at) VALUES (1, 'E', '2024-01-01 10:00:00');
        INSERT INTO live_sessions (id, event_id, kind, title, locale, join_code, facilitator_token,
            moderator_token, screen_token, state, version, created_at)
            VALUES (1, 1, 'round_table', 'S', 'fr', 'ACDEFG', 'f', 'm', 's', 'live', 3, '2024-01-01');
        INSERT INTO activities (id, session_id, position, kind, type, prompt, settings, state,
            revealed, version, created_at) VALUES (1, 1, 1, 'poll', 'single', 'Q', '{}', 'closed', 1, 2,
            '2024-01-01');
        INSERT INTO participants (id, session_id, device_key, joined_at) VALUES (1, 1, 'd', '2024-01-01');
        INSERT INTO options (id, activity_id, position, label) VALUES (1, 1, 1, 'Oui');
        INSERT INTO votes (activity_id, participant_id, choice, changes, created_at, updated_at)
            VALUES (1, 1, '[1]', 0, '2024-01-01', '2024-01-01');
    """)
    con.commit()
    con.close()

    upgrade(f"sqlite:///{path}")

    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=ON")
    assert con.execute("select state from live_sessions").fetchall() == [("live",)]
    assert con.execute("select state, revealed from activities").fetchall() == [("closed", 1)]
    assert con.execute("select count(*) from votes").fetchone() == (1,)
    assert con.execute("select count(*) from participants").fetchone() == (1,)
    for sql in ("update live_sessions set state = 'paused'", "update activities set state = 'archived'"):
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            con.execute(sql)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.close()


def test_the_newest_revisions_read_from_the_scripts_are_alembics(tmp_path):
    """`script_heads` (no Alembic import) finds the heads Alembic finds; a database migrated to
    them is at its heads, an older one is not, and upgrading that one still migrates it."""
    import sqlite3

    from alembic import command
    from alembic.script import ScriptDirectory

    from live.store import alembic_config, at_heads, script_heads

    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert script_heads() == set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    assert not at_heads(url)  # no tables yet
    command.upgrade(alembic_config(url), "0002")
    assert not at_heads(url)
    upgrade(url)
    assert at_heads(url)
    with sqlite3.connect(tmp_path / "m.db") as db:
        stored = {row[0] for row in db.execute("select version_num from alembic_version")}
    assert stored == script_heads()


def test_a_server_on_a_migrated_database_never_loads_alembic(tmp_path):
    """Every restart finds the schema current without Alembic (16 MB the server keeps)."""
    import subprocess
    import sys
    from pathlib import Path

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    probe = ("import sys; from live import create_app; create_app({'DATABASE_URL': sys.argv[1], "
             "'SECRET_KEY': 'k'}); print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('alembic', 'mako')))")
    done = subprocess.run([sys.executable, "-c", probe, url], cwd=Path(__file__).parent.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
