"""The application factory: config, database, languages, blueprints, Socket.IO."""

from __future__ import annotations

import functools
import logging

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_compress import Compress
from itsdangerous import TimestampSigner, URLSafeTimedSerializer, want_bytes

from live import auth, cluster, connectgate, footprint, procpool, rooms, runtime, security, wsdeflate
from live.collector import QuietCollector
from live.config import Defaults, check_numbers, load_secret_key
from live.health import Heartbeat
from live.i18n import babel, install_template_gettext, select_locale
from live.loops import Loop, guarded
from live.precompressed import StaticCompression
from live.realtime import Pacing, deliveries, socketio
from live.sessions.deadlines import Deadlines
from live.sessions.push import Broadcaster, resync_local
from live.store import Store, default_sqlite_url, upgrade
from live.writer import WriteQueue

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class _KeptKeySigner(TimestampSigner):
    """The session cookie's signer (itsdangerous makes one for every cookie read), its keys
    derived once (an HMAC each) rather than for every read."""

    def derive_key(self, secret_key=None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        return _derived_key(key, self.salt, self.key_derivation, self.digest_method)


@functools.lru_cache(maxsize=16)  # the current key and its fallbacks
def _derived_key(secret_key: bytes, salt: bytes, derivation: str, digest) -> bytes:
    signer = TimestampSigner(secret_key, salt=salt, key_derivation=derivation, digest_method=digest)
    return signer.derive_key()


class _Sessions(SecureCookieSessionInterface):
    """The signed cookie session, not sent again with static files (scripts, styles): the pages
    refresh it; a phone's first load is 3 x ~250 bytes lighter.

    Its serializer is made once per set of keys (the secret key and its fallbacks), not for
    every request: a phone's reconnection reads the cookie without a request (`auth.cookie_session`),
    and a storm of 5,000 of them made and threw away 5,000 serializers."""

    _kept: tuple | None = None  # (the keys, their serializer)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)  # the current key last
        if self._kept is None or self._kept[0] != keys:
            self._kept = (keys, URLSafeTimedSerializer(
                list(keys), salt=self.salt, serializer=self.serializer, signer=_KeptKeySigner,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method}))
        return self._kept[1]

    def should_set_cookie(self, app: Flask, session) -> bool:
        if request.endpoint == "static":
            return session.modified
        return super().should_set_cookie(app, session)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config, database, languages, blueprints, Socket.IO."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_relative_config=True)
    app.session_interface = _Sessions()
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("LIVE")
    if test_config:
        app.config.update(test_config)
    check_numbers(app.config)  # StartRefused: a tuning setting that is no number
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(app.instance_path)
    app.config.setdefault("MAX_EVENT_SIZE", 4096)
    url = app.config["DATABASE_URL"] or default_sqlite_url(app.instance_path)
    # A driver that would block the event loop stops the start here (StartRefused).
    runtime.cooperative_database(url, runtime.effective_mode(app.config["ASYNC_MODE"]))
    if app.config.get("AUTO_MIGRATE", True):
        upgrade(url)
    store = Store(url, app.config["SQLITE_SYNCHRONOUS"], app.config["SQLITE_BUSY_TIMEOUT"])
    # Capability links derive from the secret key, never stored in the database.
    store.set_info(link_key=app.config["SECRET_KEY"])
    app.extensions["palabre.store"] = store
    app.extensions["palabre.broadcaster"] = Broadcaster(app)
    app.extensions["palabre.deadlines"] = Deadlines(app)
    app.extensions["palabre.heartbeat"] = Heartbeat()
    app.extensions["palabre.writer"] = WriteQueue(app, store, socketio)
    app.extensions["palabre.collector"] = QuietCollector(socketio, app.extensions["palabre.writer"].idle_for)
    # Worker processes (renders, archives) idle past their pool's idle_timeout are stopped.
    footprint.reset()  # counts of another app of this process (tests) are not this one's
    app.extensions["palabre.footprint"] = Loop("footprint", socketio, lambda: footprint.flush(store),
                                               lambda: footprint.FLUSH_SECONDS)
    app.extensions["palabre.pool_reaper"] = Loop(
        "pool reaper", socketio, procpool.reap_idle,
        lambda: min(POOL_REAP_SECONDS, max(0.5, float(app.config["WORKER_IDLE_SECONDS"]) / 2)))

    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="../translations")
    install_template_gettext(app)  # (after init_app, which installs Flask-Babel's own)
    security.init_app(app)
    app.context_processor(auth.organiser_globals)  # (auth uses security: not the other way)
    # Registered before Compress: after-request functions run last-registered first, so the
    # footprint counts the compressed bodies.
    app.after_request(footprint.count_response)
    Compress(app)
    # (after Compress: runs before it, which then leaves the compressed static files alone)
    app.extensions["palabre.static_compression"] = StaticCompression(app)
    # Socket handlers must be declared before init_app: Flask-SocketIO only replays the
    # handlers it collected while unbound onto each new server (one per app, e.g. in tests).
    _register_features(app)
    _init_socketio(app)
    # WebSocket compression without a compressor kept per socket (live/wsdeflate.py)
    app.wsgi_app = wsdeflate.middleware(runtime.direct(app.wsgi_app))
    app.after_request(_security_headers)
    app.before_request(_remember_language)
    app.before_request(auth.organiser_pages_guard)  # after every other check, as a blueprint's
    app.context_processor(_template_globals)
    return app


# The app's background loops: the coalescing broadcaster, the event-loop heartbeat (started by
# the first GET /healthz: it wakes 100 times a second), the word-cloud renders, the idle worker
# processes' reaper, the timers' deadlines (an activity that closes itself) and the footprint's
# flush (the in-memory counts written every few seconds), the garbage collector's full passes
# (run when no write is under way: live/collector.py).
BACKGROUND = ("palabre.broadcaster", "palabre.cloud_images", "palabre.pool_reaper", "palabre.deadlines",
              "palabre.footprint", "palabre.collector")
