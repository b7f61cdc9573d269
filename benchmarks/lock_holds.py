"""Who holds the generator's lock under load: a budget_curve run with every outermost hold of M1Generator's
TurnTakingLock timed and attributed to the function that took it.

Under many concurrent problems the background driver can wait for that lock as long as it steps the engine
(BENCHMARKS.md "budget_curve_gpu_load_mixed_s1000"); this says which callers keep it. The arguments after the
options go to ``benchmarks.budget_curve`` as they are (add ``--no-write``: the timing wrapper slows every hold).

    python -m benchmarks.lock_holds --count 64 --concurrency 32 --budgets 1.0 --mixed --no-write
"""

from __future__ import annotations

import collections
import sys
import threading
import time

from benchmarks.report import markdown_table


class HoldTimer:
    """Wraps TurnTakingLock's enter and exit (while installed) to sum each caller's outermost holds.

    >>> from m1reason.generator.turns import TurnTakingLock
    >>> lock, timer = TurnTakingLock(), HoldTimer()
    >>> with timer:
    ...     def work():
    ...         with lock:
    ...             with lock:  # re-entrant: only the outer hold counts
    ...                 pass
    ...     work()
    >>> [(row["taken by"], row["holds"]) for row in timer.rows()]
    [('work', 1)]
    >>> timer.rows(during="_drive")  # no hold by a background driver: no window to count in
    []
    """

    def __init__(self):
        self.holds: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)  # (taken at, held s)
        self._local = threading.local()

    def __enter__(self) -> HoldTimer:
        from m1reason.generator.turns import TurnTakingLock

        self._saved = TurnTakingLock.__enter__, TurnTakingLock.__exit__
        enter, leave, local, holds = *self._saved, self._local, self.holds

        def timed_enter(lock):
            enter(lock)
            caller = sys._getframe(1).f_code.co_name
            local.__dict__.setdefault("stack", []).append((caller, time.perf_counter()))
            return lock

        def timed_exit(lock, *exc):
            caller, taken = local.stack.pop()
            if not local.stack:
                holds[caller].append((taken, time.perf_counter() - taken))
            return leave(lock, *exc)

        TurnTakingLock.__enter__, TurnTakingLock.__exit__ = timed_enter, timed_exit
        return self

    def __exit__(self, *exc) -> None:
        from m1reason.generator.turns import TurnTakingLock

        TurnTakingLock.__enter__, TurnTakingLock.__exit__ = self._saved

    def rows(self, during: str | None = None) -> list[dict]:
        """Per caller: holds, seconds held in all, and the longest hold in ms; most time first. ``during``: only
        the holds taken between the first and the last hold of that caller (e.g. "_drive": while the background
        driver ran, leaving out the set-up's own steps before it started)."""
        holds = self.holds
        if during is not None:
            spans = holds.get(during)
            if not spans:
                return []
            first, last = spans[0][0], spans[-1][0] + spans[-1][1]
            holds = {caller: [h for h in taken if first <= h[0] <= last] for caller, taken in holds.items()}
        times = {caller: [held for _, held in taken] for caller, taken in holds.items() if taken}
        return [{"taken by": caller, "holds": len(held), "held s": round(sum(held), 3),
                 "longest ms": round(1000 * max(held), 1)}
                for caller, held in sorted(times.items(), key=lambda kv: -sum(kv[1]))]


def main(argv: list[str] | None = None) -> int:
    from benchmarks import budget_curve

    with HoldTimer() as timer:
        budget_curve.main(argv)
    columns = ["taken by", "holds", "held s", "longest ms"]
    print("Every hold of the run (loading, calibration and warm-up included):")
    print(markdown_table(timer.rows(), columns))
    print("\nWhile the background driver ran (from its first hold to its last: the loaded cells):")
    print(markdown_table(timer.rows(during="_drive"), columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
