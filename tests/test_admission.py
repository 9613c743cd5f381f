"""Join admission (live/sessions/admission.py): joins beyond the gate's rate wait in line on a
small page and get in by themselves, in order, none refused; the per-address limit queues
instead of refusing; the facilitator sees the line."""

from __future__ import annotations

import re
import threading
import time
from http.cookies import SimpleCookie

import pytest
from conftest import choose_language
from support import Listener, connect, server_room

from live.sessions.admission import GRACE, LINE_SECONDS, RETRY_MIN, Gate
from tests.realserver import http_get

WAITING = re.compile(r"You are number (\d+) in line")


# --- the gate on its own (clocks given) -------------------------------------------------------

def test_the_gate_lets_in_its_rate_and_keeps_the_order_of_arrival():
    gate = Gate(rate=4)
    now = 1000.0
    first = [gate.arrive(1, f"10.0.0.{n}", now, now) for n in range(10)]
    assert [o.admitted for o in first] == [True] * 4 + [False] * 6
    assert [o.place for o in first[4:]] == [1, 2, 3, 4, 5, 6]
    tickets = [o.ticket for o in first[4:]]
    # Half a second later: two tokens. The last in line asks first: not its turn.
    later = now + 0.5
    assert not gate.poll(tickets[5], later, later).admitted
    assert gate.poll(tickets[1], later, later).admitted  # place 2 < 2 tokens: its token is kept
    assert gate.poll(tickets[0], later, later).admitted
    assert not gate.poll(tickets[2], later, later).admitted  # no token left for it
    assert gate.poll(tickets[5], later, later).place == 4
    assert gate.figures(1, later) == {"waiting": 4, "admitted": 6}


def test_a_phone_that_leaves_the_line_holds_nobody_up_and_gets_its_place_back_if_it_returns():
    gate = Gate(rate=1)
    assert gate.arrive(1, "a", 0.0, 0.0).admitted
    gone = gate.arrive(1, "b", 0.0, 0.0).ticket  # first in line, then silent
    stays = gate.arrive(1, "c", 0.0, 0.0).ticket
    assert not gate.poll(stays, 1.2, 1.2).admitted  # the one token is kept for "b"
    assert gate.poll(stays, 2.1, 2.1).admitted  # the next one is "c"'s: "b" holds up nobody
    late = gate.arrive(1, "d", 2.2, 2.2)
    assert late.place == 2 and not late.admitted
    assert gate.poll(late.ticket, 3.3, 3.3).admitted
    assert gate.figures(1, 5.0)["waiting"] == 1  # "b" may still come back
    patience = 2 * RETRY_MIN + GRACE  # "b" was told to ask again within RETRY_MIN seconds
    assert gate.figures(1, patience + 1)["waiting"] == 0
    back = gate.poll(gone, patience + 2, patience + 2)  # its place again (first), its token
    assert back.admitted


def test_one_address_is_paced_without_holding_up_the_others_and_its_flood_is_bounded():
    gate = Gate(rate=1000, per_minute=3)
    now = 0.0
    venue = [gate.arrive(1, "192.0.2.1", now, now) for _ in range(5)]
    assert [o.admitted for o in venue] == [True, True, True, False, False]
    assert 19 <= venue[3].eta <= 21 and 39 <= venue[4].eta <= 41  # its address's turn: 3 a minute
    assert gate.arrive(1, "192.0.2.2", now, now).admitted  # another address is not held up
    assert not gate.poll(venue[3].ticket, now + 10, now + 10).admitted
    assert gate.poll(venue[3].ticket, now + 20.5, now + 20.5).admitted
    flood = [gate.arrive(1, "192.0.2.1", now + 21, now + 21) for _ in range(100)]
    assert not any(o.admitted for o in flood)
    placed = [o for o in flood if o.place is not None]
    assert 28 <= len(placed) <= 30  # about ten minutes of its rate wait in line; the rest have no place
    assert all(o.ticket is None and o.retry > 0 for o in flood[len(placed):])


# --- through the app's door (test client) -------------------------------------------------------

def _page(browser, code: str, address: str):
    return browser.get(f"/j/{code}", environ_base={"REMOTE_ADDR": address})


