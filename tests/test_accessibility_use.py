"""Using Palabre without a mouse, zoomed in, or with a screen reader (real server, real Chromium).

- Keyboard only: a phone answers a poll and a facilitator shows, opens and reveals one from the
  console, with Tab, Space and Enter (no click), and the focus stays in place when the page
  redraws itself.
- 200 % zoom: phone pages at 180 CSS px (a 360 px phone zoomed to 200 %) and the console and
  moderator at 640 px (a 1280 px laptop at 200 %): no horizontal scrolling, and every control can
  be scrolled to and reached (nothing covers it).
- Screen readers: what the live regions say while a poll runs: the answer's acknowledgement,
  voting closed, results revealed, each once, and nothing while other phones' votes move the bars.

The event is tests/a11y.py's (every kind, realistic content). See docs/accessibility.md.
"""

from __future__ import annotations

import pytest
from a11y import KINDS, PHONE, axe_report, page_paths, seed
from support import chromium, connect, goto_live, join_cookie, new_cid, server, sqlite_url, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.server]

FOCUSED = """() => { const e = document.activeElement;
  return e ? [e.tagName, e.getAttribute('name'), e.getAttribute('value'), e.getAttribute('data-key'),
              (e.textContent || '').trim().slice(0, 40), e.type || ''] : null; }"""


@pytest.fixture(scope="module")
def event(tmp_path_factory):
    """The seeded event served by the real server, for the whole module."""
    database = tmp_path_factory.mktemp("a11y-use") / "palabre.db"
    made = seed(database)
    with server(database) as srv:
        yield srv, made


def tab_to(page, wanted, limit: int = 80) -> list:
    """Press Tab until `wanted(focused)` holds (focused: FOCUSED's list); the path taken."""
    path = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        path.append(focused)
        if focused and wanted(focused):
            return path
    raise AssertionError(f"Tab never reached the control; focus went through {path}")


def test_a_phone_answers_with_the_keyboard_only(event):
    srv, made = event
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        goto_live(page, srv.url + page_paths(made, "en")["phone-single"])
        tab_to(page, lambda f: f[0] == "INPUT" and f[5] == "radio")
        page.keyboard.press("ArrowDown")  # moves to the second option and chooses it
        chosen = page.evaluate("() => document.activeElement.closest('label').textContent.trim()")
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == "Send my answer")
        page.keyboard.press("Enter")
        page.wait_for_selector(".form-status.is-ok", timeout=15_000)
        status = page.inner_text(".form-status")
        checked = page.evaluate("() => document.querySelector('input[type=radio]:checked')"
                                ".closest('label').textContent.trim()")
        report = axe_report(page)  # the page as it is after the answer
        context.close()
    assert chosen == "Under way"
    assert status == "Your answer is saved." and checked == "Under way"
    assert report["violations"] == []


def test_a_phone_asks_and_upvotes_with_the_keyboard_only(event):
    srv, made = event
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        goto_live(page, srv.url + page_paths(made, "en")["phone-questions"])
        tab_to(page, lambda f: f[0] == "TEXTAREA")
        page.keyboard.type("Can a frugal service still be accessible to everyone?")
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == "Send my question")
        page.keyboard.press("Enter")
        page.wait_for_selector("#board-status.is-ok", timeout=15_000)
        posted = page.inner_text("#board-status")
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == "Upvote")
        name = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
        page.keyboard.press("Enter")
        page.wait_for_selector("#board-status.is-ok:text-is('Your vote is saved.')", timeout=15_000)
        report = axe_report(page)
        context.close()
    assert posted in ("Your contribution is published.",
                      "Your contribution is saved: a moderator will read it before it is shown.")
    assert name.startswith("Upvote: ")
    assert report["violations"] == []


LIVE = """(sel) => { const e = document.querySelector(sel);
  const region = e && e.closest('[aria-live], [role=status], [role=alert]');
  return region ? [region.getAttribute('role'), region.getAttribute('aria-live'), e.textContent.trim()]
                : null; }"""


