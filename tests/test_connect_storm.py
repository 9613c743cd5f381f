"""A hall reconnecting at once (a restart) through the real server: the listen backlog takes it,
the connect gate sets the sockets up a few at a time in arrival order (live/connectgate.py), and
every phone comes back, including with a client that gives the server only 1 s to answer its
`CONNECT` after the handshake (python-socketio's reconnection does: without the gate, the
sockets' set-ups were interleaved until every one of them took longer than that, and a storm
of 5,000 collapsed). No timing is asserted: `python -m bench load --scenario reconnect` prints
the figures."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time

import aiohttp
import pytest
import socketio
import websocket
from realserver import MODE, Server, http_get, join_cookie, prepare
from support import wait_until

pytestmark = pytest.mark.server
PHONES = 40


def _health(server: Server) -> dict:
    status, _headers, body = http_get(server.url, "/healthz")
    assert status == 200
    return json.loads(body)


@pytest.fixture
def hall(tmp_path):
    """A real server on a fresh database with one session, and what it takes to join it."""
    setup = prepare(tmp_path / "palabre.db")
    servers: list[Server] = []

    def start(mode: str = MODE, **config) -> Server:
        server = Server(setup.database, mode, log=tmp_path / "server.log", **config).start()
        servers.append(server)
        return server

    yield setup, start
    for server in servers:
        server.stop()


def test_the_listen_backlog_takes_a_hall(hall):
    """The listening socket holds thousands of connections not accepted yet (eventlet's and
    gevent's default of 50 overflowed: phones waited for their SYN to be sent again)."""
    ss = shutil.which("ss")
    assert ss, "ss (iproute2) is needed to read a listening socket's backlog"
    _setup, start = hall
    server = start()
    listed = subprocess.run([ss, "-Hltn", f"sport = :{server.port}"], capture_output=True, text=True,
                            check=True, timeout=10).stdout.split()
    backlog = int(listed[2])  # LISTEN, Recv-Q (waiting now), Send-Q (the backlog)
    with open("/proc/sys/net/core/somaxconn") as cap:
        assert backlog == min(4096, int(cap.read()))


async def _phones(server: Server, code: str, cookies: list[str]) -> list[socketio.AsyncClient]:
    """Phones as python-socketio clients reconnecting by themselves (its defaults: 1 s for the
    answer to `CONNECT` when reconnecting; the page's back-off: 1 s doubling to 5 s, ± 0.5)."""
    phones = []
    for cookie in cookies:
        # Its own cookie jar that keeps cookies of 127.0.0.1 (aiohttp's default drops them): the
        # Cookie header given to `connect` is put there and sent again on every reconnection.
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        phone = socketio.AsyncClient(reconnection=True, reconnection_delay=1, reconnection_delay_max=5,
                                     randomization_factor=0.5, handle_sigint=False, http_session=http)
        await phone.connect(server.url, headers={"Cookie": cookie}, auth={"code": code, "lang": "en"},
                            transports=["websocket"], wait_timeout=15)
        phones.append(phone)
    return phones


async def _leave(phones: list[socketio.AsyncClient]) -> None:
    await asyncio.gather(*(p.shutdown() for p in phones), return_exceptions=True)
    await asyncio.gather(*(p.eio.http.close() for p in phones if p.eio.http), return_exceptions=True)


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_restart_brings_every_phone_back_through_the_gate(hall, mode):
    """Two set-ups at a time: the others wait their turn, and every phone is back."""
    setup, start = hall
    server = start(mode, CONNECT_SLOTS=2)
    cookies = [join_cookie(server.url, setup.code) for _ in range(PHONES)]

    async def storm() -> tuple[int, int]:
        phones = await _phones(server, setup.code, cookies)
        try:
            assert all(p.connected for p in phones)
            await asyncio.to_thread(server.restart)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if sum(p.connected for p in phones) == PHONES:
                    break
                await asyncio.sleep(0.1)
            return sum(p.connected for p in phones), _health(server)["connections"]
        finally:
            await _leave(phones)

    back, connections = asyncio.run(storm())
    assert back == PHONES
    assert connections == PHONES
    assert _health(server)["connect_waited"] > 0  # the line was used, and everyone got through


def test_a_socket_that_never_says_connect_holds_its_slot_only_for_its_lease(hall):
    """One slot, taken by a client that opens its WebSocket and then says nothing: a phone
    waits its turn and gets in once the silent socket's lease (1 s) has run out."""
    setup, start = hall
    server = start(CONNECT_SLOTS=1, CONNECT_LEASE=1)
    cookie = join_cookie(server.url, setup.code)
    silent = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket", timeout=10)
    try:
        assert silent.recv().startswith("0{")  # Engine.IO's OPEN: it holds the one slot now

        async def phone() -> bool:
            [client] = await _phones(server, setup.code, [cookie])
            connected = client.connected
            await _leave([client])
            return connected

        assert asyncio.run(phone())
        assert _health(server)["connect_waited"] >= 1
    finally:
        silent.close()
    assert wait_until(lambda: _health(server)["connections"] == 0, 10)