POOL_REAP_SECONDS = 10.0
STOPPED_ON_SHUTDOWN = (*BACKGROUND, "palabre.heartbeat")


def start_background(app: Flask) -> None:
    """Start the app's background loops (the server does, before serving)."""
    for name in BACKGROUND:
        app.extensions[name].start()


def stop_background(app: Flask) -> None:
    """Stop every background loop of the app for good (on shutdown; tests, after each app)."""
    for name in STOPPED_ON_SHUTDOWN:
        app.extensions[name].stop()
    # The last seconds of the footprint's counts are written, not lost.
    guarded("footprint", footprint.flush, app.extensions["palabre.store"])


class _ClientGone(logging.Filter):
    """python-engineio logs a whole traceback ("post request handler error") when it cannot read
    a long-poll's POST body to its end: under gevent the read raises when the client left in
    the middle (a phone walking out of the Wi-Fi's reach) or when its body was stopped for
    coming too slowly (`runtime._body_deadline`). A client gone is not a server's error, and one
    traceback per such request was a way to flood the log: dropped, as eventlet's short read is."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (record.msg == "post request handler error" and isinstance(error, OSError))


_CLIENT_GONE = _ClientGone()


def _init_socketio(app: Flask) -> None:
    logging.getLogger("engineio.server").addFilter(_CLIENT_GONE)  # once: the same filter
    queue = None
    if app.config["MESSAGE_QUEUE"]:
        # Stops the start (StartRefused) when the library is missing or Redis does not answer.
        queue = cluster.queue_manager(app.config["MESSAGE_QUEUE"],
                                      lambda: guarded("queue resync", resync_local, app))
        queue.deliveries = deliveries(Pacing.of(app.config))  # others' pushes, large ones paced
    socketio.init_app(
        app,
        async_mode=runtime.effective_mode(app.config["ASYNC_MODE"]),
        # The server's own origin (as the request names it), plus LIVE_PUBLIC_URL's and
        # LIVE_ALLOWED_ORIGINS' (added to it, not instead of it).
        cors_allowed_origins=security.socket_origins(app.config),
        max_http_buffer_size=app.config["MAX_PAYLOAD"],
        # Always given: Flask-SocketIO keeps options from one app to the next. Rooms indexed per
        # socket (live/rooms.py), with Redis between processes or not.
        client_manager=queue or rooms.Manager(),
        message_queue=None,
        ping_interval=float(app.config["PING_INTERVAL"]),
        ping_timeout=float(app.config["PING_TIMEOUT"]),
        async_handlers=bool(app.config["ASYNC_HANDLERS"]),
    )
    if int(app.config["CONNECT_SLOTS"]) > 0:  # sockets set up a few at a time, in order
        gate = connectgate.ConnectGate(int(app.config["CONNECT_SLOTS"]), float(app.config["CONNECT_LEASE"]),
                                       int(app.config["CONNECT_SLOTS_PER_ADDRESS"]))
        app.extensions["palabre.connect_gate"] = gate
        app.wsgi_app = connectgate.middleware(runtime.direct(app.wsgi_app), gate)


def _register_features(app: Flask) -> None:
    # Importing a feature registers its activity kind and its socket handlers.
    from live import cli, health
    from live.admin import http as admin_http
    from live.archive import http as archive_http
    from live.boards import events as board_events  # noqa: F401
    from live.boards import http as board_http
    from live.polls import events as poll_events  # noqa: F401
    from live.polls import http as poll_http
    from live.pulse import events as pulse_events  # noqa: F401
    from live.pulse import http as pulse_http
    from live.quickstart import http as quickstart_http
    from live.sessions import events as session_events  # noqa: F401
    from live.sessions import http as session_http
    from live.wordclouds import events as wordcloud_events  # noqa: F401
    from live.wordclouds import http as wordcloud_http
    from live.wordclouds.images import CloudImages

    app.register_blueprint(session_http.bp)
    app.register_blueprint(poll_http.bp)
    app.register_blueprint(board_http.bp)
    app.register_blueprint(admin_http.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(archive_http.bp)
    app.register_blueprint(wordcloud_http.bp)
    app.register_blueprint(quickstart_http.bp)
    app.register_blueprint(pulse_http.bp)
    app.extensions["palabre.cloud_images"] = CloudImages(app)
    cli.register(app)


def _security_headers(response):
    if request.endpoint == "static" and response.mimetype in ("text/javascript", "text/css"):
        # A script or a style sheet is no document: a CSP on it does nothing, and
        # Content-Disposition and Expires say nothing that the type and Cache-Control do not.
        # Left out, a phone's first load is about 1 KB lighter (tests/test_page_weight.py).
        for name in ("Content-Disposition", "Expires"):
            response.headers.pop(name, None)
    else:
        response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # "same-origin", not "no-referrer": with no-referrer browsers send `Origin: null` on our own
    # form posts, and the Origin check could not tell them from a forged one. Capability URLs
    # still never leave the site in a Referer.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if g.get("set_lang"):
        # A session's audience keeps its choice apart (live/i18n.py), the screen not at all.
        audience = g.get("session_language")
        cookie = audience[1] if audience is not None else "lang"
        if cookie:
            response.set_cookie(cookie, g.set_lang, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def _remember_language():
    lang = request.args.get("lang")
    if lang in ("fr", "en"):
        g.set_lang = lang


def _template_globals() -> dict:
    from flask_babel import get_locale

    from live.i18n import message

    return {"locale": str(get_locale() or "fr"), "message": message}
