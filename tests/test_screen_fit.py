"""The projector never cuts: every kind of activity, with the longest content the forms allow
(a 300-character question, 12 options of 120 characters, ideas and questions of 280, six
columns of 40, titles of 200), fits the screen at 1920x1080, 1280x720 and 1024x768 in real
Chromium. Every text, bar, card and image of the slide is inside the viewport, above the footer
and not clipped; no text is under 2.5 % of the screen's height; what does not fit at once turns
in pages, with a visible "Page 1/3", and every row is on one of them. Also with results pushed
while on screen. A crowded word cloud (200 distinct entries) is measured word by word as
displayed: no word under 2.5 % of the screen's height either, and the cloud still spans 85 % of
the free width or height. The join QR code in the footer is at least 12 % of the screen's height.

`PALABRE_SCREENSHOTS=DIR` saves each slide's first page there (docs/screenshots come from it).
"""

from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from support import chromium, connect, goto_live, join_cookie, new_cid, server, sqlite_url, wait_until
from wordcloud_input import wordcloud_input

pytestmark = [pytest.mark.browser, pytest.mark.server]

SIZES = [(1920, 1080), (1280, 720), (1024, 768)]
WORDS = ("frugal digital services shared locally repaired tools measured footprint open data "
         "networks sober design second hand devices energy budget community workshops public "
         "procurement durable software lighter pages fewer servers").split()


def words(length: int, seed: int) -> str:
    """Ordinary words (not one unbroken string), `length` characters exactly."""
    out, n = f"{seed}.", seed
    while len(out) < length:
        n = (n * 7 + 3) % len(WORDS)
        out += " " + WORDS[n]
    text = out[:length]
    return text[:-1] + "s" if text.endswith(" ") else text


def _polls(db, s, prompt) -> list[dict]:
    from live.polls import service as polls

    options = [words(120, n) for n in range(1, 13)]
    made = []
    for label, kind, opts, settings, reveal in (
            ("single", "single", options, {}, True),
            ("single-options", "single", options, {}, False),
            ("single-6x40", "single", [words(40, n) for n in range(1, 7)], {}, True),
            ("multiple", "multiple", options, {"max_choices": 12}, True),
            ("ranking", "ranking", options, {}, True),
            ("scale", "scale", None, {"scale_max": 10, "label_low": words(40, 2),
                                      "label_high": words(40, 3)}, True)):
        a = polls.add_poll(db, s, kind, prompt, opts, settings)
        made.append({"name": label, "id": a.id, "reveal": reveal,
                     "options": [o.id for o in polls.options_of(db, a)]})
    return made


def _vote_all(db, s, made, people) -> None:
    from live.polls import service as polls
    from live.sessions import service as sessions

    for poll in made:
        a = sessions.get_activity(db, s, poll["id"])
        sessions.apply_command(db, s, "open", a.id)
        for n, person in enumerate(people):
            opts = poll["options"]
            choice = ([n % 10 + 1] if not opts else
                      opts[n % len(opts):] + opts[:n % len(opts)] if a.type == "ranking" else
                      opts[:1 + n % 3] if a.type == "multiple" else [opts[(n * n) % len(opts)]])
            polls.vote(db, s, a, person, choice)


def _boards(db, s, prompt) -> list[dict]:
    from live.boards import moderation
    from live.boards import service as boards
    from live.sessions import service as sessions

    wall = boards.add_board(db, s, "ideas", prompt, {"columns": [words(40, n) for n in range(6)],
                                                     "premoderation": False})
    qa = boards.add_board(db, s, "questions", prompt, {"premoderation": False})
    for a in (wall, qa):
        sessions.apply_command(db, s, "open", a.id)
    posted = []
    for n in range(16):
        person = sessions.join(db, s, f"poster-{n}")
        posted.append(boards.post(db, s, wall, person, words(280, n), n % 6))
        question = boards.post(db, s, qa, person, words(280, 40 + n), name=words(40, n))
        db.flush()
        if n >= 12:
            moderation.moderate(db, s, qa, "answer", [{"id": question.id, "version": question.version}],
                                "moderator")
        elif n == 0:
            moderation.set_display(db, s, qa, "facilitator", {"current": question.id})
    spot = boards.add_board(db, s, "ideas", prompt, {"premoderation": False})
    sessions.apply_command(db, s, "open", spot.id)
    idea = boards.post(db, s, spot, sessions.join(db, s, "spotlit"), words(280, 77))
    db.flush()
    moderation.set_display(db, s, spot, "facilitator", {"spotlight": idea.id})
    return [{"name": "ideas", "id": wall.id, "reveal": True},
            {"name": "questions", "id": qa.id, "reveal": True},
            {"name": "spotlight", "id": spot.id, "reveal": True}]


