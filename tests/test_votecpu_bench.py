"""`python -m bench votecpu` runs end to end at a tiny size, so that it cannot rot (no timing
is asserted: the figures are the benchmark's to print)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_vote_of_the_in_process_burst_is_acked_and_measured():
    done = subprocess.run([sys.executable, "-m", "bench", "votecpu", "--participants", "6", "--rounds", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("6 of 6 acked ok") == 2, done.stdout
    assert "median CPU per vote" in done.stdout
