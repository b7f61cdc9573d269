"""benchmarks.lock_holds: each caller's outermost holds of the generator's lock, and the same restricted to the
stretch a background driver ran (the set-up's own caller-driven steps left out)."""

import threading

from benchmarks.lock_holds import HoldTimer
from m1reason.generator.turns import TurnTakingLock


def test_holds_are_counted_per_caller_and_within_the_drivers_stretch():
    lock, timer = TurnTakingLock(), HoldTimer()

    def setup():
        with lock:
            pass

    def _drive():
        with lock:
            pass

    def consumer():
        with lock, lock:  # re-entrant: one hold
            pass

    with timer:
        setup()  # before the driver: counted in all, not in its stretch
        _drive()
        worker = threading.Thread(target=consumer)
        worker.start()
        worker.join()
        _drive()
    everything = {row["taken by"]: row["holds"] for row in timer.rows()}
    assert everything == {"setup": 1, "_drive": 2, "consumer": 1}
    during = {row["taken by"]: row["holds"] for row in timer.rows(during="_drive")}
    assert during == {"_drive": 2, "consumer": 1}
    assert TurnTakingLock.__enter__.__name__ == "__enter__"  # the timer put the lock's own methods back