CJK = "漢字仮名交じり文の長い質問と答え"  # 16 wide characters


def cjk_spotlight(db, s):
    """A 300-character question in CJK above a 280-character CJK idea in the spotlight: the widest
    text the forms allow twice (the question alone takes seven lines at the floor on a 4:3 screen)."""
    from live.boards import moderation
    from live.boards import service as boards
    from live.sessions import service as sessions

    wall = boards.add_board(db, s, "ideas", (CJK * 19)[:300], {"premoderation": False})
    sessions.apply_command(db, s, "open", wall.id)
    idea = boards.post(db, s, wall, sessions.join(db, s, "cjk"), (CJK[::-1] * 18)[:280])
    db.flush()
    moderation.set_display(db, s, wall, "facilitator", {"spotlight": idea.id})
    return wall


def _crowded_cloud(db, s, prompt) -> dict:
    """200 distinct entries (522 in all): more than fits on a screen at the smallest legible size."""
    from live.sessions import service as sessions
    from live.wordclouds import service as clouds

    cloud = clouds.add_wordcloud(db, s, prompt, {"max_length": 80, "entries_per_participant": 10})
    sessions.apply_command(db, s, "open", cloud.id)
    entries = [text for text, count in wordcloud_input(200).items() for _n in range(count)]
    people = [sessions.join(db, s, f"typist-{n}") for n in range(-(-len(entries) // 10))]
    for n, text in enumerate(entries):  # a group counts people: its entries come from as many
        clouds.add_entry(db, s, cloud, people[n % len(people)], text, word_rate=1000)
    db.flush()
    groups = len(clouds.cloud(db, cloud))
    return {"name": "wordcloud-crowded", "id": cloud.id, "reveal": True, "groups": groups}


def seed(database: Path, locale: str = "en") -> dict:
    """A session (titles of 200 characters) with every kind at its longest, answered."""
    from live.sessions import service as sessions
    from live.store import Store, upgrade
    from live.wordclouds import service as clouds

    upgrade(sqlite_url(database))
    store = Store(sqlite_url(database))
    prompt = words(300, 99)
    try:
        with store.write() as db:
            event = sessions.create_event(db, words(200, 7), "Chartres")
            s = sessions.create_session(db, event, "workshop", words(200, 8), locale=locale)
            made = _polls(db, s, prompt)
            people = [sessions.join(db, s, f"voter-{n}") for n in range(23)]
            _vote_all(db, s, made, people)
            cloud = clouds.add_wordcloud(db, s, prompt, {"max_length": 80})
            sessions.apply_command(db, s, "open", cloud.id)
            for n, person in enumerate(people):
                clouds.add_entry(db, s, cloud, person, WORDS[n % len(WORDS)], word_rate=1000)
            made.append({"name": "wordcloud", "id": cloud.id, "reveal": True})
            made.append(_crowded_cloud(db, s, prompt))
            made += _boards(db, s, prompt)
            made.append({"name": "cjk-spotlight", "id": cjk_spotlight(db, s).id, "reveal": True})
            for item in made:
                if item["reveal"] and not sessions.get_activity(db, s, item["id"]).revealed:
                    sessions.apply_command(db, s, "reveal", item["id"])
            return {"activities": made, "prompt": prompt, "code": s.join_code,
                    "facilitator": s.facilitator_token, "screen": s.screen_token}
    finally:
        store.dispose()


# What is wrong on the slide as it is now: texts, bars, cards and images outside the viewport,
# under the footer or clipped by a box that hides its overflow; texts under 2.5 % of the height.
PROBLEMS = r"""() => {
  const H = innerHeight, W = innerWidth, bad = [], stage = document.getElementById("stage");
  const foot = document.querySelector(".slide-foot"), footTop = foot ? foot.getBoundingClientRect().top : H;
  function clip(el, r) {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (cs.overflowX === "visible" && cs.overflowY === "visible") continue;
      const q = p.getBoundingClientRect();
      if (r.left < q.left - 1 || r.right > q.right + 1 || r.top < q.top - 1 || r.bottom > q.bottom + 1)
        return p.className || p.tagName;
    }
    return null;
  }
  function check(what, el, r) {
    if (!r.width && !r.height) return;
    if (r.left < -1 || r.top < -1 || r.right > W + 1 || r.bottom > H + 1) {
      bad.push(what + ": outside the viewport");
    }
    if (!el.closest(".slide-foot") && r.bottom > footTop + 1) bad.push(what + ": under the footer");
    const by = clip(el, r);
    if (by) bad.push(what + ": cut by " + by);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement, what = JSON.stringify(n.nodeValue.trim().slice(0, 30));
    if (!n.nodeValue.trim() || !el.checkVisibility({ visibilityProperty: true })) continue;
    if (el.closest(".vh")) continue;  // for screen readers only
    // Every text on the page is read from the back (the footer, the pills, the pace line...).
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 0.025 * H) bad.push(what + ": " + size + "px < 2.5 % of " + H);
    if (!stage.contains(el)) continue;  // placed by its own feature (the pace line in the margin)
    if (el.closest(".slide-session")) continue;  // the reminder of the session's title, with an ellipsis
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) check(what, el, r);
    const cut = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).textOverflow === "ellipsis";
    if (cut) bad.push(what + ": ellipsis");
  }
  for (const el of stage.querySelectorAll(".bar-track, .card, img, .pager")) {
    if (el.checkVisibility()) check(el.className || el.tagName, el, el.getBoundingClientRect());
  }
  return bad;
}"""

# A word cloud's words are drawn in its image (an SVG in an <img>): the same SVG is drawn inline
# at the place and scale the image is displayed at (object-fit: contain), and each word is
# measured there: its size as displayed, its box inside the image, the viewport, above the footer.
CLOUD = r"""async () => {
  const H = innerHeight, W = innerWidth, bad = [], img = document.getElementById("cloud-img");
  const foot = document.querySelector(".slide-foot").getBoundingClientRect().top;
  const r = img.getBoundingClientRect(), body = document.querySelector(".slide-body").getBoundingClientRect();
  const text = await (await fetch(img.currentSrc || img.src)).text();
  const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
  const [, , w, h] = svg.getAttribute("viewBox").trim().split(/\s+/).map(Number);
  const k = Math.min(r.width / w, r.height / h);
  const left = r.left + (r.width - w * k) / 2, top = r.top + (r.height - h * k) / 2;
  svg.setAttribute("width", w * k);
  svg.setAttribute("height", h * k);
  svg.style.cssText = `position:fixed;left:${left}px;top:${top}px;visibility:hidden;pointer-events:none`;
  document.body.appendChild(document.importNode(svg, true));
  const shown = document.body.lastElementChild;
  await document.fonts.ready;
  const words = Array.from(shown.querySelectorAll("text")), span = [Infinity, Infinity, -Infinity, -Infinity];
  for (const t of words) {
    const b = t.getBoundingClientRect(), size = parseFloat(t.getAttribute("font-size")) * k;
    const what = JSON.stringify(t.textContent);
    if (size < 0.025 * H) bad.push(what + ": " + size.toFixed(1) + "px < 2.5 % of " + H);
    if (b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1 || b.bottom > r.bottom + 1)
      bad.push(what + ": outside the image");
    if (b.left < -1 || b.right > W + 1 || b.top < -1 || b.bottom > foot + 1)
      bad.push(what + ": outside the slide");
    span[0] = Math.min(span[0], b.left); span[1] = Math.min(span[1], b.top);
    span[2] = Math.max(span[2], b.right); span[3] = Math.max(span[3], b.bottom);
  }
  shown.remove();
  const used = Math.max((span[2] - span[0]) / body.width, (span[3] - span[1]) / body.height);
  return { bad, words: words.length, used, missing: JSON.parse(svg.getAttribute("data-missing") || "[]") };
}"""


def _cloud_fits(page, name: str, groups: int | None) -> list[str]:
    """Every word of the cloud's image at 2.5 % of the screen's height or more, inside the slide;
    the cloud spans 85 % of the free width or height; the words left out are listed (returned)."""
    page.wait_for_function("() => { const i = document.getElementById('cloud-img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=60000)
    found = page.evaluate(CLOUD)
    assert found["bad"] == [], f"{name} {page.viewport_size}: {found['bad']}"
    assert found["words"] >= 20 and found["used"] >= 0.85, (name, page.viewport_size, found)
    if groups:  # more than fits: the lightest are left out, and listed
        assert found["missing"] and found["words"] + len(found["missing"]) == groups, found
    return found["missing"]


def _console_names_what_is_left_out(context, served, missing: list[str], locale: str) -> None:
    """The facilitator's console names the heaviest 12 words left out, then how many others."""
    page = context.new_page()
    try:
        goto_live(page, served["url"] + served["console"])
        crowded = next(a for a in served["activities"] if a["name"] == "wordcloud-crowded")
        note = page.locator(f".wc-missing[data-cloud='{crowded['id']}']")
        others = {"en": f" and {len(missing) - 12} others", "fr": f" et {len(missing) - 12} autres"}
        assert note.inner_text().endswith(", ".join(missing[:12]) + others[locale[:2]]), note.inner_text()
    finally:
        page.close()


# The items of the slide (rows, options, cards): all of them, or those visible now, by their text.
ITEMS = """(visible) => Array.from(document.querySelectorAll("#stage .bar, #stage .option-list > li, "
    + "#stage .qa-lists .card, #stage .columns .card, #stage .spotlight .card"))
  .filter(el => !visible || (el.querySelector(".bar-label") || el).checkVisibility())
  .map(el => el.textContent.trim())"""


def _pages_fit(page, name: str) -> int:
    """Check every page of the slide on screen (they also turn by themselves: a page whose number
    changed while it was looked at is looked at again); every item is on one. How many pages.
    Two frames first: a new window size is read (innerHeight) before its `resize` event has run,
    and that event is what makes the pages again."""
    page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    count = int(page.locator(".slide-body").get_attribute("data-fit"))
    every, seen, checked = set(page.evaluate(ITEMS, False)), set(), set()
    pager = page.locator(".pager")
    for _turn in range(3 * count):
        shown = pager.inner_text() if count > 1 else "Page 1/1"
        problems, visible = page.evaluate(PROBLEMS), page.evaluate(ITEMS, True)
        if count > 1 and pager.inner_text() != shown:
            continue
        assert problems == [], f"{name} {page.viewport_size}, {shown}: {problems}"
        assert re.fullmatch(rf"Page \d+/{count}", shown), shown
        checked.add(shown)
        seen |= set(visible)
        if len(checked) == count:
            break
        page.keyboard.press("PageDown")
    assert len(checked) == count, f"{name}: pages seen {checked} of {count}"
    assert seen == every, f"{name} {page.viewport_size}: never shown: {every - seen}"
    assert every or name.startswith("wordcloud"), f"{name}: no rows, options nor cards on the screen"
    return count


def _command(facilitator, action: str, activity: int | None = None) -> None:
    ack = facilitator.call("command", {"cid": new_cid(), "action": action, "activity": activity}, timeout=15)
    assert ack.get("ok"), ack


def _show(page, facilitator, activity) -> None:
    _command(facilitator, "show", activity)
    page.locator(f".slide[data-activity='{activity}'] .slide-body[data-fit]").wait_for(timeout=15000)


@contextmanager
def _served(database: Path, locale: str):
    info = seed(database, locale)
    with server(database) as srv:
        facilitator = connect(srv.url, {"token": info["facilitator"], "lang": locale})
        try:
            yield {**info, "url": srv.url, "facilitator": facilitator, "console": f"/f/{info['facilitator']}"}
        finally:
            facilitator.disconnect()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with _served(tmp_path_factory.mktemp("fit") / "palabre.db", "en") as info:
        yield info


@pytest.fixture(scope="module")
def browser():
    with chromium() as the_browser:
        yield the_browser


def _every_kind_fits(served, browser, width: int, height: int, locale: str) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    shots = os.environ.get("PALABRE_SCREENSHOTS")
    try:
        goto_live(page, f"{served['url']}/screen/{served['screen']}")
        assert page.locator("html").get_attribute("lang") == locale[:2]
        pages, missing = {}, []
        for a in served["activities"]:
            _show(page, served["facilitator"], a["id"])
            if a["name"].startswith("wordcloud"):  # its image, drawn in a worker process, has come
                missing = _cloud_fits(page, a["name"], a.get("groups")) or missing
            if shots:
                page.screenshot(path=str(Path(shots) / f"fit-{a['name']}-{width}x{height}.png"))
            pages[a["name"]] = _pages_fit(page, a["name"])
        # The long lists turn in pages; a few short rows fit at once.
        assert pages["single-6x40"] == 1 and pages["single"] > 1, pages
        _console_names_what_is_left_out(context, served, missing, locale)
        # The join QR code in the footer can be scanned from the back of the room.
        qr = page.locator(".foot-qr").bounding_box()
        assert min(qr["width"], qr["height"]) >= 0.12 * height, qr
        _command(served["facilitator"], "banner")
        page.locator(".banner").wait_for()
        assert page.evaluate(PROBLEMS) == []
        if shots:
            page.screenshot(path=str(Path(shots) / f"fit-banner-{width}x{height}.png"))
    finally:
        context.close()
    assert errors == []


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_kind_at_its_longest_fits_the_projector(served, browser, size):
    _every_kind_fits(served, browser, *size, "en-GB")


def test_a_french_session_fits_a_4_3_projector(browser, tmp_path):
    """French labels around the content (the screen speaks the session's language)."""
    with _served(tmp_path / "palabre.db", "fr") as served_fr:
        _every_kind_fits(served_fr, browser, 1024, 768, "fr-FR")


def test_results_pushed_while_on_screen_still_fit(served, browser):
    """Phones vote while the ranking (rows reordered by each push) is on screen at 1280x720: the
    rows follow, still in pages that fit, and the page shown stays the one the room was reading.
    Then the window becomes a 1024x768 projector: the pages are made again, and fit; and while
    votes keep coming, the pages still turn by themselves, unless paused."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-GB")
    page = context.new_page()
    ranking = next(a for a in served["activities"] if a["name"] == "ranking")
    phones = [connect(served["url"], {"code": served["code"], "lang": "en"},
                      cookie=join_cookie(served["url"], served["code"])) for _n in range(6)]
    try:
        goto_live(page, f"{served['url']}/screen/{served['screen']}")
        _show(page, served["facilitator"], ranking["id"])
        before = page.locator(".foot-count").inner_text()
        page.keyboard.press("PageDown")
        pressed = time.monotonic()
        reading = page.locator(".pager").inner_text()
        assert reading.startswith("Page 2/")
        order = list(reversed(ranking["options"]))
        for n, phone in enumerate(phones):
            vote = {"cid": new_cid(), "activity": ranking["id"], "choice": order[n:] + order[:n]}
            ack = phone.call("vote", vote, timeout=15)
            assert ack.get("ok"), ack
        assert wait_until(lambda: page.locator(".foot-count").inner_text() != before
                          and "29 answers" in page.locator(".foot-count").inner_text(), 15,
                          sleep=page.wait_for_timeout), page.locator(".foot-count").inner_text()
        if time.monotonic() - pressed < 7:  # else the pages may have turned by themselves (8 s)
            assert page.locator(".pager").inner_text() == reading
        _pages_fit(page, "ranking, live")
        page.set_viewport_size({"width": 1024, "height": 768})
        page.wait_for_function("innerHeight === 768")
        _pages_fit(page, "ranking, resized")
        # Votes keep changing (a push every few tenths of a second): the pages still turn.
        reading, turned, n = page.locator(".pager").inner_text(), False, 0
        deadline = time.monotonic() + 25
        while not turned and time.monotonic() < deadline:
            n += 1
            vote = {"cid": new_cid(), "activity": ranking["id"], "choice": order[n % 12:] + order[:n % 12]}
            assert phones[n % len(phones)].call("vote", vote, timeout=15).get("ok")
            page.wait_for_timeout(300)  # paces the votes
            turned = page.locator(".pager").inner_text() != reading
        assert turned, "the pages stopped turning while results were pushed"
        # P pauses the turning (WCAG 2.2.2), PageDown still turns by hand; P again restarts it.
        page.keyboard.press("p")
        assert page.locator(".pager.paused").count() == 1
        reading = page.locator(".pager").inner_text()
        page.wait_for_timeout(9000)  # longer than a page's 8 s: nothing turns
        assert page.locator(".pager").inner_text() == reading
        page.keyboard.press("PageDown")
        assert page.locator(".pager").inner_text() != reading
        page.keyboard.press("p")
        assert page.locator(".pager.paused").count() == 0
    finally:
        for phone in phones:
            phone.disconnect()
        context.close()


def _in_view(page, selector: str) -> bool:
    return page.evaluate("""(sel) => { const el = document.querySelector(sel);
      if (!el || !el.checkVisibility()) return false;
      const r = el.getBoundingClientRect(); return r.top >= -1 && r.bottom <= innerHeight + 1; }""", selector)


def test_results_revealed_on_a_phone_are_pointed_to(served, browser):
    """A phone at 360x640 answers the longest poll; when the facilitator reveals the results they
    land far below the fold (under 12 options of 120 characters): a link kept in view, above the
    send button, points to them, and brings them into view."""
    poll = next(a for a in served["activities"] if a["name"] == "single-options")
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="en-GB", has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    facilitator = served["facilitator"]
    try:
        _command(facilitator, "show", poll["id"])
        goto_live(page, f"{served['url']}/j/{served['code']}")
        page.locator("#vote").wait_for()
        assert page.locator(".to-results").count() == 0  # nothing to point to yet
        _command(facilitator, "reveal", poll["id"])
        page.locator("#results").wait_for()
        assert not _in_view(page, "#results"), "the test needs results below the fold"
        assert _in_view(page, ".to-results a"), "nothing in view points to the results"
        above = """() => document.querySelector('.to-results a').getBoundingClientRect().bottom
                         <= document.querySelector('.submit-bar').getBoundingClientRect().top"""
        assert page.evaluate(above), "the link is under the send bar"
        if os.environ.get("PALABRE_SCREENSHOTS"):
            page.screenshot(path=str(Path(os.environ["PALABRE_SCREENSHOTS"]) / "phone-results-pointer.png"))
        page.locator(".to-results a").click()
        assert wait_until(lambda: _in_view(page, "#results"), 5, sleep=page.wait_for_timeout)
    finally:
        _command(facilitator, "hide", poll["id"])
        context.close()


ZOOMED = [(960, 540), (512, 384)]


@pytest.mark.parametrize("size", ZOOMED, ids=[f"{w}x{h}@2x" for w, h in ZOOMED])
def test_the_screen_zoomed_to_200_percent_cuts_nothing(served, browser, size):
    """Browser zoom at 200 % on the projector's browser (1920x1080 and 1024x768 seen as half the
    CSS pixels, each two device pixels): a poll with results, an idea wall and a Q&A still fit,
    with no horizontal scrolling and no text under 2.5 % of the height, on every page."""
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=2)
    page = context.new_page()
    try:
        goto_live(page, f"{served['url']}/screen/{served['screen']}")
        wide = {}
        for a in served["activities"]:
            if a["name"] not in ("single", "ideas", "questions"):
                continue
            _show(page, served["facilitator"], a["id"])
            if page.locator(".pager").count():
                page.keyboard.press("p")  # turned by hand only (drawing twice the pixels is slow)
            _pages_fit(page, a["name"])
            scroll = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            if scroll[0] > scroll[1]:
                wide[a["name"]] = scroll
    finally:
        context.close()
    assert wide == {}, f"horizontal scrolling at 200 %: {wide}"


def test_a_screen_opened_on_a_slide_in_pages_keeps_its_page(served, browser):
    """A screen (re)loaded while a slide in pages is already on shows page 1 and keeps it until
    the 8 s turn (its first paging used to start before the page timer was set: the pages then
    flickered from one to the next without a pause)."""
    single = next(a for a in served["activities"] if a["name"] == "single")
    _command(served["facilitator"], "show", single["id"])
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        goto_live(page, f"{served['url']}/screen/{served['screen']}")
        page.locator(".pager").wait_for(timeout=15000)
        seen = set()
        for _ in range(10):
            seen.add(page.locator(".pager").inner_text())
            page.wait_for_timeout(200)
    finally:
        context.close()
    assert len(seen) == 1 and next(iter(seen)).startswith("Page 1/"), seen