def test_a_phone_posts_an_idea_votes_and_sends_a_word_with_the_keyboard_only(event):
    """An idea (Tab to the field, type, Tab to "Send my idea", Space), a dot on an idea (Tab,
    Enter), a word (Tab, type, Enter): each acknowledged in a live region, read after the event."""
    srv, made = event
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        goto_live(page, srv.url + page_paths(made, "en")["phone-ideas"])
        tab_to(page, lambda f: f[0] == "TEXTAREA")
        page.keyboard.type("Repair cafés in every town hall")
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == "Send my idea")
        page.keyboard.press("Space")
        page.wait_for_selector("#board-status.is-ok", timeout=15_000)
        posted = page.evaluate(LIVE, "#board-status")
        path = tab_to(page, lambda f: f[0] == "BUTTON" and (f[4] or "").startswith("Vote"))
        name = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
        page.keyboard.press("Enter")
        page.wait_for_selector("#board-status.is-ok:text-is('Your vote is saved.')", timeout=15_000)
        voted = page.evaluate(LIVE, "#board-status")
        goto_live(page, srv.url + page_paths(made, "en")["phone-wordcloud"])
        tab_to(page, lambda f: f[0] == "INPUT" and f[1] == "text")
        page.keyboard.type("repairable")
        page.keyboard.press("Enter")
        page.wait_for_selector("#word-status.is-ok", timeout=15_000)
        word = page.evaluate(LIVE, "#word-status")
        mine = page.inner_text("#word-mine")
        report = axe_report(page)
        context.close()
    assert posted[2] == "Your contribution is saved: a moderator will read it before it is shown.", posted
    assert voted[2] == "Your vote is saved." and name.startswith("Vote: "), (voted, name, path[-1])
    assert "repairable" in word[2] and "repairable" in mine, (word, mine)
    for region in (posted, voted, word):  # polite live regions: said once the current speech ends
        assert region[0] == "status" or region[1] == "polite", region
    assert report["violations"] == []


@pytest.mark.parametrize(("page_name", "control"), [("phone-ideas", "Send my idea"),
                                                     ("phone-questions", "Upvote")])
def test_the_focus_stays_on_a_boards_button_when_its_script_comes_late(event, page_name, control):
    """The board's script comes just after the page and redraws it. Someone quick with Tab was
    already on a button of the server's markup ("Send my idea", an item's "Upvote"): the focus
    went to the page's body, where Space did nothing (CI saw it twice: the keyboard tests above
    timed out waiting for the acknowledgement). The script is held here until then."""
    srv, made = event
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        held = []
        page.route("**/board-phone.js*", lambda route: held.append(route))
        goto_live(page, srv.url + page_paths(made, "en")[page_name])
        if control == "Send my idea":
            tab_to(page, lambda f: f[0] == "TEXTAREA")
            page.keyboard.type("Seed libraries in the media library")
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == control)
        assert wait_until(lambda: held, 10, sleep=lambda s: page.wait_for_timeout(s * 1000)), \
            "the board's script was never asked for"
        for route in held:
            route.continue_()
        page.wait_for_selector("#board-status", state="attached", timeout=15_000)  # drawn by the script
        focused = page.evaluate(FOCUSED)
        page.keyboard.press("Space")
        page.wait_for_selector("#board-status.is-ok", timeout=15_000)
        context.close()
    assert focused[0] == "BUTTON" and focused[4] == control, focused


def test_a_moderator_approves_with_the_keyboard_only(event):
    srv, made = event
    session = made.sessions["en", "banner"]
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        goto_live(page, f"{srv.url}/m/{session['moderator']}?lang=en")
        path = tab_to(page, lambda f: f[1] == "act" and (f[2] or "").startswith("approve:"), limit=300)
        item = path[-1][2].split(":")[1]
        page.keyboard.press("Enter")
        page.wait_for_selector(".form-status.is-ok", timeout=15_000)
        done = page.inner_text(".form-status.is-ok")
        # The ack comes first; the page is redrawn from the push that follows it.
        gone = wait_until(lambda: page.locator(f"button[name=act][value^='approve:{item}:']").count() == 0,
                          timeout=10, sleep=lambda s: page.wait_for_timeout(s * 1000))
        context.close()
    assert done.startswith("Done.")
    assert gone, "the approved item still offers Approve"


OUTLINED = """() => { const e = document.activeElement, s = e && getComputedStyle(e);
  return s ? [s.outlineStyle, parseFloat(s.outlineWidth)] : null; }"""
RANKED = "() => Array.from(document.querySelectorAll('.js-ranking .rank-label'), e => e.textContent.trim())"


