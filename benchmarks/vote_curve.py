"""Measure a model's vote curve on the hand-written development set, and save it beside the weights.

Each problem of benchmarks/data/natural_dev.jsonl (written by hand, apart from the generator and from the test set)
whose answers are not checked against its own value (``m1reason.answers.stated_value``: BudgetAware does not
cap those by the curve) gets ``--samples`` samples (``m1reason.train.evaluate.sample_answers``) at the temperature
and length BudgetAware runs for this model (its ``strategy_defaults``), so the curve describes what the planner
will draw;
``m1reason.vote_curve.VoteCurve.fit`` turns them into maj@k for k = 1, 2, 4, ... (the mean vote over each problem's
blocks of k samples, samples with a false arithmetic step set aside as SelfConsistency does), each with its 95%
interval and its paired gain over one sample, and ``useful_samples``, the most samples worth drawing. It is written
to ``<model>/vote_curve.json`` (for the embedded model, the package's copy: ``m1reason/embedded/vote_curve.json``),
where ``m1reason.defaults`` reads it and BudgetAware caps n at it.

    python -m benchmarks.vote_curve                               # the embedded model, CPU, a few minutes
    python -m benchmarks.vote_curve --model runs/x/grpo --device cuda --samples 32
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.natural_math import load_problems
from benchmarks.report import environment, markdown_table, write_section
from m1reason.answers import group_equivalent, stated_value
from m1reason.confidence_map import weights_digest
from m1reason.train.evaluate import sample_answers
from m1reason.vote_curve import VoteCurve

DEV = "natural_dev.jsonl"


def sample_counts(samples: int) -> tuple[int, ...]:
    """The vote sizes measured: powers of two below ``samples``, and ``samples`` itself.

    >>> sample_counts(16), sample_counts(12)
    ((1, 2, 4, 8, 16), (1, 2, 4, 8, 12))
    """
    return tuple(sorted({samples, *(2**i for i in range(samples.bit_length()) if 2**i < samples)}))


def rows(curve: VoteCurve) -> list[dict]:
    """The table: each count's maj@k and its paired gain over one sample, in percent with 95% intervals.

    >>> from m1reason.vote_curve import VotePoint
    >>> c = VoteCurve(source="toy", weights_sha256="0" * 64, problems=4, useful_samples=1, points=(
    ...     VotePoint(samples=1, accuracy=0.5, accuracy_ci=0.1, gain=0.0, gain_ci=0.0),
    ...     VotePoint(samples=2, accuracy=0.52, accuracy_ci=0.1, gain=0.02, gain_ci=0.03)))
    >>> rows(c)[1]
    {'samples': 2, 'maj@k': '52.0 ± 10.0', 'gain over 1': '+2.0 ± 3.0', 'useful': ''}
    """
    return [{"samples": p.samples, "maj@k": f"{100 * p.accuracy:.1f} ± {100 * p.accuracy_ci:.1f}",
             "gain over 1": f"{100 * p.gain:+.1f} ± {100 * p.gain_ci:.1f}",
             "useful": "<- useful_samples" if p.samples == curve.useful_samples else ""} for p in curve.points]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a model folder (default: the embedded model)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--samples", type=int, default=16, help="samples per problem: the largest vote measured")
    parser.add_argument("--temperature", type=float, default=None,
                        help="default: BudgetAware's for this model (what the planner runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--problems", type=int, default=None, help="only the first N problems (a timing check)")
    parser.add_argument("--dry-run", action="store_true", help="print the curve, write nothing")
    parser.add_argument("--section", default="vote_curve", help="the BENCHMARKS.md section written")
    args = parser.parse_args(argv)
    if args.samples < 2 or (args.temperature is not None and args.temperature <= 0):
        parser.error("--samples must be >= 2 and --temperature > 0 (a vote of greedy samples is one sample)")
    from m1reason.defaults import EMBEDDED_MODEL, default_generator
    from m1reason.solving import make_strategy

    folder = Path(args.model) if args.model else EMBEDDED_MODEL
    generator = default_generator(args.model, device=args.device, max_slots=256, max_len=512)
    planner = make_strategy("budget", 1.0, generator)  # BudgetAware as solve() makes it for this model
    temperature = planner.temperature if args.temperature is None else args.temperature
    # Where answers are checked against the problem's own value, BudgetAware does not consult the curve (any right
    # sample wins there): it is fit on the problems it will be asked about.
    problems = [p for p in load_problems(DEV) if stated_value(p.problem) is None][:args.problems]
    records = sample_answers(generator, problems, n=args.samples, temperature=temperature,
                             max_new_tokens=planner.max_new_tokens, seed=args.seed)
    source = (f"{DEV} ({len(problems)} hand-written problems that state no value to check answers against, "
              f"{args.samples} samples at temperature "
              f"{temperature:g}, up to {planner.max_new_tokens} tokens)")
    curve = VoteCurve.fit([r["answers"] for r in records], [r["correct"] for r in records], group=group_equivalent,
                          counts=sample_counts(args.samples), source=source, weights_sha256=weights_digest(folder),
                          temperature=temperature, steps_ok=[r["steps_ok"] for r in records])
    table = markdown_table(rows(curve), ["samples", "maj@k", "gain over 1", "useful"])
    print(table)
    print(curve.describe())
    print(json.dumps({"bench": "vote_curve", "model": str(args.model or "m1reason/embedded"),
                      "curve": curve.model_dump()}))
    if not args.dry_run:
        print(f"wrote {curve.save(folder)}")
        body = (f"Majority-vote accuracy (%, ± 95% CI over problems) of votes of k: the mean over each problem's "
                f"consecutive blocks of k samples (the "
                f"vote SelfConsistency holds: samples with a false arithmetic step set aside unless none other "
                f"answers), and its paired gain over one sample, for {args.model or 'the embedded model'} on {source}. "
                f"{curve.describe()}\n\n{table}")
        write_section(args.section, "How many samples the vote pays for: a model's vote curve", body,
                      environment(("torch",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
