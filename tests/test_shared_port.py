"""Several processes on one port without a proxy (`LIVE_PROCESSES=N LIVE_SHARED_PORT=1`).

The processes' listening sockets form one SO_REUSEPORT group whose classic BPF program picks
the socket of each new connection from the client's address (`live.runtime.listen_shared`):
every connection from one address reaches one process, as nginx's `hash $remote_addr` does.
That is what a phone falling back to long-polling needs (each of its requests is a new
connection here, and must reach the process that holds its Engine.IO session), and what keeps
the limits per address exact. Clients connect from their own loopback addresses (127.0.0.x),
as phones on a venue's Wi-Fi each have their own.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from multiprocess import Redis, join_cookie_from, prepare_workshop, scalar, wait_until
from realserver import (
    ROOT,
    Listener,
    Server,
    address_for_process,
    close_all,
    free_port,
    http_get,
    new_cid,
    sqlite_url,
)

from live import runtime


def _accepted_by(group: list, client_address: str, server_host: str) -> int:
    """Connect from `client_address`; the index of the group's socket that accepted it."""
    family = socket.AF_INET6 if ":" in client_address else socket.AF_INET
    port = group[0].getsockname()[1]
    with socket.socket(family, socket.SOCK_STREAM) as client:
        client.bind((client_address, 0))
        client.connect((server_host, port))
        ready, _, _ = select.select(group, [], [], 5)
        assert len(ready) == 1, ready
        accepted, _peer = ready[0].accept()
        accepted.close()
        return group.index(ready[0])


def _group(host: str, count: int) -> list:
    port = free_port()
    return runtime.listen_shared(host, port, count)


