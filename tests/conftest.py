"""Fixtures: a fresh app on a real SQLite file per test, HTTP and Socket.IO test clients."""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from jinja2 import BytecodeCache
from werkzeug.datastructures import MultiDict

from live import create_app
from live.app import stop_background
from live.polls import service as polls
from live.realtime import socketio
from live.runtime import MODES
from live.sessions import service as sessions

_counter = itertools.count()
POSTGRES_URL = os.environ.get("PALABRE_TEST_DATABASE_URL", "")


PG_URL = os.environ.get("PALABRE_POSTGRES_URL", "")

# The real servers of the tests are forked from a process that has done wsgi.py's imports
# (tests/forkserver.py): about 1.3 s less per start, in a few hundred starts.
# PALABRE_TEST_FORK_SERVERS=0 starts each one as `python wsgi.py` instead.
if os.environ.get("PALABRE_TEST_FORK_SERVERS", "1") != "0":
    import realserver

    realserver.FORK_SERVERS = True


def require_postgres() -> str:
    """The PostgreSQL database of the PostgreSQL-only tests (PALABRE_POSTGRES_URL, set by CI):
    without it the test is skipped, or fails when PALABRE_REQUIRE_POSTGRES=1."""
    if not PG_URL.startswith("postgresql"):
        message = "PALABRE_POSTGRES_URL does not name a PostgreSQL database"
        if os.environ.get("PALABRE_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " and PALABRE_REQUIRE_POSTGRES=1", pytrace=False)
        pytest.skip(message)
    return PG_URL


@pytest.fixture
def pg_empty_url():
    """A new empty schema in the PostgreSQL test database, not migrated (the URL works in it);
    dropped afterwards."""
    from multiprocess import drop_postgres_schema, empty_postgres_schema

    url = empty_postgres_schema(require_postgres())
    yield url
    drop_postgres_schema(url)


@pytest.fixture
def pg_url(pg_empty_url):
    """A new PostgreSQL schema migrated to the newest revision."""
    from live.store import upgrade

    upgrade(pg_empty_url)
    return pg_empty_url


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates kept in memory for every app this process makes (each test
    has a new app, whose new Jinja environment would compile each template it renders again:
    most of an HTTP test's time). Keyed by template and checked against its source, as Jinja's
    file cache; all these apps configure Jinja alike (create_app). The real servers the tests
    start are other processes and compile their own."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _CompiledTemplates()}

_SQLITE_TEMPLATE: list[Path] = []


def _migrated_sqlite_template() -> Path:
    """A SQLite file migrated to the newest schema, made once per process (each pytest-xdist
    worker has its own) in a temporary folder removed at exit."""
    if not _SQLITE_TEMPLATE:
        from live.store import upgrade

        folder = Path(tempfile.mkdtemp(prefix="palabre-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "palabre.db"
        upgrade(f"sqlite:///{template}")
        _SQLITE_TEMPLATE.append(template)
    return _SQLITE_TEMPLATE[0]


def database_url(tmp_path) -> str:
    """The test database: a new SQLite file, or a new schema in the PostgreSQL test database.

    The SQLite file is a copy of one the migrations made once in this process: the same schema
    as `upgrade` gives a new file (create_app then finds it current), without running the
    migrations again for every test (tests/test_migrations.py runs them). On PostgreSQL, the
    statements the migrations ran once in this process are run again in the new schema
    (`_migration_script`). A fresh schema per test (not one schema dropped and recreated)
    keeps each test apart from the background pushes of earlier tests' apps, which may still
    be finishing a query.
    """
    if not POSTGRES_URL:
        database = tmp_path / "palabre.db"
        if not database.exists():
            shutil.copyfile(_migrated_sqlite_template(), database)
        return f"sqlite:///{database}"
    script = _migration_script()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with _postgres_engine().begin() as connection:
        # one round trip: no statement has parameters (nor a %), see _migration_script
        connection.connection.cursor().execute(
            f'CREATE SCHEMA "{schema}"; SET LOCAL search_path TO "{schema}"; {script}')
    return _in_schema(schema)


@functools.cache
def _postgres_engine():
    from sqlalchemy import create_engine

    return create_engine(POSTGRES_URL)


def _in_schema(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@functools.cache
def _migration_script() -> str:
    """The statements the migrations ran on a new PostgreSQL schema, recorded once per process
    from a real `upgrade` (migrating a schema takes 0.5-1.3 s, most of a PostgreSQL test's
    time), as one script that each test's new schema runs: the same tables, indexes,
    constraints, rows and `alembic_version` as the migrations make. The schema is not named in
    them (a connection's search_path is its schema). Only what changes the schema is kept: the
    migrations' and Alembic's own reads, and the migration lock, are not replayed.
    tests/test_migrations.py runs the migrations themselves."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from live.store import upgrade

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with _postgres_engine().begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    recorded: list[tuple] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if schema not in str(conn.engine.url):
            return  # another engine of this process (an earlier test's app still pushing)
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if verb not in ("SELECT", "SHOW") and "pg_advisory" not in statement:
            recorded.append((statement, parameters, executemany))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        upgrade(_in_schema(schema))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    unfit = [sql for sql, parameters, many in recorded if parameters or many or "%" in sql or schema in sql]
    assert recorded and not unfit, f"migration statements that cannot be replayed in one script: {unfit}"
    return ";\n".join(sql for sql, _p, _m in recorded)


@pytest.fixture(scope="session", autouse=True)
def _drop_old_test_schemas():
    """Remove the schemas earlier runs left in the PostgreSQL test database."""
    if POSTGRES_URL:
        from sqlalchemy import create_engine, text

        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            names = connection.execute(text(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_%'")).scalars().all()
        for name in names:  # one transaction each: a schema's tables take many locks
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        engine.dispose()
    yield


class Browser(FlaskClient):
    """A test client whose form posts carry this browser's CSRF token, as the pages' forms do.

    `client.post(..., csrf=False)` sends a form without it (a forged post).
    """

    def open(self, *args, csrf: bool = True, **kwargs):
        method = str(kwargs.get("method", "GET")).upper()
        data = kwargs.get("data")
        if csrf and method == "POST" and (data is None or isinstance(data, dict)):
            # A copy of the same kind: a MultiDict keeps its repeated fields.
            data = data.copy() if isinstance(data, MultiDict) else dict(data or {})
            if "csrf_token" not in data:
                data["csrf_token"] = self.csrf_token()
            kwargs["data"] = data
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """The signed token a page rendered for this browser would hold (Flask-WTF's format)."""
        with self.session_transaction() as cookie:
            raw = cookie.setdefault("csrf_token", uuid.uuid4().hex)
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def app(tmp_path):
    """A fresh application on its own SQLite file (or on PALABRE_TEST_DATABASE_URL, emptied).

    It listens on loopback (LIVE_HOST=127.0.0.1): the organiser pages answer to this machine
    without a password, as with `LIVE_HOST=127.0.0.1 make run`.
    """
    app = create_app({
        "TESTING": True,
        "HOST": "127.0.0.1",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url(tmp_path),
        "ASYNC_MODE": "threading",
        "RATE_LIMIT_PER_10S": 1000,
        "PUSH_INTERVAL": 0.05,
        "PHONE_PUSH_INTERVAL": 0.2,
        "JOIN_RATE_PER_MINUTE": 100000,
        "ADMIT_PER_SECOND": 0,  # no join line but in the tests of the line (test_admission.py)
    })
    app.test_client_class = Browser
    yield app
    stop_background(app)
    app.extensions["palabre.store"].dispose()


@pytest.fixture
def client(app):
    """An HTTP client (a browser with its own cookie jar)."""
    return app.test_client()


@pytest.fixture
def store(app):
    """The application's store."""
    return app.extensions["palabre.store"]


@pytest.fixture
def live(store):
    """A session in an event, with ids and tokens (no activity yet)."""
    with store.write() as db:
        event = sessions.create_event(db, "Human Tech Days", "Chartres", "2022-04-05")
        s = sessions.create_session(db, event, "round_table", "Table ronde")
        return {"id": s.id, "code": s.join_code, "facilitator": s.facilitator_token,
                "moderator": s.moderator_token, "screen": s.screen_token}


def add_poll(store, session_id, poll_type="single", options=("Oui", "Non", "Je ne sais pas"), **settings):
    """Add a poll to a session and return its id."""
    with store.write() as db:
        s = sessions.get_session(db, session_id)
        return polls.add_poll(db, s, poll_type, "Question ?", list(options), settings).id


def command(store, session_id, action, activity=None):
    """Run a facilitator command directly through the service."""
    with store.write() as db:
        sessions.apply_command(db, sessions.get_session(db, session_id), action, activity)


@pytest.fixture
def poll(store, live):
    """An open single-choice poll on screen."""
    activity = add_poll(store, live["id"])
    command(store, live["id"], "show", activity)
    command(store, live["id"], "open", activity)
    return activity


def choose_language(client, lang: str = "en"):
    """A participant who picked a language on their phone (the FR/EN links keep it in a cookie):
    participant pages otherwise speak the session's language. Returns the client."""
    client.set_cookie("plang", lang)
    return client


def cid() -> str:
    """A fresh client-generated id."""
    return f"{next(_counter)}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def phone(app, live):
    """A factory of participant sockets, each with its own browser (cookie jar)."""
    made = []

    def make(code=None):
        browser = app.test_client()
        browser.get(f"/j/{code or live['code']}")
        sock = socketio.test_client(app, auth={"code": code or live["code"], "lang": "en"},
                                    flask_test_client=browser)
        made.append(sock)
        return sock

    yield make
    for sock in made:
        if sock.is_connected():
            sock.disconnect()


@pytest.fixture
def staff(app, live):
    """A factory of staff sockets: staff('facilitator'|'moderator'|'screen')."""
    made = []

    def make(role):
        sock = socketio.test_client(app, auth={"token": live[role], "lang": "en"})
        made.append(sock)
        return sock

    yield make
    for sock in made:
        if sock.is_connected():
            sock.disconnect()


def events_named(sock, name):
    """The payloads a test socket received for event `name`."""
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


# --- running in parallel (pytest-xdist: `make test` runs `pytest -n 2 --dist loadgroup`) -------
# The tests that measure time or load the machine (storms of joins or votes, kill -9 under load,
# memory and CPU figures) run one after the other on one worker, never two of them at once;
# every other test goes to whichever worker is free. They come first, so that their worker starts
# on them while the other takes the rest (as the last group they made the run's tail). Without -n
# only that order changes (the tests do not depend on their order).
HEAVY_FILES = frozenset({
    "test_admission.py", "test_connect_storm.py", "test_flood.py", "test_steady_stream.py",
    "test_load_bench.py", "test_votecpu_bench.py", "test_faults.py", "test_memory.py",
    "test_fanout.py", "test_concurrency.py",
})


# `make test` runs the real server's tests a second time under the other async mode. A test
# that names its mode itself (parametrized on "mode": it runs under both in each pass), and the
# load benchmark's scenarios with its second client implementation (which client drives the
# phones does not depend on the server's mode: both clients run in the default mode's pass, the
# raw one again under the other mode), would only repeat themselves: they are marked `once` and
# that pass leaves them out.
def _once(item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    if params.get("mode") in MODES:
        return True
    return item.path.name == "test_load_bench.py" and params.get("client", "raw") != "raw"


def pytest_sessionfinish(session):
    """The Chromium the browser tests of this process shared (tests/support.py) and its fork
    servers (tests/realserver.py) are stopped with the process's tests."""
    support = sys.modules.get("support")
    if support is not None:
        support._stop_chromium()
    realserver = sys.modules.get("realserver")
    if realserver is not None:
        realserver.stop_fork_servers()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in HEAVY_FILES:
            item.add_marker(pytest.mark.xdist_group("heavy"))
        if _once(item):
            item.add_marker(pytest.mark.once)
    items.sort(key=lambda item: item.path.name not in HEAVY_FILES)  # stable: heavy ones first
