"""What the rooms of a session are told after a change: snapshots and coalesced live counts.

`push_state` sends every role room its fresh snapshot (`live.sessions.views`) after a state
change. Live aggregates (vote counts...) are not pushed per answer: `mark_dirty` notes the
activity and the `Broadcaster` pushes each one to the staff rooms at most every `PUSH_INTERVAL`
seconds; phones get no live count while results are hidden, and revealed results at most every
`PHONE_PUSH_INTERVAL` seconds, once the counts have settled (a burst costs each phone one
tally, with its final count). `mark_presence` does the same for the count of participants
(behind a message queue, publishing this process's connected participants to Redis first,
and again every `cluster.PRESENCE_REFRESH` seconds, so the count is the room's).
Built on `live.realtime` (rooms, emits); features call these after a commit.
"""

from __future__ import annotations

import time

from flask import current_app

from live import activities, cluster
from live.loops import Loop, guarded
from live.realtime import (
    STAFF_ROLES,
    emit_in_slices,
    emit_whole,
    local_connections,
    present_ids,
    present_sessions,
    room,
    socketio,
)
from live.sessions.model import Activity, LiveSession
from live.sessions.views import aggregates, forget_shared, part, part_lifetime, presence, snapshot
from live.store import app_store


def push_state(session_id: int, roles: tuple[str, ...] = ("participant", *STAFF_ROLES)) -> None:
    """Send every room of the session (or of `roles`) its fresh snapshot (after a state change)."""
    with app_store().read() as db:
        session = db.get(LiveSession, session_id)
        if session is None:
            return
        views = {role: snapshot(db, session, role) for role in roles}
    for role, view in views.items():  # after a sliced push under way: pushes stay in order
        emit_whole("state", view, room(session_id, role))


def shared_changed(session_id: int) -> None:
    """What every phone of the session sees changed (state, counts, a part): the next phone
    snapshot is built anew, not taken from the shared one (`views.shared_view`)."""
    forget_shared(session_id)


PHONE_QUIET = 0.5  # seconds without a change before the phones get the tally (at most)
BUSY_STRETCH = 2  # while votes wait for their ack, phones wait up to this many intervals
PART_INTERVAL = 0.5  # seconds between two pushes of a session part (the pulse) to the staff
PART_REFRESH = 10.0  # seconds between pushes of a part whose marks are expiring