@pytest.mark.parametrize("count", [2, 3])
def test_every_connection_from_one_address_reaches_the_same_socket(count):
    group = _group("127.0.0.1", count)
    try:
        addresses = [f"127.0.0.{x}" for x in range(2, 11)] + ["127.3.4.5"]
        placed = {a: {_accepted_by(group, a, "127.0.0.1") for _ in range(8)} for a in addresses}
    finally:
        for sock in group:
            sock.close()
    # One socket per address, the one the program names; and every socket gets addresses.
    assert placed == {a: {runtime.process_of(a, count)} for a in addresses}
    assert set().union(*placed.values()) == set(range(count))


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_a_dual_stack_group_steers_ipv4_and_ipv6_clients():
    """Bound to `::`, the group sees IPv4 clients (IPv4 headers) and IPv6 ones: both steered."""
    group = _group("::", 2)
    try:
        ipv4 = {a: {_accepted_by(group, a, "127.0.0.1") for _ in range(6)}
                for a in ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")}
        ipv6 = {_accepted_by(group, "::1", "::1") for _ in range(6)}
    finally:
        for sock in group:
            sock.close()
    assert ipv4 == {a: {runtime.process_of(a, 2)} for a in ipv4}
    assert set().union(*ipv4.values()) == {0, 1}
    assert ipv6 == {runtime.process_of("::1", 2)}


def test_process_of_reads_ipv4_mapped_addresses_as_ipv4():
    assert runtime.process_of("::ffff:127.0.0.3", 2) == runtime.process_of("127.0.0.3", 2) == 1
    assert runtime.process_of("127.0.0.4", 3) == (0x7F000004 % 3)
    assert runtime.process_of("fd00::12", 2) == 0 and runtime.process_of("fd00::11", 2) == 1


def test_a_port_taken_by_a_plain_socket_or_another_group_is_refused_and_left_as_it_was():
    for reuseport in (False, True):  # eventlet's own servers set SO_REUSEPORT
        taken = socket.socket()
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            with pytest.raises(runtime.PortInUse):
                runtime.listen_shared("127.0.0.1", port, 2)
            # The other server still gets every connection.
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                ready, _, _ = select.select([taken], [], [], 2)
                assert ready == [taken]
                taken.accept()[0].close()
        finally:
            taken.close()
    # Once freed, the port is ours.
    group = runtime.listen_shared("127.0.0.1", port, 2)
    for sock in group:
        sock.close()


def test_a_socket_that_joins_the_group_later_gets_no_connection():
    """Another server of the same user started later with SO_REUSEPORT on the port (eventlet's
    own servers set it) joins the kernel's group, but the program names only the first sockets:
    the room is not split with it."""
    group = _group("127.0.0.1", 2)
    intruder = socket.socket()
    try:
        intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        intruder.bind(("127.0.0.1", group[0].getsockname()[1]))
        intruder.listen()
        everyone = [*group, intruder]
        placed = {_accepted_by(everyone, f"127.0.0.{x}", "127.0.0.1") for x in range(2, 22)}
    finally:
        intruder.close()
        for sock in group:
            sock.close()
    assert placed == {0, 1}


# --- the real start ----------------------------------------------------------------------------

class SharedFamily(Server):
    """`LIVE_PROCESSES=2 LIVE_SHARED_PORT=1 python wsgi.py`: both processes on one port."""

    def __init__(self, workdir: Path, url: str, mode: str, **config):
        config.setdefault("SECRET_KEY", "k-" + secrets.token_urlsafe(32))
        config.setdefault("RATE_LIMIT_PER_10S", 100000)
        config.setdefault("ADMIN_PASSWORD", "pw-" + secrets.token_urlsafe(8))
        super().__init__(Path(workdir) / "unused.db", mode, log=Path(workdir) / f"shared-{mode}.log",
                         DATABASE_URL=url, PROCESSES=2, SHARED_PORT=1, **config)

    def health_of(self, index: int) -> dict:
        """Process `index`'s /healthz, asked from an address the kernel gives to it."""
        status, _headers, body = http_get(self.url, "/healthz", source=_address_of(index))
        assert status == 200, status
        return json.loads(body)


def _address_of(index: int, skip: int = 0) -> str:
    """A loopback address that the program of a two-process start gives to process `index`."""
    return address_for_process(index, 2, skip)


def _polling_client(address: str, base_url: str, code: str, cookie: str, listener: Listener):
    """A phone that stays on long-polling, from `address`, each request on a new connection
    (`Connection: close`, and the client never reuses one): every one of them goes through the
    kernel's choice of process."""
    import requests
    import socketio
    from requests.adapters import HTTPAdapter
    from urllib3.connectionpool import HTTPConnectionPool

    class NeverReused(HTTPConnectionPool):
        # gevent's server closes after such a request without saying so in its answer (it adds
        # `Connection: close` only for HTTP/1.0): a kept connection may already be closed.
        def _put_conn(self, conn):
            if conn is not None:
                conn.close()
            super()._put_conn(None)

    class FromAddress(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["source_address"] = (address, 0)
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {**self.poolmanager.pool_classes_by_scheme,
                                                       "http": NeverReused}

    session = requests.Session()
    session.mount("http://", FromAddress())
    session.headers.update({"Connection": "close", "Origin": base_url, "Cookie": cookie})
    client = socketio.Client(reconnection=False, handle_sigint=False, request_timeout=15,
                             http_session=session)
    listener.attach(client)
    client.connect(base_url, auth={"code": code, "lang": "en"}, transports=["polling"], wait_timeout=15)
    return client


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_two_processes_on_one_port_keep_each_phone_on_its_process(tmp_path, mode):
    """Two phones on long-polling, each from an address of its own process: every request of
    each (a new connection every time) reaches the process holding its session, so all their
    votes are acknowledged; the screen, on one process, counts votes from both; the limit of
    new participants per address counts each phone's own address (it was the proxy's behind
    nginx); SIGTERM to the first process stops both."""
    url = sqlite_url(tmp_path / "shared.db")
    setup = prepare_workshop(url)
    with ExitStack() as stack:
        redis = Redis(tmp_path).start()
        stack.callback(redis.stop)
        family = SharedFamily(tmp_path, url, mode, MESSAGE_QUEUE=redis.url, JOIN_RATE_PER_MINUTE=3)
        stack.callback(family.stop)
        family.start(60)
        assert "2 processes, all on port" in family.log_tail(), family.log_tail()
        pids = [family.health_of(i)["pid"] for i in (0, 1)]
        assert pids[0] != pids[1] and family.process.pid in pids
        clients: list = []
        stack.callback(lambda: close_all(clients))
        from realserver import connect

        staff = Listener("results")
        facilitator = connect(family.url, {"token": setup["facilitator"], "lang": "en"})
        screen = connect(family.url, {"token": setup["screen"], "lang": "en"}, listener=staff)
        clients += [facilitator, screen]
        for action in ("show", "open", "reveal"):
            ack = facilitator.call("command", {"cid": new_cid(), "action": action,
                                               "activity": setup["poll"]}, timeout=15)
            assert ack.get("ok"), ack
        phones = []
        for index in (0, 1):
            address = _address_of(index)
            before = family.health_of(index)["connections"]
            cookie = join_cookie_from(address, family.url, setup["code"])
            phone = _polling_client(address, family.url, setup["code"], cookie, Listener("state"))
            clients.append(phone)
            assert wait_until(lambda i=index, b=before: family.health_of(i)["connections"] == b + 1, 5)
            phones.append(phone)
        for n in range(12):  # each vote: a POST and the long-poll's answer, new connections
            for phone in phones:
                ack = phone.call("vote", {"cid": new_cid(), "activity": setup["poll"],
                                          "choice": setup["options"][n % 4]}, timeout=15)
                assert ack.get("ok"), ack
        assert all(phone.connected for phone in phones)
        assert wait_until(lambda: staff.messages("results")
                          and staff.messages("results")[-1].get("answers") == 2, 5), staff.messages("results")

        _joins_counted_per_address(family, url, setup)
        close_all(clients)
        family.process.send_signal(signal.SIGTERM)
        assert family.process.wait(20) == 0, family.log_tail()
        assert family.log_tail().count("stopped") == 2, family.log_tail()


def _joins_counted_per_address(family: SharedFamily, url: str, setup: dict) -> None:
    """With JOIN_RATE_PER_MINUTE=3, the two phones having joined once each from their own
    address: two more from the first phone's address are let in, a fourth is not (no participant
    stored), and its neighbour's address, on the same process, still is."""
    def joined() -> int:
        return scalar(url, "select count(*) from participants where session_id = :s", s=setup["id"])

    assert joined() == 2
    for _ in range(2):
        join_cookie_from(_address_of(0), family.url, setup["code"])
    assert joined() == 4
    http_get(family.url, f"/j/{setup['code']}", source=_address_of(0))  # a 4th: not let in
    assert joined() == 4
    join_cookie_from(_address_of(0, skip=1), family.url, setup["code"])  # its neighbour: in
    assert joined() == 5


def _start(tmp_path, **env) -> subprocess.CompletedProcess:
    """`LIVE_PROCESSES=2 python wsgi.py` with `env` (a Redis of its own: the start checks it
    first), which is expected to stop by itself."""
    redis = Redis(tmp_path).start()
    base = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_")}
    base.update({"LIVE_HOST": "127.0.0.1", "LIVE_DATABASE_URL": sqlite_url(tmp_path / "refused.db"),
                 "LIVE_SECRET_KEY": "k-refused", "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8",
                 "LIVE_PROCESSES": "2", "LIVE_MESSAGE_QUEUE": redis.url, **env})
    try:
        return subprocess.run([sys.executable, "wsgi.py"], cwd=ROOT, env=base, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
    finally:
        redis.stop()


def test_a_shared_port_setting_that_is_not_a_switch_stops_the_start_saying_so(tmp_path):
    done = _start(tmp_path, LIVE_PORT=str(free_port()), LIVE_SHARED_PORT="maybe")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "LIVE_SHARED_PORT='maybe': true or false" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_shared_port_already_taken_stops_the_start_saying_so(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _start(tmp_path, LIVE_PORT=str(port), LIVE_SHARED_PORT="true")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"Port {port} is already in use" in done.stderr and "Traceback" not in done.stderr
