"""The connect gate: sockets are set up a few at a time, in the order they arrive.

A hall reconnecting after a restart opens thousands of sockets within a second or two. Left to
itself the event loop accepts them all and interleaves their set-ups: every socket gets its
Engine.IO handshake (`OPEN`) after about as long as all the handshakes take together, then
waits as long again for the answer to its Socket.IO `CONNECT` (identified, its snapshot read).
Every phone is back at about the same moment, the last one's; a client that gives up on a
step taking that long (Socket.IO's JavaScript client closes a transport not open within 20 s,
python-socketio's reconnection waits 1 s for the `CONNECT` answer) drops the socket the server
has just paid for and tries again seconds later, with all the others: the storm feeds itself
(5,000 phones on 2 cores: 62,000 abandoned attempts, 114 s of CPU, 6 phones back after 120 s).

The gate lets at most `slots` sockets be between their handshake request and the answer to
their `CONNECT`; the others wait, in arrival order, before their handshake (a green thread
asleep, their request already read). Each socket's own set-up then takes a few milliseconds
of the loop, and the phones come back one after the other, the first ones at once. A slot is
given back when the socket's `CONNECT` is answered (accepted or refused), when its request
ends, or after `lease` seconds (a client that never sends its `CONNECT` keeps no slot).
Other requests (pages, long-polling requests of an open session) never wait here.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from functools import partial

ENVIRON_KEY = "palabre.connect_slot"


class ConnectGate:
    """At most `slots` socket set-ups at once, at most `per_address` of them from one client
    address; the others wait in arrival order (FIFO), a set-up whose address holds its share
    letting the next ones of other addresses pass it."""

    def __init__(self, slots: int, lease: float, per_address: int | None = None, clock=time.monotonic):
        self.slots = max(1, int(slots))
        self.per_address = min(self.slots, max(1, int(per_address or self.slots)))
        self.lease = float(lease)
        self._clock = clock
        self._lock = threading.Lock()  # green under eventlet/gevent (patched)
        # token -> (since, address), oldest first; slots held per address
        self._holders: OrderedDict[int, tuple[float, str]] = OrderedDict()
        self._held: dict[str, int] = {}
        self._waiting: deque[tuple[int, str, threading.Event]] = deque()
        # Set-ups put aside while their address held its share, per address: each is older
        # than every one still in `_waiting` (they were at its head), so they go first.
        self._parked: dict[str, deque[tuple[int, str, threading.Event]]] = {}
        self._next = 0
        self.entered = 0  # set-ups let through
        self.waited = 0  # ... of which waited for a slot
        self.most_waiting = 0  # the longest line seen
        # Slots given back (`leave` or a lease run out), seconds held in all and at most; seconds
        # spent in the line before a slot, in all and at most (set-ups that waited).
        self.released = 0
        self.held_s = self.held_max_s = 0.0
        self.line_s = self.line_max_s = 0.0

    def enter(self, address: str = "") -> int:
        """Wait for a slot; a token for `leave`."""
        ready = threading.Event()
        with self._lock:
            self._next += 1
            token = self._next
            self.entered += 1
            self._waiting.append((token, address, ready))
            self._expire()  # hands the free slots over, in order
            if ready.is_set():
                return token
            self.waited += 1
            self.most_waiting = max(self.most_waiting, self.waiting())
        arrived = self._clock()
        # Each waiter looks at the leases from time to time (a holder there then has run out by
        # the first look): waiting until the oldest holder's lease ends woke the whole line at
        # once, every time (thousands of wake-ups within 10 ms: ~8 % of the CPU of a reconnect
        # storm of 2,500 per process). The first `slots` of the line look once per lease; one
        # further back, once per lease for each `slots` ahead of it: the line's looks are a few
        # hundred a second, not one per waiter (5,000 a second, ~8 % of a storm's CPU again).
        while not ready.wait(self._look_after(token)):
            with self._lock:
                self._expire()
        waited = self._clock() - arrived
        self.line_s += waited
        self.line_max_s = max(self.line_max_s, waited)
        return token

    def _look_after(self, token: int) -> float:
        """Seconds until a waiter looks at the leases: a lease, times its place in the line
        counted in `slots` (its place: the set-ups that arrived since the oldest still waiting,
        in the line or put aside for their address)."""
        oldest = min((line[0][0] for line in self._parked.values()), default=token)
        if self._waiting:
            oldest = min(oldest, self._waiting[0][0])
        return self.lease * (1 + max(0, token - oldest) // self.slots)

    def leave(self, token: int | None) -> None:
        """Give a slot back (idempotent: a token already given back changes nothing)."""
        if token is None:
            return
        with self._lock:
            held = self._holders.pop(token, None)
            if held is not None:
                self._release(held)
                self._hand_over()

    def waiting(self) -> int:
        """Set-ups waiting for a slot now."""
        return len(self._waiting) + sum(len(line) for line in self._parked.values())

    def figures(self) -> dict:
        """The line and the slots' use since the start (`/healthz`)."""
        return {"connect_waiting": self.waiting(), "connect_most_waiting": self.most_waiting,
                "connect_waited": self.waited, "connect_entered": self.entered,
                "connect_line_mean_ms": round(self.line_s * 1000 / max(1, self.waited), 1),
                "connect_line_max_ms": round(self.line_max_s * 1000, 1),
                "connect_hold_mean_ms": round(self.held_s * 1000 / max(1, self.released), 1),
                "connect_hold_max_ms": round(self.held_max_s * 1000, 1)}

    def _release(self, holder: tuple[float, str]) -> None:
        since, address = holder
        held = self._clock() - since
        self.released += 1
        self.held_s += held
        self.held_max_s = max(self.held_max_s, held)
        left = self._held[address] - 1
        if left:
            self._held[address] = left
        else:
            del self._held[address]

    def _expire(self) -> None:
        """Holders past their lease lose their slot (their socket is not closed for it)."""
        now = self._clock()
        while self._holders and next(iter(self._holders.values()))[0] + self.lease <= now:
            self._release(self._holders.popitem(last=False)[1])
        self._hand_over()

    def _hand_over(self) -> None:
        while len(self._holders) < self.slots:
            waiter = self._next_parked() or self._next_waiting()
            if waiter is None:
                return
            token, address, ready = waiter
            self._holders[token] = (self._clock(), address)
            self._held[address] = self._held.get(address, 0) + 1
            ready.set()

    def _next_parked(self) -> tuple[int, str, threading.Event] | None:
        """The oldest set-up put aside whose address has a slot free again."""
        free = [line for address, line in self._parked.items()
                if self._held.get(address, 0) < self.per_address]
        if not free:
            return None
        line = min(free, key=lambda waiters: waiters[0][0])
        waiter = line.popleft()
        if not line:
            del self._parked[waiter[1]]
        return waiter

    def _next_waiting(self) -> tuple[int, str, threading.Event] | None:
        """The next set-up in arrival order whose address has a slot free; those whose address
        holds its share are put aside on the way."""
        while self._waiting:
            waiter = self._waiting.popleft()
            address = waiter[1]
            if self._held.get(address, 0) < self.per_address and address not in self._parked:
                return waiter
            self._parked.setdefault(address, deque()).append(waiter)
        return None


def is_socket_opening(environ: dict, path: str = "/socket.io/") -> bool:
    """An Engine.IO handshake: a request to the socket path without a session id yet."""
    return environ.get("PATH_INFO", "").rstrip("/") == path.rstrip("/") \
        and "sid=" not in environ.get("QUERY_STRING", "")


def middleware(wsgi_app, gate: ConnectGate):
    """`wsgi_app` behind the gate: a socket's handshake request waits for a slot first."""

    def gated(environ, start_response):
        if not is_socket_opening(environ):
            return wsgi_app(environ, start_response)
        token = gate.enter(environ.get("REMOTE_ADDR") or "")
        environ[ENVIRON_KEY] = partial(gate.leave, token)
        try:
            return wsgi_app(environ, start_response)
        finally:
            gate.leave(token)  # a WebSocket's request ends with it; long-polling's at once

    return gated


def connected(environ: dict | None) -> None:
    """The socket of this request got its `CONNECT` answered: its slot goes to the next one."""
    leave = environ.pop(ENVIRON_KEY, None) if environ else None
    if leave is not None:
        leave()