class Broadcaster:
    """Coalesces live aggregates: at most one push per activity per interval.

    Staff rooms (screen, console, moderator) get an activity's aggregates at most every
    `PUSH_INTERVAL` (0.1 s: 10 a second) while they change; the screen without the tally while
    it is hidden. The loop keeps the interval's cadence (a tick every interval from the start of
    the one before), and a change after an interval without a push is pushed at once (`mark`
    wakes the loop): a lone vote reaches the screen without waiting for the interval's end.
    Phones get no live count while the results are hidden (a phone needs none to
    vote: 5,000 phones ten times a second was most of the server's work in a burst); once
    revealed, they get the tally with the `state` push of the reveal, then at most every
    `PHONE_PUSH_INTERVAL` seconds (2 s) while it changes, and only once the counts have been
    still for `phone_quiet()` (0.5 s) or the interval has passed since the first change they
    were not told: a burst of votes shorter than the interval costs each phone one tally, sent
    once it is over, with the final count (a tally pushed at the first vote of a burst was
    out of date at once, and 5,000 sends in the middle of the burst). While writes wait in the
    queue (votes not yet acknowledged), or a burst is under way (`WriteQueue.crowded`: the queue
    is empty for a moment whenever the loop reads the next votes), that interval is stretched
    to `BUSY_STRETCH` intervals: a phone's ack comes before a tally it can wait for (5,000-phone
    bursts whose phones got 3,460-5,000 tallies in the middle ended 1.8-1.9 s after the hidden
    bursts of the same run; with the queue alone as the sign, a burst longer than the interval
    still got its 5,000 tallies in the middle: 2.02 s against 1.57 s hidden, 4 December).
    """

    def __init__(self, app):
        self.app = app
        self.dirty: set[tuple[int, int]] = set()
        # Activities whose revealed results the phones have not had yet -> when they were first
        # owed (held back until the counts settle, within PHONE_PUSH_INTERVAL); staff rooms are
        # not sent them again.
        self.owed: dict[tuple[int, int], float] = {}
        self.changed_at: dict[tuple[int, int], float] = {}  # an activity's last change (marked)
        self.presence: set[int] = set()
        self.last_presence = 0.0
        self.last_published = time.monotonic()  # presence sets refreshed in Redis
        # Session parts (the pulse) changed: pushed to the staff rooms at most twice a second;
        # `parts_live` keeps re-pushing them while their marks expire (every PART_REFRESH s).
        self.parts: set[tuple[int, str]] = set()
        self.parts_live: dict[tuple[int, str], tuple[float, float]] = {}  # -> (changed, pushed)
        self.local_slots = cluster.LocalSlots()  # push slots without a message queue
        # When this process last pushed (or tried to push) revealed results to phones.
        self.last_participant_push: dict[int, float] = {}
        self.ticks = 0  # completed ticks (tests wait on it: a condition, not a sleep)
        self.results_pushed_at = float("-inf")  # when a tick last pushed counts to staff rooms
        self.phone_pushes = 0  # phones' tallies being sent (each in its own task)
        self.loop = Loop("broadcaster", socketio, self._tick, lambda: app.config["PUSH_INTERVAL"],
                         cadence=True)

    def start(self) -> None:
        """Start pushing (idempotent; the first change starts it too, unless stopped)."""
        self.loop.start()

    def stop(self) -> None:
        """Stop pushing for good (the server is shutting down)."""
        self.loop.stop()

    def mark(self, session_id: int, activity_id: int) -> None:
        """Note that an activity's aggregates changed; pushed on the next tick, at once if no
        counts went out within the interval (the leading edge: a lone vote is on screen without
        waiting for the end of an interval; a stream of votes is pushed once per interval)."""
        now = time.monotonic()
        self.dirty.add((session_id, activity_id))
        self.changed_at[(session_id, activity_id)] = now
        self.loop.start()
        if now - self.results_pushed_at >= self.app.config["PUSH_INTERVAL"]:
            self.loop.wake()

    def mark_presence(self, session_id: int) -> None:
        """Note that participants joined, connected or left; counts are pushed at most twice a
        second."""
        self.presence.add(session_id)
        self.loop.start()

    def mark_part(self, session_id: int, name: str) -> None:
        """Note that a session part (the pulse) changed; pushed at most every PART_INTERVAL."""
        self.parts.add((session_id, name))
        self.loop.start()

    def _push_parts(self) -> None:
        now = time.monotonic()
        for key, (changed, pushed) in list(self.parts_live.items()):
            if now - changed > part_lifetime(key[1]) + PART_REFRESH:
                del self.parts_live[key]
            elif now - pushed >= PART_REFRESH:
                self.parts.add(key)
        waiting, self.parts = self.parts, set()
        for key in waiting:
            changed, pushed = self.parts_live.get(key, (now, float("-inf")))
            if now - pushed < PART_INTERVAL or not self._slot(f"part:{key[1]}:{key[0]}", PART_INTERVAL):
                self.parts.add(key)  # pushed just now (here or by another process): later
                continue
            self.parts_live[key] = (changed, now)
            guarded("broadcaster", self._push_part, *key)

    def _push_part(self, session_id: int, name: str) -> None:
        with app_store().read() as db:
            views = {role: part(db, name, session_id, role) for role in STAFF_ROLES}
        for role, data in views.items():
            socketio.emit(name, data, to=room(session_id, role))

    def _presence(self) -> None:
        """One `presence` push per changed session to its staff rooms (screen, consoles,
        moderators), whatever the number of phones that came or went; phones are sent nothing."""
        sessions, self.presence = self.presence, set()
        self.last_presence = time.monotonic()
        for session_id in sessions:
            self._publish(session_id)
        for session_id in sessions:
            if self._slot(f"presence:{session_id}", 0.5):
                guarded("broadcaster", self._push_presence, session_id)
            else:
                self.presence.add(session_id)  # another process just pushed it: later

    def _publish(self, session_id: int) -> None:
        """Behind a message queue: this process's connected participants of a session, to
        Redis (other processes count them in; nothing to do without a queue)."""
        shared = getattr(socketio.server.manager, "slots", None)
        if shared is not None:
            shared.publish(session_id, present_ids(session_id))

    def _refresh_presence(self) -> None:
        """Publish this process's presence sets again before they expire from Redis."""
        now = time.monotonic()
        if now - self.last_published < cluster.PRESENCE_REFRESH:
            return
        self.last_published = now
        if getattr(socketio.server.manager, "slots", None) is not None:
            for session_id in present_sessions():
                guarded("broadcaster", self._publish, session_id)

    def _push_presence(self, session_id: int) -> None:
        with app_store().read() as db:
            live_session = db.get(LiveSession, session_id)
            if live_session is None:
                return
            data = presence(db, live_session)
        for role in STAFF_ROLES:
            socketio.emit("presence", data, to=room(session_id, role))

    def idle(self) -> bool:
        """Nothing waits to be pushed (no changed counts, no results owed, no new participants)."""
        return not (self.dirty or self.owed or self.presence or self.parts or self.phone_pushes)

    def _tick(self) -> None:
        try:
            self._push_pending()
        finally:
            self.ticks += 1

    def _push_pending(self) -> None:
        self._refresh_presence()
        if self.parts or self.parts_live:
            with self.app.app_context():
                self._push_parts()
        if self.presence and time.monotonic() - self.last_presence >= 0.5:
            with self.app.app_context():
                self._presence()
        if self.dirty or self.owed:
            now = time.monotonic()
            batch, self.dirty = self.dirty, set()
            # Results owed to phones are read again only once the counts settled.
            due = [key for key, since in self.owed.items() if self._phones_due(key, since, now)]
            for key in due:
                del self.owed[key]
            interval = self.app.config["PUSH_INTERVAL"]
            if batch:
                self.results_pushed_at = now
            with self.app.app_context():
                for session_id, activity_id in batch:
                    left = self._claim(f"results:{activity_id}", interval)
                    if left:
                        # Another process pushed these counts this interval (they are read
                        # afresh at each push): ours go out as soon as its slot ends.
                        self.dirty.add((session_id, activity_id))
                        self.loop.wake_in(left)
                        continue
                    # One activity failing must not keep the others from being pushed.
                    guarded("broadcaster", self._push, session_id, activity_id)
            for key in due:  # thousands of sockets: in their own task, not holding the staff's
                self.last_participant_push[key[1]] = now  # (not due again before it runs)
                self.phone_pushes += 1
                socketio.start_background_task(self._phones_task, *key)

    def _phones_task(self, session_id: int, activity_id: int) -> None:
        try:
            with self.app.app_context():
                guarded("broadcaster", self._push_phones, session_id, activity_id)
        finally:
            self.phone_pushes -= 1

    def _phone_interval(self) -> float:
        return float(self.app.config.get("PHONE_PUSH_INTERVAL", 2.0))

    def phone_quiet(self) -> float:
        """Seconds the counts stay still before the phones are told (0.5 s; less with a short
        PHONE_PUSH_INTERVAL, as in tests)."""
        return min(PHONE_QUIET, self._phone_interval() / 4)

    def _phones_due(self, key: tuple[int, int], since: float, now: float) -> bool:
        """Whether the phones may be told the tally owed since `since`: not within the interval
        of the last tally, and once the counts have been still a moment or they have waited an
        interval (votes that never stop still reach the phones every interval)."""
        interval = self._phone_interval()
        if now - self.last_participant_push.get(key[1], float("-inf")) < interval:
            return False
        if now - self.changed_at.get(key, since) >= self.phone_quiet():
            return True
        writer = self.app.extensions["palabre.writer"]
        if writer.queued() or writer.crowded():  # acks before tallies (see above)
            return now - since >= BUSY_STRETCH * interval
        return now - since >= interval

    def _slot(self, key: str, seconds: float) -> bool:
        """Whether this process may push `key` now: once per `seconds` for the whole room
        (every process, through the message queue's Redis; this process's clock without)."""
        return self._claim(key, seconds) == 0.0

    def _claim(self, key: str, seconds: float) -> float:
        """0.0 if this process may push `key` now (`_slot`); else the seconds until it may."""
        if getattr(socketio.server.manager, "slots", None) is not None:
            return cluster.claim(socketio.server.manager, key, seconds)
        if key.startswith("results:"):
            return 0.0  # one process: the tick itself comes once per interval
        return self.local_slots.claim(key, seconds)

    def _push(self, session_id: int, activity_id: int) -> None:
        """The counts changed: the staff rooms get them now; the phones, if revealed, later
        (owed until the counts settle: `_phones_due`)."""
        with app_store().read() as db:
            data = aggregates(db, activity_id)
        if data is None:
            return
        for role in STAFF_ROLES:
            if role == "screen" and not data["revealed"]:
                socketio.emit("results", _without_results(data), to=room(session_id, role))
            else:
                socketio.emit("results", data, to=room(session_id, role))
        if data["revealed"]:
            self.owed.setdefault((session_id, activity_id), time.monotonic())
        elif (session_id, activity_id) not in self.owed:  # hidden: phones get nothing
            self.changed_at.pop((session_id, activity_id), None)

    def _push_phones(self, session_id: int, activity_id: int) -> None:
        """The tally owed to the phones, read afresh (the counts of now)."""
        now = time.monotonic()
        self.last_participant_push[activity_id] = now  # pushed, or tried: next try an interval on
        if not self._slot(f"phones:{activity_id}", self._phone_interval()):
            self.owed.setdefault((session_id, activity_id), now)  # another process pushed it: later
            return
        with app_store().read() as db:
            data = aggregates(db, activity_id)
        if data is not None and data["revealed"]:
            emit_in_slices("results", data, room(session_id, "participant"))
        self.changed_at.pop((session_id, activity_id), None)  # told: a later change marks it again