def _focus_is_visible(page) -> bool:
    """The focused control has a visible focus indicator (the 3 px outline of palabre.css)."""
    style = page.evaluate(OUTLINED)
    return bool(style) and style[0] not in ("none", "hidden") and style[1] >= 2


def test_a_phone_ranks_with_the_keyboard_only(event):
    """Tab to the first option's "Move down" arrow, Enter then Space: it goes down two places and
    keeps the focus (visible); Shift+Tab back to "Move up" of the same option, Enter: up one; Tab
    to "Send my answer", Enter: acknowledged, and the order is the one stored (after a reload)."""
    srv, made = event
    url = srv.url + page_paths(made, "en")["phone-ranking"]
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        goto_live(page, url)
        before = page.evaluate(RANKED)
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == "▼")
        name = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
        page.keyboard.press("Enter")
        page.keyboard.press("Space")
        after_down = page.evaluate(RANKED)
        visible = _focus_is_visible(page)
        page.keyboard.press("Shift+Tab")  # the same option's "Move up"
        up_name = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
        page.keyboard.press("Enter")
        ranked = page.evaluate(RANKED)
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] in ("Send my answer", "Change my answer"))
        page.keyboard.press("Enter")
        page.wait_for_selector(".form-status.is-ok", timeout=15_000)
        status = page.inner_text(".form-status")
        goto_live(page, url)
        stored = page.evaluate(RANKED)
        context.close()
    first = before[0]
    assert name.endswith(first), name
    assert after_down.index(first) == 2 and visible, (before, after_down)
    assert up_name.endswith(first) and ranked.index(first) == 1, (up_name, ranked)
    assert status == "Your answer is saved."
    assert stored == ranked, (stored, ranked)


def test_a_phone_takes_back_a_dot_with_the_keyboard_only(event):
    srv, made = event
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        goto_live(page, srv.url + page_paths(made, "en")["phone-ideas"])
        tab_to(page, lambda f: f[0] == "BUTTON" and (f[4] or "") == "Vote")
        voted_on = page.evaluate("() => document.activeElement.getAttribute('aria-label')")[len("Vote: "):]
        page.keyboard.press("Enter")
        page.wait_for_selector("#board-status.is-ok:text-is('Your vote is saved.')", timeout=15_000)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        path = tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == "Take back my vote", limit=120)
        name = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
        visible = _focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_selector("#board-status.is-ok:text-is('Your vote is taken back.')", timeout=15_000)
        left = page.locator("button:text-is('Take back my vote')").count()
        context.close()
    assert name == f"Take back my vote: {voted_on}", (name, voted_on, path[-1])
    assert visible
    assert left == 0


def test_a_phone_edits_and_withdraws_its_idea_with_the_keyboard_only(event):
    """Post an idea, Tab to "Edit: …", Enter: the focus is in its text; select all, type, Tab to
    "Save", Enter: changed; Tab to "Withdraw: …", Enter: withdrawn, and the idea is gone."""
    srv, made = event
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        goto_live(page, srv.url + page_paths(made, "en")["phone-ideas"])
        tab_to(page, lambda f: f[0] == "TEXTAREA")
        page.keyboard.type("Lend tools between neighbours")
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == "Send my idea")
        page.keyboard.press("Enter")
        page.wait_for_selector("#board-status.is-ok", timeout=15_000)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == "Edit")
        edit_name = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
        visible = _focus_is_visible(page)
        page.keyboard.press("Enter")
        in_text = page.evaluate("() => document.activeElement.tagName")
        page.keyboard.press("ControlOrMeta+A")
        page.keyboard.type("Lend tools and skills between neighbours")
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == "Save")
        page.keyboard.press("Enter")
        page.wait_for_selector("#board-status.is-ok:text-is('Your contribution is changed.')", timeout=15_000)
        mine = page.inner_text("#board-mine")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        tab_to(page, lambda f: f[0] == "BUTTON" and f[4] == "Withdraw")
        withdraw_name = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
        page.keyboard.press("Enter")
        page.wait_for_selector("#board-status.is-ok:text-is('Your contribution is withdrawn.')",
                               timeout=15_000)
        gone = wait_until(lambda: "Lend tools" not in page.inner_text("#board-mine"),
                          timeout=10, sleep=lambda s: page.wait_for_timeout(s * 1000))
        context.close()
    assert edit_name == "Edit: Lend tools between neighbours" and visible and in_text == "TEXTAREA"
    assert "Lend tools and skills between neighbours" in mine, mine
    assert withdraw_name == "Withdraw: Lend tools and skills between neighbours"
    assert gone, "the withdrawn idea is still listed"


