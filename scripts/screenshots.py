"""Take the README's screenshots from the real pages: `python scripts/screenshots.py [OUT_DIR]`.

Starts the real server on 127.0.0.1 with a scratch database, seeds a round table from the demo
event with 37 phones that answered a poll, drives it through the facilitator console in headless
Chromium (the system's /usr/bin/chromium), and saves phone (360×640), screen (1920×1080) and
console shots, plus a side-by-side composite, into OUT_DIR (default docs/screenshots).
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.realserver import Server, sqlite_url  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def seed(database: Path) -> dict:
    """A round table of the demo event; 37 participants answered its first poll."""
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store, upgrade

    demo = json.loads((ROOT / "live" / "demo" / "event.json").read_text(encoding="utf-8"))
    upgrade(sqlite_url(database))
    store = Store(sqlite_url(database))
    rng = random.Random(4)
    with store.write() as db:
        info = demo["event"]
        event = sessions.create_event(db, info["title"], info.get("place"), info.get("date"))
        table = demo["sessions"][0]
        live_session = sessions.create_session(db, event, table["kind"], table["title"])
        ids = []
        for item in table["activities"]:
            if item["kind"] != "poll":
                continue
            settings = {"scale_max": item.get("max", 5), "label_low": (item.get("labels") or [""])[0],
                        "label_high": (item.get("labels") or [""])[-1]} if item["type"] == "scale" else {}
            ids.append(polls.add_poll(db, live_session, item["type"], item["question"],
                                      item.get("options"), settings).id)
        first = ids[0]
        sessions.apply_command(db, live_session, "open", first)
        activity = sessions.get_activity(db, live_session, first)
        options = [o.id for o in polls.options_of(db, activity)]
        for n in range(37):
            person = sessions.join(db, live_session, f"seed-{n}")
            polls.vote(db, live_session, activity, person, rng.choices(options, weights=[5, 8, 14, 4])[0])
        result = {"code": live_session.join_code, "facilitator": live_session.facilitator_token,
                  "screen": live_session.screen_token, "poll": first}
    store.dispose()
    return result


def main(out: Path) -> None:
    """Take every screenshot into `out`."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "palabre.db"
        s = seed(database)
        server = Server(database, "eventlet", PUBLIC_URL="http://192.168.1.20:5000")
        with server as srv, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            fr = {"locale": "fr-FR"}
            screen = browser.new_context(viewport={"width": 1920, "height": 1080}, **fr).new_page()
            console = browser.new_context(viewport={"width": 1280, "height": 900}, **fr).new_page()
            phone = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True,
                                        has_touch=True, device_scale_factor=2, **fr).new_page()
            screen.goto(f"{srv.url}/screen/{s['screen']}")
            screen.wait_for_timeout(800)
            screen.screenshot(path=out / "screen-banner.png")
            console.goto(f"{srv.url}/f/{s['facilitator']}")
            phone.goto(f"{srv.url}/j/{s['code']}")
            console.click(f"[data-key='show-{s['poll']}']")
            phone.wait_for_selector("input[name=choice]")
            phone.locator("input[name=choice]").nth(1).check()
            phone.locator("form .btn-primary").first.click()
            phone.wait_for_timeout(800)
            phone.screenshot(path=out / "phone-vote.png")
            console.click(f"[data-key='reveal-{s['poll']}']")
            screen.wait_for_selector(".bars")
            screen.wait_for_timeout(800)
            screen.screenshot(path=out / "screen-results.png")
            phone.wait_for_selector(".bars")
            phone.wait_for_timeout(500)
            phone.screenshot(path=out / "phone-results.png")
            console.wait_for_timeout(500)
            console.screenshot(path=out / "console.png")
            small = browser.new_context(viewport={"width": 1280, "height": 720}, **fr).new_page()
            small.goto(f"{srv.url}/screen/{s['screen']}")
            small.wait_for_selector(".bars")
            small.screenshot(path=out / "screen-results-720p.png")
            pocket = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True,
                                         has_touch=True, device_scale_factor=2, **fr).new_page()
            pocket.goto(f"{srv.url}/f/{s['facilitator']}")
            pocket.wait_for_timeout(500)
            pocket.screenshot(path=out / "console-phone.png")
            browser.close()
    _composite(out, Image)


def _composite(out: Path, Image) -> None:
    """Phone, screen and console side by side, scaled to 1600 px wide."""
    phone = Image.open(out / "phone-vote.png").convert("RGB")
    screen = Image.open(out / "screen-results.png").convert("RGB")
    console = Image.open(out / "console.png").convert("RGB")
    height = 720
    parts = [im.resize((round(im.width * height / im.height), height)) for im in (phone, screen, console)]
    gap = 16
    canvas = Image.new("RGB", (sum(p.width for p in parts) + gap * 4, height + gap * 2), "#d9dde3")
    x = gap
    for part in parts:
        canvas.paste(part, (x, gap))
        x += part.width + gap
    canvas = canvas.resize((1600, round(canvas.height * 1600 / canvas.width)))
    canvas.save(out / "session.png", optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
