"""Join admission: when hundreds of phones open the join link in the same seconds (the QR code
just appeared), the costly part of joining (the participant's write, the page with its snapshot,
the socket and its snapshot) is let through at `ADMIT_PER_SECOND`; the others wait in line.

A new device (no participant in the session yet) asks the gate at `GET /j/<code>`. With a token
free and nobody waiting before it, it goes in at once; otherwise it gets a *ticket*, kept in its
signed session cookie, and a small waiting page (`sessions/waiting.html`) that shows its place
and tries again by itself (a `<meta http-equiv="refresh">` without JavaScript, a light poll of
`/j/<code>/wait` with it). Nobody is refused: the line only sets the pace.

- **Order.** Tickets are ordered by the moment they were issued (in the cookie, signed): a
  ticket is let in when fewer tickets wait before it than there are tokens, so a later phone
  never takes the token of an earlier one (a phone polling a little later than the one behind
  it still has its token kept). A ticket this process does not know (a restart, a ticket from
  another process) takes back its place from its issue time (within `TICKET_AGE`).
- **Leaving.** A ticket not asked about within twice its page's delay plus `GRACE` seconds (its
  phone left the line, slept or closed the page) is dropped: it no longer holds anyone up. If
  it comes back (within `TICKET_AGE`), it takes back its place. Meanwhile it holds one token
  at most: the tokens of the seconds between two asks of the front are kept (`LINE_SECONDS`).
- **Per address.** New participants of one client address are paced at `JOIN_RATE_PER_MINUTE`
  (the whole minute's worth at once, then the refill): past it, a ticket waits for its
  address's turn (`not_before`) without holding up the tickets of other addresses; a venue
  behind one NAT address queues instead of being refused. One address cannot park more than
  `PARK_MINUTES` minutes of its rate, nor the whole line more than `QUEUE_MAX` tickets: past
  that, the waiting page has no place and tries again later (still no error).
- **Reconnections and reloads** of a device that has joined never meet the gate, nor do the
  sockets of a page already admitted (the participant exists: `live/sessions/events.py`).
- **Processes.** The gate and its line live in this process's memory: behind several server
  processes each lets in `ADMIT_PER_SECOND` (the capacity grows with the processes, as it
  should), and a phone whose requests reach another process keeps its place (the ticket's issue
  time). The console's figures are this process's. See docs/configuration.md.

The facilitator's console shows the line live: the session part `admission` (`views.register_part`),
pushed coalesced on every change and refreshed for a minute after (the "admitted in the last
minute" count goes down by itself).
"""

from __future__ import annotations

import bisect
import heapq
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from flask import current_app, g, session

from live.sessions import views

GRACE = 6.0  # seconds past twice its retry delay after which a silent ticket holds nobody up
QUEUE_MAX = 20000  # tickets in line at once (then: a waiting page without a place)
PARK_MINUTES = 10  # minutes of one address's join rate that may wait in line at once
TICKET_AGE = 900  # seconds: an older ticket (a phone back the next hour) queues again at the back
PASS_SECONDS = 120  # an admission given to the script's poll is used within this (the page load)
SWEEP_EVERY = 1.0  # seconds between two sweeps of the dropped tickets
RECENT = 60.0  # "admitted in the last minute"
# Seconds before the waiting page asks again: half the expected wait, so that a phone far back
# asks a few times only (each time costs about a sixth of a join), one near the front every 2 s.
RETRY_MIN, RETRY_MAX = 2, 20
LINE_SECONDS = 3.0  # while phones wait, tokens kept for them: more than the front's delay (2 s ± 30 %)


@dataclass
class Ticket:
    """One phone in line."""

    key: tuple[float, str]  # (issued, wall clock; a random tie-break): the order of the line
    session_id: int
    not_before: float  # wall clock: its address's turn (0: now)
    until: float  # monotonic: dropped if not asked about again by then


@dataclass
class Outcome:
    """What the gate answers a phone: in, or its place and the expected wait."""

    admitted: bool
    place: int | None = None  # None: no place (the line is full), try again later
    eta: float = 0.0
    ticket: list | None = None  # what the cookie keeps
    changed: bool = False  # the line changed (the console's figures)

    @property
    def retry(self) -> int:
        """Seconds before the waiting page asks again."""
        if self.place is None:
            return RETRY_MAX
        return int(min(RETRY_MAX, max(RETRY_MIN, math.ceil(self.eta / 2))))