def test_a_moderator_rejects_with_the_keyboard_only(event):
    srv, made = event
    session = made.sessions["en", "banner"]
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        goto_live(page, f"{srv.url}/m/{session['moderator']}?lang=en")
        path = tab_to(page, lambda f: f[1] == "act" and (f[2] or "").startswith("reject:"), limit=300)
        item = path[-1][2].split(":")[1]
        visible = _focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_selector(".form-status.is-ok", timeout=15_000)
        done = page.inner_text(".form-status.is-ok")
        gone = wait_until(lambda: page.locator(f"button[name=act][value^='reject:{item}:']").count() == 0,
                          timeout=10, sleep=lambda s: page.wait_for_timeout(s * 1000))
        context.close()
    assert visible
    assert done.startswith("Done.")
    assert gone, "the rejected item still offers Reject"


def _press_console(page, action: str, activity: int) -> None:
    key = f"{action}-{activity}"
    tab_to(page, lambda f: f[3] == key, limit=200)
    page.keyboard.press("Enter")


def test_a_facilitator_drives_a_poll_with_the_keyboard_only(event):
    srv, made = event
    session = made.sessions["en", "banner"]
    poll = session["activities"]["draft"]
    inside = f"() => document.getElementById('a{poll}').contains(document.activeElement)"
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        goto_live(page, f"{srv.url}/f/{session['facilitator']}?lang=en")
        _press_console(page, "show", poll)
        page.wait_for_selector(f"#a{poll}.on-screen", timeout=15_000)
        after_show = page.evaluate(inside)
        _press_console(page, "open", poll)
        page.wait_for_selector(f"#a{poll} .badge-open", timeout=15_000)
        after_open = page.evaluate(inside)
        _press_console(page, "close", poll)
        page.wait_for_selector(f"#a{poll} .badge-closed", timeout=15_000)
        after_close = page.evaluate(inside)
        _press_console(page, "reveal", poll)
        page.wait_for_selector(f"#a{poll} .badge-revealed", timeout=15_000)
        in_item = page.evaluate(inside)
        context.close()
    # The button pressed is gone after each redraw: the focus stays on the same poll's controls.
    assert after_show and after_open and after_close and in_item


ZOOM_CHECK = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });  // what they fold is checked too
  const width = document.documentElement.clientWidth;
  const controls = Array.from(document.querySelectorAll(
      'main a, main button, main input, main select, main textarea'))
    .filter(e => e.type !== 'hidden' && e.getClientRects().length && !e.closest('[hidden]'));
  const unreachable = [];
  for (const e of controls) {
    e.scrollIntoView({block: 'center', inline: 'center'});
    const r = e.getBoundingClientRect();
    const x = Math.min(Math.max(r.left + r.width / 2, 0), width - 1), y = r.top + Math.min(r.height / 2, 10);
    const hit = document.elementFromPoint(x, y);
    const label = e.closest('label');
    const reached = hit && (e.contains(hit) || hit.contains(e) || (label && label.contains(hit)));
    if (r.right > width + 1 || r.left < -1 || !reached)
      unreachable.push(e.tagName + ' ' + (e.name || '') + ' '
                       + (e.textContent || e.value || '').trim().slice(0, 30));
  }
  return {scroll: document.documentElement.scrollWidth, width: width, controls: controls.length,
          unreachable: unreachable, names: controls.map(e => (e.textContent || '').trim().slice(0, 30))};
}"""


# The phone held two items when its session ended (static/js/core.js names them on the join page):
# put in its outbox before the page's module runs.
HELD = """document.addEventListener('readystatechange', () => {
  const key = document.body && document.body.getAttribute('data-outbox');
  if (document.readyState === 'interactive' && key)
    localStorage.setItem(key, JSON.stringify([{e: 'word:add', p: {cid: 'w1'}, l: 'sobriété'},
      {e: 'board_post', p: {cid: 'i1'}, l: 'Allonger la durée de vie des ordinateurs portables'}]));
});"""


def _zoomed(browser, url: str, width: int, height: int, live: bool) -> dict:
    """The page at 200 %: the CSS viewport is half the device's, each CSS pixel two device pixels."""
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=2)
    try:
        context.add_init_script(HELD)
        page = context.new_page()
        if live:
            goto_live(page, url)
        else:
            page.goto(url)
        return page.evaluate(ZOOM_CHECK)
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pages_work_at_200_percent_zoom(event, lang):
    srv, made = event
    paths = page_paths(made, lang)
    phone = [f"phone-{kind}" for kind in KINDS] + ["phone-waiting", "home", "join-unknown-code",
                                                   "phone-ended"]
    desk = ["console", "moderator", "admin", "archives"]
    found = {}
    with chromium() as browser:
        for name in phone + desk:
            width, height = (180, 320) if name in phone else (640, 360)
            live = name in ("console", "moderator") or name.startswith("phone-") and name != "phone-ended"
            found[name] = _zoomed(browser, srv.url + paths[name], width, height, live)
    wide = {name: f["scroll"] for name, f in found.items() if f["scroll"] > f["width"]}
    hidden = {name: f["unreachable"] for name, f in found.items() if f["unreachable"]}
    assert sum(f["controls"] for f in found.values()) > 100, found
    clear = {"fr": "Effacer cette liste", "en": "Clear this list"}[lang]  # unsent items were named
    assert clear in found["phone-ended"]["names"], found["phone-ended"]
    assert not wide, f"horizontal scrolling at 200 %: {wide}"
    assert not hidden, f"controls that cannot be reached at 200 %: {hidden}"


