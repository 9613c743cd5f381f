"""`python -m bench load`: every scenario runs end to end at a tiny size, so that it cannot rot.

No timing is asserted (timing goals are the benchmark's to print, on a quiet machine): each
scenario starts the real server, drives its phones from a client process, and must come back
with what a user would notice: everyone joined, every acknowledged vote stored and on screen,
everyone back after a restart, the sockets let go once everyone left. Every scenario runs with
both clients of the phones (`--client raw`, the protocol spoken by hand, and `--client socketio`,
python-socketio's AsyncClient): the same phones must give the same counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from multiprocess import require
from realserver import MODE

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent
PHONES = 4
CLIENTS = ("raw", "socketio")
TINY = ["--participants", str(PHONES), "--clients", "1", "--duration", "3", "--period", "1",
        "--churn", "0.3", "--flood-events", "300", "--yardstick-repeat", "1", "--json"]


@pytest.fixture(params=CLIENTS)
def client(request) -> str:
    """The phones' client process (`--client`)."""
    return request.param


def measure(scenario: str, *extra: str, client: str = "raw") -> dict:
    """`python -m bench load --scenario <scenario>` at a tiny size (a subprocess: the tests never
    import the benchmarks), its server in the async mode of the run (the other mode's pass of
    `make test` runs these again under it) unless `extra` names one; its figures."""
    done = subprocess.run([sys.executable, "-m", "bench", "load", "--scenario", scenario, *TINY,
                           "--client", client, "--mode", MODE, *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["client"] == client
    assert figures["mode"] == (extra[extra.index("--mode") + 1] if "--mode" in extra else MODE)
    # the machine's speed before and after (bench/yardstick.py), to compare figures across days
    assert figures["yardstick_ms"] > 0 and figures["yardstick_after_ms"] > 0
    assert figures["loopback_us"] and all(us > 0 for us in figures["loopback_us"].values())
    return figures


def test_the_phones_websocket_client():
    """bench/wsclient.py's own tests (bench/test_wsclient.py), in a child process: the suite
    does not import the benchmarks."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "bench/test_wsclient.py"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_the_yardstick_prints_this_machines_speed():
    done = subprocess.run([sys.executable, "-m", "bench", "yardstick", "--repeat", "2", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout)
    assert figures["yardstick_ms"] > 0 and figures["votes"] == 5000


def assert_sharing(figures: dict, processes: int = 1, sched: str = "batch") -> None:
    """A phase's figures say how the cores were shared: the client processes' CPU and RSS beside
    the server's."""
    assert figures["client_processes"] == processes
    assert figures["clients_rss_mb"] > 10 * processes  # a Python process with its phones
    assert figures["clients_cpu_s"] >= 0 and figures["bench_cpu_s"] >= 0 and figures["phase_s"] > 0
    # and how long the server's and the clients' processes waited for a core meanwhile
    waited = figures["waited_for_a_core_s"]
    assert {"server", "clients"} <= set(waited) and min(waited.values()) >= 0, waited
    assert ("nginx" in waited) == ("nginx_cpu_s" in figures)
    # the client processes run as SCHED_BATCH (read from the kernel during the phase) unless told
    assert figures["clients_sched"] == [sched], figures["clients_sched"]


@pytest.mark.parametrize("sched", ["batch", "normal"])
def test_join_storm(client, sched):
    figures = measure("join", "--window", "0.5", "--clients-sched", sched, client=client)
    assert figures["joined"] == PHONES and figures["failed"] == 0
    assert figures["connected"] == PHONES + 2  # the phones, the facilitator and the screen
    assert figures["join_latency_ms"]["n"] == PHONES
    assert_sharing(figures, sched=sched)
    assert figures["clients_cpu_s"] > 0  # joining costs the clients something


def test_join_storm_through_the_join_line(client):
    """Two phones a second let in: the others wait in line, and everyone gets in."""
    figures = measure("join", "--admit", "2", client=client)
    assert figures["joined"] == PHONES and figures["never_in"] == 0
    assert figures["waited_in_line"] >= PHONES - 2 - 1 and figures["longest_wait_s"] > 0
    assert figures["connected"] == PHONES + 2


def test_burst_hidden_then_revealed(client):
    figures = measure("burst", client=client)
    for phase in ("hidden", "revealed"):
        burst = figures[phase]
        assert burst["votes"] == burst["acked_ok"] == burst["stored"] == burst["on_screen"] == PHONES
        assert burst["vote_to_screen_ms"]["n"] == PHONES
        assert_sharing(burst)
        # 4 votes may cost less than a clock tick (10 ms): present, not necessarily > 0
        assert burst["clients_cpu_ms_per_vote"] >= 0 and burst["server_cpu_ms_per_vote"] >= 0
    assert figures["revealed"]["tallies_to_phones"] >= PHONES  # the phones parsed the revealed tally
    # Both clients count every push by name: the revealed tally, nothing while hidden.
    assert figures["revealed"]["phones_received"].get("results", 0) >= PHONES
    assert "results" not in figures["hidden"]["phones_received"]
    # The tallies received between the release and the last ack, counted by the phones' clock.
    assert figures["hidden"]["tallies_before_last_ack"] == 0
    assert 0 <= figures["revealed"]["tallies_before_last_ack"] <= figures["revealed"]["tallies_to_phones"]


def test_rounds(client):
    """Bursts on the same poll, reset between two: every vote of every round acked, the server's
    CPU per vote (user and system) over all of them."""
    figures = measure("rounds", "--rounds", "2", client=client)
    assert figures["votes"] == figures["acked_ok"] == 2 * PHONES
    assert figures["server_cpu_ms_per_vote"] >= figures["server_user_ms_per_vote"] >= 0
    assert figures["release_to_last_ack_s"]["max"] >= figures["release_to_last_ack_s"]["min"] >= 0


def test_steady(client):
    figures = measure("steady", "--timeline", "0.5", client=client)
    assert figures["acked_ok"] == figures["votes"] >= PHONES
    assert figures["on_screen"] == figures["acked_ok"]  # every change counted once on the screen
    assert figures["stored"] == figures["acked_ok"]  # and once in the database
    # --timeline: every acked vote in one half-second slice, the slices in order
    slices = figures["timeline"]
    assert sum(s["votes"] for s in slices) == figures["acked_ok"]
    assert [s["at_s"] for s in slices] == sorted(s["at_s"] for s in slices)
    assert all(s["ack_p95_ms"] >= s["ack_p50_ms"] > 0 and s["screen_gap_ms"] >= 0 for s in slices)


def test_reconnect_storm(client):
    figures = measure("reconnect", client=client)
    assert figures["back"] == PHONES and figures["missing"] == 0
    assert figures["connected"] == PHONES + 2
    # The new server's connect gate: every phone's set-up through it, each holding its slot a while.
    [gate] = figures["connect_gate"]
    assert gate["entered"] >= PHONES and gate["hold_mean_ms"] > 0 and gate["waiting"] == 0


def test_flood(client):
    figures = measure("flood", client=client)
    assert figures["flood_sent"] > 0
    assert figures["others_acked_ok"] == figures["others_votes"] > 0  # the others still vote
    assert figures["flooder_disconnected"]  # cut off by the server
    assert_sharing(figures, processes=2)  # the phones' process and the flooder's


def test_soak(client):
    figures = measure("soak", client=client)
    assert figures["reconnections"] > 0
    assert figures["connected_at_end"] == PHONES
    assert figures["sockets_after_all_left"] == 2  # only the facilitator and the screen are left


def test_typing(client):
    figures = measure("typing", client=client)
    assert figures["acked_ok"] == figures["entries"] == PHONES
    assert figures["never_on_screen"] == 0


def _two_processes(*extra: str, client: str = "raw") -> None:
    """`--processes 2`: two servers behind the documented nginx block, a private Redis; the
    phones spread over both (each from its own loopback address), the screen on one."""
    require("redis-server", "PALABRE_REQUIRE_REDIS")
    require("nginx", "PALABRE_REQUIRE_NGINX")
    phones = 24  # nginx hashes each phone's address: with 24, both processes get some
    figures = measure("burst", "--processes", "2", "--participants", str(phones), "--clients", "2", *extra,
                      client=client)
    assert figures["processes"] == 2 and figures["joined"] == phones
    for phase in ("hidden", "revealed"):
        burst = figures[phase]
        # Every vote acknowledged, stored once and counted on the screen, whichever process took it.
        assert burst["votes"] == burst["acked_ok"] == burst["stored"] == burst["on_screen"] == phones
        each = [p["connections"] for p in burst["per_process"]]
        assert len(each) == 2 and sum(each) == phones + 2 and min(each) > 0, each
        assert burst["screen_pushes_max_per_s"] <= 10  # once per interval, not once per process
        assert_sharing(burst, processes=2)
        assert burst["nginx_cpu_s"] >= 0 and burst["redis_cpu_s"] >= 0  # they share the cores too
    assert figures["hidden"]["pushes_to_phones"] == 0  # no live count to phones while hidden
    assert figures["revealed"]["tallies_to_phones"] >= phones  # the revealed tally reached everyone


def test_burst_on_two_processes_behind_nginx_sharing_redis(client):
    _two_processes(client=client)


def test_burst_on_two_processes_with_a_setting_and_nginx_workers_given():
    """`--set KEY=VALUE` (a server setting for the run) and `--nginx-workers auto` (one nginx
    worker per core), to compare them side by side: the run still stores and shows every vote."""
    _two_processes("--set", "WRITE_GATHER=0.015", "--nginx-workers", "auto")


def test_steady_on_two_processes_sharing_one_port_without_nginx():
    """`--shared-port`: no nginx, both processes on one port (LIVE_SHARED_PORT), the kernel
    placing each phone by its address: the phones split over both, every vote stored once,
    acknowledged and on the screen; no nginx in the figures."""
    require("redis-server", "PALABRE_REQUIRE_REDIS")
    phones = 24
    figures = measure("steady", "--processes", "2", "--shared-port", "--participants", str(phones),
                      "--clients", "2", "--mode", "gevent")
    assert figures["processes"] == 2 and figures["shared_port"] is True and figures["joined"] == phones
    assert figures["votes"] > phones, figures
    assert figures["votes"] == figures["acked_ok"] == figures["stored"] == figures["on_screen"]
    each = [p["connections"] for p in figures["per_process"]]
    # The bench's own addresses alternate between the two processes (127.x.y.z, z = 1, 2, ...).
    assert sorted(each) == [phones // 2, phones // 2 + 2], each  # the screen and facilitator on one
    assert figures["nginx_cpu_s"] == 0 and figures["nginx_rss_mb"] == 0
    # Each process's writes within the phase, from its reset: the votes', not the joins' (their
    # writes hold the lock too, outside the group commits: a join is a page, not a socket event).
    for process in figures["per_process"]:
        phase = process["writes_in_phase"]
        assert 0 <= phase["group_commits"] <= process["group_commits"], process
        assert 0 <= phase["write_lock_held_cpu_ms"] <= phase["write_lock_held_ms"] + 1, process
        assert phase["write_lock_held_ms"] < process["write_lock_held_ms"], process
    assert sum(p["writes_in_phase"]["group_commits"] for p in figures["per_process"]) >= 1


@pytest.mark.parametrize("shared", [False, True], ids=["behind-nginx", "shared-port"])
def test_reconnect_storm_on_two_processes(shared):
    """Both processes restarted at once (behind nginx, or on one shared port: a new socket group
    on the same port): every phone back with the state version of before the restart, and a
    change made after the storm reaches every phone, whichever process it is on (through Redis)."""
    require("redis-server", "PALABRE_REQUIRE_REDIS")
    if not shared:
        require("nginx", "PALABRE_REQUIRE_NGINX")
    phones = 24
    figures = measure("reconnect", "--processes", "2", "--participants", str(phones), "--clients", "2",
                      *(["--shared-port"] if shared else []))
    assert figures["processes"] == 2 and figures["joined"] == phones
    assert figures["back"] == phones and figures["missing"] == 0
    assert figures["phones_behind_when_back"] == 0 and figures["phones_behind_next_change"] == 0
    each = [p["connections"] for p in figures["per_process"]]
    assert len(each) == 2 and sum(each) == phones and min(each) > 0, each
    gates = figures["connect_gate"]  # each process's own line
    assert len(gates) == 2 and sum(g["entered"] for g in gates) >= phones, gates


def test_burst_on_two_processes_on_postgresql():
    from conftest import require_postgres

    _two_processes("--mode", "gevent", "--db", "postgresql", "--database-url", require_postgres())
