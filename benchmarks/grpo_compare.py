"""Several GRPO runs from one SFT stage, side by side: each run's paired gain over that stage.

Usage: ``python -m benchmarks.grpo_compare "80 steps=benchmarks/results/a.json" "160 steps=b.json" [--limit 500]``.
Each file is a ``benchmarks.train_report --json`` record list scoring "sft" and "grpo" on the same held-out
problems and seeds (so the gains are paired per problem). Prints two markdown tables: per (set, score) the SFT
stage's score and each run's gain over it, and per problem kind of the mixed set each run's pass@1 gain, which
shows what a run learnt on the kinds it trained on and what it lost on the others.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.report import markdown_table
from m1reason.train.data import heldout_problems
from m1reason.train.evaluate import paired_gain

SCORES = ("greedy", "pass@1 (T=0.7)", "maj@8")


def _columns(records: list[dict], stage: str, problem_set: str) -> dict:
    for r in records:
        if (r["stage"], r["set"]) == (stage, problem_set):
            return r["columns"]
    raise ValueError(f"no {stage!r} record for set {problem_set!r}: score both sft and grpo with train_report --json")


def _points(gain: tuple[float, float]) -> str:
    return f"{100 * gain[0]:+.1f} ± {100 * gain[1]:.1f}"


def gain_table(runs: dict[str, list[dict]]) -> str:
    """Per (set, score): the first run's SFT score and every run's gain over its SFT stage, in points.

    >>> col = lambda v: {s: v for s in SCORES}
    >>> recs = [{"stage": "sft", "set": "mixed", "columns": col([1.0, 0.0])},
    ...         {"stage": "grpo", "set": "mixed", "columns": col([1.0, 1.0])}]
    >>> print(gain_table({"a": recs}).splitlines()[2])
    | mixed | greedy | 50.0 | +50.0 ± 98.0 |
    """
    first = next(iter(runs.values()))
    sets = list(dict.fromkeys(r["set"] for r in first))
    rows = []
    for problem_set in sets:
        for score in SCORES:
            sft = _columns(first, "sft", problem_set)[score]
            row = {"set": problem_set, "score": score, "sft": f"{100 * sum(sft) / len(sft):.1f}"}
            for label, records in runs.items():
                row[f"{label} vs sft"] = _points(paired_gain(_columns(records, "grpo", problem_set)[score],
                                                             _columns(records, "sft", problem_set)[score]))
            rows.append(row)
    return markdown_table(rows, list(rows[0]))


def kind_table(runs: dict[str, list[dict]], kinds: list[str]) -> str:
    """Per problem kind of the mixed set (``kinds[i]``: problem i's kind): every run's pass@1 gain over SFT.

    >>> col = lambda v: {s: v for s in SCORES}
    >>> recs = [{"stage": "sft", "set": "mixed", "columns": col([0.0, 1.0])},
    ...         {"stage": "grpo", "set": "mixed", "columns": col([1.0, 1.0])}]
    >>> print(kind_table({"a": recs}, ["x", "y"]).splitlines()[2])
    | x | 1 | +100.0 ± 0.0 |
    """
    rows = []
    for kind in sorted(set(kinds)):
        index = [i for i, k in enumerate(kinds) if k == kind]
        row = {"kind": kind, "problems": len(index)}
        for label, records in runs.items():
            after, before = (_columns(records, stage, "mixed")["pass@1 (T=0.7)"] for stage in ("grpo", "sft"))
            row[f"{label}: pass@1 vs sft"] = _points(paired_gain([after[i] for i in index],
                                                                 [before[i] for i in index]))
        rows.append(row)
    return markdown_table(rows, list(rows[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="LABEL=JSON", help="a label and a train_report --json file")
    parser.add_argument("--limit", type=int, default=500, help="held-out problems per set the reports scored")
    args = parser.parse_args(argv)
    runs = {}
    for item in args.runs:
        label, sep, path = item.partition("=")
        if not sep:
            parser.error(f"{item!r} is not LABEL=JSON")
        runs[label] = json.loads(Path(path).read_text())
    print(gain_table(runs))
    print()
    print(kind_table(runs, [p.kind for p in heldout_problems(args.limit)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
