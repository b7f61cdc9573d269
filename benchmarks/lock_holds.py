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
    """

    def __init__(self):
        self.holds: dict[str, list[float]] = collections.defaultdict(list)
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
                holds[caller].append(time.perf_counter() - taken)
            return leave(lock, *exc)

        TurnTakingLock.__enter__, TurnTakingLock.__exit__ = timed_enter, timed_exit
        return self

    def __exit__(self, *exc) -> None:
        from m1reason.generator.turns import TurnTakingLock

        TurnTakingLock.__enter__, TurnTakingLock.__exit__ = self._saved

    def rows(self) -> list[dict]:
        """Per caller: holds, seconds held in all, and the longest hold in ms; most time first."""
        return [{"taken by": caller, "holds": len(times), "held s": round(sum(times), 3),
                 "longest ms": round(1000 * max(times), 1)}
                for caller, times in sorted(self.holds.items(), key=lambda kv: -sum(kv[1]))]


def main(argv: list[str] | None = None) -> int:
    from benchmarks import budget_curve

    with HoldTimer() as timer:
        budget_curve.main(argv)
    print(markdown_table(timer.rows(), ["taken by", "holds", "held s", "longest ms"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