LIVE_WATCH = """() => {
  window.spoken = [];
  const region = n => { const e = n.nodeType === 1 ? n : n.parentElement;
                        return e && e.closest('[aria-live], [role=status], [role=alert]'); };
  new MutationObserver(records => {
    const seen = new Set();
    for (const r of records) { const e = region(r.target); if (e && !seen.has(e)) seen.add(e); }
    for (const e of seen) window.spoken.push([e.id || e.className, e.textContent.trim()]);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
SAID = {"close": "This poll is closed.", "reveal": "See the results below"}
BARS_TOTAL = """() => Array.from(document.querySelectorAll('#stage .bar-value'),
                                 e => parseInt(e.textContent, 10)).reduce((a, b) => a + b, 0)"""


def _vote_from_phones(srv, session: dict, options: list[int]) -> list:
    phones = []
    for option in options:
        cookie = join_cookie(srv.url, session["code"])
        client = connect(srv.url, {"code": session["code"], "lang": "en"}, cookie=cookie)
        phones.append(client)
        vote = {"cid": new_cid(), "activity": session["activities"]["single"], "choice": [option]}
        ack = client.call("vote", vote, timeout=15)
        assert ack.get("ok"), ack
    return phones


def test_screen_readers_hear_each_change_once(event):
    srv, made = event
    session = made.sessions["en", "single"]
    poll = session["activities"]["single"]
    facilitator = connect(srv.url, {"token": session["facilitator"], "lang": "en"})
    phones = []
    try:
        with chromium() as browser:
            page = browser.new_page(viewport=PHONE)
            goto_live(page, srv.url + page_paths(made, "en")["phone-single"])
            page.evaluate(LIVE_WATCH)
            page.get_by_role("radio", name="Yes", exact=True).check()
            page.get_by_role("button", name="Send my answer").click()
            page.wait_for_selector(".form-status.is-ok", timeout=15_000)
            before = page.evaluate(BARS_TOTAL)
            acked = page.evaluate("window.spoken.length")
            options = page.eval_on_selector_all("#stage input[type=radio]", "els => els.map(e => +e.value)")
            phones = _vote_from_phones(srv, session, [options[n % 3] for n in range(20)])
            assert wait_until(lambda: page.evaluate(BARS_TOTAL) >= before + 20, 20,
                              sleep=lambda s: page.wait_for_timeout(s * 1000)), \
                f"the phone's bars never showed the other votes: {before} then {page.evaluate(BARS_TOTAL)}"
            during = page.evaluate("window.spoken")[acked:]
            for action in ("close", "hide", "reveal"):
                command = {"cid": new_cid(), "action": action, "activity": poll}
                ack = facilitator.call("command", command, timeout=15)
                assert ack.get("ok"), ack
                if action in SAID:
                    page.wait_for_selector(f"#sr:text-is('{SAID[action]}')", state="attached", timeout=15_000)
            spoken = page.evaluate("window.spoken")
            region = page.evaluate("() => ['role', 'aria-live'].map("
                                   "n => document.getElementById('sr').getAttribute(n))")
            # Where the announcement points: the results, as text (label, count and share per row).
            page.get_by_role("link", name="See the results below").click()
            target = page.evaluate("""() => { const h = document.getElementById('results');
              return [h.tagName, h.textContent.trim(), Array.from(document.querySelectorAll('#stage .bar'),
                      b => b.textContent.replace(/\\s+/g, ' ').trim())]; }""")
    finally:
        facilitator.disconnect()
        for phone in phones:
            phone.disconnect()
    ack_text = [text for _region, text in spoken[:acked] if text]
    assert "Your answer is saved." in ack_text
    assert during == [], f"the live regions changed while only the counts did: {during}"
    said = [text for region, text in spoken[acked:] if region == "sr" and text]
    assert said == ["This poll is closed.", "See the results below"], said
    assert region == ["status", "polite"], region
    assert target[0].startswith("H") and target[1] == "Results", target
    assert any(row.startswith("Yes") and "%" in row for row in target[2]), target



def test_a_running_job_updates_in_place_and_announces_its_outcome(event):
    """A purge still running: its page is not reloaded every second (a screen reader would start
    again from the top, WCAG 2.2.1) but updated in place; the outcome is announced once."""
    from live.archive import jobs
    from live.store import Store

    srv, made = event
    url = srv.url + page_paths(made, "en")["purge-job-running"]
    with chromium() as browser:
        plain = browser.new_context(java_script_enabled=False)
        refreshes = plain.new_page()
        refreshes.goto(url)
        plain_refresh = refreshes.locator("meta[http-equiv=refresh]").count()
        plain.close()
        page = browser.new_page()
        page.goto(url)
        page.evaluate("window.stillHere = true")
        page.evaluate(LIVE_WATCH)
        report = axe_report(page)
        store = Store(sqlite_url(srv.database))
        try:
            jobs.execute(store, made.jobs["purge-running"])
        finally:
            store.dispose()
        page.wait_for_selector("#outcome p", timeout=15_000)
        outcome = page.inner_text("#outcome")
        still_here = page.evaluate("window.stillHere === true")
        spoken = page.evaluate("window.spoken")
        progress_left = page.locator("#progress").count()
    assert plain_refresh == 1, "without JavaScript the page should still reload itself"
    assert report["violations"] == [], report["violations"]  # no meta-refresh with JavaScript on
    assert still_here, "the page was reloaded"
    assert "done: 1 session purged" in outcome and progress_left == 0
    assert [region for region, _text in spoken] == ["outcome"], spoken


def test_screen_readers_hear_boards_and_clouds_come_and_close(event):
    """The phone's polite #sr says the question when a Q&A or a word cloud comes on screen, and
    when the activity on screen closes; each once."""
    srv, made = event
    session = made.sessions["en", "wordcloud"]
    acts = session["activities"]
    facilitator = connect(srv.url, {"token": session["facilitator"], "lang": "en"})
    steps = [("show", acts["questions"], "Your questions to the panel"),
             ("close", acts["questions"], "This activity is closed."),
             ("show", acts["wordcloud"], "In one word: frugal digital is…?"),
             ("close", acts["wordcloud"], "This activity is closed.")]
    try:
        with chromium() as browser:
            page = browser.new_page(viewport=PHONE)
            goto_live(page, srv.url + page_paths(made, "en")["phone-wordcloud"])
            page.evaluate(LIVE_WATCH)
            for action, activity, heard in steps:
                ack = facilitator.call("command", {"cid": new_cid(), "action": action, "activity": activity},
                                       timeout=15)
                assert ack.get("ok"), ack
                page.wait_for_selector(f"#sr:text-is('{heard}')", state="attached", timeout=15_000)
            said = [text for region, text in page.evaluate("window.spoken") if region == "sr" and text]
    finally:
        facilitator.disconnect()
    assert said == [heard for _action, _activity, heard in steps], said
