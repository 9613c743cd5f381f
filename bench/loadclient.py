"""One client process of the load benchmark: many phones, each a real Socket.IO client.

    python -m bench.loadclient URL CODE [SOURCE]   (started by `python -m bench load`, never by hand)

The phones share one asyncio loop (python-socketio's AsyncClient over aiohttp, WebSocket only);
each first opens the join link like a phone (`GET /j/<code>`: its own cookie, its participant).
The process obeys one JSON command per line on its standard input and answers each with one
JSON line on its standard output; times are `time.monotonic()` (one clock for every process of
the machine), so the benchmark can put the figures of every client process side by side.
It only ever talks to the URL it was given (the benchmark gives 127.0.0.1). With SOURCE (a
small number, one per client process), each phone connects from its own loopback address
(127.SOURCE+1.x.y), as phones at a venue each have their own: nginx's `hash $remote_addr`
in front of several server processes then spreads them as it would spread a hall.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import sys
import time
import uuid
from collections import Counter
from http.cookies import SimpleCookie

import aiohttp

CONCURRENT_JOINS = 64  # joins in flight at once in one client process
COMMANDS = ("join", "burst", "steady", "words", "churn", "await_connected", "await_version", "flood",
            "status", "close")


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit (thousands of sockets); the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def cid() -> str:
    """A client-generated id for one message."""
    return uuid.uuid4().hex[:16]


class Phone:
    """One participant: a cookie, a socket, what it received."""

    def __init__(self, index: int):
        self.index = index
        self.cookie = ""
        self.client = None  # socketio.AsyncClient, or bench.rawclient.RawSocket
        self.connects: list[float] = []
        self.snapshots: list[float] = []
        self.results = 0  # `results` pushes received
        self.tallies = 0  # ... of which carried the tally ("results" key)
        self.tallied_at: list[float] = []  # when each tally came (monotonic, as the votes' times)
        self.pushes: Counter = Counter()  # every event received, by name
        self.disconnected_at: float | None = None
        self.position = 0  # steady: the option index of its next vote
        self.waited: float | None = None  # seconds in the join line (None: let in at once)
        self.polls = 0  # times it asked again from the line
        self.retries = 0  # first connections tried again
        self.version = None  # the session's state version of its last snapshot or `state`
        self.http: aiohttp.ClientSession | None = None

    async def forget(self) -> None:
        """Close the socket and its HTTP session, if any."""
        client, http, self.client, self.http = self.client, self.http, None, None
        if client is not None and client.connected:
            await asyncio.wait_for(client.disconnect(), 5)
        if http is not None:
            await http.close()

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    def seen(self, data) -> None:
        """A snapshot or a `state` push: the state version the phone now shows."""
        if isinstance(data, dict) and isinstance(data.get("version"), int):
            self.version = max(self.version or 0, data["version"])

    def attach(self, client) -> None:
        self.client = client

        @client.event
        async def connect():
            self.connects.append(time.monotonic())

        @client.event
        async def disconnect(*_reason):
            self.disconnected_at = time.monotonic()

        @client.on("snapshot")
        async def snapshot(data=None):
            self.pushes["snapshot"] += 1
            self.snapshots.append(time.monotonic())
            self.seen(data)

        @client.on("state")
        async def state(data=None):
            self.pushes["state"] += 1
            self.seen(data)

        @client.on("results")
        async def results(data=None):
            self.pushes["results"] += 1
            self.results += 1
            if isinstance(data, dict) and "results" in data:
                self.tallies += 1
                self.tallied_at.append(time.monotonic())

        @client.on("*")
        async def other(event, *_data):  # state, presence, cloud...: counted by name
            self.pushes[event] += 1


class Fleet:
    """The phones of this process and the commands they obey."""

    def __init__(self, url: str, code: str, source: int | None = None):
        self.url, self.code, self.source = url, code, source
        self.phones: list[Phone] = []
        self.http: aiohttp.ClientSession | None = None
        self.rng = random.Random()

    async def open(self) -> None:
        self.connector = aiohttp.TCPConnector(limit=0)
        # No shared cookie jar for the join pages: every phone keeps its own cookie.
        self.http = aiohttp.ClientSession(connector=self.connector, connector_owner=False,
                                          cookie_jar=aiohttp.DummyCookieJar())

    def connector_of(self, phone: Phone) -> tuple[aiohttp.BaseConnector, bool]:
        """The connection pool for a phone's requests, and whether its session owns it: the
        process's one, or (with a SOURCE) one bound to the phone's own loopback address."""
        address = self.source_address(phone)
        if address is None:
            return self.connector, False
        return aiohttp.TCPConnector(limit=0, local_addr=(address, 0)), True

    def source_address(self, phone: Phone) -> str | None:
        """With a SOURCE, the phone's own loopback address; else None (the system's choice)."""
        if self.source is None:
            return None
        return f"127.{1 + self.source}.{phone.index // 250}.{1 + phone.index % 250}"

    async def join_cookie(self, phone: Phone | None = None, gate: asyncio.Semaphore | None = None) -> str:
        if self.source is not None and phone is not None:
            connector, _owned = self.connector_of(phone)
            async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as own:
                return await self._join_cookie(own, phone, gate)
        return await self._join_cookie(self.http, phone, gate)

    async def _join_cookie(self, http: aiohttp.ClientSession, phone: Phone | None = None,
                           gate: asyncio.Semaphore | None = None) -> str:
        """Open the join link like a phone (within `gate`: joins in flight at once); in the join
        line (a waiting page: `Retry-After`), ask again like its script (`/j/<code>/wait`, the
        server's delay with jitter, holding no slot of `gate`) until let in."""
        jar = SimpleCookie()
        started = time.monotonic()
        async with gate or contextlib.nullcontext():
            waiting = await self._get_join(http, f"/j/{self.code}", jar)
        while waiting is not None:
            if phone is not None and phone.waited is None:
                phone.waited = 0.0
            await asyncio.sleep(waiting * self.rng.uniform(0.7, 1.3))
            if phone is not None:
                phone.polls += 1
            async with http.get(f"{self.url}/j/{self.code}/wait", headers=self._headers(jar)) as response:
                answer = await response.json()
                self._keep(response, jar)
            if "go" in answer:
                waiting = await self._get_join(http, answer["go"], jar)
            else:
                waiting = float(answer.get("retry") or 5)
        if phone is not None and phone.waited is not None:
            phone.waited = time.monotonic() - started
        return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())

    def _headers(self, jar: SimpleCookie) -> dict:
        cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())
        return {"Accept-Language": "en", **({"Cookie": cookie} if cookie else {})}

    @staticmethod
    def _keep(response, jar: SimpleCookie) -> None:
        for line in response.headers.getall("Set-Cookie", []):
            jar.load(line)

    async def _get_join(self, http: aiohttp.ClientSession, path: str, jar: SimpleCookie) -> float | None:
        """GET the join page: None once in (the participant page), else the seconds to wait."""
        async with http.get(f"{self.url}{path}", headers=self._headers(jar),
                            allow_redirects=False) as response:
            await response.read()
            self._keep(response, jar)
            if response.status != 200 or "session" not in jar:
                raise RuntimeError(f"GET /j/ answered {response.status}")
            retry = response.headers.get("Retry-After")
            return float(retry) if retry is not None else None

    async def connect(self, phone: Phone, reconnection: bool = True) -> None:
        import socketio  # here: bench.rawclient's processes do without it

        # Its own session (python-socketio puts the Cookie header in the session's jar, kept
        # for its reconnections) over the process's one connection pool.
        await phone.forget()
        connector, owned = self.connector_of(phone)
        phone.http = aiohttp.ClientSession(connector=connector, connector_owner=owned,
                                           cookie_jar=aiohttp.CookieJar(unsafe=True))
        client = socketio.AsyncClient(reconnection=reconnection, reconnection_delay=0.5,
                                      reconnection_delay_max=2, randomization_factor=0.5,
                                      handle_sigint=False, http_session=phone.http, request_timeout=30,
                                      # Offers WebSocket compression, as every browser does.
                                      websocket_extra_options={"compress": 15})
        phone.attach(client)
        await client.connect(self.url, headers={"Cookie": phone.cookie},
                             auth={"code": self.code, "lang": "en"}, transports=["websocket"],
                             wait_timeout=30)

    async def join_one(self, phone: Phone, gate: asyncio.Semaphore, delay: float) -> dict:
        await asyncio.sleep(delay)
        start = time.monotonic()
        try:
            if not phone.cookie:  # in line, a phone holds no slot of `gate` (it only waits)
                phone.cookie = await self.join_cookie(phone, gate)
            async with gate:
                await self.connect_again(phone)
                while not phone.snapshots and time.monotonic() - start < 30 + (phone.waited or 0):
                    await asyncio.sleep(0.01)
            outcome = {"ok": bool(phone.snapshots), "start": start, "waited": phone.waited,
                       "retries": phone.retries, "ready": phone.snapshots[0] if phone.snapshots else None}
            if not phone.snapshots:  # said why, with what the phone saw
                outcome["error"] = (f"no snapshot after {time.monotonic() - start:.1f} s (connected: "
                                    f"{phone.connected}, connects: {len(phone.connects)}, "
                                    f"pushes: {dict(phone.pushes)}, retries: {phone.retries})")
            return outcome
        except Exception as exc:  # noqa: BLE001 - counted as a failed join
            return {"ok": False, "start": start, "error": f"{type(exc).__name__}: {exc}"[:200]}

    async def connect_again(self, phone: Phone, attempts: int = 3) -> None:
        """Connect, and again after 1-2 s if refused or timed out (as the page's Socket.IO client
        does: a phone on the page does not give up); the last failure is raised."""
        for attempt in range(attempts):
            try:
                return await self.connect(phone)
            except Exception:
                if attempt == attempts - 1:
                    raise
                phone.retries += 1
                await asyncio.sleep(self.rng.uniform(1, 2))

    async def join(self, count: int, window: float = 0.0) -> dict:
        """`count` more phones open the join link and connect, spread over `window` seconds."""
        gate = asyncio.Semaphore(CONCURRENT_JOINS)
        new = [Phone(len(self.phones) + i) for i in range(count)]
        self.phones += new
        delays = [self.rng.uniform(0, window) if window > 0 else 0.0 for _ in new]
        outcomes = await asyncio.gather(*(self.join_one(p, gate, d)
                                          for p, d in zip(new, delays, strict=True)))
        errors = [o["error"] for o in outcomes if o.get("error")]
        return {"joined": sum(1 for o in outcomes if o["ok"]), "failed": len(outcomes) - sum(
            1 for o in outcomes if o["ok"]), "errors": errors[:5],
            "latencies": [o["ready"] - o["start"] for o in outcomes if o["ok"]],
            "waited": [o["waited"] for o in outcomes if o.get("waited") is not None],
            "polls": sum(p.polls for p in new),
            "connect_retries": sum(p.retries for p in new),
            "last_ready": max((o["ready"] for o in outcomes if o["ok"]), default=None)}

    async def emit_vote(self, phone: Phone, activity: int, choice, record: list) -> dict:
        entry = {"sent": time.monotonic(), "acked": None, "ok": False}
        record.append(entry)
        done = asyncio.get_running_loop().create_future()

        def on_ack(data=None, *_rest):
            entry["acked"] = time.monotonic()
            entry["ok"] = bool(isinstance(data, dict) and data.get("ok"))
            if not entry["ok"]:
                entry["error"] = (data or {}).get("error", {}).get("code") if isinstance(data, dict) else None
            if not done.done():
                done.set_result(None)

        try:
            await phone.client.emit("vote", {"cid": cid(), "activity": activity, "choice": choice},
                                    callback=on_ack)
            await asyncio.wait_for(done, 60)
        except Exception:  # noqa: BLE001, S110 - no ack: counted as such
            pass
        return entry

    async def burst(self, at: float, activity: int, choices: list) -> dict:
        """Every phone votes at monotonic time `at` (phone i for `choices[i]`)."""
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        record: list = []
        live = [p for p in self.phones if p.connected]
        await asyncio.gather(*(self.emit_vote(p, activity, choices[p.index % len(choices)], record)
                               for p in live))
        # The tallies that came during the burst (a tally in the middle of it delays the acks).
        return {"votes": record, "tallied": [t for p in self.phones for t in p.tallied_at if t >= at]}

    async def steady_phone(self, phone: Phone, until: float, period: float, activity: int,
                           options: list, record: list) -> None:
        await asyncio.sleep(self.rng.uniform(0, period))
        while time.monotonic() < until and phone.position < len(options):
            if phone.connected:
                entry = await self.emit_vote(phone, activity, options[phone.position], record)
                if entry["ok"]:
                    phone.position += 1
            await asyncio.sleep(period * self.rng.uniform(0.5, 1.5))

    async def steady(self, until: float, period: float, activity: int, options: list) -> dict:
        """Each phone votes for the next option every `period` s (± 50 %) until `until`."""
        record: list = []
        await asyncio.gather(*(self.steady_phone(p, until, period, activity, options, record)
                               for p in self.phones))
        return {"votes": record}

    async def words(self, until: float, activity: int, per_phone: int, prefix: str) -> dict:
        """Each phone sends `per_phone` distinct words at random moments before `until`."""
        record: list = []

        async def typist(phone: Phone) -> None:
            for n in range(per_phone):
                left = until - time.monotonic()
                await asyncio.sleep(max(0.0, self.rng.uniform(0, left) / (per_phone - n)))
                text = f"{prefix}{phone.index:04d}x{n}"
                entry = {"text": text, "sent": time.monotonic(), "acked": None, "ok": False}
                record.append(entry)
                try:
                    ack = await phone.client.call("word:add", {"cid": cid(), "activity": activity,
                                                               "text": text}, timeout=30)
                    entry["acked"], entry["ok"] = time.monotonic(), bool(ack.get("ok"))
                except Exception:  # noqa: BLE001, S110 - no ack: counted as such
                    pass

        await asyncio.gather(*(typist(p) for p in self.phones if p.connected))
        return {"entries": record}

    async def churn(self, until: float, share: float, every: float, activity: int, options: list) -> dict:
        """Until `until`, every `every` s a `share` of the phones (at least one) close their socket
        and open a new one (same cookie: the same participant), and vote once."""
        cycles = reconnected = 0
        count = min(len(self.phones), max(1, round(share * len(self.phones)))) if share > 0 else 0
        while time.monotonic() < until:
            cycles += 1
            picked = self.rng.sample(self.phones, count)  # each phone drawn alone left a few with none
            await asyncio.gather(*(self.cycle(p, activity, options) for p in picked))
            reconnected += sum(1 for p in picked if p.connected)
            await asyncio.sleep(every)
        return {"cycles": cycles, "reconnected": reconnected}

    async def cycle(self, phone: Phone, activity: int, options: list) -> None:
        phone.snapshots = []
        try:
            await self.connect(phone)
            await self.emit_vote(phone, activity, self.rng.choice(options), [])
        except Exception:  # noqa: BLE001, S110 - counted as not reconnected
            pass

    async def await_connected(self, since: float, wait: float) -> dict:
        """Wait (at most `wait` s) until every phone has connected again after `since`; when each did."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if all(p.connects and p.connects[-1] >= since and p.connected for p in self.phones):
                break
            await asyncio.sleep(0.05)
        back = [max(p.connects) for p in self.phones if p.connects and p.connects[-1] >= since]
        return {"back": len(back), "missing": len(self.phones) - len(back), "times": back,
                "versions": dict(Counter(str(p.version) for p in self.phones))}

    async def await_version(self, version: int, wait: float) -> dict:
        """Wait (at most `wait` s) until every phone shows state `version` (or a later one);
        when the last one did, and how many still do not."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if all((p.version or 0) >= version for p in self.phones):
                break
            await asyncio.sleep(0.02)
        behind = sum(1 for p in self.phones if (p.version or 0) < version)
        return {"behind": behind, "at": time.monotonic()}

    async def flood(self, count: int, activity: int) -> dict:
        """This process's first phone sends `count` tiny events as fast as it can."""
        phone = self.phones[0]
        acks = {"ok": 0, "refused": 0}
        start = time.monotonic()
        sent = 0

        def on_ack(data=None, *_rest):
            acks["ok" if isinstance(data, dict) and data.get("ok") else "refused"] += 1

        for n in range(count):
            if not phone.connected:
                break
            try:
                await phone.client.emit("vote", {"cid": f"f{n}", "activity": activity, "choice": 0},
                                        callback=on_ack)
            except Exception:  # noqa: BLE001, S110 - cut off by the server
                break
            sent += 1
            if n % 50 == 0:
                await asyncio.sleep(0)
        end = time.monotonic()
        deadline = end + 10
        while phone.connected and acks["ok"] + acks["refused"] < sent and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        cut_off = phone.disconnected_at is not None and phone.disconnected_at >= start
        return {"sent": sent, "seconds": end - start, **acks, "disconnected": cut_off}

    def status(self) -> dict:
        return {"phones": len(self.phones), "connected": sum(1 for p in self.phones if p.connected),
                "results": [p.results for p in self.phones], "tallies": [p.tallies for p in self.phones],
                "pushes": sum((p.pushes for p in self.phones), Counter())}

    async def close(self) -> dict:
        async def one(phone: Phone) -> None:
            try:
                await phone.forget()
            except Exception:  # noqa: BLE001, S110 - best effort
                pass

        await asyncio.gather(*(one(p) for p in self.phones))
        await self.http.close()
        await self.connector.close()
        return {"closed": len(self.phones)}


async def serve(url: str, code: str, source: int | None = None, fleet_class: type = Fleet) -> None:
    """Obey the commands on stdin until `close` (or the end of stdin)."""
    fleet = fleet_class(url, code, source)
    await fleet.open()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            await fleet.close()
            return
        command = json.loads(line)
        op = command.pop("op")
        if op not in COMMANDS:
            raise SystemExit(f"unknown command {op!r}")
        answer = fleet.status() if op == "status" else await getattr(fleet, op)(**command)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        if op == "close":
            return


def main(fleet_class: type = Fleet) -> None:
    raise_fd_limit()
    url, code = sys.argv[1], sys.argv[2]
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise SystemExit("the load clients only talk to a server on this machine (127.0.0.1)")
    source = int(sys.argv[3]) if len(sys.argv) > 3 else None
    asyncio.run(serve(url, code, source, fleet_class))


if __name__ == "__main__":
    main()
