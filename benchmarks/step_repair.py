"""What the step checker wins by repairing samples instead of only setting them aside: each hand-written
development problem (benchmarks/data/natural_dev.jsonl, never the test set) gets one greedy sample through what
``solve`` runs (``natural_math.solutions``: the scope check, the step checker; the answers are not checked against
a bare expression's value, so each row keeps the model's own answer), once with ``repair_steps=0`` and
once with ``--rounds``: a sample whose written arithmetic is false is cut after the first false claim's "=", the
exact value written in, and continued (``strategies._false_steps.repair``). Paired gain with its 95% interval.

    python -m benchmarks.step_repair                 # the embedded model, CPU, ~3 minutes
    python -m benchmarks.step_repair --rounds 1 --no-write
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.natural_math import load_problems, solutions
from benchmarks.report import environment, markdown_table, write_section
from m1reason.answers import is_equivalent
from m1reason.stats import mean_ci
from m1reason.train.limits import REPLY_TOKENS


def greedy_with_and_without_repair(generator, problems: list, *, rounds: int,
                                   max_new_tokens: int = REPLY_TOKENS) -> list[dict]:
    """Per problem: the greedy answer without repair, the answer with at most ``rounds`` repairs, and how many
    were made.

    >>> from m1reason import FakeGenerator
    >>> from m1reason.train.data import Problem
    >>> fake = FakeGenerator(lambda request, i: "\\n</think> \\\\boxed{56}" if request.prompt.endswith("= 56")
    ...                      else "7 * 8 = 54\\n</think> \\\\boxed{54}")
    >>> row = greedy_with_and_without_repair(fake, [Problem(kind="mul", problem="7 * 8?", steps=(), answer="56")],
    ...                                      rounds=2)[0]
    >>> row["greedy"], row["repaired"], row["repairs"]
    ('54', '56', 1)
    """
    # Answers unchecked (``check_answers``), so that each row shows the model's own answer, repaired or not.
    options = {"samples": 1, "temperature": 0.0, "max_new_tokens": max_new_tokens, "seed": 0, "check_answers": False}
    plain = solutions(generator, problems, repair_steps=0, **options)
    fixed = solutions(generator, problems, repair_steps=rounds, **options)
    return [{"problem": p.problem, "kind": p.kind, "gold": p.answer, "greedy": a.answer, "repaired": b.answer,
             "repairs": sum(len(s.repaired) for s in b.samples)} for p, a, b in zip(problems, plain, fixed)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a model folder (default: the embedded model)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=3, help="repairs per problem at most")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 8:
        parser.error("--rounds must be 1 to 8 (the strategies' repair_steps)")
    from m1reason.defaults import default_generator

    generator = default_generator(args.model, device=args.device)
    rows = greedy_with_and_without_repair(generator, load_problems("natural_dev.jsonl"), rounds=args.rounds)
    greedy = [float(r["greedy"] is not None and is_equivalent(r["greedy"], r["gold"])) for r in rows]
    fixed = [float(r["repaired"] is not None and is_equivalent(r["repaired"], r["gold"])) for r in rows]
    gain = mean_ci([b - a for a, b in zip(greedy, fixed)])
    summary = {"problems": len(rows), "greedy": mean_ci(greedy), "repaired": mean_ci(fixed), "gain": gain,
               "repaired problems": sum(r["repairs"] > 0 for r in rows),
               "won": sum(b > a for a, b in zip(greedy, fixed)), "lost": sum(a > b for a, b in zip(greedy, fixed))}
    cell = lambda v, sign="": f"{100 * v[0]:{sign}.1f} ± {100 * v[1]:.1f}"  # noqa: E731
    repaired = f"repaired (<= {args.rounds}) %"
    table = markdown_table([{"problems": summary["problems"], "greedy %": cell(summary["greedy"]),
                             repaired: cell(summary["repaired"]), "paired gain": cell(gain, "+"),
                             "problems repaired": summary["repaired problems"], "won": summary["won"],
                             "lost": summary["lost"]}],
                           ["problems", "greedy %", repaired, "paired gain", "problems repaired", "won", "lost"])
    print(table)
    print(json.dumps({"bench": "step_repair", "rounds": args.rounds, **summary}))
    if not args.no_write:
        body = (f"{args.model or 'm1reason/embedded'}: one greedy sample per hand-written development problem (340) "
                "through what solve() runs (the scope check refuses some: counted wrong on both sides), with "
                f"repair_steps 0 and {args.rounds}: a sample whose written arithmetic is false (``check_steps``) is "
                "cut after its first false claim's \"=\", the exact value written in, and continued; accuracy in % "
                "with 95% intervals over problems, the gain paired.\n\n" + table)
        write_section("step_repair", "Repairing false arithmetic steps and continuing (development set)", body,
                      environment(("torch",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
