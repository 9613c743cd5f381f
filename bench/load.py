"""A whole hall through the real server: N phones from separate client processes, measured.

    python -m bench load [--scenario burst] [--participants 1000] [--mode eventlet|gevent]
                         [--clients K] [--duration S] [--period S] [--json]

Starts `python wsgi.py` on 127.0.0.1 (a free port, a fresh SQLite file in a temporary folder,
the default settings but the per-address join limit), connects a facilitator and a screen from
this process, and drives N phones from K client processes (`bench/loadclient.py`: python-socketio's
AsyncClient over aiohttp, each phone with its own cookie from `GET /j/<code>`). The open-file
limit is raised to its hard limit. Scenarios (`--scenario`, repeatable, or `all`):

- join       N phones open the join page and connect (`--window` spreads their arrival)
- burst      everyone votes at one instant, results hidden (a fresh poll), then revealed (another)
- steady     each phone changes its vote every `--period` s (± 50 %) for `--duration` s
- reconnect  the server is restarted (SIGTERM, same port; several processes: all at once): how
             long until every phone is back on the current state version
- flood      one hostile socket sends 20,000 tiny events while the others vote steadily
- soak       connection churn for `--duration` s (600 by default): RSS back within ±10 % of its
             plateau, and no socket left behind once everyone leaves
- typing     200 phones (or N) send a word each to a word cloud over 10 s: entry -> screen
- rounds     everyone votes at once, `--rounds` times (reset between): server CPU per vote

Every scenario prints: phones connected, RSS of the server's whole process tree (workers
included; `pss_mb`, its proportional share: pages shared between its processes counted once),
server CPU, the largest event-loop stall (`/healthz`), the load average, and its own
figures: release -> last ack, ack latency (emit -> ack) and vote -> screen latency p50/p95/p99,
votes stored vs acknowledged vs on screen. Vote -> screen: the k-th vote acknowledged (in ack
order) is on screen with the first `results` push of the screen that counts k votes (a burst:
`answers`; steady: the phones vote the options in turn, so answers + sum(position x count)
counts every vote stored). The clients share the machine's cores with the server. Before the
server starts, the machine's speed: `yardstick_ms` (again after: `yardstick_after_ms`) and
`loopback_us`, a message echoed between two processes on one core and across two
(bench/yardstick.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from live.runtime import DEFAULT_MODE, MODES
from tests.realserver import (
    ROOT,
    Listener,
    Server,
    Setup,
    close_all,
    connect,
    http_get,
    new_cid,
    prepare_wordcloud,
    skewed_choices,
    sqlite_url,
    svg_words,
)

SCENARIOS = ("join", "burst", "steady", "reconnect", "flood", "soak", "typing", "rounds")
PHONES_PER_CLIENT = 500  # phones per client process when --clients is not given...
MAX_CLIENTS = 8  # ...one per core at most: the phones' processes share the server's cores, and
# each one more adds wake-ups the server pays for (docs/performance.md, "4 December")
BURST_OPTIONS = ("Agree", "Disagree", "Not sure", "Pass")
STEADY_OPTIONS = tuple(f"Option {n}" for n in range(1, 13))  # 12: a phone's 12 votes in turn
FLOOD_EVENTS = 20000
# The phones' client processes: the same phones, commands and records (bench/loadclient.py),
# over python-socketio's AsyncClient or over the protocol spoken by hand (bench/rawclient.py,
# which takes the machine's cores less from the server: docs/performance.md).
CLIENTS = {"raw": "bench.rawclient", "socketio": "bench.loadclient"}
DEFAULT_CLIENT = "raw"


# --- the server ----------------------------------------------------------------------------

class HallServer(Server):
    """The real server, restartable on the same port with the same secret key (phones keep
    their cookies across a restart, as at a venue)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._secret = "k-" + os.urandom(24).hex()

    def _env(self) -> dict:
        env = super()._env()
        env["LIVE_SECRET_KEY"] = self._secret
        return env

    def restart(self, timeout: float = 60.0) -> float:
        """SIGTERM, then the same server on the same port; the moment it answers again."""
        port = self.port
        self.stop()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "wsgi.py"], cwd=ROOT, env=self._env(), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT)
        self.port = port
        if not self._wait_until_answering(timeout):
            raise RuntimeError(f"the server did not come back:\n{self.log_tail()}")
        return time.monotonic()


