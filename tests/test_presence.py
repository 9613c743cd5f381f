"""Live counts on the screen and the console: connected now and joined, pushed within a second as
phones come and go (real sockets on the real server), coalesced by the broadcaster (at most twice
a second per session, to the screen and staff only: phones are sent nothing), and the join banner
on the projector follows them without a reload (Chromium)."""

from __future__ import annotations

import time

import pytest
from support import (
    Listener,
    chromium,
    close_all,
    connect,
    join_cookie,
    playwright_or_skip,
    prepare,
    server,
)

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.server]
PHONES = 12


def _phones(url: str, setup, count: int, listener: Listener) -> list:
    return [connect(url, {"code": setup.code, "lang": "en"}, cookie=join_cookie(url, setup.code),
                    listener=listener) for _ in range(count)]


def _counts(listener: Listener) -> tuple[int, int] | None:
    last = listener.messages("presence")[-1:] or [None]
    return None if last[0] is None else (last[0]["connected"], last[0]["participants"])


def test_connected_and_joined_counts_reach_the_staff_coalesced_as_phones_come_and_go(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    staff_ears, phone_ears = Listener("presence", "snapshot"), Listener("presence")
    clients: list = []
    with server(setup.database) as srv:
        try:
            screen = connect(srv.url, {"token": setup.screen, "lang": "en"}, listener=staff_ears)
            console = connect(srv.url, {"token": setup.facilitator, "lang": "en"})
            clients += [screen, console]
            assert staff_ears.wait_for(lambda ears: ears.count("snapshot"), 10)
            assert staff_ears.messages("snapshot")[0]["connected"] == 0
            started = time.monotonic()
            phones = _phones(srv.url, setup, PHONES, phone_ears)
            clients += phones
            all_in = time.monotonic()
            assert staff_ears.wait_for(lambda ears: _counts(ears) == (PHONES, PHONES), 10), \
                _counts(staff_ears)
            print(f"\nall {PHONES} phones counted {time.monotonic() - all_in:.2f} s after the last connected")
            # Coalesced: at most one push per half second (plus the first), not one per phone.
            pushes = staff_ears.count("presence")
            assert pushes <= 2 + 2 * (time.monotonic() - started), pushes

            # Three phones leave: connected goes down, joined stays (they joined).
            close_all(phones[:3])
            assert staff_ears.wait_for(lambda ears: _counts(ears) == (PHONES - 3, PHONES), 10), \
                _counts(staff_ears)
            # A phone that comes back is connected again, not joined twice.
            back = connect(srv.url, {"code": setup.code, "lang": "en"},
                           cookie=phones[0].connection_headers.get("Cookie"), listener=phone_ears)
            clients.append(back)
            assert staff_ears.wait_for(lambda ears: _counts(ears) == (PHONES - 2, PHONES), 10), \
                _counts(staff_ears)
            assert phone_ears.count("presence") == 0  # phones are sent no counts
        finally:
            close_all(clients)


@pytest.mark.browser
def test_the_join_banner_on_the_projector_counts_phones_live(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    ears = Listener("presence")
    phones: list = []
    with server(setup.database) as srv, chromium() as browser:
        try:
            screen = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-GB").new_page()
            screen.goto(f"{srv.url}/screen/{setup.screen}")
            count = screen.locator(".join-count")
            expect(count).to_have_text("0 connected · 0 joined")
            phones = _phones(srv.url, setup, 2, ears)
            expect(count).to_have_text("2 connected · 2 joined")
            close_all(phones[:1])
            expect(count).to_have_text("1 connected · 2 joined")
        finally:
            close_all(phones)
