"""A whole workshop in real Chromium: an idea wall of three columns and a Q&A for a panel, four
phones, two moderators (a laptop and a phone, two browser contexts on the moderator link), the
facilitator's console and the screen at 1920x1080 and 1280x720. Everything goes through the
pages (clicks and forms), nothing through the service. Screenshots go to $PALABRE_SHOTS when
set (else to the test's temporary folder)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from support import chromium, playwright_or_skip, query, server

pytestmark = [pytest.mark.browser, pytest.mark.server]

COLUMNS = ["Constats", "Idées", "Actions"]
IDEAS = [  # (phone, column, text)
    (0, 0, "Nos ordinateurs sont remplacés tous les quatre ans alors qu'ils fonctionnent encore"),
    (1, 0, "Les pièces jointes lourdes circulent par courriel au lieu d'un lien vers le serveur"),
    (0, 1, "Allonger la durée de vie des équipements"),
    (2, 1, "Allonger la durée de vie de nos équipements"),
    (3, 1, "Mutualiser une salle serveur entre communes voisines"),
    (1, 1, "<img src=x onerror=alert(1)> pas de balise ici"),
    (2, 2, "Former les agents à l'écoconception des services en ligne"),
    (3, 2, "Ouvrir un atelier de réparation avec le Repair Café de Chartres"),
    (3, 0, "Les fournisseurs qui nous vendent du neuf sont des connards"),
]
QUESTIONS = [  # (phone, name, text)
    (0, "Claire", "Comment convaincre les élus d'investir dans la sobriété numérique quand le budget "
                  "est contraint et que les bénéfices sont difficiles à chiffrer à court terme ?"),
    (1, "", "Quels indicateurs simples recommandez-vous pour mesurer l'empreinte environnementale "
            "d'un service public en ligne, sans y passer des semaines ni payer un cabinet ?"),
    (2, "Yann", "Le matériel reconditionné est-il vraiment fiable pour équiper une école entière, "
                "et qui s'occupe de la maintenance quand une machine tombe en panne ?"),
    (3, "", "Comment associer les habitants aux choix numériques de la commune ?"),
    (0, "Claire", "Faut-il interdire la vidéo en lecture automatique sur les sites des collectivités, "
                  "même pour les pages d'accueil des offices de tourisme ?"),
    (1, "", "Quelle place pour les logiciels libres dans les marchés publics des petites communes "
            "qui n'ont pas de service informatique ?"),
    (2, "Yann", "Peut-on demander aux éditeurs de logiciels de garantir que leurs mises à jour "
                "fonctionneront encore sur des ordinateurs de dix ans ?"),
]


def _setup(database: Path) -> dict:
    """A workshop (French) with a three-column idea wall on screen and open, and a Q&A."""
    from live.boards import service
    from live.sessions import service as sessions
    from live.store import Store, upgrade

    url = f"sqlite:///{database}"
    upgrade(url)
    store = Store(url)
    try:
        with store.write() as db:
            event = sessions.create_event(db, "Human Tech Days — Chartres", "Chartres", "2022-04-05")
            s = sessions.create_session(db, event, "workshop", "Atelier : un numérique plus sobre",
                                        locale="fr")
            wall = service.add_board(db, s, "ideas", "Comment rendre notre numérique plus sobre ?",
                                     {"columns": COLUMNS, "signed": True})
            qa = service.add_board(db, s, "questions", "Vos questions au panel")
            sessions.show(db, s, wall, "facilitator")
            sessions.open_activity(db, s, wall, "facilitator")
            return {"wall": wall.id, "qa": qa.id, "code": s.join_code,
                    "facilitator": s.facilitator_token, "moderator": s.moderator_token,
                    "screen": s.screen_token}
    finally:
        store.dispose()


def _fits(page, timeout: float = 3.0) -> bool:
    """Nothing of the board is cut: every card lies inside the slide body (waiting at most
    `timeout` seconds for the layout to settle)."""
    try:
        page.wait_for_function(FITS, timeout=timeout * 1000)
    except playwright_or_skip().TimeoutError:
        return False
    return True


FITS = """() => {
      const body = document.querySelector('.slide-body');
      if (!body) return false;
      const limit = body.getBoundingClientRect().bottom + 1;
      const cards = [...document.querySelectorAll('.board-screen .card')];
      return body.scrollHeight <= body.clientHeight + 1 &&
        cards.every(c => c.getBoundingClientRect().bottom <= limit);
    }"""


def test_a_workshop_with_three_columns_and_a_panel_q_and_a_end_to_end(tmp_path):
    shots = Path(os.environ.get("PALABRE_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    database = tmp_path / "palabre.db"
    info = _setup(database)
    started = time.monotonic()
    problems: list[str] = []
    with server(database) as srv, chromium() as browser:
        _run(browser, srv.url, info, shots, problems, database)
    assert problems == []
    print(f"the workshop, end to end: {time.monotonic() - started:.1f} s")  # 54-75 s in CI: a figure


def _page(browser, problems, name, size, url, mobile=False, hold=None):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="fr-FR",
                                  is_mobile=mobile, has_touch=mobile, device_scale_factor=1)
    page = context.new_page()
    if hold is not None:
        page.route_web_socket(re.compile(r".*/socket\.io/.*"), lambda ws: _holding(ws, hold))
    page.on("pageerror", lambda exc: problems.append(f"{name}: {exc}"))
    page.on("dialog", lambda d: (problems.append(f"{name}: dialog {d.message}"), d.dismiss()))
    page.goto(url)
    return page


def _holding(ws, hold: dict) -> None:
    """Relay a page's socket; while `hold["pushes"]`, the server's pushes (not the answers to the
    page's own requests) are held back: the page stays as it was, stale."""
    server = ws.connect_to_server()

    def down(message):
        if not (hold["pushes"] and isinstance(message, str) and message.startswith('42["')):
            ws.send(message)

    server.on_message(down)
    ws.on_message(server.send)


def _item_id(moderator, text) -> int:
    li = moderator.locator(".mod-item", has=moderator.locator(".mod-text", has_text=text)).first
    li.wait_for(timeout=5000)
    return int(li.get_attribute("id").split("-")[1])


def _settle(moderator):
    """Wait until the console has drawn the last change it heard of: `#boards` says
    `data-synced="1"` when no redraw is waiting or under way (a push of a stamp already drawn
    starts none), so a click never lands on a board about to be replaced."""
    moderator.locator("#boards[data-synced='1']").wait_for(state="attached", timeout=5000)


def _done(moderator):
    """The console says the last action is done; clear the line for the next one."""
    moderator.locator("#mod-status.is-ok").wait_for(timeout=5000)
    moderator.evaluate("document.getElementById('mod-status').className = 'form-status'")


def _mod_click(moderator, item_id, action):
    _settle(moderator)
    moderator.locator(f"#item-{item_id} button[value^='{action}:']").click()
    _done(moderator)


def _run(browser, base, info, shots, problems, database):
    """The workshop, step by step, on the same pages."""
    w = _open_pages(browser, base, info, problems)
    w.shots, w.database = shots, database
    _post_ideas(w)
    _merge_and_approve(w)
    _stale_moderator_is_told(w)
    _curate(w)
    _author_rewrites_while_approved(w)
    _dot_vote(w)
    _reveal_and_spotlight(w)
    _q_and_a(w)
    _log_is_complete(w)


def _open_pages(browser, base, info, problems) -> SimpleNamespace:
    """Four phones, two moderators (laptop and phone, named), the console, two screens."""
    phones = [_page(browser, problems, f"phone{n}", (360, 640), f"{base}/j/{info['code']}", mobile=True)
              for n in range(4)]
    mod_a = _page(browser, problems, "moderator-laptop", (1280, 800), f"{base}/m/{info['moderator']}")
    hold = {"pushes": False}
    mod_b = _page(browser, problems, "moderator-phone", (360, 640), f"{base}/m/{info['moderator']}",
                  mobile=True, hold=hold)
    console = _page(browser, problems, "console", (1280, 900), f"{base}/f/{info['facilitator']}")
    screen = _page(browser, problems, "screen", (1920, 1080), f"{base}/screen/{info['screen']}")
    small = _page(browser, problems, "screen-720", (1280, 720), f"{base}/screen/{info['screen']}")
    for phone in phones:
        phone.wait_for_function("document.querySelector('#board')")  # the server's; then board-phone.js
    mod_a.locator("input[name=by]").first.fill("Léa")
    mod_a.locator("input[name=by]").first.dispatch_event("change")
    mod_b.locator("input[name=by]").first.fill("Malik")
    mod_b.locator("input[name=by]").first.dispatch_event("change")
    return SimpleNamespace(phones=phones, mod_a=mod_a, mod_b=mod_b, console=console, screen=screen,
                           small=small, info=info, hold=hold)


def _post_ideas(w) -> None:
    """The idea wall: four phones post through the form; pre-moderation hides them."""
    phones = w.phones
    # --- the idea wall: four phones post through the form ------------------------------------
    for phone_n, column, text in IDEAS:
        phone = phones[phone_n]
        phone.fill("#board-text", text)
        phone.select_option("#board-column", str(column))
        if phone_n == 0:
            phone.fill("#board-name", "Claire")
        phone.locator("#board-post button").click()
        phone.locator("#board-status.is-ok").wait_for(timeout=5000)
        phone.evaluate("document.getElementById('board-status').className = 'form-status'")
    assert "relira" in phones[0].locator("#board-status").inner_text() or \
        phones[0].locator("#board-mine .badge-pending").count() >= 1
    # Pre-moderation: no phone sees another phone's pending idea.
    assert "Mutualiser" not in phones[0].locator("#stage").inner_text()


def _merge_and_approve(w) -> None:
    """A likely duplicate is merged from the phone; the laptop approves the rest at once."""
    mod_a, mod_b, screen, shots, database = w.mod_a, w.mod_b, w.screen, w.shots, w.database
    ids = {text: _item_id(mod_a, text) for _, _, text in IDEAS}
    flagged = ids[IDEAS[8][2]]
    assert mod_a.locator(f"#item-{flagged} .badge-flag").count() == 1  # profanity list
    # The likely duplicate is suggested; the moderator on a phone merges it.
    duplicate, original = ids[IDEAS[3][2]], ids[IDEAS[2][2]]
    mod_b.locator(f"#item-{duplicate} .mod-dup").wait_for(timeout=5000)
    mod_b.screenshot(path=str(shots / "moderator-360-queue.png"), full_page=False)
    mod_a.screenshot(path=str(shots / "moderator-1280-queue.png"), full_page=False)
    mod_b.locator(f"#item-{duplicate} button[name=merge_pair]").click()
    _done(mod_b)
    (kept,), = query(database, "select history from board_items where id = ?", (original,))
    assert [h["text"] for h in json.loads(kept)] == [IDEAS[3][2]]  # the merged item keeps both texts

    # The laptop moderator approves the rest at once (bulk), but not the flagged one.
    mod_a.locator(f"#item-{duplicate}").wait_for(state="detached", timeout=5000)
    for item in ids.values():
        if item not in (flagged, duplicate):
            mod_a.locator(f"#item-{item} input[name=item]").check()
    mod_a.locator(".mod-bulk button[value=approve]").first.click()
    _done(mod_a)
    started = time.monotonic()
    screen.locator(".card-text", has_text="Mutualiser une salle serveur").wait_for(timeout=3000)
    reached = time.monotonic() - started
    assert reached < 1.5, reached
    w.ids, w.flagged, w.duplicate = ids, flagged, duplicate


def _stale_moderator_is_told(w) -> None:
    """A stale moderator's action on a changed item is refused in words."""
    mod_a, mod_b, shots, database, flagged = w.mod_a, w.mod_b, w.shots, w.database, w.flagged
    # Two moderators on the same item: the phone moderator's page is stale (the pushes that
    # would redraw it are held back), it approves what the laptop has just rejected: "changed
    # meanwhile", nothing lost.
    _settle(mod_b)  # it shows the item as it is before the laptop's click
    w.hold["pushes"] = True
    _mod_click(mod_a, flagged, "reject")
    mod_b.locator(f"#item-{flagged} button[value^='approve:']").click()
    mod_b.locator("#mod-status.is-error").wait_for(timeout=5000)
    conflict = mod_b.locator("#mod-status").inner_text()
    assert f"#{flagged}" in conflict and "rejet" in conflict.lower()
    mod_b.screenshot(path=str(shots / "moderator-360-conflict.png"))
    w.hold["pushes"] = False
    mod_b.reload()
    assert query(database, "select status from board_items where id = ?", (flagged,)) == [("rejected",)]


def _curate(w) -> None:
    """Move, pin, highlight and edit from the laptop; the original text is kept."""
    mod_a, screen, database, ids = w.mod_a, w.screen, w.database, w.ids
    # Move, pin, highlight, edit (the original is kept) from the laptop.
    repair = ids[IDEAS[7][2]]
    _mod_click(mod_a, repair, "pin")
    _mod_click(mod_a, ids[IDEAS[4][2]], "highlight")
    servers = ids[IDEAS[4][2]]
    _settle(mod_a)
    mod_a.locator(f"#item-{servers} input[name=item]").check()
    mod_a.locator(".mod-bulk select[name=column]").first.select_option("2")
    mod_a.locator(".mod-bulk button[value=move]").first.click()
    _done(mod_a)
    hostile = ids[IDEAS[5][2]]
    _settle(mod_a)
    mod_a.locator(f"#item-{hostile} .mod-edit summary").click()
    mod_a.fill(f"textarea[name=text_{hostile}]", "Pas de balise ici (texte corrigé)")
    mod_a.locator(f"#item-{hostile} button[name=edit]").click()
    _done(mod_a)
    screen.locator(".card-text", has_text="texte corrigé").wait_for(timeout=3000)
    (original_text, history), = query(database, "select original_text, history from board_items where id = ?",
                                      (hostile,))
    assert original_text.startswith("<img") and "<img" in history
    w.servers = servers


def _author_rewrites_while_approved(w) -> None:
    """The author is told, not silently redrawn."""
    phones, mod_a, shots = w.phones, w.mod_a, w.shots
    # An author rewrites a pending idea while a moderator approves it: told, not silently redrawn.
    phones[1].fill("#board-text", "Éteindre les écrans la nuit dans les bâtiments publics")
    phones[1].select_option("#board-column", "2")
    phones[1].locator("#board-post button").click()
    phones[1].locator("#board-status.is-ok").wait_for(timeout=5000)
    late = _item_id(mod_a, "Éteindre les écrans")
    phones[1].locator(f"[data-edit='{late}']").click()
    phones[1].locator(f"#board-edit-{late}").fill("Éteindre les écrans la nuit")
    _mod_click(mod_a, late, "approve")
    notice = phones[1].locator("#board-mine .form-status.is-error")
    notice.wait_for(timeout=5000)
    assert "entre-temps" in notice.inner_text() and "approuvée" in notice.inner_text()
    assert phones[1].locator(f"#board-edit-{late}").count() == 0
    phones[1].screenshot(path=str(shots / "phone-changed-meanwhile.png"))


def _dot_vote(w) -> None:
    """Three dots each; the phone shows what is left and refuses a fourth."""
    phones, info, database, shots = w.phones, w.info, w.database, w.shots
    # Dot voting: three dots each; the phone shows what is left and refuses a fourth.
    for n, phone in enumerate(phones):
        for k in range(3):
            choices = phone.locator(".board-vote button.btn-primary:not([disabled])")
            choices.nth((n + 2 * k) % choices.count()).click()
            phone.locator("#board-status.is-ok").wait_for(timeout=5000)
            phone.evaluate("document.getElementById('board-status').className = 'form-status'")
        assert "0" in phone.locator("#votes-left").inner_text()
        assert phone.locator(".board-vote button.btn-primary:not([disabled])").count() == 0
    (spent,), = query(database, "select count(*) from board_votes where activity_id = ?", (info["wall"],))
    assert spent == 12
    phones[0].evaluate("document.getElementById('votes-left').scrollIntoView()")
    phones[0].screenshot(path=str(shots / "ideas-phone.png"))


def _reveal_and_spotlight(w) -> None:
    """Counts revealed, the wall fits both screens, one idea in the spotlight."""
    console, screen, small, info, shots, servers = w.console, w.screen, w.small, w.info, w.shots, w.servers
    # The facilitator reveals the counts and sorts by votes; the screen shows them, and fits.
    console.locator(f"button[data-key='reveal-{info['wall']}']").click()
    screen.locator(".card-votes").first.wait_for(timeout=5000)
    for page in (screen, small):
        page.locator(".card.is-pinned").wait_for(timeout=5000)
        assert _fits(page), "the wall is cut"
    assert screen.locator(".column").nth(2).locator(".card-text", has_text="Mutualiser").count() == 1  # moved
    assert screen.locator(".card.is-highlighted").count() == 1
    assert screen.locator(".card.is-pinned .card-text", has_text="Repair Café").count() == 1
    assert screen.locator(".card-meta", has_text="Claire").count() >= 1  # signed
    assert screen.locator("img[src=x]").count() == 0
    screen.screenshot(path=str(shots / "ideas-screen.png"))
    small.screenshot(path=str(shots / "ideas-screen-1280.png"))
    # Spotlight one idea full-screen.
    console.select_option(".board-display select[name=spotlight]", str(servers))
    console.locator(".board-display button").click()
    screen.locator(".card.is-spotlight").wait_for(timeout=5000)
    screen.screenshot(path=str(shots / "ideas-spotlight.png"))
    console.select_option(".board-display select[name=spotlight]", "")
    console.locator(".board-display button").click()
    screen.locator(".board-screen .columns").wait_for(timeout=5000)

    # The console agenda counts what moderation did (rejected: the flagged idea).
    counts = console.locator(f"#a{info['wall']} .board-counts").inner_text()
    assert "rejetées : 1" in counts, counts
    console.screenshot(path=str(shots / "console.png"), full_page=True)


def _q_and_a(w) -> None:
    """The Q&A for the panel: posted, upvoted, answered, shown on both screens."""
    phones, mod_a, mod_b, console, screen, small = w.phones, w.mod_a, w.mod_b, w.console, w.screen, w.small
    info, shots = w.info, w.shots
    # --- the Q&A for the panel -----------------------------------------------------------------
    console.locator(f"button[data-key='show-{info['qa']}']").click()
    console.locator(f"button[data-key='open-{info['qa']}']").wait_for(timeout=5000)
    console.locator(f"button[data-key='open-{info['qa']}']").click()
    for phone in phones:
        phone.locator(f"#board[data-board='{info['qa']}'] #board-text").wait_for(timeout=5000)
        assert phone.locator("#board-column").count() == 0
    for phone_n, name, text in QUESTIONS:
        phone = phones[phone_n]
        phone.fill("#board-text", text)
        phone.fill("#board-name", name)
        phone.locator("#board-post button").click()
        phone.locator("#board-status.is-ok").wait_for(timeout=5000)
        phone.evaluate("document.getElementById('board-status').className = 'form-status'")
    # Post-moderation: visible at once; everyone upvotes the others' questions.
    screen.locator(".qa-top .card").first.wait_for(timeout=3000)
    for n, phone in enumerate(phones):
        for k in range(2 + n % 2):
            phone.locator(".board-vote button.btn-primary").nth(k).click()
            phone.locator("#board-status.is-ok").wait_for(timeout=5000)
            phone.evaluate("document.getElementById('board-status').className = 'form-status'")
    qids = [_item_id(mod_a, text[:40]) for _, _, text in QUESTIONS]
    # The moderator on a phone sets the question being answered; the screen shows it.
    _settle(mod_b)
    mod_b.locator(f"#item-{qids[0]} button[name=current]").click()
    _done(mod_b)
    screen.locator(".qa-current .card-text", has_text="convaincre les élus").wait_for(timeout=3000)
    screen.screenshot(path=str(shots / "qa-screen-current.png"))
    _mod_click(mod_a, qids[3], "answer")
    screen.locator(".qa-done .card-text", has_text="associer les habitants").wait_for(timeout=3000)
    mod_a.locator(f"#item-{qids[0]}").wait_for(timeout=5000)
    for page in (screen, small):
        # A screen whose cards do not fit shows them a page at a time, turning every 8 s
        # (static/js/screen.js, PAGE_MS): the first answered card may be on the next page.
        page.locator(".qa-done .card").first.wait_for(timeout=20000)
        assert _fits(page), "the Q&A is cut"
        assert page.locator(".qa-top .card").count() >= 1
    assert screen.locator(".qa-current .card-meta", has_text="Claire").count() == 1
    screen.screenshot(path=str(shots / "qa-screen.png"))
    small.screenshot(path=str(shots / "qa-screen-1280.png"))
    phones[2].screenshot(path=str(shots / "qa-phone.png"))
    mod_a.screenshot(path=str(shots / "moderator-1280-qa.png"))
    mod_b.screenshot(path=str(shots / "moderator-360-qa.png"))


def _log_is_complete(w) -> None:
    """Every moderation action is logged with the link and the name, before and after."""
    database = w.database
    # Every moderation action is logged with the link and the name, before and after.
    rows = query(database, "select link, moderator, action, before, after from board_log")
    assert {("moderator", "Léa"), ("moderator", "Malik")} <= {(r[0], r[1]) for r in rows}
    assert {"merge", "approve", "reject", "pin", "highlight", "move", "edit", "answer", "current"} <= {
        r[2] for r in rows}
    assert all(r[3] for r in rows if r[2] != "current")
