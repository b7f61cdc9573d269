"""Held-out accuracy of each stage of the training recipe: greedy, pass@1 at T=0.7, maj@8, maj@32 (95% CIs).

Usage: ``python -m benchmarks.train_report --run runs/recipe [--limit 500] [--samples 32] [--device cuda]``.
Scores every stage folder found under --run (teacher, init, distill, sft, grpo) and the shipped model
(m1reason/embedded) through M1Generator on up to three problem sets (``--sets``): the generator's fixed held-out
split (mixed kinds), its plain-arithmetic held-out problems, and the hand-written development set
(benchmarks/data/natural_dev.jsonl: ordinary phrasing, never trained on, kept apart from the hand-written test
set, so a stage can be chosen on it without touching the test). Prints one JSON record per (stage, set) and writes
a BENCHMARKS.md section (``--section``, default "train"). Beside the scores it reports paired gains (the same
problems and seeds under both): maj@k - pass@1 (does voting beat one sample?), each stage against the stage
before it (does each stage help?) and against the shipped model (would shipping it help?). On 2 CPU cores the
full 500 x 32 samples per stage takes long: use --limit and --samples there, and say so beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from benchmarks.natural_math import load_problems
from benchmarks.report import environment, markdown_table, write_section
from m1reason.generator import M1Generator
from m1reason.train.data import heldout_problems
from m1reason.train.evaluate import mean_ci, paired_gain, per_problem, sample_answers
from m1reason.train.limits import REPLY_TOKENS, SEQUENCE_TOKENS

STAGES = ("teacher", "init", "distill", "sft", "grpo")
EMBEDDED = Path(__file__).resolve().parent.parent / "m1reason" / "embedded"
SETS = {  # name -> the first ``limit`` problems of the set
    "mixed": lambda limit: heldout_problems(limit),
    "arithmetic": lambda limit: heldout_problems(limit, kind="arithmetic"),
    "dev": lambda limit: load_problems("natural_dev.jsonl")[:limit],
}


def evaluate_stage(folder: Path, *, limit: int, samples: int, device: str, max_new_tokens: int,
                   sets: tuple[str, ...] = tuple(SETS)) -> list[dict]:
    """Records for one checkpoint folder: per problem set (names of ``SETS``), greedy and sampled scores, and
    (under "columns") each problem's values, for the paired gains."""
    gen = M1Generator.from_pretrained(str(folder), device=device, max_slots=256, max_len=SEQUENCE_TOKENS,
                                      cuda_graphs=device.startswith("cuda"))
    rows = []
    for name in sets:
        problems = SETS[name](limit)
        t0 = time.perf_counter()
        greedy = per_problem(sample_answers(gen, problems, temperature=0.0, max_new_tokens=max_new_tokens, batch=256))
        ks = tuple(k for k in (8, 32) if k <= samples)
        sampled = per_problem(sample_answers(gen, problems, n=samples, temperature=0.7,
                                             max_new_tokens=max_new_tokens, seed=1234, batch=256), ks=ks)
        columns = {"greedy": greedy["pass@1"], "pass@1 (T=0.7)": sampled["pass@1"],
                   **{f"maj@{k}": sampled[f"maj@{k}"] for k in ks}}
        row = {"stage": folder.name, "set": name, "problems": len(problems), "samples": samples,
               **{c: mean_ci(v) for c, v in columns.items()}, "seconds": round(time.perf_counter() - t0, 1)}
        print(json.dumps(row), flush=True)
        rows.append({**row, "columns": columns})
    return rows


def _cell(value, sign: str = "") -> str:
    if isinstance(value, (list, tuple)):
        return f"{100 * value[0]:{sign}.1f} ± {100 * value[1]:.1f}"
    return str(value)


def paired_rows(rows: list[dict]) -> list[dict]:
    """Per (stage, set): voting's gain over one sample, the stage's gain over the stage before it in the recipe
    (distill over init, sft over distill, grpo over sft; the teacher and the embedded copy have none), and its
    greedy and pass@1 gains over the shipped model (the "embedded" rows, where they were scored).

    >>> col = lambda p, m: {"greedy": p, "pass@1 (T=0.7)": p, "maj@8": m}
    >>> rows = [{"stage": "sft", "set": "mixed", "columns": col([1.0, 0.5], [1.0, 1.0])},
    ...         {"stage": "grpo", "set": "mixed", "columns": col([1.0, 1.0], [1.0, 1.0])},
    ...         {"stage": "embedded", "set": "mixed", "columns": col([0.0, 1.0], [0.0, 1.0])}]
    >>> [(r["stage"], r["maj@8 - pass@1"][0], r["greedy vs previous"], r["greedy vs shipped"])
    ...  for r in paired_rows(rows)]
    [('sft', 0.25, '', (0.25, 1.47)), ('grpo', 0.0, (0.25, 0.49), (0.5, 0.98)), ('embedded', 0.0, '', '')]
    """
    previous = {"distill": "init", "sft": "distill", "grpo": "sft"}
    by_key = {(r["stage"], r["set"]): r["columns"] for r in rows}
    out = []
    for r in rows:
        c = r["columns"]
        row = {"stage": r["stage"], "set": r["set"]}
        for k in (8, 32):
            if f"maj@{k}" in c:
                row[f"maj@{k} - pass@1"] = paired_gain(c[f"maj@{k}"], c["pass@1 (T=0.7)"])
        before = by_key.get((previous.get(r["stage"]), r["set"]))
        for column in ("greedy", "pass@1 (T=0.7)", "maj@8"):
            both = before is not None and column in c and column in before
            row[f"{column.split()[0]} vs previous"] = paired_gain(c[column], before[column]) if both else ""
        shipped = by_key.get(("embedded", r["set"]))
        for column in ("greedy", "pass@1 (T=0.7)"):
            both = shipped is not None and r["stage"] != "embedded" and column in shipped
            row[f"{column.split()[0]} vs shipped"] = paired_gain(c[column], shipped[column]) if both else ""
        out.append(row)
    return out