def test_a_venue_behind_one_address_queues_instead_of_being_refused(app, live):
    app.config.update(ADMIT_PER_SECOND=1000, JOIN_RATE_PER_MINUTE=3)
    phones = [choose_language(app.test_client()) for _ in range(5)]
    pages = [_page(phone, live["code"], "198.51.100.7") for phone in phones]
    assert [p.status_code for p in pages] == [200] * 5
    texts = [p.get_data(as_text=True) for p in pages]
    assert all("Look at the screen" in t for t in texts[:3])
    for text, page in zip(texts[3:], pages[3:], strict=True):
        assert WAITING.search(text) and "Too many actions" not in text
        assert '<noscript><meta http-equiv="refresh"' in text and 'role="status"' in text
        assert int(page.headers["Retry-After"]) >= 2
    # A phone of another address walks in; the waiting ones keep their place (not refused).
    other = choose_language(app.test_client())
    assert "Look at the screen" in _page(other, live["code"], "198.51.100.8").get_data(as_text=True)
    assert WAITING.search(_page(phones[3], live["code"], "198.51.100.7").get_data(as_text=True))
    asked = phones[4].get(f"/j/{live['code']}/wait", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert asked.status_code == 200 and asked.json["place"] >= 1 and "in line" in asked.json["text"]
    # Known participants (reload, reconnection) never meet the line.
    assert "Look at the screen" in _page(phones[0], live["code"], "198.51.100.7").get_data(as_text=True)


def test_the_waiting_page_speaks_french_and_is_small(app, live):
    app.config.update(ADMIT_PER_SECOND=1000, JOIN_RATE_PER_MINUTE=1)
    _page(choose_language(app.test_client(), "fr"), live["code"], "203.0.113.5")
    page = _page(choose_language(app.test_client(), "fr"), live["code"], "203.0.113.5")
    text = page.get_data(as_text=True)
    assert "Vous êtes n° 1 dans la file" in text and "gardez-la ouverte" in text
    assert len(page.data) < 4000


# --- through the real server -------------------------------------------------------------------

def _cookie(headers, jar: SimpleCookie) -> str:
    for line in headers.get_all("Set-Cookie") or []:
        jar.load(line)
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


class Phone:
    """A phone without JavaScript: opens the join link, then again while it is in line."""

    def __init__(self, url: str, code: str):
        self.url, self.code, self.jar = url, code, SimpleCookie()
        self.cookie, self.places, self.in_at, self.errors = "", [], None, []

    def open(self) -> bool:
        status, headers, body = http_get(self.url, f"/j/{self.code}", self.cookie or None, timeout=30)
        self.cookie = _cookie(headers, self.jar)
        text = body.decode()
        if status == 200 and "Look at the screen" in text:
            self.in_at = time.monotonic()
            return True
        found = WAITING.search(text)
        if status != 200 or not found:
            self.errors.append((status, text[:200]))
        else:
            self.places.append(int(found.group(1)))
        return False

    def wait_in_line(self, deadline: float) -> None:
        while time.monotonic() < deadline and not self.open():
            time.sleep(0.1)


@pytest.mark.server
def test_a_join_storm_beyond_the_rate_waits_in_line_and_everyone_gets_in_in_order(tmp_path):
    rate, count = 2, 24  # they arrive faster than 2 a second, even on a loaded machine
    with server_room(tmp_path, ADMIT_PER_SECOND=rate) as room:
        console = Listener("admission")
        facilitator = connect(room.url, {"token": room.setup.facilitator, "lang": "en"}, listener=console)
        try:
            phones = [Phone(room.url, room.setup.code) for _ in range(count)]
            first = [p.open() for p in phones]  # they arrive one after the other: the order of the line
            waiting = [p for p, admitted in zip(phones, first, strict=True) if not admitted]
            # Let in at once: a second's worth, then only while the tokens outnumber those waiting.
            assert len(waiting) >= count - rate * (1 + LINE_SECONDS), len(waiting)
            assert [p.places[0] for p in waiting] == sorted(p.places[0] for p in waiting)
            assert console.wait_for(lambda c: any(m.get("waiting", 0) >= 5
                                                  for m in c.messages("admission")), 10)
            deadline = time.monotonic() + 60
            threads = [threading.Thread(target=p.wait_in_line, args=(deadline,)) for p in waiting]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(70)
            assert all(p.errors == [] for p in phones), [p.errors for p in phones if p.errors][:3]
            assert all(p.in_at is not None for p in phones)
            for p in waiting:  # a place only ever goes down
                assert p.places == sorted(p.places, reverse=True)
            # In order: a phone is let in only when fewer phones wait before it than there are
            # tokens (at most LINE_SECONDS' worth): so many earlier phones at most get in after it.
            for j, later in enumerate(waiting):
                overtaken = sum(1 for earlier in waiting[:j] if earlier.in_at > later.in_at + 0.25)
                assert overtaken < LINE_SECONDS * rate, (j, overtaken)
            assert console.wait_for(lambda c: c.messages("admission")[-1] == {
                "waiting": 0, "admitted": count} if c.messages("admission") else False, 15)
            status, _h, body = http_get(room.url, f"/f/{room.setup.facilitator}")
            assert status == 200 and f"let in over the last minute: {count}" in body.decode()
            # Their sockets are accepted at once: they have joined (no line for them).
            sockets = [connect(room.url, {"code": room.setup.code, "lang": "en"}, cookie=p.cookie)
                       for p in phones]
            assert all(s.connected for s in sockets)
            room.phones.extend(sockets)
        finally:
            facilitator.disconnect()
