"""Default configuration. Overridden by `LIVE_*` environment variables, then by a test dict."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from live.runtime import DEFAULT_MODE


class Defaults:
    """Values used when nothing else is set."""

    # Where the server listens. 0.0.0.0 so that phones on the venue Wi-Fi can reach it.
    HOST = "0.0.0.0"  # noqa: S104 - on purpose: the venue's phones must reach it
    PORT = 5000
    # Server processes started by `python wsgi.py` (one per core), built once and forked, on
    # PORT, PORT + 1, ...: behind nginx, with LIVE_MESSAGE_QUEUE (live/launcher.py).
    PROCESSES = 1
    # With PROCESSES > 1: all of them on PORT alone, no proxy in front; the kernel places each
    # connection by the client's address (one address, one process: live/runtime.py,
    # `listen_shared`). Linux only. Off: PORT, PORT + 1, ... behind nginx.
    SHARED_PORT = False
    # "eventlet" or "gevent" (live/runtime.py names the default), or "threading" (tests, CLI).
    ASYNC_MODE = DEFAULT_MODE
    # SQLAlchemy URL; empty means a SQLite file in the instance folder.
    DATABASE_URL = ""
    # "FULL": a commit is on disk before the vote is acknowledged ("acknowledged = stored").
    SQLITE_SYNCHRONOUS = "FULL"
    # Seconds a write waits for the SQLite database locked by another process (a backup, the
    # command line) before the client is told "busy, try again" (nothing is written then).
    SQLITE_BUSY_TIMEOUT = 5.0
    # Organiser password. Empty: with LIVE_HOST a loopback address, organiser pages answer to
    # this machine only (no proxy); otherwise `python wsgi.py` creates one at start (printed,
    # kept in the instance folder) and a server started another way refuses organiser pages.
    ADMIN_PASSWORD = ""
    # Failed organiser logins allowed per client address (Flask-Limiter syntax).
    LOGIN_RATE_LIMIT = "5 per minute;20 per hour"
    # Host names besides IP literals, localhost and LIVE_PUBLIC_URL's host that requests may
    # name (comma-separated; ".example.org" includes subdomains; "*" turns the check off).
    TRUSTED_HOSTS = ""
    # Send the session cookie over HTTPS only: set it to true behind a TLS reverse proxy.
    SESSION_COOKIE_SECURE = False
    # Extra allowed Socket.IO origins (comma-separated); the server's own origin is always allowed.
    ALLOWED_ORIGINS = ""
    # Message queue for several server processes (e.g. "redis://localhost:6379/0").
    MESSAGE_QUEUE = ""
    # Public base URL printed and encoded in QR codes; empty means "http://<LAN address>:<port>".
    PUBLIC_URL = ""
    # Largest Socket.IO message accepted, in bytes.
    MAX_PAYLOAD = 16 * 1024
    # How many messages one socket may send per 10 seconds before being told to slow down.
    RATE_LIMIT_PER_10S = 40
    # New participants one client address may create per minute (0: no limit). At a venue each
    # phone has its own address; behind a reverse proxy they all have the proxy's: raise it.
    JOIN_RATE_PER_MINUTE = 120
    # Join admission (live/sessions/admission.py): new participants let in per second (a second's
    # worth at once); the others wait in line on a small page that tries again by itself (0: no
    # line, everyone in at once). A join costs about 5.5 ms of server CPU (page, socket,
    # snapshots: docs/performance.md): 100 a second leave part of a core to the room (0.55 of
    # one), and 5,000 phones arriving within a minute get in as they arrive.
    ADMIT_PER_SECOND = 100
    # Broadcaster: seconds between aggregate pushes per activity (0.1 = at most 10 a second).
    PUSH_INTERVAL = 0.1
    # Phones: seconds between two pushes of revealed results (none while results are hidden).
    PHONE_PUSH_INTERVAL = 2.0
    # A push to a room of more sockets than this (the phones' tally) is sent this many sockets at
    # a time, the event loop serving the others in between.
    PUSH_SLICE = 200
    # Seconds such a push is spread over (at most half of PHONE_PUSH_INTERVAL): 4,000 phones'
    # tally in 20 slices 42 ms apart. Spread over 0.4 s, two processes sending their halves at
    # once took both cores from the votes: acks p95 100-130 ms, against 40 ms spread over 0.8 s
    # (docs/performance.md). None while another push waits its turn (a facilitator's move is
    # not held behind a tally).
    PUSH_SPREAD = 0.8
    # Seconds between two such slices, at least.
    PUSH_SLICE_PAUSE = 0.02
    # Seconds the write queue waits for more writes before a group commit while writes keep
    # coming (a room changing its votes): they share the commit and its fsync (0: never wait).
    # 10 ms was tried (9 % less CPU per vote in paired rounds) and put back: under gevent it
    # raised the flood test's largest loop gap from 22-71 to 78-117 ms (docs/performance.md).
    WRITE_GATHER = 0.005
    # Seconds of work one group commit runs before it commits (the event loop waits meanwhile);
    # the writes left over go in the next commit. One write is always run, however long it takes.
    WRITE_BATCH_SECONDS = 0.025
    # False: each socket's events are handled in order, one at a time, by the task reading it
    # (a socket sending faster than it is answered is read only as fast, and cut off at once
    # when it floods); True: each event in a task of its own (Flask-SocketIO's default).
    ASYNC_HANDLERS = False
    # Seconds between two Engine.IO pings of a socket, and how long its answer may take before
    # the socket is closed (a phone gone without a word: out of Wi-Fi, battery).
    PING_INTERVAL = 20.0
    PING_TIMEOUT = 20.0
    # Sockets being set up at once (Engine.IO handshake to the answer of their CONNECT); the
    # others wait their turn in arrival order (live/connectgate.py; 0: no limit). A slot is given
    # back at the latest after CONNECT_LEASE seconds. One client address holds at most
    # CONNECT_SLOTS_PER_ADDRESS of them (the others always get the rest): a hall behind one NAT
    # shares one address (so does every phone behind a reverse proxy), and 64 set-ups at once
    # still keep the event loop busy: each holds its slot for a round trip through the phone
    # (60-110 ms in a storm of 5,000; 32 per address let ~350 a second through, docs/performance.md).
    CONNECT_SLOTS = 128
    CONNECT_SLOTS_PER_ADDRESS = 64
    CONNECT_LEASE = 1.0
    # Largest number of simultaneous connections accepted by the server.
    MAX_CONNECTIONS = 10000
    # Seconds an HTTP connection may stay silent, within a request (a phone gone from the Wi-Fi
    # in the middle of one, a client holding connections open on purpose) or between two: then
    # it is closed, its file and its slot among MAX_CONNECTIONS given back. A WebSocket's own is
    # Engine.IO's ping interval and timeout; a long-poll's wait is not silence on the socket.
    HTTP_TIMEOUT = 60
    # Word clouds: hold back words of the profanity list until a moderator releases them
    # (the default of the "hold back profanity" box when adding a word cloud).
    WORDCLOUD_HOLD_PROFANITY = True
    # Word clouds: entries and withdrawals one participant may send per 10 seconds.
    WORDCLOUD_RATE_PER_10S = 10
    # The room's pulse: quick reactions one participant may send per 10 seconds.
    REACTION_RATE_PER_10S = 5
    # Archives: folder of drawn charts and word clouds, reused by later exports (also after a
    # restart); empty means "chart-cache" in the instance folder, "off" none. Oldest-used
    # charts are deleted beyond ARCHIVE_CHART_CACHE_MB megabytes.
    ARCHIVE_CHART_CACHE = ""
    ARCHIVE_CHART_CACHE_MB = 64
    # Worker processes (word-cloud renders, archives) stop after this many seconds without work
    # and start again when needed: an idle worker weighs tens of megabytes a hall needs more.
    WORKER_IDLE_SECONDS = 300.0
    LANGUAGES = ("fr", "en")
    BABEL_DEFAULT_LOCALE = "fr"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 30
    MAX_CONTENT_LENGTH = 64 * 1024
    COMPRESS_MIMETYPES = [
        "text/html", "text/css", "application/javascript", "text/javascript",
        "application/json", "image/svg+xml",
    ]
    COMPRESS_LEVEL = 6
    COMPRESS_MIN_SIZE = 300
    COMPRESS_ALGORITHM = ["gzip"]
    # Streamed responses: Flask-Compress has a separate setting for them. (Static scripts,
    # styles and SVG are compressed once per file instead: live/precompressed.py.)
    COMPRESS_ALGORITHM_STREAMING = ["gzip"]
    SEND_FILE_MAX_AGE_DEFAULT = 3600


# Numbers `python wsgi.py` checks itself, with their own bounds (PORT, ...).
_CHECKED_BY_THE_START = frozenset({"PORT", "PROCESSES", "MAX_CONNECTIONS", "HTTP_TIMEOUT"})


def check_numbers(config) -> None:
    """Every setting whose default is a number must be a finite one, 0 or more: else
    StartRefused naming the setting and what it takes. A word or a typo in a tuning setting
    (`LIVE_WRITE_GATHER=5ms`) failed later, in the middle of the room: the
    write queue's task raised on every write and no vote was ever acknowledged."""
    import math

    from live.errors import StartRefused

    for name in dir(Defaults):
        default = getattr(Defaults, name)
        if not name.isupper() or name in _CHECKED_BY_THE_START or isinstance(default, bool) \
                or not isinstance(default, (int, float)):
            continue
        value = config.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
                and value >= 0:
            continue  # a fraction where the default is whole may be meant (ADMIT_PER_SECOND=0.2)
        raise StartRefused(f"LIVE_{name}={value!r}: a number, 0 or more")


def load_secret_key(instance_path: str) -> str:
    """Read the secret key from the instance folder, creating it on first run."""
    return read_or_create_private(Path(instance_path) / "secret_key", lambda: secrets.token_hex(32))


def read_or_create_private(path: Path, make) -> str:
    """The content of a private file, created on first use: readable by its owner only from
    the first byte (mode 0600 at creation), and complete before it has its name (written
    aside, then linked: two processes starting at once agree on the first one written)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won: use its value
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text().strip()


def ensure_admin_password(app) -> str | None:
    """At server start: a password is required unless the server listens on loopback only.

    Returns the password created (or read back from the instance folder) when none was set,
    for the start message; None when LIVE_ADMIN_PASSWORD is set or the bind is loopback.
    """
    from live.security import binds_loopback

    if app.config["ADMIN_PASSWORD"] or binds_loopback(app.config):
        return None
    password = read_or_create_private(Path(app.instance_path) / "admin_password",
                                      lambda: secrets.token_urlsafe(12))
    app.config["ADMIN_PASSWORD"] = password
    return password
