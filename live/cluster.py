"""Several server processes sharing the room: Redis as the message queue, and push slots.

With `LIVE_MESSAGE_QUEUE=redis://...` every emit goes through Redis to every process
(Flask-SocketIO's message queue, python-socketio's `RedisManager`). This module adds what a
room of several processes needs on top of it:

- the start stops with a clear message when the `redis` package is missing or Redis does not
  answer (`queue_manager`), instead of logging "giving up" on every emit;
- the listener reconnects within a second of Redis coming back (the library's back-off grows
  to 60 s), and then calls `on_reconnect`: what was published meanwhile was lost for this
  process's sockets, so they are sent fresh snapshots (`live.sessions.push.resync_local`);
- push slots (`claim`): the coalescing broadcaster of each process asks for the slot of an
  aggregate before pushing it (`SET key NX PX interval` in Redis), so each aggregate is pushed
  once per interval for the whole room, not once per process; a process refused it learns when
  the slot ends (its PTTL) and comes back then. Without a queue every slot is granted; with
  Redis gone each process keeps the pace on its own (it pushes to its own sockets at least);
- presence (`Slots.publish`, `Slots.connected`): each process keeps, per session, the set of
  participant ids with a socket open on it in Redis (`palabre:presence:SESSION:PROCESS`, expiring
  after PRESENCE_TTL unless refreshed, so a dead process's entries go), published by the
  broadcaster when they change (batched with its ticks, never per socket event) and refreshed
  every PRESENCE_REFRESH; the `connected` count is the union over processes (a participant with
  tabs on two processes counts once).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

import socketio

from live.errors import StartRefused
from live.rooms import RoomIndex

log = logging.getLogger(__name__)
CHANNEL = "palabre"
# The listener's wait between two reconnection attempts: from RETRY_FIRST, doubled, at most
# RETRY_MAX (python-socketio's own goes from 1 s to 60 s).
RETRY_FIRST = 0.1
RETRY_MAX = 1.0
CONNECT_TIMEOUT = 2.0
# A failing publish is logged once, then at most every QUIET seconds.
QUIET = 10.0
# A process's connected participants (per session) expire from Redis after PRESENCE_TTL seconds
# unless it publishes them again: it does so every PRESENCE_REFRESH seconds.
PRESENCE_TTL = 30.0
PRESENCE_REFRESH = 10.0


def _redis_options() -> dict:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retry inside redis-py: a lost connection reaches our listener loop at once (it
    # reconnects, resubscribes and resyncs); a connect that hangs gives up after 2 s.
    return {"socket_connect_timeout": CONNECT_TIMEOUT, "socket_keepalive": True,
            "retry": Retry(NoBackoff(), 0)}


class RedisQueue(RoomIndex, socketio.RedisManager):
    """python-socketio's Redis manager with a bounded back-off and a reconnection hook (and
    each socket's rooms indexed: live/rooms.py)."""

    def __init__(self, url: str, on_reconnect: Callable[[], None] | None = None):
        super().__init__(url, channel=CHANNEL, redis_options=_redis_options())
        self.on_reconnect = on_reconnect
        self.reconnections = 0  # /healthz shows it; tests wait on it
        self.listening = False
        self._last_complaint = 0.0
        self._failed_at = float("-inf")

    def after_fork(self) -> None:
        """In a process forked from the one that built it (live/launcher.py): a host of its own
        (each process skips the messages its own host id published: a shared one would skip the
        others'), its own Redis connections and push slots' identity."""
        self.host_id = uuid.uuid4().hex
        self.connected = False  # connected again at the first publish or by the listener
        slots = getattr(self, "slots", None)
        if slots is not None:
            slots.after_fork()

    # Set by the app (`live.realtime.Deliveries`): sends the other processes' pushes to this
    # process's sockets, a large room's in paced slices from a task of its own (the listener
    # goes on with the next messages), each socket's pushes in the order they were published.
    deliveries = None

    def _handle_emit(self, message):
        deliveries = self.deliveries
        if deliveries is None or message.get("host_id") == self.host_id:
            super()._handle_emit(message)  # this process's own emit: sent at once, as made
            return
        room, data = message.get("room"), message.get("data")
        room = room if isinstance(room, str) else None  # None: any socket (a list of rooms too)
        alone = (message.get("callback") is None and not message.get("binary")
                 and message.get("skip_sid") is None and (message.get("namespace") or "/") == "/"
                 and room is not None and isinstance(data, list) and len(data) == 1)
        deliveries.take(room, (message["event"], data[0], bool(message.get("paced"))) if alone else None,
                        lambda: super(RedisQueue, self)._handle_emit(message))

    @staticmethod
    def can_publish_alone(data) -> bool:
        """Whether `publish_emit` can carry `data` (no binary attachment)."""
        from socketio.packet import Packet

        return not Packet.data_is_binary([data])

    def publish_emit(self, event: str, data, room: str) -> None:
        """Publish an emit to a room for the other processes only (this one sends it itself),
        as python-socketio's `emit` publishes it (no callback, no attachment), marked as paced:
        each process spreads it over its sockets as this one does (`realtime.Deliveries`)."""
        self._publish({"method": "emit", "event": event, "data": [data], "binary": False,
                       "namespace": "/", "room": room, "skip_sid": None, "callback": None,
                       "host_id": self.host_id, "paced": True})

    def _complain(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_complaint >= QUIET:
            self._last_complaint = now
            log.error("message queue: %s (%s: %s)", what, exc.__class__.__name__, exc)

    def _publish(self, data):
        if time.monotonic() - self._failed_at < RETRY_MAX:
            return None  # failed just now: no connection attempt per emit (a partition would
            # hold each emit for the connect timeout); this process's sockets got it already
        for attempt in (1, 2):
            try:
                if not self.connected:
                    self._redis_connect()
                return self.redis.publish(self.channel, self.json.dumps(data))
            except Exception as exc:  # noqa: BLE001 - Redis gone: this process's sockets still get it
                self.connected = False
                if attempt == 2:
                    self._failed_at = time.monotonic()
                    self._complain("cannot publish to Redis; other processes miss this push", exc)
        return None

    def _redis_listen_with_retries(self):
        delay = RETRY_FIRST
        first = True
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                self.listening = True
                delay = RETRY_FIRST
                if not first:
                    self.reconnections += 1
                    log.warning("message queue: Redis is back; resynchronising this process's sockets")
                    if self.on_reconnect is not None:
                        self.server.start_background_task(self.on_reconnect)
                first = False
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001 - any loss of Redis: retry, bounded
                self.listening = False
                self._complain(f"lost Redis; retrying every {RETRY_MAX:g} s at most", exc)
                time.sleep(delay)  # cooperative: the process is monkey patched
                delay = min(delay * 2, RETRY_MAX)


def queue_manager(url: str, on_reconnect: Callable[[], None] | None = None) -> RedisQueue:
    """The client manager of LIVE_MESSAGE_QUEUE; StartRefused if it cannot work."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise StartRefused(f"LIVE_MESSAGE_QUEUE={url!r}: only Redis is supported "
                           "(redis://host:port/db, rediss://... or unix://...).")
    try:
        import redis
    except ImportError as exc:
        raise StartRefused("LIVE_MESSAGE_QUEUE names Redis but the 'redis' package is not "
                           "installed (pip install -r requirements.txt).") from exc
    try:
        redis.Redis.from_url(url, **_redis_options()).ping()
    except Exception as exc:  # noqa: BLE001 - every reason is shown to the operator
        raise StartRefused(f"cannot reach Redis at {_safe(url)} (LIVE_MESSAGE_QUEUE): "
                           f"{exc.__class__.__name__}: {exc}") from exc
    manager = RedisQueue(url, on_reconnect)
    manager.slots = Slots(url)
    return manager


def _safe(url: str) -> str:
    """The URL without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


class LocalSlots:
    """Push slots of one process: `claim(key, seconds)` grants one at most once per `seconds`."""

    def __init__(self):
        self.last: dict[str, float] = {}

    def claim(self, key: str, seconds: float) -> float:
        """0.0 if the slot of `key` is this caller's now (for `seconds`); else the seconds
        until it is free again."""
        now = time.monotonic()
        left = self.last.get(key, float("-inf")) + seconds - now
        if left <= 0:
            self.last[key] = now
            return 0.0
        return left


class Slots:
    """Push slots shared by every process through Redis: `claim(key, seconds)` grants one to
    one process per `seconds` (SET NX PX). With Redis gone, each process keeps to the pace on its
    own (LocalSlots): its sockets still get every push, other processes' sockets none."""

    def __init__(self, url: str):
        import redis

        self.url = url
        self.client = redis.Redis.from_url(url, **_redis_options())
        self.local = LocalSlots()
        self.failed_at = float("-inf")
        self.process = uuid.uuid4().hex  # this process's entries in the presence sets

    def after_fork(self) -> None:
        """In a process forked from the one that built it (live/launcher.py): its own identity
        in the presence sets and its own connections."""
        import redis

        self.process = uuid.uuid4().hex
        self.client = redis.Redis.from_url(self.url, **_redis_options())
        self.local = LocalSlots()

    def _redis(self, work: Callable):
        """`work(client)`, retried once on a new connection; None with Redis gone (and for
        RETRY_MAX seconds after a failure: no waiting on a dead Redis per call)."""
        if time.monotonic() - self.failed_at < RETRY_MAX:
            return None
        for _attempt in (1, 2):
            try:
                return work(self.client)
            except Exception:  # noqa: BLE001, S112 - the queue is down: the caller's fallback
                continue
        self.failed_at = time.monotonic()
        return None

    def publish(self, session_id: int, participant_ids: set[int]) -> None:
        """Store the participants with a socket open on this process in a session (replacing
        what this process stored before; nothing when none), expiring after PRESENCE_TTL."""
        index, mine = f"palabre:presence:{session_id}", f"palabre:presence:{session_id}:{self.process}"

        def write(client):
            pipe = client.pipeline(transaction=True)
            pipe.delete(mine)
            if participant_ids:
                pipe.sadd(mine, *participant_ids)
                pipe.pexpire(mine, int(PRESENCE_TTL * 1000))
                pipe.sadd(index, self.process)
            pipe.pexpire(index, int(PRESENCE_TTL * 1000) * 4)
            return pipe.execute()

        self._redis(write)

    def connected(self, session_id: int, local_ids: set[int]) -> int:
        """Distinct participants with a socket open in a session on any process (this
        process's from `local_ids`, the others' from Redis; this process's only, Redis gone)."""
        index = f"palabre:presence:{session_id}"

        def read(client):
            others = [p.decode() if isinstance(p, bytes) else p for p in client.smembers(index)]
            keys = [f"{index}:{p}" for p in others if p != self.process]
            if not keys:
                return set()
            pipe = client.pipeline(transaction=False)
            pipe.sunion(keys)
            for key in keys:
                pipe.exists(key)
            found, *exist = pipe.execute()
            gone = [key.rsplit(":", 1)[1] for key, n in zip(keys, exist, strict=True) if not n]
            if gone:
                client.srem(index, *gone)  # expired: a process that stopped or has no one left
            return {int(i) for i in found}

        shared = self._redis(read)
        return len(local_ids | (shared or set()))

    def claim(self, key: str, seconds: float) -> float:
        """0.0 if this process has the slot of `key` now, for `seconds`, for the whole room;
        else the seconds until the process that has it lets it go (its PTTL, read in the same
        round trip). A process refused the slot of the screen's counts comes back then, not a
        whole interval later: with two processes, each retrying at its own next tick, the
        screen got 7.5 pushes a second instead of 10 (bench load --processes 2, steady)."""
        if time.monotonic() - self.failed_at >= RETRY_MAX:  # not waiting on a dead Redis per push
            name = f"palabre:slot:{key}"
            for _attempt in (1, 2):  # the second on a new connection (Redis restarted since)
                try:
                    pipe = self.client.pipeline(transaction=False)
                    pipe.set(name, 1, nx=True, px=max(1, int(seconds * 1000)))
                    pipe.pttl(name)
                    granted, left_ms = pipe.execute()
                except Exception:  # noqa: BLE001, S112 - the queue is down: the local pace below
                    continue
                if granted:
                    return 0.0
                # -2: it expired between the two commands (free now: come back at once)
                return max(1, left_ms) / 1000
            self.failed_at = time.monotonic()
        return self.local.claim(key, seconds)


def claim(manager, key: str, seconds: float) -> float:
    """0.0 if this process may push `key` now (always, without a message queue); else the
    seconds until it may (`Slots.claim`)."""
    slots = getattr(manager, "slots", None)
    return 0.0 if slots is None else slots.claim(key, seconds)


def queue_state(manager) -> dict | None:
    """For /healthz: whether the listener is subscribed, and how many times it came back."""
    if not isinstance(manager, RedisQueue):
        return None
    return {"listening": manager.listening, "reconnections": manager.reconnections}
