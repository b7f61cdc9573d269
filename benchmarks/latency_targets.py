"""Issue 32's small-batch targets against measured records: decode throughput at batch 1 and 8, time to first
token, and the 512 x 256 prefill, each beside the limit the same record implies.

Measures nothing: it reads what ``benchmarks.throughput --results`` and ``benchmarks.first_token --out`` wrote
on a GPU, so a table can be rebuilt from a device run's files here.

    python -m benchmarks.latency_targets --throughput runs/tp.jsonl --first-token runs/ft/first_token.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.report import markdown_table

DECODE_TARGETS = {1: 500.0, 8: 3600.0}  # tok/s, batch -> target (H200)
FIRST_TOKEN_TARGETS = {(256, 1): 8.0, (1024, 16): 25.0}  # ms, (prompt, samples) -> target (H200)
PREFILL_TARGET_S = 1.1  # 512 prompts x 256 tokens (H200)
COLUMNS = ["target", "device", "date", "measured", "goal", "met", "limit the record implies"]


def decode_rows(records: list[dict]) -> list[dict]:
    """Batch 1 and 8 decode (1,024 new tokens) against their targets, with the weight-read limit: the bytes a
    step moves (the record's GB/s x its step time) at the device's measured copy bandwidth.

    >>> r = {"engine": "m1", "batch": 1, "new": 1024, "tokens_per_s": 375.0, "step_ms": 2.667, "achieved_GBps": 2600.0,
    ...      "copy_GBps": 4240.0, "device": "H200", "date": "d"}
    >>> row = decode_rows([r])[0]; row["met"], row["limit the record implies"]
    ('no', '611 tok/s at copy bandwidth (6.9 GB a step); 75% of it: 459')
    """
    rows = []
    for r in records:
        if r.get("engine") != "m1" or r.get("new") != 1024 or r["batch"] not in DECODE_TARGETS:
            continue
        goal = DECODE_TARGETS[r["batch"]]
        step_bytes = r["achieved_GBps"] * 1e9 * r["step_ms"] / 1e3
        limit = r["batch"] * r["copy_GBps"] * 1e9 / step_bytes
        rows.append({"target": f"decode, batch {r['batch']}, prompt 256, 1,024 new", "device": r["device"],
                     "date": r["date"], "measured": f"{r['tokens_per_s']:,.0f} tok/s", "goal": f">= {goal:,.0f}",
                     "met": "yes" if r["tokens_per_s"] >= goal else "no",
                     "limit the record implies": f"{limit:,.0f} tok/s at copy bandwidth ({step_bytes / 1e9:.1f} GB a "
                                                 f"step); 75% of it: {0.75 * limit:,.0f}"})
    return rows


def first_token_rows(record: dict) -> list[dict]:
    """The first-token cases of one ``first_token.json`` against their targets (median; the 90th percentile
    beside it).

    >>> rec = {"env": {"device": "H200", "date": "d"}, "prefill_chunks": True, "cases": [{"prompt": 256,
    ...        "samples": 1, "first_ms": 7.1, "p90_first_ms": 8.8, "prefill_ms": 5.3}]}
    >>> first_token_rows(rec)[0]["met"]
    'yes (median), not at p90'
    """
    rows = []
    for case in record["cases"]:
        goal = FIRST_TOKEN_TARGETS.get((case["prompt"], case["samples"]))
        if goal is None:
            continue
        chunks = "" if record.get("prefill_chunks") is None else (
            ", chunked Mamba prefill" if record["prefill_chunks"] else ", whole-walk Mamba prefill")
        met = "yes (median)" if case["first_ms"] <= goal else "no"
        if case["first_ms"] <= goal < case["p90_first_ms"]:
            met += ", not at p90"
        rows.append({"target": f"first token, {case['prompt']} x {case['samples']}{chunks}",
                     "device": record["env"]["device"], "date": record["env"]["date"],
                     "measured": f"{case['first_ms']:.2f} ms (p90 {case['p90_first_ms']:.2f})",
                     "goal": f"<= {goal:g} ms",
                     "met": met, "limit the record implies": f"its prefill's device time {case['prefill_ms']:.2f} ms"})
    return rows


def prefill_rows(records: list[dict]) -> list[dict]:
    """The 512 x 256 prefill of throughput records at batch 512 (their ``prefill_s``).

    >>> record = {"engine": "m1", "batch": 512, "prompt": 256, "prefill_s": 1.5, "device": "H100", "date": "d"}
    >>> prefill_rows([record])[0]["met"]
    'no'
    """
    return [{"target": "prefill, 512 x 256", "device": r["device"], "date": r["date"],
             "measured": f"{r['prefill_s']:.3f} s", "goal": f"<= {PREFILL_TARGET_S} s",
             "met": "yes" if r["prefill_s"] <= PREFILL_TARGET_S else "no",
             "limit the record implies": "see the profile below"}
            for r in records if r.get("engine") == "m1" and r["batch"] == 512 and r.get("prompt") == 256]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throughput", nargs="*", type=Path, default=[], help="benchmarks.throughput JSONL files")
    parser.add_argument("--first-token", nargs="*", type=Path, default=[], help="benchmarks.first_token records")
    parser.add_argument("--section", default="latency_targets")
    parser.add_argument("--note", default="", help="a paragraph after the table (floors, profiles)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    from benchmarks.report import environment, write_section

    throughput = [json.loads(line) for path in args.throughput for line in path.read_text().splitlines() if line]
    first_token = [json.loads(path.read_text()) for path in args.first_token]
    rows = decode_rows(throughput) + [row for rec in first_token for row in first_token_rows(rec)]
    rows += prefill_rows(throughput)
    if not rows:
        print("no record matches a target", file=sys.stderr)
        return 2
    table = markdown_table(rows, COLUMNS)
    print(table)
    if not args.no_write:
        sources = ", ".join(str(p) for p in [*args.throughput, *args.first_token])
        body = (f"Each row is one measured record ({sources}); the targets are issue 32's, set for an H200. "
                f"Nothing here was measured by this command.\n\n{table}\n\n{args.note}")
        write_section(args.section, "Issue 32's small-batch targets against the records", body,
                      environment(("torch",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
