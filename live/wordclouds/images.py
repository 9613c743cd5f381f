"""Word-cloud images: rendered in worker processes, debounced, cached by content.

The screen shows a cloud as one `<img>` of SVG at `/cloud/<activity>.svg?t=<token>&v=<digest>`.
When entries change, `schedule()` waits until DEBOUNCE (a quarter of a second) has passed since
the cloud's last render, renders the new cloud off the event loop, then tells the rooms its new
digest so that clients swap the image (and staff which words it could not draw). Identical
content is never rendered twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict

from flask import current_app

from live import loops, realtime
from live.realtime import socketio
from live.render import HEIGHT, WIDTH, missing_words
from live.render.pool import RenderError
from live.store import app_store

log = logging.getLogger(__name__)

# At most one render of a cloud per DEBOUNCE: with 200 people typing, an entry reaches the
# screen within about DEBOUNCE plus one render (python -m bench cloudlatency).
DEBOUNCE = 0.25
CACHE_SIZE = 64
THEMES = ("light", "dark")


class CloudImages:
    """Rendered SVGs by content digest, and the debounce state of each cloud."""

    def __init__(self, app):
        self.app = app
        self.cache: OrderedDict[str, bytes] = OrderedDict()
        self.in_flight: dict[str, object] = {}
        self.pending: set[int] = set()
        self.last_render: dict[int, float] = {}
        self.current: dict[int, str] = {}
        self.missing: dict[int, list[str]] = {}  # words the cloud's image could not draw
        self.stopped = False
        self.running = 0  # render tasks under way (scheduled, debouncing or rendering)

    def start(self) -> None:
        """Nothing to start: a render task is spawned per change (`schedule`), until stop()."""

    def stop(self) -> None:
        """Schedule no more renders; renders under way tell no one (the server is shutting down)."""
        self.stopped = True

    def digest(self, frequencies: dict[str, int], theme: str) -> str:
        """A keyed hash of what the image shows: its URL cannot be guessed from the words."""
        canonical = json.dumps([sorted(frequencies.items()), theme, WIDTH, HEIGHT], ensure_ascii=False)
        return hmac.new(self.app.config["SECRET_KEY"].encode(), canonical.encode(),
                        hashlib.sha256).hexdigest()[:32]

    def get(self, frequencies: dict[str, int], theme: str) -> tuple[str, bytes]:
        """The SVG of this content: from the cache, or rendered now in a worker (cooperatively)."""
        digest = self.digest(frequencies, theme)
        if digest in self.cache:
            self.cache.move_to_end(digest)
            return digest, self.cache[digest]
        job = self.in_flight.get(digest)
        if job is None:
            job = _start_render(frequencies, theme)
            self.in_flight[digest] = job
        try:
            while not job.done():
                socketio.sleep(0.02)
            svg = job.result()
        finally:
            self.in_flight.pop(digest, None)
        self.cache[digest] = svg
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)
        return digest, svg

    def schedule(self, session_id: int, activity_id: int) -> None:
        """Render this cloud again soon (at most once per DEBOUNCE), then tell the rooms."""
        if activity_id in self.pending or self.stopped:
            return
        self.pending.add(activity_id)
        self.running += 1
        socketio.start_background_task(self._run, session_id, activity_id)

    def _run(self, session_id: int, activity_id: int) -> None:
        try:
            self._debounce_and_render(session_id, activity_id)
        finally:
            self.running -= 1

    def _debounce_and_render(self, session_id: int, activity_id: int) -> None:
        server = socketio.server  # this app's server: if another app replaced it, say nothing
        try:
            wait = self.last_render.get(activity_id, 0) + DEBOUNCE - time.monotonic()
            if wait > 0:
                socketio.sleep(wait)
        finally:
            # From here on, a new entry schedules another render: nothing is missed (and a
            # failed render below never leaves the cloud marked pending for good).
            self.pending.discard(activity_id)
        self.last_render[activity_id] = time.monotonic()
        # An exception (the database gone for a moment...) is logged; the next entry renders.
        loops.guarded("clouds", self._render, session_id, activity_id, server)

    def idle(self) -> bool:
        """No render scheduled or under way."""
        return self.running == 0

    def _render(self, session_id: int, activity_id: int, server) -> None:
        with self.app.app_context():
            frequencies = current_frequencies(activity_id)
            if frequencies is None:
                return
            try:
                digest, svg = self.get(frequencies, "light")
            except (RenderError, RuntimeError) as exc:  # the pool stopped (shutting down) or a worker died
                log.warning("cloud %s not rendered: %s", activity_id, exc)
                return
            self.current[activity_id] = digest
            self.missing[activity_id] = missing_words(svg)
            if socketio.server is not server or self.stopped:
                return
            pushed = {"activity": activity_id, "v": digest}
            realtime.emit_to_session(session_id, "cloud", pushed, roles=("screen", "participant"))
            # Staff also hear which words the image could not draw (no font, or no room).
            realtime.emit_to_session(session_id, "cloud", {**pushed, "missing": self.missing[activity_id]},
                                     roles=("facilitator", "moderator"))


def prepare(_session_id: int, _activity_id: int) -> None:
    """A cloud is about to be used (a command on it): start the render workers now, in the
    background, so that its first image does not wait for them (a second or two to start and
    load the fonts). Only a server does (eventlet, gevent): the CLI and the tests' in-process
    clients render when asked."""
    if socketio.async_mode in ("eventlet", "gevent"):
        from live.render import pool

        pool.default_pool().start()


def prepare_shown_clouds() -> bool:
    """At a server's start: if a live session has a word cloud on screen (a restart in the
    middle of one), its render workers start now, as its command would have started them.
    Whether one was found."""
    from sqlalchemy import select

    from live.sessions.model import Activity, LiveSession

    with app_store().read() as db:
        on_screen = LiveSession.current_activity_id == Activity.id
        shown = db.execute(select(Activity.id).join(LiveSession, on_screen)
                           .where(LiveSession.state == "live", Activity.kind == "wordcloud").limit(1)).first()
    if shown is not None:
        prepare(0, shown[0])
    return shown is not None


def _start_render(frequencies: dict[str, int], theme: str):
    from live.render import pool

    return pool.submit_svg(frequencies, WIDTH, HEIGHT, theme)


def current_frequencies(activity_id: int) -> dict[str, int] | None:
    """What the cloud of this activity shows now, or None if it is not a word cloud."""
    from live.sessions.model import Activity
    from live.wordclouds import service

    with app_store().read() as db:
        activity = db.get(Activity, activity_id)
        if activity is None or activity.kind != "wordcloud":
            return None
        return service.cloud(db, activity)


def images() -> CloudImages:
    """The application's cloud images."""
    return current_app.extensions["palabre.cloud_images"]


def schedule(session_id: int, activity_id: int) -> None:
    """Schedule a debounced re-render of a cloud."""
    images().schedule(session_id, activity_id)
