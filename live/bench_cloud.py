"""Word clouds through the real server: a prepared session, phones that type, the screen's image.

`python -m live.bench cloudlatency` measures, for each entry, the delay from its ack to the
first `cloud` push whose SVG contains it (what the room sees on the projector). The tests use
`prepare_wordcloud` and `Cloud` to drive the same server the same way.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from live.bench_burst import (
    Listener,
    Server,
    Setup,
    close_all,
    connect,
    http_get,
    join_cookie,
    new_cid,
    sqlite_url,
)

SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def prepare_wordcloud(database: Path, locale: str = "en", reveal: bool = True, **settings) -> Setup:
    """Migrate `database`; create a session with a word cloud, shown, open and (by default) revealed."""
    from live.sessions import service as sessions
    from live.store import Store, upgrade
    from live.wordclouds import service as clouds

    url = sqlite_url(database)
    upgrade(url)
    store = Store(url)
    try:
        with store.write() as db:
            event = sessions.create_event(db, "Human Tech Days", "Chartres")
            live_session = sessions.create_session(db, event, "round_table", "Un numérique sobre",
                                                   locale=locale)
            activity = clouds.add_wordcloud(db, live_session, "En un mot : un numérique sobre, c'est… ?",
                                            settings)
            ids = (live_session.id, live_session.join_code, live_session.facilitator_token,
                   live_session.moderator_token, live_session.screen_token, activity.id)
        for action in ("show", "open") + (("reveal",) if reveal else ()):
            with store.write() as db:
                sessions.apply_command(db, sessions.get_session(db, ids[0]), action, ids[5])
        return Setup(Path(database), ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], [])
    finally:
        store.dispose()


def svg_words(base_url: str, setup: Setup, v: str = "") -> set[str]:
    """The words of the cloud's image as the screen gets it (`v`: the version pushed)."""
    status, _headers, body = http_get(base_url, f"/cloud/{setup.activity}.svg?t={setup.screen}&v={v}")
    if status != 200:
        raise RuntimeError(f"GET cloud image answered {status}")
    return {"".join(t.itertext()) for t in ET.fromstring(body).iter(SVG_TEXT)}


def join_phones(base_url: str, setup: Setup, count: int, workers: int = 32) -> list:
    """`count` phones, each with its own cookie, connected over WebSocket."""
    def one(_index):
        cookie = join_cookie(base_url, setup.code)
        return connect(base_url, {"code": setup.code, "lang": "en"}, cookie=cookie)

    with ThreadPoolExecutor(max(1, min(workers, count))) as pool:
        return list(pool.map(one, range(count)))


def send_word(phone, setup: Setup, text: str, timeout: float = 15) -> dict:
    """One entry; the ack."""
    return phone.call("word:add", {"cid": new_cid(), "activity": setup.activity, "text": text},
                      timeout=timeout)


def latency(participants: int = 200, words_each: int = 1, spread: float = 10.0, mode: str = "eventlet",
            workdir: Path | None = None, seed: int = 11) -> dict:
    """Phones type distinct words over `spread` seconds; delays from each ack to the image."""
    import tempfile

    workdir = Path(workdir or tempfile.mkdtemp(prefix="palabre-cloud-"))
    setup = prepare_wordcloud(workdir / "palabre.db", entries_per_participant=max(3, words_each))
    server = Server(setup.database, mode, log=workdir / "server.log", RATE_LIMIT_PER_10S=100000)
    phones: list = []
    screen_client = None
    try:
        server.start()
        screen = Listener("cloud")
        screen_client = connect(server.url, {"token": setup.screen, "lang": "en"}, listener=screen)
        phones = join_phones(server.url, setup, participants)
        rng = random.Random(seed)
        acked: dict[str, float] = {}
        refused: list = []
        lock = threading.Lock()

        def typist(index: int, phone) -> None:
            for n in range(words_each):
                time.sleep(rng.uniform(0, spread / words_each))
                text = f"mot{index:03d}x{n}"
                ack = send_word(phone, setup, text)
                with lock:
                    if ack.get("ok"):
                        acked[text] = time.perf_counter()
                    else:
                        refused.append(ack)

        start = time.perf_counter()
        with ThreadPoolExecutor(participants) as pool:
            list(pool.map(lambda pair: typist(*pair), enumerate(phones)))
        typing = time.perf_counter() - start
        screen.quiet_for("cloud", 2.5, 30)
        pushes = screen.received["cloud"]
        seen: dict[str, set[str]] = {}
        for _t, data in pushes:
            if data["v"] not in seen:
                seen[data["v"]] = svg_words(server.url, setup, data["v"])
        delays, missing = [], 0
        for text, t_ack in acked.items():
            shown = [t for t, data in pushes if t >= t_ack and text in seen[data["v"]]]
            if shown:
                delays.append(min(shown) - t_ack)
            else:
                missing += 1
        delays.sort()
        return {
            "participants": participants, "entries_acked": len(acked), "refused": len(refused),
            "typing_seconds": round(typing, 1), "cloud_pushes": len(pushes), "never_shown": missing,
            "p50_s": round(statistics.median(delays), 2) if delays else None,
            "p95_s": round(delays[int(0.95 * (len(delays) - 1))], 2) if delays else None,
            "max_s": round(delays[-1], 2) if delays else None, "mode": mode,
        }
    finally:
        close_all([*phones, screen_client])
        server.stop()
