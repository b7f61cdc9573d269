"""How long Python's garbage collector stops the process, with and without ``freeze_long_lived``.

A full (generation-2) pass of the cyclic collector walks every container object alive; after importing torch,
transformers and sympy that is ~350k objects. It runs when enough objects have survived younger passes, so in
a serving process it lands in the middle of decoding and every request waits for it. M1Generator freezes the
objects alive when it is built (``m1reason.generator.warm.freeze_long_lived``); this measures what that buys.

The embedded model's generator is built with ``freeze_gc=False``; then, twice (before and after freezing):
the time of one forced full collection (median of 3), and ``--solves`` problems solved (SelfConsistency, n=4,
up to 160 tokens, no budget) with every collection the interpreter runs on its own recorded.

    python -m benchmarks.gc_pause [--solves 200] [--no-write] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time

from benchmarks.report import environment, markdown_table, write_section


class Collections:
    """Records (generation, milliseconds) of every collection the interpreter runs while installed."""

    def __init__(self):
        self.passes: list[tuple[int, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.passes.append((info["generation"], 1e3 * (time.perf_counter() - self._started)))

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


def full_collection_ms(repeats: int = 3) -> float:
    """Median milliseconds of one forced full collection."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        gc.collect()
        times.append(1e3 * (time.perf_counter() - started))
    return statistics.median(times)


def measure(state: str, generator, problems) -> dict:
    """One row: the collector's cost with the heap as it is now, and while solving ``problems``."""
    import strategies

    row = {"state": state, "tracked objects": len(gc.get_objects()), "frozen objects": gc.get_freeze_count(),
           "full collection ms": full_collection_ms()}
    with Collections() as seen:
        for seed, problem in enumerate(problems):
            strategies.SelfConsistency(n=4, max_new_tokens=160, seed=seed).run(problem.problem, generator)
    full = [ms for generation, ms in seen.passes if generation == 2]
    row.update({"solves": len(problems), "passes": len(seen.passes), "full passes": len(full),
                "longest pass ms": max((ms for _, ms in seen.passes), default=0.0),
                "time in passes ms": sum(ms for _, ms in seen.passes)})
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solves", type=int, default=200, help="problems solved per state")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args(argv)

    from m1reason.defaults import default_generator
    from m1reason.generator.warm import freeze_long_lived
    from m1reason.train.data import heldout_problems

    generator = default_generator(freeze_gc=False)
    problems = heldout_problems(args.solves)
    generator.generate([])  # nothing to run: the engine's lazy parts are built before anything is timed
    rows = [measure("not frozen", generator, problems)]
    freeze_long_lived()
    rows.append(measure("frozen (M1Generator's default)", generator, problems))
    columns = ["state", "tracked objects", "frozen objects", "full collection ms", "solves", "passes", "full passes",
               "longest pass ms", "time in passes ms"]
    body = ("The embedded model's M1Generator, solving held-out problems one at a time (SelfConsistency, n=4, up "
            "to 160 tokens). \"full collection ms\": one forced `gc.collect()`, the stall a full pass causes; "
            "\"passes\": the collections the interpreter ran by itself during the solves, of which \"full "
            "passes\" walked the whole heap. Where no full pass ran, the freeze bought nothing in this loop: a "
            "full pass runs once enough objects have outlived younger passes, sooner in a process that keeps what "
            "it serves.\n\n" + markdown_table(rows, columns))
    print(body)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if not args.no_write:
        write_section("gc_pause", "Garbage-collector pauses, with and without freezing start-up objects", body,
                      environment())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
