"""Word clouds through the real server: delay from each entry's ack to the screen's image.

    python -m bench cloudlatency [--participants 200] [--words 1] [--spread 10] [--mode eventlet]

Phones type distinct words over `--spread` seconds; for each entry, the delay from its ack to the
first `cloud` push whose SVG contains it (what the room sees on the projector), drawn or listed
as left out (a crowded cloud draws its heaviest words only). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from live.runtime import DEFAULT_MODE, MODES
from tests.realserver import (
    Listener,
    Server,
    close_all,
    connect,
    join_phones,
    prepare_wordcloud,
    send_word,
    svg_words,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--words", type=int, default=1, help="entries per participant")
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which they type")
    parser.add_argument("--mode", choices=MODES, default=DEFAULT_MODE)


def run(args: argparse.Namespace) -> None:
    """Measure and print the figures as JSON."""
    print(json.dumps(latency(args.participants, args.words, args.spread, args.mode), indent=1))


def latency(participants: int = 200, words_each: int = 1, spread: float = 10.0, mode: str = DEFAULT_MODE,
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
                seen[data["v"]] = svg_words(server.url, setup, data["v"], accounted=True)
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
