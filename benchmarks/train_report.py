"""Held-out accuracy of each stage of the training recipe: greedy, pass@1 at T=0.7, maj@8, maj@32 (95% CIs).

Usage: ``python -m benchmarks.train_report --run runs/recipe [--limit 500] [--samples 32] [--device cuda]``.
Scores every stage folder found under --run (teacher, init, distill, sft, grpo) and the shipped model
(m1reason/embedded) on the fixed held-out split (mixed kinds) and on plain-arithmetic held-out problems, through
M1Generator; prints one JSON record per (stage, set) and writes BENCHMARKS.md section "train". On 2 CPU cores the
full 500 x 32 samples per stage takes long: use --limit and --samples there, and say so beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from benchmarks.report import environment, markdown_table, write_section
from m1reason.generator import M1Generator
from m1reason.train.data import heldout_problems
from m1reason.train.evaluate import sample_answers, score

STAGES = ("teacher", "init", "distill", "sft", "grpo")
EMBEDDED = Path(__file__).resolve().parent.parent / "m1reason" / "embedded"


def evaluate_stage(folder: Path, *, limit: int, samples: int, device: str, max_new_tokens: int) -> list[dict]:
    """Records for one checkpoint folder: per problem set, greedy and sampled scores."""
    gen = M1Generator.from_pretrained(str(folder), device=device, max_slots=256, max_len=256,
                                      cuda_graphs=device.startswith("cuda"))
    rows = []
    for name, problems in (("mixed", heldout_problems(limit)), ("arithmetic", heldout_problems(limit,
                                                                                                kind="arithmetic"))):
        t0 = time.perf_counter()
        greedy = score(sample_answers(gen, problems, temperature=0.0, max_new_tokens=max_new_tokens, batch=256))
        ks = tuple(k for k in (8, 32) if k <= samples)
        sampled = score(sample_answers(gen, problems, n=samples, temperature=0.7, max_new_tokens=max_new_tokens,
                                       seed=1234, batch=256), ks=ks)
        row = {"stage": folder.name, "set": name, "problems": len(problems), "samples": samples,
               "greedy": greedy["pass@1"], "pass@1 (T=0.7)": sampled["pass@1"],
               **{f"maj@{k}": sampled[f"maj@{k}"] for k in ks}, "seconds": round(time.perf_counter() - t0, 1)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def _cell(value) -> str:
    return f"{100 * value[0]:.1f} ± {100 * value[1]:.1f}" if isinstance(value, (list, tuple)) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/recipe", help="the recipe's output folder (one subfolder per stage)")
    parser.add_argument("--limit", type=int, default=500, help="held-out problems per set")
    parser.add_argument("--samples", type=int, default=32, help="samples per problem at T=0.7 (>= 32 for maj@32)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--stages", default=",".join(STAGES) + ",embedded", help="which folders to score")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    wanted = args.stages.split(",")
    folders = [Path(args.run) / s for s in STAGES if s in wanted and (Path(args.run) / s / "config.json").exists()]
    if "embedded" in wanted and (EMBEDDED / "config.json").exists():
        folders.append(EMBEDDED)
    rows = [r for f in folders for r in evaluate_stage(f, limit=args.limit, samples=args.samples, device=args.device,
                                                        max_new_tokens=args.max_new_tokens)]
    columns = ["stage", "set", "problems", "samples", "greedy", "pass@1 (T=0.7)", "maj@8", "maj@32", "seconds"]
    table = markdown_table([{k: _cell(v) for k, v in r.items()} for r in rows], columns)
    print(table)
    if not args.no_write:
        body = ("Held-out accuracy (%, ± 95% CI half-width over problems) after each stage of "
                "`python -m m1reason.train all`; see docs/training.md for what each stage ran.\n\n" + table)
        write_section("train", "Training recipe: held-out accuracy per stage", body, environment())


if __name__ == "__main__":
    main()