def process_tree(pid: int) -> list[int]:
    """`pid` and every process descending from it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    return tree


def _proc_field(pid: int, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_rss_mb(pid: int, alone: bool = False) -> float:
    """Resident memory of the process tree, in MB."""
    return sum(_proc_field(p, "VmRSS") for p in ([pid] if alone else process_tree(pid))) / 1024


def tree_pss_mb(pid: int, alone: bool = False) -> float:
    """Proportional memory of the process tree, in MB (each page shared by k processes counts
    1/k in each: the shared libraries and interpreter, which `tree_rss_mb` counts once per
    process, count once for the machine)."""
    total = 0
    for p in [pid] if alone else process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except (OSError, ValueError):
            continue
    return total / 1024


def tree_cpu(pid: int, alone: bool = False) -> float:
    """CPU seconds (user + system) used so far by the live processes of the tree."""
    total = 0
    for p in [pid] if alone else process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def tree_waited(pid: int) -> float:
    """Seconds the live processes of the tree (every thread) spent ready to run but waiting for
    a core (the run queue: /proc/PID/task/TID/schedstat's second field), so far."""
    total = 0
    for p in process_tree(pid):
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                total += int(Path(f"/proc/{p}/task/{task}/schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return total / 1e9


def open_fds(pid: int) -> int:
    """How many files (sockets included) the process holds open."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def raise_fd_limit() -> int:
    """Raise the open-file limit of this process (and so of the server it starts) to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# --- the client processes ------------------------------------------------------------------

# How the client processes are scheduled (`--clients-sched`): "batch" (SCHED_BATCH, Linux) keeps
# a client process woken by the server's sends from preempting the server on the same core: in a
# hall the phones' CPUs are their own. Its CPU share is the same, and the waits it gets are in
# every latency it measures. "normal": the default policy (until 4 December, noon).
CLIENT_SCHEDULING = ("batch", "normal")


def scheduling_of(pid: int) -> str:
    """A process's scheduling policy, as `--clients-sched` names it (read from the kernel)."""
    try:
        policy = os.sched_getscheduler(pid)
    except (AttributeError, OSError):  # not Linux, or gone
        return "unknown"
    return {getattr(os, "SCHED_BATCH", None): "batch", os.SCHED_OTHER: "normal"}.get(policy, str(policy))


class ClientProcess:
    """One client process (`bench.rawclient` or `bench.loadclient`, see CLIENTS): JSON commands
    in, one JSON answer per command out."""

    scheduling = "batch"  # CLIENT_SCHEDULING; `measure` sets it from `--clients-sched`

    def __init__(self, url: str, code: str, log: Path, source: int | None = None,
                 kind: str = DEFAULT_CLIENT):
        self._log = open(log, "ab")  # noqa: SIM115 - closed by stop()
        extra = [] if source is None else [str(source)]  # phones from their own addresses
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", CLIENTS[kind], url, code, *extra], cwd=ROOT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log)
        if self.scheduling == "batch" and hasattr(os, "SCHED_BATCH"):
            try:
                os.sched_setscheduler(self.process.pid, os.SCHED_BATCH, os.sched_param(0))
            except OSError as exc:  # refused (a sandbox): the phases print the policy it kept
                print(f"the client processes keep the default scheduling: {exc}", file=sys.stderr)
        self.answers: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.answers.put(json.loads(line))
        self.answers.put(None)

    def send(self, op: str, **arguments) -> None:
        self.process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self.process.stdin.flush()

    def answer(self, timeout: float) -> dict:
        try:
            got = self.answers.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError("a client process did not answer in time") from None
        if got is None:
            raise RuntimeError("a client process ended (see its log)")
        return got

    def stop(self) -> None:
        try:
            self.send("close")
            self.process.wait(30)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(10)
        self._log.close()


def ask(clients: list[ClientProcess], op: str, timeout: float,
        each: Callable[[int], dict] | None = None, **arguments) -> list[dict]:
    """The same command to every client process (with `each(i)`'s extra arguments); the answers."""
    for index, client in enumerate(clients):
        client.send(op, **arguments, **(each(index) if each else {}))
    return [client.answer(timeout) for client in clients]


def shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` nearly equal counts."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


# --- the hall ------------------------------------------------------------------------------

@dataclass
class Polls:
    """The activities of the load session, made before the server starts."""

    hidden: int
    revealed: int
    steady: int
    options: dict[int, list[int]] = field(default_factory=dict)


def prepare_hall(database: Path, url: str | None = None) -> tuple[Setup, Polls]:
    """Migrate `database` (or the database of `url`); an event, a session and three polls (two
    bursts and a steady one)."""
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store, upgrade

    url = url or sqlite_url(database)
    upgrade(url)
    store = Store(url)
    try:
        with store.write() as db:
            event = sessions.create_event(db, "Load")
            live = sessions.create_session(db, event, "round_table", "A whole hall", locale="en")
            made = [polls.add_poll(db, live, "single", prompt, list(options)) for prompt, options in (
                ("Hidden burst", BURST_OPTIONS), ("Revealed burst", BURST_OPTIONS),
                ("Steady", STEADY_OPTIONS))]
            ids = Polls(*(a.id for a in made))
            ids.options = {a.id: [o.id for o in polls.options_of(db, a)] for a in made}
            setup = Setup(Path(database), live.id, live.join_code, live.facilitator_token,
                          live.moderator_token, live.screen_token, made[0].id, ids.options[made[0].id])
            return setup, ids
    finally:
        store.dispose()


class Hall:
    """A running server, its facilitator and screen, and the client processes of the phones."""

    def __init__(self, server: HallServer, setup: Setup, polls: Polls | None, workdir: Path):
        self.server, self.setup, self.polls, self.workdir = server, setup, polls, workdir
        self.screen = Listener("results", "state", "cloud")
        self.console = Listener("results", "state")
        self.facilitator = self.screen_client = None
        self.clients: list[ClientProcess] = []
        self.others: list[ClientProcess] = []  # client processes of one scenario (the flooder)
        self.client_kind = DEFAULT_CLIENT
        self.marks: dict = {}
        self.profile: Path | None = None  # --profile: where py-spy's records go
        self.profile_idle = False  # --profile-idle: waits sampled too

    @property
    def url(self) -> str:
        return self.server.url

    def start_staff(self) -> None:
        self.facilitator = connect(self.url, {"token": self.setup.facilitator, "lang": "en"},
                                   listener=self.console)
        self.screen_client = connect(self.url, {"token": self.setup.screen, "lang": "en"},
                                     listener=self.screen)

    def start_clients(self, count: int) -> None:
        self.clients = [ClientProcess(self.url, self.setup.code, self.workdir / f"client-{i}.log",
                                      kind=self.client_kind) for i in range(count)]

    def cpu_now(self) -> dict:
        """CPU seconds used so far by what shares the machine with the server: the client
        processes, this process (the facilitator's and the screen's sockets) and, with several
        server processes, nginx and Redis (`ClusterHall`)."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"clients": sum(tree_cpu(c.process.pid) for c in self.clients + self.others),
                "bench": usage.ru_utime + usage.ru_stime}

    def waits_now(self) -> dict:
        """Seconds so far that the server's processes and the client processes (every thread)
        were ready to run but waited for a core (`tree_waited`): how much the cores were
        fought over, which CPU seconds do not say."""
        return {"server": tree_waited(self.server.process.pid),
                "clients": sum(tree_waited(c.process.pid) for c in self.clients + self.others)}

    def profiled_pids(self) -> list[tuple[str, int]]:
        """(role, pid) of every Python process of the run: the server's, the clients'."""
        return [("server", self.server.process.pid)] + [
            (f"client{i}", c.process.pid) for i, c in enumerate(self.clients)]

    @contextmanager
    def profiled(self, label: str):
        """With `--profile DIR`: py-spy samples every Python process of the run during the
        block (100 times a second, without pausing them), one file of collapsed stacks each,
        DIR/<label>-<role>-<pid>.txt (flamegraph.pl and speedscope read them); with
        `--profile-idle`, where each process waits too (wall time, not only CPU)."""
        if not self.profile:
            yield
            return
        spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        if spy is None:
            raise SystemExit("--profile needs py-spy (pip install py-spy)")
        Path(self.profile).mkdir(parents=True, exist_ok=True)
        with open(Path(self.profile) / "py-spy.log", "ab") as log:
            spies = [subprocess.Popen(  # noqa: S603 - py-spy from our environment
                [spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "100", "--nonblocking",
                 *(["--idle"] if self.profile_idle else []),
                 "--output", str(Path(self.profile) / f"{label}-{role}-{pid}.txt")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log) for role, pid in self.profiled_pids()]
            time.sleep(0.3)  # attached
            try:
                yield
            finally:
                for spy_process in spies:
                    spy_process.send_signal(signal.SIGINT)  # py-spy writes its file and stops
                for spy_process in spies:
                    try:
                        spy_process.wait(30)
                    except subprocess.TimeoutExpired:
                        spy_process.kill()

    def mark(self) -> None:
        """A phase starts (every scenario resets /healthz then): the clients' CPU counts from here."""
        self.marks = {"at": time.monotonic(), **self.cpu_now()}
        self.wait_marks = self.waits_now()

    def sharing(self) -> dict:
        """How the machine was shared since `mark`: every CPU figure of `cpu_now` for the phase,
        and the client processes' RSS."""
        now, marks = self.cpu_now(), self.marks or {"at": time.monotonic()}
        processes = self.clients + self.others
        waits, wait_marks = self.waits_now(), getattr(self, "wait_marks", {})
        return {"phase_s": round(time.monotonic() - marks["at"], 2), "client_processes": len(processes),
                "waited_for_a_core_s": {name: round(value - wait_marks.get(name, value), 2)
                                        for name, value in waits.items()},
                "clients_rss_mb": round(sum(tree_rss_mb(c.process.pid) for c in processes), 1),
                "clients_sched": sorted({scheduling_of(c.process.pid) for c in processes}),
                **{f"{name}_cpu_s": round(value - marks.get(name, value), 2) for name, value in now.items()}}

    def command(self, action: str, activity: int) -> dict:
        if not self.facilitator.connected:  # dropped under load (a ping unanswered): again
            self.facilitator = self.reconnect(self.setup.facilitator, self.console)
        if not self.screen_client.connected:  # so did the screen: a real one reconnects too
            self.screen_client = self.reconnect(self.setup.screen, self.screen)
        ack = self.facilitator.call("command", {"cid": new_cid(), "action": action,
                                                "activity": activity}, timeout=60)
        if not ack.get("ok"):
            raise RuntimeError(f"command {action} refused: {ack}")
        return ack

    def reconnect(self, token: str, listener: Listener):
        """A staff socket again, patiently (a server busy with thousands of phones may take
        longer than a test's 15 s to answer): three tries of 60 s at most."""
        tries = 3
        while True:
            tries -= 1
            try:
                return connect(self.url, {"token": token, "lang": "en"}, listener=listener, timeout=60)
            except ConnectionError:
                if not tries:
                    raise

    def join(self, participants: int, window: float = 0.0) -> dict:
        start = time.monotonic()
        counts = shares(participants, len(self.clients))
        answers = ask(self.clients, "join", timeout=window + 300,
                      each=lambda i: {"count": counts[i], "window": window})
        latencies = [t for a in answers for t in a["latencies"]]
        last = max((a["last_ready"] for a in answers if a["last_ready"]), default=start)
        return {"joined": sum(a["joined"] for a in answers), "failed": sum(a["failed"] for a in answers),
                "errors": [e for a in answers for e in a["errors"]][:5], "seconds": last - start,
                "latencies": latencies, "waited": [w for a in answers for w in a.get("waited", [])],
                "polls": sum(a.get("polls", 0) for a in answers),
                "connect_retries": sum(a.get("connect_retries", 0) for a in answers)}

    def health(self, reset: bool = False) -> dict:
        if reset:
            self.mark()
        try:
            status, _h, body = http_get(self.url, "/healthz?reset=1" if reset else "/healthz", timeout=30)
            return json.loads(body) if status == 200 else {}
        except (OSError, ValueError):
            return {}

    def stored(self, activity: int, changes: bool = False) -> int:
        """Votes stored for `activity`: one row per phone; with `changes`, every vote the
        database took, each vote after a phone's first counting one (it updates the row)."""
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(self.setup.database, timeout=30)) as con:
            return con.execute(stored_query(changes).replace(":a", "?"), (activity,)).fetchone()[0]

    def phone_status(self) -> dict:
        answers = ask(self.clients, "status", timeout=60)
        pushes: dict[str, int] = {}
        for answer in answers:
            for event, count in answer.get("pushes", {}).items():
                pushes[event] = pushes.get(event, 0) + count
        return {"connected": sum(a["connected"] for a in answers),
                "results": sum(sum(a["results"]) for a in answers),
                "tallies": sum(sum(a["tallies"]) for a in answers), "pushes": pushes}

    def close(self) -> None:
        for client in self.clients:
            client.stop()
        close_all([self.facilitator, self.screen_client])


@contextmanager
def hall(workdir: Path, mode: str, clients: int, kind: str = "polls", admit: float | None = None,
         client: str = DEFAULT_CLIENT, **config):
    """A server on a fresh database with staff connected and `clients` client processes."""
    database = workdir / "palabre.db"
    if kind == "wordcloud":
        setup, polls = prepare_wordcloud(database, entries_per_participant=3), None
    else:
        setup, polls = prepare_hall(database)
    config.setdefault("JOIN_RATE_PER_MINUTE", 1000000)  # every phone comes from 127.0.0.1 here
    config.setdefault("ADMIT_PER_SECOND", admit or 0)  # the join line (--admit; 0: none)
    server = HallServer(database, mode, log=workdir / f"server-{mode}.log", **config)
    the_hall = Hall(server, setup, polls, workdir)
    the_hall.client_kind = client
    try:
        server.start()
        the_hall.start_staff()
        the_hall.start_clients(clients)
        yield the_hall
    finally:
        try:
            the_hall.close()
        finally:
            server.stop()


# --- figures -------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def spread(values: list[float]) -> dict:
    """p50/p95/p99/max in milliseconds."""
    return {f"p{q}": round(percentile(values, q) * 1000, 1) for q in (50, 95, 99)} | {
        "max": round(max(values) * 1000, 1) if values else float("nan"), "n": len(values)}


def on_screen_latencies(votes: list[dict], pushes: list[tuple[float, int]]) -> list[float]:
    """Vote -> screen: the k-th acknowledged vote is on screen with the first push counting k."""
    acked = sorted((v for v in votes if v["ok"]), key=lambda v: v["acked"])
    delays, index = [], 0
    ordered = sorted(pushes)
    for rank, vote in enumerate(acked, start=1):
        while index < len(ordered) and (ordered[index][1] < rank or ordered[index][0] < vote["sent"]):
            index += 1
        if index == len(ordered):
            break
        delays.append(ordered[index][0] - vote["sent"])
    return delays


def timeline(votes: list[dict], pushes: list[tuple[float, int]], start: float, width: float) -> list[dict]:
    """The steady stream in slices of `width` seconds from its start (`--timeline`): the votes
    sent in each, their ack p50 / p95, and the longest the screen then went without a push.
    Where a tail comes from: a stretch of slow acks every few seconds is a periodic cost (the
    phones' tally was one), not the garbage collector's."""
    acks: dict[int, list[float]] = {}
    for vote in votes:
        if vote["ok"]:
            acks.setdefault(int((vote["sent"] - start) // width), []).append(vote["acked"] - vote["sent"])
    times = sorted(t for t, _count in pushes)
    gaps: dict[int, float] = {}
    for before, after in zip(times, times[1:], strict=False):
        key = int((before - start) // width)
        gaps[key] = max(gaps.get(key, 0.0), after - before)
    return [{"at_s": round(key * width, 2), "votes": len(delays),
             "ack_p50_ms": round(percentile(delays, 50) * 1000, 1),
             "ack_p95_ms": round(percentile(delays, 95) * 1000, 1),
             "screen_gap_ms": round(gaps.get(key, 0.0) * 1000, 1)} for key, delays in sorted(acks.items())]


def pushes_of(listener: Listener, activity: int, since: float, count: Callable[[dict], int]):
    """(arrival, count) of the `results` pushes of one activity since `since`."""
    with listener._changed:
        received = list(listener.received["results"])
    return [(t, count(d)) for t, d in received if t >= since and isinstance(d, dict)
            and d.get("activity") == activity]


def machine(the_hall: Hall, cpu_before: float, stall: dict) -> dict:
    """The figures every scenario prints: the server's, then how the machine's cores were shared
    since the phase began (`Hall.sharing`: the client processes' CPU and RSS, this process's
    CPU, nginx's and Redis's with several processes; `cores_busy`: all of it and the server's
    CPU over the phase's wall time, at most the number of cores)."""
    pid = the_hall.server.process.pid
    cpu = tree_cpu(pid) - cpu_before
    sharing = the_hall.sharing()
    others = sum(v for k, v in sharing.items() if k.endswith("_cpu_s"))
    return {"connected": the_hall.health().get("connections"), "rss_mb": round(tree_rss_mb(pid), 1),
            "pss_mb": round(tree_pss_mb(pid), 1),
            "server_rss_mb": round(_proc_field(pid, "VmRSS") / 1024, 1),
            "processes": len(process_tree(pid)), "cpu_s": round(cpu, 2),
            "loop_stall_ms": stall.get("max_loop_gap_ms"),
            "loop_stall_cpu_ms": stall.get("max_loop_cpu_gap_ms"),
            "loop_stall_held_ms": stall.get("max_loop_held_ms"),  # less the loop's waits for a core
            # the garbage collector's full passes since the server started, and the longest
            "gc_full_passes": stall.get("gc_full_passes"),
            "gc_longest_full_ms": stall.get("gc_longest_full_ms"),
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg()), **sharing,
            "cores_busy": round((cpu + others) / sharing["phase_s"], 2) if sharing["phase_s"] else None,
            **getattr(the_hall, "cluster_figures", dict)()}  # several processes: each one's


def clients_for(participants: int, wanted: int | None) -> int:
    """How many client processes: `wanted`, or one per PHONES_PER_CLIENT phones, at most one per
    core (and at most MAX_CLIENTS)."""
    cores = min(MAX_CLIENTS, os.cpu_count() or 2)
    return max(1, wanted or min(cores, math.ceil(participants / PHONES_PER_CLIENT)))


# --- scenarios -----------------------------------------------------------------------------

def scenario_join(the_hall: Hall, args) -> dict:
    pid = the_hall.server.process.pid
    rss_before, cpu = _proc_field(pid, "VmRSS"), tree_cpu(pid)
    the_hall.health(reset=True)
    joined = the_hall.join(args.participants, args.window)
    stall = the_hall.health()
    per_socket = (_proc_field(pid, "VmRSS") - rss_before) / max(1, joined["joined"])
    return {"joined": joined["joined"], "failed": joined["failed"], "errors": joined["errors"],
            "all_in_s": round(joined["seconds"], 2), "join_latency_ms": spread(joined["latencies"]),
            "server_rss_per_socket_kb": round(per_socket, 1), **join_line(joined, args),
            **machine(the_hall, cpu, stall)}


def join_line(joined: dict, args) -> dict:
    """The join line's figures (live/sessions/admission.py): the gate's rate, how many phones
    waited in line, the longest wait, how many times they asked again (`/j/<code>/wait`), how
    many first socket connections were tried again (refused or timed out: the page's client
    tries again too), and how many never got in (failed: must be 0)."""
    waited = joined.get("waited", [])
    return {"admit_per_second": getattr(args, "admit", None) or "off", "waited_in_line": len(waited),
            "longest_wait_s": round(max(waited, default=0.0), 2), "line_polls": joined.get("polls", 0),
            "socket_retries": joined.get("connect_retries", 0), "never_in": joined["failed"]}


def one_burst(the_hall: Hall, activity: int, reveal: bool, participants: int) -> dict:
    for action in ("show", "open") + (("reveal",) if reveal else ()):
        the_hall.command(action, activity)
    pid = the_hall.server.process.pid
    choices = skewed_choices(the_hall.polls.options[activity], participants)
    before = the_hall.phone_status()
    time.sleep(0.5)  # the show/open pushes have reached the phones: they are not part of the burst
    the_hall.health(reset=True)
    cpu = tree_cpu(pid)
    at = time.monotonic() + 0.5
    with the_hall.profiled("revealed" if reveal else "hidden"):
        answers = ask(the_hall.clients, "burst", timeout=120, at=at, activity=activity, choices=choices)
    votes = [v for a in answers for v in a["votes"]]
    ok = [v for v in votes if v["ok"]]
    last_ack = max((v["acked"] for v in ok), default=at)
    # Tallies a phone got between the release and the last ack: the burst's acks shared the
    # server with them (a burst's tally is meant to come once it is over).
    tallied_in_burst = sum(1 for a in answers for t in a.get("tallied", ()) if t <= last_ack)
    stall = the_hall.health()
    figures = machine(the_hall, cpu, stall)
    the_hall.screen.wait_for(lambda s: any(c >= len(ok) for _t, c in pushes_of(
        s, activity, at, lambda d: d.get("answers", 0))), 30)
    pushes = pushes_of(the_hall.screen, activity, at, lambda d: d.get("answers", 0))
    after = the_hall.phone_status()
    if reveal:  # phones get the tally at most every LIVE_PHONE_PUSH_INTERVAL (2 s): wait for it
        until = time.monotonic() + 8
        while after["tallies"] - before["tallies"] < len(ok) and time.monotonic() < until:
            time.sleep(0.25)
            after = the_hall.phone_status()
    return {"votes": len(votes), "acked_ok": len(ok), "refused": len(votes) - len(ok) - sum(
        1 for v in votes if v["acked"] is None), "no_ack": sum(1 for v in votes if v["acked"] is None),
        "stored": the_hall.stored(activity), "on_screen": max((c for _t, c in pushes), default=0),
        **per_vote(figures, len(votes)),
        "release_to_last_ack_s": round(last_ack - at, 3),
        "ack_ms": spread([v["acked"] - v["sent"] for v in ok]),
        "vote_to_screen_ms": spread(on_screen_latencies(votes, pushes)),
        "screen_pushes": len(pushes), **screen_pace(pushes),
        "pushes_to_phones": after["results"] - before["results"],
        "tallies_to_phones": after["tallies"] - before["tallies"],
        "tallies_before_last_ack": tallied_in_burst,
        # what the phones received from the open to the end of the burst, by event
        "phones_received": {event: count - before["pushes"].get(event, 0)
                            for event, count in sorted(after["pushes"].items())
                            if count > before["pushes"].get(event, 0)}, **figures}


def per_vote(figures: dict, votes: int) -> dict:
    """Milliseconds of CPU per vote sent: the server's (every process) and the client processes'."""
    return {"server_cpu_ms_per_vote": round(figures["cpu_s"] * 1000 / max(1, votes), 3),
            "clients_cpu_ms_per_vote": round(figures["clients_cpu_s"] * 1000 / max(1, votes), 3)}


def stored_query(changes: bool) -> str:
    """The count of `Hall.stored` (one parameter, `:a`, the activity)."""
    counted = "count(*) + coalesce(sum(changes), 0)" if changes else "count(*)"
    return f"select {counted} from votes where activity_id = :a"  # noqa: S608 - no input in it


def screen_pace(pushes: list[tuple[float, int]]) -> dict:
    """The most `results` pushes the screen got within one second, and how many repeated the
    count before them (several processes each pushing the same aggregate would show both)."""
    times = sorted(t for t, _c in pushes)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    counts = [c for _t, c in sorted(pushes)]
    return {"screen_pushes_max_per_s": most,
            "screen_repeated_counts": sum(1 for a, b in zip(counts, counts[1:], strict=False) if a == b)}


def scenario_burst(the_hall: Hall, args) -> dict:
    the_hall.mark()
    cpu = tree_cpu(the_hall.server.process.pid)
    joined = the_hall.join(args.participants)
    join_cpu = {"join_cpu_s": round(tree_cpu(the_hall.server.process.pid) - cpu, 2),
                "join_clients_cpu_s": the_hall.sharing()["clients_cpu_s"]}
    polls = the_hall.polls
    hidden = one_burst(the_hall, polls.hidden, False, args.participants)
    revealed = one_burst(the_hall, polls.revealed, True, args.participants)
    return {"joined": joined["joined"], "join_s": round(joined["seconds"], 2), **join_cpu,
            "hidden": hidden, "revealed": revealed}


def steady_progress(options: list[int]) -> Callable[[dict], int]:
    """Votes stored so far, read from a results push of the steady poll (see the module's doc)."""
    position = {option: index for index, option in enumerate(options)}

    def count(data: dict) -> int:
        tally = (data.get("results") or {}).get("options") or []
        return data.get("answers", 0) + sum(position.get(o["id"], 0) * o["count"] for o in tally)
    return count


def scenario_steady(the_hall: Hall, args) -> dict:
    joined = the_hall.join(args.participants)
    activity = the_hall.polls.steady
    for action in ("show", "open", "reveal"):
        the_hall.command(action, activity)
    pid = the_hall.server.process.pid
    time.sleep(0.5)
    before = the_hall.phone_status()
    the_hall.health(reset=True)
    cpu, start = tree_cpu(pid), time.monotonic()
    duration = args.duration or 30.0
    with the_hall.profiled("steady"):
        answers = ask(the_hall.clients, "steady", timeout=duration + 120, until=start + duration,
                      period=args.period, activity=activity, options=the_hall.polls.options[activity])
    elapsed = time.monotonic() - start
    votes = [v for a in answers for v in a["votes"]]
    figures = machine(the_hall, cpu, the_hall.health())
    ok = [v for v in votes if v["ok"]]
    progress = steady_progress(the_hall.polls.options[activity])
    for listener in (the_hall.screen, the_hall.console):
        listener.wait_for(lambda s: any(c >= len(ok) for _t, c in pushes_of(
            s, activity, start, progress)), 15)
    screen = pushes_of(the_hall.screen, activity, start, progress)
    console = pushes_of(the_hall.console, activity, start, progress)
    after = the_hall.phone_status()
    return {"joined": joined["joined"], "votes": len(votes), "acked_ok": len(ok),
            "votes_per_s": round(len(ok) / elapsed, 1), **per_vote(figures, len(votes)),
            "ack_ms": spread([v["acked"] - v["sent"] for v in ok]),
            "vote_to_screen_ms": spread(on_screen_latencies(votes, screen)),
            "vote_to_console_ms": spread(on_screen_latencies(votes, console)),
            "stored": the_hall.stored(activity, changes=True),
            "on_screen": max((c for _t, c in screen), default=0),
            "screen_pushes_per_s": round(len(screen) / elapsed, 1),
            "phone_pushes_per_phone_per_s": round((after["results"] - before["results"])
                                                  / max(1, after["connected"]) / elapsed, 2),
            **figures, **({"timeline": timeline(votes, screen, start, args.timeline)}
                          if args.timeline else {})}


def scenario_reconnect(the_hall: Hall, args) -> dict:
    """Every phone connected, the server restarted (one process: SIGTERM and the same server
    again; several: every process at once, as `systemctl restart` or the documented command
    line run again would): when each phone is back, with its snapshot of the current state
    version; then a change of state after the storm, and when every phone shows it (with
    several processes it crosses Redis to the phones of the other process)."""
    joined = the_hall.join(args.participants)
    version = the_hall.command("show", the_hall.polls.hidden).get("version")
    close_all([the_hall.facilitator, the_hall.screen_client])
    start = time.monotonic()
    up = the_hall.server.restart()
    cpu = tree_cpu(the_hall.server.process.pid)  # the new server's start is not counted
    the_hall.health(reset=True)
    with the_hall.profiled("reconnect"):
        answers = ask(the_hall.clients, "await_connected", timeout=200, since=start, wait=120)
    back = [t for a in answers for t in a["times"]]
    health = the_hall.health()
    figures = machine(the_hall, cpu, health)
    figures["connect_line_longest"] = health.get("connect_most_waiting")  # live/connectgate.py
    # The gate of each process: its line (waits) and how long a set-up held its slot.
    figures["connect_gate"] = [{k[len("connect_"):]: v for k, v in h.items() if k.startswith("connect_")}
                               for h in (getattr(the_hall, "each", None) or [health])]
    figures["tree_processes"] = figures.pop("processes", None)  # not --processes
    versions = {}
    for answer in answers:
        for seen, count in answer.get("versions", {}).items():
            versions[seen] = versions.get(seen, 0) + count
    the_hall.start_staff()
    figures["connected"] = the_hall.health().get("connections")  # the staff are back too
    last = max(back, default=up)
    # Several processes: the phones come back while the last ones start (`Cluster.restart`), whose
    # CPU is not told apart from theirs: no CPU per reconnection then.
    figures["cpu_ms_per_reconnect"] = (round(figures["cpu_s"] * 1000 / max(1, len(back)), 2)
                                       if getattr(args, "processes", 1) == 1 else None)
    changed = time.monotonic()
    newer = the_hall.command("open", the_hall.polls.hidden).get("version")
    shown = ask(the_hall.clients, "await_version", timeout=90, version=newer, wait=60)
    return {"joined": joined["joined"], "join_failed": joined["failed"], "join_errors": joined["errors"],
            "back": len(back), "missing": sum(a["missing"] for a in answers),
            "restart_s": round(up - start, 2), "all_back_after_up_s": round(last - up, 2),
            "all_back_after_stop_s": round(last - start, 2),
            "back_after_up_ms": spread([t - up for t in back]),
            "state_version_before": version, "phones_by_version_when_back": versions,
            "phones_behind_when_back": sum(c for v, c in versions.items() if v == "None" or int(v) < version),
            "next_change_on_every_phone_ms": round((max(a["at"] for a in shown) - changed) * 1000),
            "phones_behind_next_change": sum(a["behind"] for a in shown), **figures}


def scenario_flood(the_hall: Hall, args) -> dict:
    joined = the_hall.join(args.participants)
    activity = the_hall.polls.steady
    for action in ("show", "open"):
        the_hall.command(action, activity)
    flooder = ClientProcess(the_hall.url, the_hall.setup.code, the_hall.workdir / "flooder.log",
                            kind=the_hall.client_kind)
    the_hall.others = [flooder]
    try:
        flooder.send("join", count=1)
        flooder.answer(60)
        pid = the_hall.server.process.pid
        the_hall.health(reset=True)
        cpu, start = tree_cpu(pid), time.monotonic()
        duration = args.duration or 10.0
        for client in the_hall.clients:  # the others vote steadily meanwhile
            client.send("steady", until=start + duration, period=args.period, activity=activity,
                        options=the_hall.polls.options[activity])
        flooder.send("flood", count=args.flood_events, activity=activity)
        flood = flooder.answer(duration + 120)
        votes = [v for c in the_hall.clients for v in c.answer(duration + 120)["votes"]]
        figures = machine(the_hall, cpu, the_hall.health())
    finally:
        flooder.stop()
        the_hall.others = []
    ok = [v for v in votes if v["ok"]]
    return {"joined": joined["joined"], "flood_sent": flood["sent"],
            "flood_seconds": round(flood["seconds"], 2),
            "flood_accepted": flood["ok"], "flood_refused": flood["refused"],
            "flooder_disconnected": flood["disconnected"], "others_votes": len(votes),
            "others_acked_ok": len(ok), "others_ack_ms": spread([v["acked"] - v["sent"] for v in ok]),
            **figures}


def scenario_soak(the_hall: Hall, args) -> dict:
    pid = the_hall.server.process.pid
    fds_empty = open_fds(pid)
    joined = the_hall.join(args.participants)
    activity = the_hall.polls.hidden
    for action in ("show", "open"):
        the_hall.command(action, activity)
    duration = args.duration or 600.0
    cpu, start = tree_cpu(pid), time.monotonic()
    fds_full = open_fds(pid)
    the_hall.health(reset=True)
    for client in the_hall.clients:
        client.send("churn", until=start + duration, share=args.churn, every=1.0, activity=activity,
                    options=the_hall.polls.options[activity])
    samples = []
    while time.monotonic() < start + duration:
        samples.append((time.monotonic() - start, tree_rss_mb(pid)))
        time.sleep(min(5.0, max(0.1, start + duration - time.monotonic())))
    churned = [c.answer(duration + 120) for c in the_hall.clients]
    ask(the_hall.clients, "await_connected", timeout=200, since=0, wait=60)
    figures = machine(the_hall, cpu, the_hall.health())
    late = [rss for t, rss in samples if t >= duration / 2] or [samples[-1][1]]
    plateau = sorted(late)[len(late) // 2]
    final = tree_rss_mb(pid)
    fds_after = open_fds(pid)
    status = the_hall.phone_status()
    for client in the_hall.clients:  # everyone leaves: the server must let every socket go
        client.stop()
    the_hall.clients = []
    left = the_hall.health().get("connections")
    deadline = time.monotonic() + 30
    while left and left > 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        left = the_hall.health().get("connections")
    return {"joined": joined["joined"], "duration_s": duration, "reconnections": sum(
        c["reconnected"] for c in churned), "connected_at_end": status["connected"],
        "rss_plateau_mb": round(plateau, 1), "rss_end_mb": round(final, 1),
        "rss_vs_plateau_pct": round((final - plateau) / plateau * 100, 1),
        "rss_samples_mb": [round(r) for _t, r in samples[:: max(1, len(samples) // 12)]],
        "fds_empty": fds_empty, "fds_full": fds_full, "fds_after_churn": fds_after,
        "sockets_after_all_left": left, "fds_after_all_left": open_fds(pid), **figures}


def scenario_typing(the_hall: Hall, args) -> dict:
    joined = the_hall.join(args.participants)
    pid = the_hall.server.process.pid
    spread_s = args.duration or 10.0
    the_hall.health(reset=True)
    cpu, start = tree_cpu(pid), time.monotonic()
    answers = ask(the_hall.clients, "words", timeout=spread_s + 120, until=start + spread_s,
                  activity=the_hall.setup.activity, per_phone=1, prefix="mot")
    entries = [e for a in answers for e in a["entries"]]
    figures = machine(the_hall, cpu, the_hall.health())
    last_ack = max((e["acked"] for e in entries if e["ok"]), default=start)
    the_hall.screen.wait_for(lambda s: any(t > last_ack for t, _d in s.received["cloud"]), 30)
    the_hall.screen.quiet_for("cloud", 2.5, 30)
    with the_hall.screen._changed:
        pushes = list(the_hall.screen.received["cloud"])
    seen: dict[str, set[str]] = {}
    for _t, data in pushes:
        if data["v"] not in seen:
            seen[data["v"]] = svg_words(the_hall.url, the_hall.setup, data["v"], accounted=True)
    delays, missing = [], 0
    for entry in (e for e in entries if e["ok"]):
        shown = [t for t, data in pushes if t >= entry["acked"] and entry["text"] in seen[data["v"]]]
        if shown:
            delays.append(min(shown) - entry["sent"])
        else:
            missing += 1
    return {"joined": joined["joined"], "entries": len(entries),
            "acked_ok": sum(1 for e in entries if e["ok"]),
            "never_on_screen": missing, "cloud_pushes": len(pushes),
            "ack_ms": spread([e["acked"] - e["sent"] for e in entries if e["ok"]]),
            "entry_to_screen_ms": spread(delays), **figures}


def _process_times(pid: int) -> tuple[float, float]:
    """The user and system CPU seconds of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def scenario_rounds(the_hall: Hall, args) -> dict:
    """Everyone votes at once, `--rounds` times on the same poll (reset and opened again between
    two): the server's CPU per vote over thousands of votes, a figure fine enough to compare
    two commits or the two async modes side by side (a burst's own is counted in clock ticks)."""
    joined = the_hall.join(args.participants)
    poll, pid = the_hall.polls.hidden, the_hall.server.process.pid
    choices = skewed_choices(the_hall.polls.options[poll], args.participants)
    the_hall.command("show", poll)
    used, votes, walls, stalls, acked = [0.0, 0.0], 0, [], [], 0
    for _round in range(args.rounds):
        the_hall.command("open", poll)
        time.sleep(0.3)  # the open's pushes have reached the phones: not part of the burst
        the_hall.health(reset=True)
        before, at = _process_times(pid), time.monotonic() + 0.2
        answers = ask(the_hall.clients, "burst", timeout=120, at=at, activity=poll, choices=choices)
        after = _process_times(pid)
        used = [used[0] + after[0] - before[0], used[1] + after[1] - before[1]]
        ok = [v for a in answers for v in a["votes"] if v["ok"]]
        votes, acked = votes + sum(len(a["votes"]) for a in answers), acked + len(ok)
        walls.append(round(max((v["acked"] for v in ok), default=at) - at, 3))
        stalls.append(the_hall.health().get("max_loop_gap_ms"))
        the_hall.command("reset", poll)
    return {"joined": joined["joined"], "rounds": args.rounds, "votes": votes, "acked_ok": acked,
            "server_cpu_ms_per_vote": round(sum(used) * 1000 / max(1, votes), 4),
            "server_user_ms_per_vote": round(used[0] * 1000 / max(1, votes), 4),
            "server_system_ms_per_vote": round(used[1] * 1000 / max(1, votes), 4),
            "release_to_last_ack_s": spread_s(walls), "loop_stall_ms_max": max(stalls, default=None),
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def spread_s(values: list[float]) -> dict:
    """Smallest, median and largest of a few durations."""
    ordered = sorted(values)
    return {"min": ordered[0], "median": ordered[len(ordered) // 2], "max": ordered[-1]} if ordered else {}


RUNNERS = {"join": scenario_join, "burst": scenario_burst, "steady": scenario_steady,
           "reconnect": scenario_reconnect, "flood": scenario_flood, "soak": scenario_soak,
           "typing": scenario_typing, "rounds": scenario_rounds}


# --- the command -----------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--scenario", action="append", choices=(*SCENARIOS, "all"),
                        help="what to run (repeatable; burst when none is given; all: every one)")
    parser.add_argument("--participants", type=int, default=1000, help="phones (1000; typing: 200)")
    parser.add_argument("--mode", choices=MODES, default=DEFAULT_MODE,
                        help=f"the server's async mode ({DEFAULT_MODE})")
    parser.add_argument("--clients", type=int, default=None,
                        help=f"client processes (one per {PHONES_PER_CLIENT} phones, at most one per core "
                             f"and {MAX_CLIENTS})")
    parser.add_argument("--clients-sched", choices=CLIENT_SCHEDULING, default="batch",
                        help="the client processes' scheduling: batch (SCHED_BATCH: a client woken by "
                             "the server does not preempt it; the default) or normal")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds: steady 30, flood 10, soak 600, typing 10 (the words' spread)")
    parser.add_argument("--period", type=float, default=3.0, help="steady: seconds between a phone's votes")
    parser.add_argument("--timeline", type=float, default=0.0, metavar="SECONDS",
                        help="steady: the acks and the screen's pushes in slices of SECONDS (0: none)")
    parser.add_argument("--rounds", type=int, default=30, help="rounds: bursts on the same poll (30)")
    parser.add_argument("--window", type=float, default=0.0, help="join: seconds over which phones arrive")
    parser.add_argument("--admit", type=float, default=default_admit(),
                        help="the join line: new participants let in per second (the server's default, "
                             f"{default_admit():g}; 0: no line)")
    parser.add_argument("--churn", type=float, default=0.02,
                        help="soak: share of the phones that reconnect every second (0.02)")
    parser.add_argument("--flood-events", type=int, default=FLOOD_EVENTS,
                        help=f"flood: events the hostile socket sends ({FLOOD_EVENTS})")
    parser.add_argument("--client", choices=tuple(CLIENTS), default=DEFAULT_CLIENT,
                        help="the phones' client: raw (the protocol spoken over aiohttp's WebSocket, "
                             "bench/rawclient.py) or socketio (python-socketio's AsyncClient, "
                             f"bench/loadclient.py); {DEFAULT_CLIENT} by default")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="burst and steady: py-spy records every server and client process "
                             "during each burst or the steady votes (collapsed stacks in DIR; "
                             "run as root)")
    parser.add_argument("--profile-idle", action="store_true",
                        help="with --profile: sample the processes' waits too (wall time, not only CPU)")
    parser.add_argument("--connect-slots", type=int, default=None, metavar="N",
                        help="the server's connect gate: N slots, N/2 per client address "
                             "(LIVE_CONNECT_SLOTS, LIVE_CONNECT_SLOTS_PER_ADDRESS; default: the server's)")
    parser.add_argument("--yardstick-repeat", type=int, default=3, metavar="N",
                        help="runs of the yardstick before and after the scenario, the fastest kept (3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a server setting for the run, as LIVE_KEY=VALUE (repeatable; e.g. "
                             "--set WRITE_GATHER=0.015): to compare a setting side by side")
    add_cluster_arguments(parser)


def default_admit() -> float:
    """The server's default `ADMIT_PER_SECOND` (live/config.py)."""
    from live.config import Defaults

    return float(Defaults.ADMIT_PER_SECOND)


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """Several server processes (bench/cluster.py): nginx in front, Redis between them."""
    parser.add_argument("--processes", type=int, default=1,
                        help="server processes; more than 1: behind nginx (the documented block), "
                             "sharing the room through Redis")
    parser.add_argument("--separate-processes", action="store_true",
                        help="with --processes N: N `python wsgi.py` started separately, each building "
                             "its own application, instead of one `LIVE_PROCESSES=N python wsgi.py` "
                             "forking the others from the first once built (for comparison)")
    parser.add_argument("--queue", default=None,
                        help="Redis URL of the message queue (default with --processes > 1: a private "
                             "redis-server on a free port, stopped at the end)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the database: a fresh SQLite file, or a fresh schema in "
                             "--database-url / PALABRE_POSTGRES_URL (postgresql+psycopg://...)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL for --db postgresql")
    parser.add_argument("--shared-port", action="store_true",
                        help="with --processes N: no nginx; every process on one port "
                             "(LIVE_SHARED_PORT), each connection placed by its client address")
    parser.add_argument("--nginx-workers", default="1", metavar="N|auto",
                        help="nginx's worker_processes in front of several processes (1, as "
                             "docs/deployment.md recommends; auto: one per core)")


def gate_config(args) -> dict:
    """The server settings asked for: --connect-slots (the connect gate), --set KEY=VALUE."""
    slots = getattr(args, "connect_slots", None)
    config = {} if slots is None else {"CONNECT_SLOTS": slots,
                                       "CONNECT_SLOTS_PER_ADDRESS": max(1, slots // 2)}
    for setting in getattr(args, "set", None) or ():  # --set KEY=VALUE
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--set {setting!r}: KEY=VALUE expected")
        config[key.strip().upper().removeprefix("LIVE_")] = value
    return config


def cluster_wanted(args) -> bool:
    """Whether the run needs the several-process set-up (nginx, Redis)."""
    return (getattr(args, "processes", 1) > 1 or bool(getattr(args, "queue", None))
            or getattr(args, "db", "sqlite") != "sqlite")


def measure(scenario: str, args, workdir: Path | None = None) -> dict:
    """Run one scenario on its own fresh server; its figures."""
    raise_fd_limit()
    participants = args.participants
    if scenario == "typing" and participants == 1000 and not getattr(args, "participants_given", False):
        participants = 200
    run_args = argparse.Namespace(**{**vars(args), "participants": participants})
    from bench.yardstick import loopback
    from bench.yardstick import measure as yardstick

    repeat = getattr(args, "yardstick_repeat", 3)
    speed = yardstick(repeat)  # this machine's speed, before the server starts (bench/yardstick.py)
    trips = loopback(min(repeat, 3))  # and how fast its processes wake each other, core to core
    with tempfile.TemporaryDirectory(prefix="palabre-load-") as scratch:
        folder = Path(workdir or scratch)
        kind = "wordcloud" if scenario == "typing" else "polls"
        clients = clients_for(participants, args.clients)
        ClientProcess.scheduling = getattr(args, "clients_sched", "batch")
        if cluster_wanted(args):
            from bench.cluster import cluster_hall

            place = cluster_hall(folder, args, clients, participants, scenario)
        else:
            place = hall(folder, args.mode, clients, kind, admit=getattr(args, "admit", None),
                         client=getattr(args, "client", DEFAULT_CLIENT), **gate_config(args))
        with place as the_hall:
            the_hall.profile = getattr(args, "profile", None)
            the_hall.profile_idle = getattr(args, "profile_idle", False)
            figures = RUNNERS[scenario](the_hall, run_args)
    return {"scenario": scenario, "mode": args.mode, "participants": participants,
            "client": getattr(args, "client", DEFAULT_CLIENT),
            "processes": getattr(args, "processes", 1),
            "shared_port": bool(getattr(args, "shared_port", False)),
            "yardstick_ms": speed, "loopback_us": trips,
            "yardstick_after_ms": yardstick(repeat), **figures}  # before and after: the host's speed held?


def describe(figures: dict, indent: str = "") -> str:
    """Figures as aligned lines."""
    lines = []
    for key, value in figures.items():
        if isinstance(value, dict) and not {"p50", "n"} <= set(value):
            lines.append(f"{indent}{key}")
            lines.append(describe(value, indent + "  "))
        elif isinstance(value, dict):
            lines.append(f"{indent}{key:<28} p50 {value['p50']} / p95 {value['p95']} / p99 {value['p99']}"
                         f" / max {value['max']} ms (n={value['n']})")
        else:
            lines.append(f"{indent}{key:<28} {value}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the scenarios asked for, printing each one's figures; 1 if an acknowledged vote is missing."""
    if args.participants < 1:
        raise SystemExit("--participants must be at least 1")
    if args.processes < 1:
        raise SystemExit("--processes must be at least 1")
    if getattr(args, "shared_port", False) and args.processes < 2:
        raise SystemExit("--shared-port needs --processes 2 or more")
    args.participants_given = "--participants" in " ".join(sys.argv)
    chosen = args.scenario or ["burst"]
    scenarios = list(SCENARIOS) if "all" in chosen else list(dict.fromkeys(chosen))
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(1))  # clean up the server and clients
    lost = False
    for scenario in scenarios:
        figures = measure(scenario, args)
        print(json.dumps(figures) if args.json else describe(figures) + "\n", flush=True)
        steady = figures if scenario == "steady" else None
        for phase in (figures.get("hidden"), figures.get("revealed"), steady):
            if phase and phase["stored"] < phase["acked_ok"]:
                lost = True
    return 1 if lost else 0
