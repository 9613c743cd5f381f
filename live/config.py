"""Default configuration. Overridden by `LIVE_*` environment variables, then by a test dict."""

from __future__ import annotations

import secrets
from pathlib import Path


class Defaults:
    """Values used when nothing else is set."""

    # Where the server listens. 0.0.0.0 so that phones on the venue Wi-Fi can reach it.
    HOST = "0.0.0.0"
    PORT = 5000
    # "eventlet" (the default of the stack) or "gevent" or "threading" (tests, CLI).
    ASYNC_MODE = "eventlet"
    # SQLAlchemy URL; empty means a SQLite file in the instance folder.
    DATABASE_URL = ""
    # "FULL": a commit is on disk before the vote is acknowledged ("acknowledged = stored").
    SQLITE_SYNCHRONOUS = "FULL"
    # Seconds a write waits for the SQLite database locked by another process (a backup, the
    # command line) before the client is told "busy, try again" (nothing is written then).
    SQLITE_BUSY_TIMEOUT = 5.0
    # Organiser password; empty means organiser pages are open to the local machine only.
    ADMIN_PASSWORD = ""
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
    # Broadcaster: seconds between aggregate pushes per activity (0.1 = at most 10 a second).
    PUSH_INTERVAL = 0.1
    # Largest number of simultaneous connections accepted by the server.
    MAX_CONNECTIONS = 10000
    # Word clouds: hold back words of the profanity list until a moderator releases them
    # (the default of the "hold back profanity" box when adding a word cloud).
    WORDCLOUD_HOLD_PROFANITY = True
    # Word clouds: entries and withdrawals one participant may send per 10 seconds.
    WORDCLOUD_RATE_PER_10S = 10
    # Archives: folder of drawn charts and word clouds, reused by later exports (also after a
    # restart); empty means "chart-cache" in the instance folder, "off" none. Oldest-used
    # charts are deleted beyond ARCHIVE_CHART_CACHE_MB megabytes.
    ARCHIVE_CHART_CACHE = ""
    ARCHIVE_CHART_CACHE_MB = 64
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
    # Static files are streamed: Flask-Compress has a separate setting for them.
    COMPRESS_ALGORITHM_STREAMING = ["gzip"]
    SEND_FILE_MAX_AGE_DEFAULT = 3600


def load_secret_key(instance_path: str) -> str:
    """Read the secret key from the instance folder, creating it on first run."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