def _without_results(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "results"}


def broadcaster() -> Broadcaster:
    """The application's broadcaster."""
    return current_app.extensions["palabre.broadcaster"]


def mark_presence(session_id: int) -> None:
    """Schedule a coalesced push of the session's participant count."""
    broadcaster().mark_presence(session_id)


def mark_part(session_id: int, name: str) -> None:
    """Schedule a coalesced push of a session part (the pulse) to the staff rooms."""
    broadcaster().mark_part(session_id, name)


def mark_dirty(session_id: int, activity_id: int) -> None:
    """Schedule a coalesced push of an activity's aggregates."""
    broadcaster().mark(session_id, activity_id)


# --- after a message-queue outage -----------------------------------------------------------

RESYNC_BATCH = 50  # sockets sent their snapshot between two yields to the event loop


def resync_local(app) -> None:
    """Send every socket of this process its fresh snapshot (as on connect).

    Called when the message queue's Redis comes back: what other processes published meanwhile
    never reached this process's sockets. One snapshot per session and role, plus each
    participant's own part (`mine`); emitted to this process's sockets only.
    """
    by_session: dict[int, list] = {}
    for conn in local_connections():
        by_session.setdefault(conn.session_id, []).append(conn)
    sent = 0
    with app.app_context():
        for session_id, conns in by_session.items():
            with app_store().read() as db:
                session = db.get(LiveSession, session_id)
                if session is None:
                    continue
                views = {role: snapshot(db, session, role) for role in {c.role for c in conns}}
                for conn in conns:
                    view = views[conn.role]
                    if conn.participant_id is not None:
                        view = _with_mine(db, view, conn.participant_id)
                    socketio.emit("snapshot", view, to=conn.sid, ignore_queue=True)
                    sent += 1
                    if sent % RESYNC_BATCH == 0:
                        socketio.sleep(0)


def _with_mine(db, view: dict, participant_id: int) -> dict:
    current = view.get("current")
    activity = db.get(Activity, current["id"]) if current else None
    if activity is None:
        return view
    mine = activities.hooks_for(activity.kind).mine(db, activity, participant_id)
    return {**view, "current": {**current, "mine": mine}}
