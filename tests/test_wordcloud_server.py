"""The real server (eventlet) renders a 300-word cloud without stalling its event loop, and its
render workers stop with it."""

from __future__ import annotations

import json
import subprocess

import pytest
from support import (
    Listener,
    close_all,
    connect,
    http_get,
    join_phones,
    prepare_wordcloud,
    send_word,
    server,
    still_running,
    svg_words,
)

from live.render import missing_words

pytestmark = [pytest.mark.server]


def _gap(url: str, reset: bool = False) -> tuple[float, float, float]:
    """The event loop's largest stall since the last reset: in wall-clock time, less the time
    the loop's thread waited for a core (a blocking call is in it, the machine's load is not),
    and in the CPU time of the loop's own thread (what it did without yielding)."""
    status, _headers, body = http_get(url, "/healthz?reset=1" if reset else "/healthz")
    assert status == 200
    health = json.loads(body)
    return health["max_loop_gap_ms"], health["max_loop_held_ms"], health["max_loop_cpu_gap_ms"]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(line) for line in out.split()]


def test_rendering_300_words_keeps_the_loop_under_100_ms_and_workers_stop(tmp_path):
    setup = prepare_wordcloud(tmp_path / "palabre.db", entries_per_participant=10)
    phones: list = []
    with server(setup.database, RATE_LIMIT_PER_10S=100000, WORDCLOUD_RATE_PER_10S=100000) as srv:
        try:
            _gap(srv.url)  # starts the heartbeat task
            heard = Listener("cloud")
            phones = [connect(srv.url, {"token": setup.screen, "lang": "en"}, listener=heard)]
            phones += join_phones(srv.url, setup, 30)
            for n in range(300):
                ack = send_word(phones[1 + n % 30], setup, f"mot{n:03d}")
                assert ack["ok"], ack
            # The typing's renders are over: the screen got its image, then no new one for
            # longer than the renders' pace (at most one a second).
            assert heard.wait_for(lambda listener: listener.count("cloud") > 0, 30), "no cloud push"
            assert heard.quiet_for("cloud", 1.5, timeout=30), "the cloud kept being rendered"
            workers = _children(srv.process.pid)
            assert workers, "the render pool did not start with the server"
            _gap(srv.url, reset=True)
            # A render the server has not cached yet (another version of the image, 300 words).
            # Drawn at the projector's smallest legible size, or listed as left out: all the
            # words the cloud holds (its 200 heaviest groups, CLOUD_WORDS).
            url = f"/cloud/{setup.activity}.svg?t={setup.screen}&v=heartbeat"
            status, _headers, body = http_get(srv.url, url)
            drawn = svg_words(srv.url, setup, "heartbeat")
            assert status == 200 and len(drawn) >= 40 and len(drawn | set(missing_words(body))) == 200
            gap, held, cpu_gap = _gap(srv.url)
            print(f"largest event-loop gap during a 300-word render: {gap} ms ({held} ms less its "
                  f"waits for a core, {cpu_gap} ms of CPU)")
            # The loop's own work is held to the goal; the wall-clock gap also counts the time
            # the process waited for a core, which a busy CI machine adds (2 workers, browsers:
            # up to 442 ms once, tests/test_import_worker.py): the bound is on the gap less
            # that wait, which still counts a render or a wait for the worker made on the loop.
            assert cpu_gap < 100, f"the event loop ran {cpu_gap} ms without yielding during a render"
            assert held < 1000, f"the event loop stalled {held} ms during a 300-word render"
        finally:
            close_all(phones)
        pid = srv.process.pid
    assert still_running(workers) == [], "render workers outlived the server"
    assert not _children(pid)
