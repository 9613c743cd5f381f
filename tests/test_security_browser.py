"""Organiser security in real Chromium: a facilitator replaces the screen link from the console;
the projector open with the old link is told at once; forms built by the pages' script carry
the CSRF token."""

from __future__ import annotations

import re

import pytest
from support import chromium, playwright_or_skip, prepare, query, server

expect = playwright_or_skip().expect

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_replacing_the_screen_link_tells_the_projector_and_scripted_forms_carry_the_token(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    with server(setup.database) as srv, chromium() as browser:
        screen = browser.new_context(locale="en-GB").new_page()
        console = browser.new_context(locale="en-GB").new_page()
        screen.goto(f"{srv.url}/screen/{setup.screen}")
        expect(screen.locator(".code").first).to_have_text(setup.code)
        console.goto(f"{srv.url}/f/{setup.facilitator}")
        expect(console.locator("#conn")).to_be_hidden()

        # A form the script builds (no hidden token in it): the page adds its token.
        console.evaluate("""([url, activity]) => {
            const form = document.createElement("form");
            form.method = "post"; form.action = url;
            for (const [name, value] of [["action", "show"], ["activity", activity]]) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = String(value);
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.requestSubmit();
        }""", [f"/f/{setup.facilitator}/command", setup.activity])
        console.wait_for_url(re.compile(f"/f/{setup.facilitator}"))
        expect(screen.locator("#prompt")).to_have_text("Which one?")
        shown = query(setup.database, "select current_activity_id from live_sessions")
        assert shown == [(setup.activity,)]

        # The facilitator replaces the screen link (and confirms).
        console.once("dialog", lambda dialog: dialog.accept())
        screen_links = console.locator("dd", has=console.locator(
            f"form[action='/f/{setup.facilitator}/links/screen']"))
        screen_links.get_by_role("button", name="Issue a new link").click()
        expect(console.locator(".notice, .flash").first).to_contain_text("New link issued")
        # The projector open with the old link is told, without a reload.
        expect(screen.get_by_text("This link is not valid")).to_be_visible(timeout=5000)
        new = re.search(r"/screen/([A-Za-z0-9_-]{20,64})",
                        console.locator("a[href*='/screen/']").first.get_attribute("href")).group(1)
        assert new != setup.screen
        screen.goto(f"{srv.url}/screen/{new}")
        expect(screen.locator("#prompt")).to_have_text("Which one?")