class Gate:
    """A token bucket (`rate` admissions a second, a second's worth at once, `LINE_SECONDS`' worth
    kept while phones wait) in front of a line of tickets; pure (clocks passed in) so that it
    can be tested on its own."""

    def __init__(self, rate: float, per_minute: int = 0):
        self.rate, self.per_minute = float(rate), int(per_minute)
        self.tokens, self.refilled = max(1.0, self.rate), None
        self.tickets: dict[tuple[float, str], Ticket] = {}
        self.eligible: list[tuple[float, str]] = []  # sorted keys of the tickets whose turn may come
        self.parked: list[tuple[float, tuple[float, str]]] = []  # heap: (not_before, key)
        self.addresses: dict[str, list[float]] = {}  # address -> [tokens, last refill (wall)]
        self.admitted: deque[tuple[float, int]] = deque()  # (monotonic, session id)
        self.swept = 0.0
        self.issued = 0
        self.lock = threading.Lock()

    # --- the line --------------------------------------------------------------------------

    def arrive(self, session_id: int, address: str, now: float, wall: float) -> Outcome:
        """A new device asks to join."""
        with self.lock:
            self._tick(now, wall)
            if len(self.tickets) >= QUEUE_MAX:
                return Outcome(False)
            not_before = self._address_turn(address, wall)
            if not_before is None:
                return Outcome(False)
            self.issued += 1  # ties (the same clock reading) in the order of arrival
            ticket = Ticket((wall, f"{self.issued:09d}{secrets.token_hex(3)}"), session_id, not_before,
                            now + GRACE)
            self._insert(ticket, wall)
            outcome = self._ask(ticket, now, wall)
            outcome.changed = True
            return outcome

    def poll(self, saved: list, now: float, wall: float) -> Outcome:
        """A phone in line asks again with its ticket (`Outcome.ticket` as kept in its cookie)."""
        with self.lock:
            self._tick(now, wall)
            key = (float(saved[1]), str(saved[2]))
            ticket = self.tickets.get(key)
            changed = ticket is None
            if ticket is None:  # dropped meanwhile, or issued by another process: its place again
                if len(self.tickets) >= QUEUE_MAX:
                    return Outcome(False, ticket=saved)
                ticket = Ticket(key, int(saved[0]), float(saved[3]), now + GRACE)
                self._insert(ticket, wall)
            outcome = self._ask(ticket, now, wall)
            outcome.changed = outcome.changed or changed
            return outcome

    def _ask(self, ticket: Ticket, now: float, wall: float) -> Outcome:
        saved = [ticket.session_id, ticket.key[0], ticket.key[1], ticket.not_before]
        if ticket.not_before > wall:  # its address's turn has not come: it holds nobody up
            ahead = len(self.eligible)
            eta = max(ticket.not_before - wall, (ahead + 1 - self.tokens) / self.rate)
            outcome = Outcome(False, ahead + 1, eta, saved)
        else:
            ahead = bisect.bisect_left(self.eligible, ticket.key)
            if ahead < math.floor(self.tokens):  # the tokens of those before it stay theirs
                self.tokens -= 1
                self._remove(ticket)
                self.admitted.append((now, ticket.session_id))
                return Outcome(True, changed=True)
            outcome = Outcome(False, ahead + 1, max(0.0, (ahead + 1 - self.tokens) / self.rate), saved)
        ticket.until = now + 2 * outcome.retry + GRACE
        return outcome

    def _insert(self, ticket: Ticket, wall: float) -> None:
        self.tickets[ticket.key] = ticket
        if ticket.not_before > wall:
            heapq.heappush(self.parked, (ticket.not_before, ticket.key))
        else:
            bisect.insort(self.eligible, ticket.key)

    def _remove(self, ticket: Ticket) -> None:
        self.tickets.pop(ticket.key, None)
        index = bisect.bisect_left(self.eligible, ticket.key)
        if index < len(self.eligible) and self.eligible[index] == ticket.key:
            del self.eligible[index]

    def _tick(self, now: float, wall: float) -> None:
        """Refill the tokens, let in the parked tickets whose turn came, drop the stale ones."""
        if self.refilled is not None:
            # A second's worth at once; while phones wait, the tokens of the seconds between two
            # asks of the phones at the front are kept for them (else the line would move at
            # the rate of their asks, not at `rate`).
            cap = max(1.0, self.rate * (LINE_SECONDS if self.eligible else 1.0))
            self.tokens = min(cap, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        while self.parked and self.parked[0][0] <= wall:
            _at, key = heapq.heappop(self.parked)
            if key in self.tickets:
                bisect.insort(self.eligible, key)
        if now - self.swept >= SWEEP_EVERY:
            self.swept = now
            self.tickets = {k: t for k, t in self.tickets.items() if t.until >= now}
            self.eligible = [k for k in self.eligible if k in self.tickets]
            while self.admitted and self.admitted[0][0] < now - RECENT:
                self.admitted.popleft()

    def _address_turn(self, address: str, wall: float) -> float | None:
        """When a new participant of `address` may be let in (0: now; None: too many waiting)."""
        if self.per_minute <= 0:
            return 0.0
        refill = self.per_minute / 60.0
        entry = self.addresses.get(address)
        if entry is None:
            if len(self.addresses) >= QUEUE_MAX:
                self.addresses = {a: e for a, e in self.addresses.items()
                                  if e[0] + (wall - e[1]) * refill < self.per_minute}
            entry = self.addresses[address] = [float(self.per_minute), wall]
        tokens = min(float(self.per_minute), entry[0] + (wall - entry[1]) * refill)
        if tokens - 1 < -self.per_minute * PARK_MINUTES:
            return None
        entry[0], entry[1] = tokens - 1, wall
        return 0.0 if tokens >= 1 else wall + (1 - tokens) / refill

    # --- what the console shows -------------------------------------------------------------

    def figures(self, session_id: int, now: float) -> dict:
        """Waiting now and admitted in the last minute, for one session (this process)."""
        with self.lock:
            waiting = sum(1 for t in self.tickets.values() if t.session_id == session_id and t.until >= now)
            recent = sum(1 for at, s in self.admitted if s == session_id and at >= now - RECENT)
        return {"waiting": waiting, "admitted": recent}


# --- the gate of this app, and the phone's cookie --------------------------------------------

def gate() -> Gate | None:
    """This app's gate; None when `ADMIT_PER_SECOND` is 0 (no line: everyone in at once)."""
    app = current_app._get_current_object()
    rate = float(app.config.get("ADMIT_PER_SECOND", 0) or 0)
    if rate <= 0:
        return None
    per_minute = int(app.config.get("JOIN_RATE_PER_MINUTE", 0) or 0)
    found = app.extensions.get("palabre.admission")
    if found is None or found.rate != rate or found.per_minute != per_minute:
        found = app.extensions["palabre.admission"] = Gate(rate, per_minute)
    return found


def admit(session_id: int, address: str) -> Outcome:
    """Let this new device in, or keep (or give) it its place in line, in its cookie."""
    the_gate = gate()
    if the_gate is None:
        return Outcome(True)
    now, wall = time.monotonic(), time.time()
    saved = session.get("adm")
    if _valid(saved) and saved[0] == session_id and wall - saved[1] < TICKET_AGE:
        outcome = the_gate.poll(saved, now, wall)
    else:
        outcome = the_gate.arrive(session_id, address, now, wall)
    if outcome.admitted:
        if "adm" in session:
            session.pop("adm")
    elif outcome.ticket is not None:  # with the page's language (its next asks need no query)
        language = g.get("session_language")
        session["adm"] = [*outcome.ticket, language[0] if language else None]
    return outcome


def ticket_session() -> tuple[int, str | None] | None:
    """The session whose line this device waits in (its cookie's ticket) and its language, if any."""
    saved = session.get("adm")
    return (saved[0], saved[4]) if _valid(saved) else None


def _valid(saved) -> bool:
    return (isinstance(saved, list) and len(saved) == 5 and isinstance(saved[0], int)
            and all(isinstance(v, (int, float)) for v in (saved[1], saved[3])) and isinstance(saved[2], str))


def give_pass(session_id: int) -> None:
    """The script's poll was let in: the page it opens next joins without asking again."""
    session["adm_pass"] = [session_id, time.time() + PASS_SECONDS]


def take_pass(session_id: int) -> bool:
    """Whether this device holds an unused admission to this session (then used up)."""
    held = session.get("adm_pass")
    if not (isinstance(held, list) and len(held) == 2 and held[0] == session_id):
        return False
    session.pop("adm_pass")
    return isinstance(held[1], (int, float)) and held[1] >= time.time()


def has_pass(session_id: int) -> bool:
    """Whether this device holds an unused admission to this session (not used up)."""
    held = session.get("adm_pass")
    return (isinstance(held, list) and len(held) == 2 and held[0] == session_id
            and isinstance(held[1], (int, float)) and held[1] >= time.time())


def _view(_db, session_id: int, role: str, _participant_id: int | None) -> dict:
    """The line in a snapshot and in the `admission` push: for the facilitator only."""
    if role != "facilitator":
        return {}
    the_gate = current_app.extensions.get("palabre.admission")
    if the_gate is None:
        return {"waiting": 0, "admitted": 0}
    return the_gate.figures(session_id, time.monotonic())


views.register_part("admission", _view, lifetime=RECENT)
