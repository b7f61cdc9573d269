"""m1reason's checker (default and lenient) and HF math-verify on the answer forms of issue 29, in one run.

The cases in benchmarks/data/answer_forms.jsonl were written for this comparison, none taken from a grader's
test suite: per class (answers over several boxes, "final answer" sentences, output with neither box nor phrase,
named golds, relations, bare forms), forms a grader should accept and near misses of the same shape that it must
reject. Both checkers get the raw candidate and the gold, pinned to one core; math-verify runs in the child
process of benchmarks.answers (its signal timeouts need a main thread). The default column is the strict
checker M1's grader uses: "last_statement" positives need the lenient mode by design.

    python -m benchmarks.answer_forms [--data FILE] [--out DIR] [--no-md]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.answers import run_math_verify
from benchmarks.report import environment, markdown_table, write_section
from m1reason.answers import is_equivalent, shutdown_workers, warm_up
from m1reason.answers._variants import Pair

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "answer_forms.jsonl"
CLASSES = ("multi_box", "final_phrase", "last_statement", "named_gold", "relations", "bare_forms")
CHECKERS = ("m1reason", "m1reason lenient", "math-verify")


def load_cases(path: Path) -> list[Pair]:
    """The labelled cases of ``path`` (one JSON object a line: class, candidate, gold, expected)."""
    pairs = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            if row["class"] not in CLASSES:
                raise ValueError(f"{path}: unknown class {row['class']!r} (known: {', '.join(CLASSES)})")
            form = "accept" if row["expected"] else "near_miss"
            pairs.append(Pair(row["class"], row["candidate"], row["gold"], bool(row["expected"]), "answer_forms", form))
    return pairs


def run_m1reason(pairs: list[Pair], *, lenient: bool) -> list[tuple[bool, float]]:
    """(verdict, seconds) per pair, in this process (plus its sympy workers), from cold verdict caches."""
    _forget_verdicts()
    out = []
    for p in pairs:
        start = time.perf_counter()
        verdict = is_equivalent(p.candidate, p.gold, lenient=lenient)
        out.append((verdict, time.perf_counter() - start))
    return out


def _forget_verdicts() -> None:
    """Empty the checker's caches, so that each mode's run is timed as a first run (private names: a benchmark's
    business only)."""
    from m1reason.answers import _check, _scalar

    _check._PAIRS = _check._LRU(_check._CACHE_SIZE)
    _scalar.analyze.cache_clear()
    _scalar.prepare.cache_clear()
    _scalar._VALUES.clear()


def tabulate(pairs: list[Pair], results: dict[str, list[tuple[bool, float]]]) -> list[dict]:
    """One row per class (and a total): per checker, agreement with the labels and the near misses accepted."""
    rows = []
    for cls in [*CLASSES, "all"]:
        idx = [i for i, p in enumerate(pairs) if cls in ("all", p.category)]
        if not idx:
            continue
        row = {"class": cls, "cases (accept / near miss)":
               f"{sum(pairs[i].expected for i in idx)} / {sum(not pairs[i].expected for i in idx)}"}
        for name, res in results.items():
            agree = sum(res[i][0] == pairs[i].expected for i in idx)
            wrong = sum(res[i][0] and not pairs[i].expected for i in idx)
            row[name] = f"{100 * agree / len(idx):.1f}% ({wrong} wrong accepts)"
        rows.append(row)
    return rows


def speed(results: list[tuple[bool, float]]) -> dict:
    """Pairs per second over the run, and its slowest pair."""
    seconds = [s for _, s in results]
    total = sum(seconds)
    return {"pairs/s (1 core)": len(seconds) / total if total else float("inf"), "max s/pair": max(seconds),
            "pairs > 2 s": sum(s > 2 for s in seconds)}


def disagreements(pairs: list[Pair], results: list[tuple[bool, float]]) -> list[dict]:
    return [{"class": p.category, "candidate": p.candidate, "gold": p.gold, "expected": p.expected}
            for p, (verdict, _) in zip(pairs, results) if verdict != p.expected]


def render(pairs: list[Pair], results: dict[str, list[tuple[bool, float]]], mv_version: str) -> str:
    """The BENCHMARKS.md body: agreement per class, then speed, for the three checkers."""
    names = {"m1reason": "m1reason (default)", "m1reason lenient": "m1reason (lenient)",
             "math-verify": f"math-verify {mv_version} (defaults)"}
    rows = tabulate(pairs, results)
    speeds = [{"checker": names[name], **speed(res)} for name, res in results.items()]
    return (
        f"{len(pairs)} hand-written cases in benchmarks/data/answer_forms.jsonl (written for issue 29, none from a "
        "grader's test suite): per class, forms to accept and near misses of the same shape. Both checkers get the "
        "raw candidate and the gold. Agreement with the labels, and how many near misses each accepted:\n\n"
        + markdown_table([{**r, **{names[k]: r[k] for k in results}} for r in rows],
                         ["class", "cases (accept / near miss)", *(names[k] for k in results)])
        + "\n\n" + markdown_table(speeds, list(speeds[0]))
        + "\n\nThe default is the checker graders use (`eval --strict` extracts the same way after `</think>`): "
        "`last_statement` cases (no box, no answer phrase) need `lenient=True`, so the default rejects their "
        "positives by design. Each mode is timed from cold caches. math-verify is called as its README does "
        "(`verify(parse(f\"${gold}$\"), parse(candidate))`, default configs and timeouts) in a child process, as "
        "in the \"answers\" section: the candidate as raw output, also where it is a bare answer without `$`. "
        "Every disagreement with a label: answer_forms.json under --out.\n"
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the labelled cases (jsonl)")
    parser.add_argument("--out", type=Path, help="folder for answer_forms.json")
    parser.add_argument("--no-md", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    env = environment(packages=("sympy", "mpmath", "math-verify", "latex2sympy2_extended"))
    env["command"] = " ".join(["python -m benchmarks.answer_forms", *(argv if argv is not None else sys.argv[1:])])
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # workers and the child inherit it
    pairs = load_cases(args.data)
    shutdown_workers()
    warm_up()
    results = {"m1reason": run_m1reason(pairs, lenient=False), "m1reason lenient": run_m1reason(pairs, lenient=True)}
    with tempfile.TemporaryDirectory() as scratch:
        results["math-verify"], _ = run_math_verify(pairs, Path(scratch))
    body = render(pairs, results, env["versions"].get("math-verify", "?"))
    print(body)
    record = {"env": env, "cases": [asdict(p) for p in pairs], "rows": tabulate(pairs, results),
              "speed": {k: speed(v) for k, v in results.items()},
              "disagreements": {k: disagreements(pairs, v) for k, v in results.items()}}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "answer_forms.json").write_text(json.dumps(record, indent=1, ensure_ascii=False))
    if not args.no_md:
        write_section("answer_forms", "Answer forms of issue 29: m1reason vs math-verify on hand-written cases",
                      body, env)
    return record


if __name__ == "__main__":
    main()
