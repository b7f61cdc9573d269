"""A new user's first answer: a fresh Python process that imports m1reason and calls ``solve`` once.

Each run is its own process (nothing cached in memory; the OS file cache is warm after the first), which times
``import m1reason``, then ``m1reason.solve(problem, budget_s=...)`` on the embedded model: the solution's
``load_s`` and ``warm_s`` (start-up, kept out of the budget) and ``total_s`` (the budgeted part), the call's wall
time, and the process's wall time from its start to the answer. Prints a table and JSON; ``--section`` writes
that section of BENCHMARKS.md.

    python -m benchmarks.cold_start                       # 5 runs of "What is 48 + 27?" at budget 5 s, CPU
    python -m benchmarks.cold_start --runs 3 --problem "What is 15% of 200?" --no-write
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from benchmarks.report import environment, markdown_table, write_section

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import m1reason
imported = time.perf_counter()
sol = m1reason.solve(sys.argv[1], budget_s=float(sys.argv[2]))
done = time.perf_counter()
print(json.dumps({"import_s": imported - t0, "solve_call_s": done - imported, "process_s": done - t0,
                  "load_s": sol.timings.get("load_s"), "warm_s": sol.timings.get("warm_s"),
                  "total_s": sol.timings.get("total_s"), "answer": sol.answer, "status": sol.status,
                  "confidence": sol.confidence, "n": sol.plan.n}))
"""


def one_run(problem: str, budget_s: float) -> dict:
    """One fresh process's timings and answer."""
    out = subprocess.run([sys.executable, "-c", _CHILD, problem, str(budget_s)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="What is 48 + 27?")
    parser.add_argument("--budget", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--section", default="cold_start")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    runs = [one_run(args.problem, args.budget) for _ in range(args.runs)]
    keys = ("import_s", "load_s", "warm_s", "total_s", "solve_call_s", "process_s")
    median = {k: statistics.median(r[k] or 0.0 for r in runs) for k in keys}
    rows = [{"run": i + 1, **{k: f"{r[k]:.3f}" if r[k] is not None else "-" for k in keys},
             "answer": r["answer"], "status": r["status"], "n": r["n"]} for i, r in enumerate(runs)]
    rows.append({"run": "median", **{k: f"{v:.3f}" for k, v in median.items()}, "answer": "", "status": "",
                 "n": ""})
    table = markdown_table(rows, ["run", *keys, "answer", "status", "n"])
    print(table)
    print(json.dumps({"bench": "cold_start", "problem": args.problem, "budget_s": args.budget, "runs": runs,
                      "median": median}))
    answers = sorted({str(r["answer"]) for r in runs})
    body = (f"`m1reason.solve({args.problem!r}, budget_s={args.budget:g})` in {args.runs} fresh processes, the "
            f"embedded model. Seconds: `import m1reason`; the solution's `load_s` and `warm_s` (start-up, outside "
            f"the budget) and `total_s` (the budgeted part); the whole `solve` call; the process from its start to "
            f"the answer. Answers: {', '.join(answers)}.\n\n{table}\n")
    if not args.no_write:
        write_section(args.section, "A new process's first answer", body, environment(("torch",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