def kind_rows(rows: list[dict], kinds: list[str]) -> list[dict]:
    """Per stage with a previous stage, per problem kind of the mixed set (``kinds[i]``: problem i's kind): the
    paired gain over the previous stage in pass@1 and maj@8. A stage can help on the kinds it was trained on and
    vanish in the mixed average; this says where.

    >>> col = lambda p: {"greedy": p, "pass@1 (T=0.7)": p, "maj@8": p}
    >>> rows = [{"stage": "sft", "set": "mixed", "columns": col([0.0, 1.0, 1.0])},
    ...         {"stage": "grpo", "set": "mixed", "columns": col([1.0, 1.0, 1.0])}]
    >>> [(r["kind"], r["problems"], r["pass@1 vs previous"][0]) for r in kind_rows(rows, ["a", "b", "b"])]
    [('a', 1, 1.0), ('b', 2, 0.0)]
    """
    previous = {"distill": "init", "sft": "distill", "grpo": "sft"}
    mixed = {r["stage"]: r["columns"] for r in rows if r["set"] == "mixed"}
    out = []
    for stage, c in mixed.items():
        before = mixed.get(previous.get(stage))
        if before is None:
            continue
        for kind in sorted(set(kinds)):
            index = [i for i, k in enumerate(kinds) if k == kind]
            row = {"stage": stage, "kind": kind, "problems": len(index)}
            for column, label in (("pass@1 (T=0.7)", "pass@1 vs previous"), ("maj@8", "maj@8 vs previous")):
                if column in c and column in before:
                    row[label] = paired_gain([c[column][i] for i in index], [before[column][i] for i in index])
            out.append(row)
    return out


def report_body(rows: list[dict], kinds: list[str]) -> str:
    """The markdown of section "train": scores, paired gains, and the gains per problem kind."""
    columns = ["stage", "set", "problems", "samples", "greedy", "pass@1 (T=0.7)", "maj@8", "maj@32", "seconds"]
    table = markdown_table([{k: _cell(v) for k, v in r.items()} for r in rows], columns)
    gain_columns = ["stage", "set", "maj@8 - pass@1", "maj@32 - pass@1", "greedy vs previous", "pass@1 vs previous",
                    "maj@8 vs previous", "greedy vs shipped", "pass@1 vs shipped"]
    gain_table = markdown_table([{k: _cell(v, "+") for k, v in r.items()} for r in paired_rows(rows)], gain_columns)
    text = ("Accuracy (%, ± 95% CI half-width over problems) after each stage of `python -m m1reason.train all`, "
            "on the generator's held-out problems (mixed, arithmetic) and the hand-written development set (dev); "
            "see docs/training.md for what each stage ran.\n\n" + table +
            "\n\nPaired gains in points (the same problems and sampling seeds on both sides; ± the 95% "
            "half-width of the mean per-problem difference): voting over one sample, each stage over the "
            "one before it in the recipe, and greedy and pass@1 over the shipped model (embedded).\n\n" + gain_table)
    by_kind = kind_rows(rows, kinds)
    if by_kind:
        kind_columns = ["stage", "kind", "problems", "pass@1 vs previous", "maj@8 vs previous"]
        text += ("\n\nThe same paired gains over the previous stage, per problem kind of the mixed set.\n\n"
                 + markdown_table([{k: _cell(v, "+") for k, v in r.items()} for r in by_kind], kind_columns))
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/recipe", help="the recipe's output folder (one subfolder per stage)")
    parser.add_argument("--limit", type=int, default=500, help="held-out problems per set")
    parser.add_argument("--samples", type=int, default=32, help="samples per problem at T=0.7 (>= 32 for maj@32)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--max-new-tokens", type=int, default=REPLY_TOKENS)
    parser.add_argument("--stages", default=",".join(STAGES) + ",embedded", help="which folders to score")
    parser.add_argument("--sets", default=",".join(SETS), help=f"which problem sets (of {', '.join(SETS)})")
    parser.add_argument("--section", default="train", help="the BENCHMARKS.md section written")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument("--json", default=None, help="also write every record, per-problem values included, here")
    parser.add_argument("--from-json", default=None,
                        help="score nothing: rebuild the report from the records an earlier run wrote with --json")
    parser.add_argument("--note", default="", help="a paragraph after the tables")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    wanted, sets = args.stages.split(","), tuple(args.sets.split(","))
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        parser.error(f"--sets: unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
    folders = [Path(args.run) / s for s in STAGES if s in wanted and (Path(args.run) / s / "config.json").exists()]
    if "embedded" in wanted and (EMBEDDED / "config.json").exists():
        folders.append(EMBEDDED)
    if args.from_json:
        rows = json.loads(Path(args.from_json).read_text())
        args.limit = max((r["problems"] for r in rows if r["set"] == "mixed"), default=0)
    else:
        rows = [r for f in folders for r in evaluate_stage(f, limit=args.limit, samples=args.samples,
                                                            device=args.device, max_new_tokens=args.max_new_tokens,
                                                            sets=sets)]
    body = report_body(rows, [p.kind for p in heldout_problems(args.limit)] if args.limit else [])
    body += f"\n\n{args.note}" if args.note else ""
    print(body)
    if args.json:
        Path(args.json).write_text(json.dumps(rows))
    if not args.no_write:
        write_section(args.section, "Training recipe: accuracy per stage", body, environment())


if __name__ == "__main__":
    main()
