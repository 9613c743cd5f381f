"""`python -m bench load`: every scenario runs end to end at a tiny size, so that it cannot rot.

No timing is asserted (timing goals are the benchmark's to print, on a quiet machine): each
scenario starts the real server, drives its phones from a client process, and must come back
with what a user would notice: everyone joined, every acknowledged vote stored and on screen,
everyone back after a restart, the sockets let go once everyone left.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import load  # noqa: E402

pytestmark = pytest.mark.server
PHONES = 4


def arguments(**overrides) -> argparse.Namespace:
    """The benchmark's options, tiny."""
    values = {"participants": PHONES, "mode": "eventlet", "clients": 1, "duration": 3.0, "period": 1.0,
              "window": 0.0, "churn": 0.3, "flood_events": 300, "json": False, "participants_given": True,
              "scenario": None}
    return argparse.Namespace(**{**values, **overrides})


def test_join_storm(tmp_path):
    figures = load.measure("join", arguments(window=0.5), tmp_path)
    assert figures["joined"] == PHONES and figures["failed"] == 0
    assert figures["connected"] == PHONES + 2  # the phones, the facilitator and the screen
    assert figures["join_latency_ms"]["n"] == PHONES


def test_burst_hidden_then_revealed(tmp_path):
    figures = load.measure("burst", arguments(), tmp_path)
    for phase in ("hidden", "revealed"):
        burst = figures[phase]
        assert burst["votes"] == burst["acked_ok"] == burst["stored"] == burst["on_screen"] == PHONES
        assert burst["vote_to_screen_ms"]["n"] == PHONES


def test_steady(tmp_path):
    figures = load.measure("steady", arguments(), tmp_path)
    assert figures["acked_ok"] == figures["votes"] >= PHONES
    assert figures["on_screen"] == figures["acked_ok"]  # every change counted once on the screen


def test_reconnect_storm(tmp_path):
    figures = load.measure("reconnect", arguments(), tmp_path)
    assert figures["back"] == PHONES and figures["missing"] == 0
    assert figures["connected"] == PHONES + 2


def test_flood(tmp_path):
    figures = load.measure("flood", arguments(), tmp_path)
    assert figures["flood_sent"] > 0
    assert figures["others_acked_ok"] == figures["others_votes"] > 0  # the others still vote


def test_soak(tmp_path):
    figures = load.measure("soak", arguments(), tmp_path)
    assert figures["reconnections"] > 0
    assert figures["connected_at_end"] == PHONES
    assert figures["sockets_after_all_left"] == 2  # only the facilitator and the screen are left


def test_typing(tmp_path):
    figures = load.measure("typing", arguments(), tmp_path)
    assert figures["acked_ok"] == figures["entries"] == PHONES
    assert figures["never_on_screen"] == 0
