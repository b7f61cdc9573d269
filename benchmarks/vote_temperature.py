"""Why the vote does or does not pay: greedy against a vote of k samples at several temperatures, on hand-written
development problems (benchmarks/data/natural_dev.jsonl, never the test set).

A vote beats one sample only where samples disagree and the right answer is the most common one. Per temperature
this reports pass@1 (one sample), maj@k (the vote), the paired gain of the vote over greedy, how many distinct
answers a problem's samples give, the share of problems whose samples all agree, and of those how many are
wrong ("agreeing errors": what no vote can fix). Prints a table and JSON; ``--section`` writes BENCHMARKS.md.

    python -m benchmarks.vote_temperature                                  # embedded model, CPU, a few minutes
    python -m benchmarks.vote_temperature --temperatures 0.7 1.0 --samples 16 --no-write
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.natural_math import load_problems
from benchmarks.report import environment, markdown_table, write_section
from m1reason.answers import group_equivalent
from m1reason.train.evaluate import mean_ci, paired_gain, per_problem, sample_answers
from m1reason.train.limits import REPLY_TOKENS


def spread(records: list[dict]) -> dict:
    """Distinct answer clusters per problem (no answer counts as one) and the problems whose samples all agree.

    >>> spread([{"answers": ["2", "2.0"], "correct": [True, True]}, {"answers": ["3", "3"], "correct": [False] * 2}])
    {'clusters': 1.0, 'unanimous': 1.0, 'unanimous_wrong': 0.5}
    """
    clusters, unanimous, unanimous_wrong = [], 0, 0
    for r in records:
        given = [a for a in r["answers"] if a is not None]
        count = len(group_equivalent(given)) + (len(given) < len(r["answers"]))
        clusters.append(count)
        if count == 1:
            unanimous += 1
            unanimous_wrong += not r["correct"][0]
    n = len(records)
    return {"clusters": sum(clusters) / n, "unanimous": unanimous / n, "unanimous_wrong": unanimous_wrong / n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.7, 1.0, 1.3])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--section", default="vote_temperature")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.samples < 2 or any(t <= 0 for t in args.temperatures):
        parser.error("--samples must be >= 2 and every temperature > 0")
    from m1reason.defaults import default_generator

    generator = default_generator(args.model, device=args.device, max_slots=256, max_len=512)
    problems = load_problems("natural_dev.jsonl")
    greedy = per_problem(sample_answers(generator, problems, n=1, temperature=0.0,
                                        max_new_tokens=REPLY_TOKENS))["pass@1"]
    rows = [{"temperature": "greedy", "pass@1": f"{100 * mean_ci(greedy)[0]:.1f}", "vote": "-", "vote - greedy": "-",
             "clusters": "1", "unanimous": "-", "unanimous and wrong": "-"}]
    for t in args.temperatures:
        records = sample_answers(generator, problems, n=args.samples, temperature=t, max_new_tokens=REPLY_TOKENS,
                                 seed=args.seed)
        scores = per_problem(records, ks=(args.samples,))
        vote = scores[f"maj@{args.samples}"]
        gain = paired_gain(vote, greedy)
        s = spread(records)
        rows.append({"temperature": f"{t:g}", "pass@1": f"{100 * mean_ci(scores['pass@1'])[0]:.1f}",
                     "vote": f"{100 * mean_ci(vote)[0]:.1f} ± {100 * mean_ci(vote)[1]:.1f}",
                     "vote - greedy": f"{100 * gain[0]:+.1f} ± {100 * gain[1]:.1f}",
                     "clusters": f"{s['clusters']:.2f}", "unanimous": f"{100 * s['unanimous']:.0f}%",
                     "unanimous and wrong": f"{100 * s['unanimous_wrong']:.0f}%"})
    table = markdown_table(rows, list(rows[0]))
    print(table)
    print(json.dumps({"bench": "vote_temperature", "model": args.model or "m1reason/embedded", "rows": rows}))
    body = (f"{args.model or 'm1reason/embedded'} on benchmarks/data/natural_dev.jsonl ({len(problems)} hand-written "
            f"development problems): greedy, then a vote of {args.samples} samples per temperature. pass@1: one "
            f"sample's accuracy (%); vote: maj@{args.samples} with its 95% interval; vote - greedy: paired; clusters: "
            f"distinct answers per problem; unanimous: problems whose {args.samples} samples all agree; unanimous and "
            f"wrong: of all problems, those where they agree on a wrong answer (no vote can fix those).\n\n{table}\n")
    if not args.no_write:
        write_section(args.section, "Why the vote pays or not: temperature and agreement", body,
                      environment(("torch",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
