"""Throughput of two source trees of m1reason, measured alternately on one GPU in one run: a change's before and after.

Each round runs ``python -m benchmarks.throughput`` once in every tree (before, after, before, after, ...), each in
its own process with that tree first on the path, at the same points (M1-3B shapes, random bf16 weights). Rounds
alternate so that a drift of the GPU's clocks or temperature lands on both sides; the spread between a tree's rounds
is the noise the difference is read against.

    git archive <before-commit> | tar x -C /somewhere/before
    python -m benchmarks.throughput_ab --trees /somewhere/before . --labels f5e82d6 HEAD --out ab/ --rounds 2
    python -m benchmarks.throughput_ab --report ab/ab.json     # table + BENCHMARKS.md section (on any machine)

The run writes ``<out>/ab.json`` (every point, the labels, the environment and command of the GPU run); ``--report``
turns that file into the table and the BENCHMARKS.md section "throughput_ab", naming the GPU run's device, date and
command, not the machine that wrote the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.report import environment, markdown_table, write_section

POINT_KEYS = ("batch", "new")


def run_tree(tree: Path, results: Path, batches: list[int], new: list[int]) -> list[dict]:
    """One ``benchmarks.throughput`` process in ``tree``; its records (the engine's own timings per point).

    That script also rewrites its tree's BENCHMARKS.md "throughput" section from the points it knows, here only
    this run's few: the file is put back as it was, so an A/B in a working checkout leaves its benchmarks alone."""
    command = [sys.executable, "-m", "benchmarks.throughput", "--engines", "m1", "--batches", *map(str, batches),
               "--new", *map(str, new), "--results", str(results.resolve())]
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    benchmarks_md = tree / "BENCHMARKS.md"
    kept = benchmarks_md.read_bytes() if benchmarks_md.exists() else None
    try:
        subprocess.run(command, cwd=tree, env=env, check=True)
    finally:
        if kept is None:
            benchmarks_md.unlink(missing_ok=True)
        else:
            benchmarks_md.write_bytes(kept)
    return [json.loads(line) for line in results.read_text().splitlines()]


def summarize(report: dict) -> list[dict]:
    """One row per point: each side's tok/s per round, its mean, and after / before."""
    rows = []
    points = sorted({tuple(r[k] for k in POINT_KEYS) for r in report["records"]})
    before, after = report["labels"]
    for point in points:
        row = dict(zip(POINT_KEYS, point))
        means = {}
        for label in (before, after):
            runs = [r for r in report["records"]
                    if r["label"] == label and tuple(r[k] for k in POINT_KEYS) == point]
            speeds = [r["tokens_per_s"] for r in runs]
            steps = [r["step_ms"] for r in runs]
            means[label] = statistics.mean(speeds)
            row[f"{label} tok/s (rounds)"] = " / ".join(f"{s:,.1f}" for s in speeds)
            row[f"{label} ms/step"] = statistics.median(steps)
            row[f"{label} spread %"] = 100 * (max(speeds) - min(speeds)) / means[label]
        row["after / before"] = means[after] / means[before]
        rows.append(row)
    return rows


def report_section(report: dict) -> str:
    rows = summarize(report)
    before, after = report["labels"]
    columns = ["batch", "new", f"{before} tok/s (rounds)", f"{after} tok/s (rounds)", f"{before} ms/step",
               f"{after} ms/step", f"{before} spread %", f"{after} spread %", "after / before"]
    body = (f"Before: `{before}`; after: `{after}`. {report['rounds']} rounds, each running "
            "`python -m benchmarks.throughput --engines m1` once in each tree, alternately, in one device call "
            "(M1-3B shapes, random bf16 weights, prompt 256, ignore_eos; the throughput section's method). "
            "Spread: (max - min) / mean of a tree's rounds, the noise a difference is read against.")
    table = markdown_table(rows, columns)
    write_section("throughput_ab", f"Throughput before and after: {before} vs {after}", body + "\n\n" + table,
                  report["env"])
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--labels", nargs=2, metavar=("BEFORE", "AFTER"), help="names in the table (commits)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 512])
    parser.add_argument("--new", type=int, nargs="+", default=[1024])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/throughput_ab"))
    parser.add_argument("--report", type=Path, default=None, help="write the table from an ab.json; run nothing")
    args = parser.parse_args(argv)
    if args.report is not None:
        print(report_section(json.loads(args.report.read_text())))
        return 0
    if args.trees is None or args.labels is None:
        parser.error("--trees and --labels are required unless --report is given")
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"labels": args.labels, "rounds": args.rounds, "env": environment(("torch", "triton")), "records": []}
    for round_ in range(args.rounds):
        for tree, label in zip(args.trees, args.labels):
            results = args.out / f"{label}-{round_}.jsonl"
            results.unlink(missing_ok=True)  # a rerun measures again instead of skipping the points already there
            for record in run_tree(tree, results, args.batches, args.new):
                report["records"].append({**record, "label": label, "round": round_})
            (args.out / "ab.json").write_text(json.dumps(report, indent=1))
    print(report_section(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
