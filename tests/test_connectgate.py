"""The connect gate's line (live/connectgate.py), with threads and a short lease."""

from __future__ import annotations

import threading
import time

import pytest

from live.connectgate import ConnectGate

LEASE = 0.05


class CountingGate(ConnectGate):
    """A gate that counts its waiters' looks at the leases."""

    looks = 0

    def _expire(self):
        self.looks += 1
        super()._expire()


def _line_behind(gate, waiters: int, address=None) -> list[threading.Thread]:
    threads = [threading.Thread(target=gate.enter, args=(address or f"10.0.0.{i}",), daemon=True)
               for i in range(waiters)]
    for thread in threads:
        thread.start()
        time.sleep(0.001)  # in arrival order
    return threads


@pytest.mark.parametrize("one_address", [False, True], ids=["many addresses", "a hall behind one address"])
def test_a_long_line_looks_at_the_leases_a_few_times_not_once_per_waiter_per_lease(one_address):
    """A hall waiting behind stuck slots: the waiters far back look rarely, while the first
    ones still look once per lease. Each look is a wake-up of a green thread: one per waiter
    per lease was ~5-8 % of a reconnect storm's CPU with 5,000 in line."""
    # No lease ever runs out (the clock stands still); behind one address the line waits put
    # aside (its address holds its share: 2 of the 4 slots), not in the line itself.
    gate = CountingGate(slots=4 if one_address else 2, lease=LEASE, per_address=2, clock=lambda: 0.0)
    for address in ("hall", "hall") if one_address else ("a", "b"):
        gate.enter(address)
    _line_behind(gate, 40, "hall" if one_address else None)
    gate.looks = 0
    time.sleep(20 * LEASE)
    # Once per waiter per lease: 40 x 20 = 800 looks. The first two: 40, then 20, 13, 10...
    assert gate.looks < 300, gate.looks


def test_a_stuck_slot_still_goes_to_the_head_of_a_long_line_within_a_lease_or_so():
    gate = ConnectGate(slots=1, lease=LEASE)
    gate.enter("silent")  # never gives its slot back
    got = []
    threads = [threading.Thread(target=lambda i=i: got.append((i, gate.enter(f"p{i}"))), daemon=True)
               for i in range(30)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
        time.sleep(0.001)
    while not got and time.monotonic() - started < 5:
        time.sleep(0.005)
    assert got and got[0][0] == 0  # the first in line, not one further back
    assert time.monotonic() - started < 3 * LEASE
