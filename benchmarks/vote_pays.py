"""Does the vote pay? One sample against a vote of k, plain and with the step checker, on the test sets.

Issue 34 asks that a vote at some budget beat one sample by more than its paired interval, on the hand-written
test set (benchmarks/data/natural_math.jsonl) and on the generator's held-out set, in at least two runs. Each
``--seeds`` value is one run: ``--samples`` samples per problem at the temperature the strategies sample at.

Per vote size k, the samples are split into blocks of k in draw order (samples are independent, so each block is
one draw of a k-vote and their mean is an unbiased estimate of its accuracy: ``m1reason.vote_curve.vote_accuracy``,
the vote curve's own scoring), and each block votes twice:

- **plain**: every sample with an answer votes once;
- **checked**: a sample whose written arithmetic has a false step (``m1reason.answers.check_steps``) does not vote,
  unless no sample of the block without one has an answer (SelfConsistency's rule).

A tie goes to the answer seen first (as in the vote curve). pass@1 is the mean correctness of all samples; the
gains are paired per problem, with 95% intervals. Prints a table and JSON; writes BENCHMARKS.md unless ``--no-write``.

    python -m benchmarks.vote_pays                                     # embedded model, CPU, ~13 minutes
    python -m benchmarks.vote_pays --sets heldout --seeds 0 --samples 8 --no-write
    python -m benchmarks.vote_pays --model runs/d/grpo --device cuda --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.natural_math import load_problems
from benchmarks.report import environment, markdown_table, write_section
from benchmarks.vote_curve import sample_counts
from m1reason.answers import group_equivalent
from m1reason.train.data import heldout_problems
from m1reason.train.evaluate import mean_ci, paired_gain, sample_answers
from m1reason.vote_curve import vote_accuracy

SETS = {"natural": "natural_math.jsonl (hand-written test set)", "heldout": "the generator's held-out set"}


def vote_scores(record: dict, k: int) -> tuple[float, float]:
    """A problem's plain and checked k-vote accuracy (``m1reason.vote_curve.vote_accuracy``: the mean over its
    consecutive blocks of k samples, a tie going to the answer seen first, as the vote curve scores it).

    >>> rec = {"answers": ["4", "5", "5", "4"], "correct": [True, False, False, True],
    ...        "steps_ok": [True, False, False, True]}
    >>> vote_scores(rec, 2), vote_scores(rec, 4), vote_scores(rec, 1)
    ((0.5, 1.0), (1.0, 1.0), (0.5, 0.5))
    """
    return tuple(vote_accuracy(record["answers"], record["correct"], k, group=group_equivalent, steps_ok=steps)
                 for steps in (None, record["steps_ok"]))


def summarize(records: list[dict], counts: tuple[int, ...]) -> list[dict]:
    """Per vote size: plain and checked accuracy and their paired gains over one sample, in % with 95% intervals.

    >>> recs = [{"answers": ["4", "4"], "correct": [True, True], "steps_ok": [True, True]},
    ...         {"answers": ["5", "4"], "correct": [False, True], "steps_ok": [False, True]}]
    >>> summarize(recs, (2,))[0]["checked - pass@1"]
    '+25.0 ± 49.0'
    """
    one = [sum(r["correct"]) / len(r["correct"]) for r in records]
    rows = []
    for k in counts:
        plain, checked = zip(*(vote_scores(r, k) for r in records))
        cell = {"k": k, "pass@1": f"{100 * mean_ci(one)[0]:.1f}"}
        for name, column in (("plain", plain), ("checked", checked)):
            mean, ci = mean_ci(list(column))
            gain, gain_ci = paired_gain(list(column), one)
            cell[name] = f"{100 * mean:.1f} ± {100 * ci:.1f}"
            cell[f"{name} - pass@1"] = f"{100 * gain:+.1f} ± {100 * gain_ci:.1f}"
        rows.append(cell)
    return rows


def problems_of(name: str, heldout: int):
    """The problems of a set named in SETS."""
    return load_problems("natural_math.jsonl") if name == "natural" else heldout_problems(heldout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a model folder (default: the embedded model)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--samples", type=int, default=16, help="samples per problem: the largest vote measured")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="one run per seed")
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["natural", "heldout"])
    parser.add_argument("--heldout", type=int, default=300, help="problems of the held-out set")
    parser.add_argument("--temperature", type=float, default=None,
                        help="default: the model's strategy temperature (SelfConsistency's)")
    parser.add_argument("--section", default="vote_pays")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.samples < 2:
        parser.error("--samples must be >= 2: a vote needs two samples")
    from m1reason.defaults import default_generator
    from strategies import SelfConsistency

    generator = default_generator(args.model, device=args.device, max_slots=256, max_len=512)
    temperature = SelfConsistency().temperature if args.temperature is None else args.temperature
    length = generator.strategy_defaults.get("max_new_tokens", 320)
    counts = sample_counts(args.samples)
    runs = []
    for name in args.sets:
        problems = problems_of(name, args.heldout)
        for seed in args.seeds:
            records = sample_answers(generator, problems, n=args.samples, temperature=temperature,
                                     max_new_tokens=length, seed=seed)
            false_share = sum(not ok for r in records for ok in r["steps_ok"]) / (len(records) * args.samples)
            runs.append({"set": name, "seed": seed, "problems": len(problems), "false_step_samples": false_share,
                         "rows": summarize(records, counts)})
    model = args.model or "m1reason/embedded"
    parts = [f"{model}, {args.samples} samples per problem at temperature {temperature:g}, up to {length} tokens. "
             "Each k-vote is scored over the problem's consecutive blocks of k samples; plain: every answer votes; "
             "checked: samples with a false arithmetic step do not vote unless no other sample of the block has an "
             "answer. Gains are paired per problem against one sample (pass@1), in % with 95% intervals.\n"]
    for run in runs:
        table = markdown_table(run["rows"], list(run["rows"][0]))
        parts.append(f"**{SETS[run['set']]}**, {run['problems']} problems, seed {run['seed']} "
                     f"({100 * run['false_step_samples']:.1f}% of samples write a false step):\n\n{table}\n")
        print(f"{run['set']} seed {run['seed']}\n{table}\n")
    print(json.dumps({"bench": "vote_pays", "model": model, "temperature": temperature, "runs": runs}))
    if not args.no_write:
        write_section(args.section, "Does the vote pay? One sample against a vote, plain and checked",
                      "\n".join(parts), environment(("torch",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
