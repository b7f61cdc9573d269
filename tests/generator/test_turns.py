"""The generator's lock hands itself to waiting threads between the background driver's turns."""

from __future__ import annotations

import threading
import time

from m1reason.generator.turns import TurnTakingLock


def _most_turns_waited(step_aside, waiters: int = 8, takes: int = 10) -> int:
    """A driver holds the lock for 2 ms turns back to back, calling ``step_aside(lock)`` between turns, while
    ``waiters`` threads each take the lock ``takes`` times. Returns the most driver turns any take waited."""
    lock, turns, stop = TurnTakingLock(), [0], threading.Event()
    waited = []

    def drive():
        while not stop.is_set():
            with lock:
                time.sleep(0.002)  # an engine step: torch kernels release the GIL, as sleep does
                turns[0] += 1
            step_aside(lock)

    def take():
        for _ in range(takes):
            before = turns[0]
            with lock:
                waited.append(turns[0] - before)
            time.sleep(0.001)

    driver = threading.Thread(target=drive)
    threads = [threading.Thread(target=take) for _ in range(waiters)]
    driver.start()
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop.set()
        driver.join()
    return max(waited)


def test_waiting_threads_get_the_lock_at_the_next_turn():
    """Eight threads waiting on a driver that steps aside: none waits more than the turn in progress. (A driver
    that only yields the GIL between turns, ``time.sleep(0)``, made some wait 4-6 turns on 2 CPU cores.)"""
    assert _most_turns_waited(lambda lock: lock.yield_to_waiters(timeout=0.05)) <= 1


def test_yield_gives_up_after_its_timeout():
    lock = TurnTakingLock()
    lock.waiting = 1  # a waiter that never takes its turn
    started = time.monotonic()
    assert lock.yield_to_waiters(timeout=0.02) is False
    assert 0.015 <= time.monotonic() - started < 1.0
