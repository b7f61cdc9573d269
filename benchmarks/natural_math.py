"""The default model on hand-written problems: accuracy per kind, greedy and with a vote, and how it answers
problems outside its scope.

The problems are benchmarks/data/natural_math.jsonl (308, 17 kinds, natural phrasing, written by hand) and
benchmarks/data/out_of_scope.jsonl (80: calculus, proofs, other languages, unseen symbols, advanced topics, not
math). For each in-scope problem: one greedy sample and ``--samples`` sampled ones (temperature ``--temperature``),
graded with m1reason.answers; pass@1 (greedy) and maj@k (the vote) per kind and overall, each with its 95% interval
over problems, and the paired gain of the vote over greedy. Calibration: among the vote's winners whose share of the
vote is >= 0.9 (what ``Solution.confidence`` reports), the fraction right. Out of scope: the fraction of problems
where the vote's winner has a share >= 0.9 (answered confidently, which a tutor must not do). Then the same measures
on what ``solve`` reports (``solutions``: SelfConsistency with the model's scope check and the step checker, whose
false-step samples do not vote unless repaired by the model's ``repair_steps``): accuracy, and among answers
with ``Solution.confidence`` >= 0.9 and no caveat, the fraction right; out of scope, how many were answered that
confidently.
Writes the "natural_math" section of BENCHMARKS.md.

    python -m benchmarks.natural_math                         # the embedded model, CPU, about 2 minutes
    python -m benchmarks.natural_math --model runs/x/final --device cuda
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from benchmarks.report import environment, markdown_table, write_section
from m1reason.answers import group_equivalent, is_equivalent, stated_value
from m1reason.train.data import Problem
from m1reason.train.evaluate import mean_ci, paired_gain, per_problem, sample_answers
from m1reason.train.limits import REPLY_TOKENS

DATA = Path(__file__).resolve().parent / "data"


def load_problems(name: str) -> list[Problem]:
    """A hand-written set as Problems (no worked steps: these are for scoring only)."""
    rows = [json.loads(line) for line in (DATA / name).read_text().splitlines()]
    return [Problem(kind=r["kind"], problem=r["problem"], steps=(), answer=r["answer"] or "") for r in rows]


def winner_share(answers: list[str | None]) -> float:
    """The largest cluster of equivalent answers as a share of all samples (no answer counts against it).

    >>> winner_share(["4", "4.0", "5", None])
    0.5
    """
    given = [a for a in answers if a is not None]
    if not given:
        return 0.0
    return max(len(c) for c in group_equivalent(given)) / len(answers)


def by_kind(problems: list[Problem], greedy: list[float], vote: list[float]) -> list[dict]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(problems):
        groups[p.kind].append(i)
    rows = []
    for kind, idx in [*sorted(groups.items()), ("all", list(range(len(problems))))]:
        g, gh = mean_ci([greedy[i] for i in idx])
        v, vh = mean_ci([vote[i] for i in idx])
        rows.append({"kind": kind, "problems": len(idx), "greedy": f"{100 * g:.1f} ± {100 * gh:.1f}",
                     "vote": f"{100 * v:.1f} ± {100 * vh:.1f}"})
    return rows


def calibration(records: list[dict], vote: list[float], threshold: float = 0.9) -> dict:
    confident = [i for i, r in enumerate(records) if winner_share(r["answers"]) >= threshold]
    right = sum(vote[i] >= 0.5 for i in confident)
    return {"threshold": threshold, "confident": len(confident),
            "confident_right": right / len(confident) if confident else None}


def solutions(generator, problems: list[Problem], *, samples: int, temperature: float, max_new_tokens: int,
              seed: int, repair_steps: int | None = None, check_answers: bool = True) -> list:
    """What a user gets: each problem through SelfConsistency (``samples`` samples, no early stop, no budget), all
    at once on a shared generator (their samples batched together), with the scope check, the step checker,
    ``repair_steps`` (None: the model's, as solve() sets it) and ``check_answers`` (on, as solve() runs)."""
    import asyncio

    import strategies
    from m1reason.serving import AsyncSolver

    repairs = repair_steps if repair_steps is not None else (generator.strategy_defaults or {}).get("repair_steps", 0)

    async def run_all():
        async with AsyncSolver(generator, max_active=len(problems)) as solver:
            return await asyncio.gather(*(solver.solve(p.problem, budget_s=None, strategy=strategies.SelfConsistency(
                n=samples, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed + i,
                repair_steps=repairs, check_answers=check_answers)) for i, p in enumerate(problems)))

    return asyncio.run(run_all())


def reliability(confidences: list[float], right: list[bool], edges=(0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.01)) -> list[dict]:
    """Answers per confidence band and how many of them were right.

    >>> reliability([0.95, 0.92, 0.3], [True, False, False])[-1]
    {'confidence': '0.90-1.00', 'answers': 2, 'right': '50.0%'}
    """
    rows = []
    for low, high in zip(edges, edges[1:]):
        inside = [r for c, r in zip(confidences, right) if low <= c < high]
        rows.append({"confidence": f"{low:.2f}-{min(high, 1.0):.2f}", "answers": len(inside),
                     "right": f"{100 * sum(inside) / len(inside):.1f}%" if inside else "-"})
    return rows


def reported(solution, gold: str | None, threshold: float = 0.9) -> tuple[bool, bool]:
    """(confident, right) of a Solution: confident when it is answered, with no caveat, at ``threshold`` or more.

    >>> from strategies.solution import Plan, Solution
    >>> plan = Plan(strategy="x", n=1, max_new_tokens=1, reason="r")
    >>> sol = Solution(problem="p", answer="4", confidence=1.0, plan=plan)
    >>> reported(sol, "4.0"), reported(sol, None)
    ((True, True), (True, False))
    """
    confident = solution.status == "answered" and not solution.status_reason and solution.confidence >= threshold
    right = gold is not None and solution.answer is not None and is_equivalent(solution.answer, gold)
    return confident, right


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="folder or hub id (default: the embedded model)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--samples", type=int, default=8, help="samples in the vote (default 8)")
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--max-new-tokens", type=int, default=REPLY_TOKENS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error("--samples must be >= 1")
    from m1reason.defaults import default_generator

    generator = default_generator(args.model, device=args.device, max_slots=256, max_len=512)
    problems, outside = load_problems("natural_math.jsonl"), load_problems("out_of_scope.jsonl")
    greedy = sample_answers(generator, problems, n=1, temperature=0.0, max_new_tokens=args.max_new_tokens)
    sampled = sample_answers(generator, problems, n=args.samples, temperature=args.temperature,
                             max_new_tokens=args.max_new_tokens, seed=args.seed)
    greedy_right = per_problem(greedy)["pass@1"]
    vote_right = per_problem(sampled, ks=(args.samples,))[f"maj@{args.samples}"]
    rows = by_kind(problems, greedy_right, vote_right)
    gain = paired_gain(vote_right, greedy_right)
    calib = calibration(sampled, vote_right)
    out_records = sample_answers(generator, outside, n=args.samples, temperature=args.temperature,
                                 max_new_tokens=args.max_new_tokens, seed=args.seed)
    confident_outside = sum(winner_share(r["answers"]) >= 0.9 for r in out_records)
    scope = generator.scope  # what solve() checks before drawing a sample
    outside_flagged = sum(not scope.check(p.problem).in_scope for p in outside) if scope else 0
    inside_refused = [p for p in problems if scope and not scope.check(p.problem).in_scope]
    # a problem the scope refuses gets no answer from solve(): it counts as wrong there, whatever the samples say
    solve_right = [0.0 if scope and not scope.check(p.problem).in_scope else v for p, v in zip(problems, vote_right)]
    solve_acc = mean_ci(solve_right)
    options = {"samples": args.samples, "temperature": args.temperature, "max_new_tokens": args.max_new_tokens,
               "seed": args.seed}
    inside_solved = solutions(generator, problems, **options)
    repairs = (generator.strategy_defaults or {}).get("repair_steps", 0)
    inside_judged = [reported(s, p.answer) for s, p in zip(inside_solved, problems)]
    bands = reliability([s.confidence for s in inside_solved if s.status == "answered"],
                        [right for s, (_, right) in zip(inside_solved, inside_judged) if s.status == "answered"])
    mapping = generator.confidence_map
    basis = (f"the model's confidence map ({mapping.source})" if mapping else "the raw vote share (no map)")
    outside_judged = [reported(s, None) for s in solutions(generator, outside, **options)]
    solved = mean_ci([float(right) for _, right in inside_judged])
    # problems that state their own value (an expression's, an equation's solution): solve() checks each answer
    checkable = [s for s, p in zip(inside_solved, problems) if stated_value(p.problem) is not None]
    checks = {"problems": len(checkable),
              "answered_checked": sum(s.status == "answered" and any(r.counted and r.answer_checked for r in s.samples)
                                      for s in checkable),
              "every_answer_false": sum(s.status == "no_answer" and any(r.answer_checked is False for r in s.samples)
                                        for s in checkable)}
    confident_rights = [right for confident, right in inside_judged if confident]
    reported_calibration = {"confident": len(confident_rights),
                            "confident_right": sum(confident_rights) / len(confident_rights) if confident_rights
                            else None}
    outside_not_flagged = sum(confident for confident, _ in outside_judged)
    share = reported_calibration["confident_right"]
    right_share = "none" if share is None else f"{100 * share:.1f}%"
    table = markdown_table(rows, ["kind", "problems", "greedy", "vote"])
    model = args.model or "m1reason/embedded"
    summary = {"bench": "natural_math", "model": model, "samples": args.samples, "temperature": args.temperature,
               "kinds": rows, "vote_minus_greedy": gain, "calibration": calib,
               "out_of_scope": {"problems": len(outside), "answered_with_share_ge_0.9": confident_outside,
                                "flagged_by_scope": outside_flagged},
               "in_scope_refused_by_scope": [p.problem for p in inside_refused],
               "vote_with_scope_refusals_wrong": solve_acc,
               "solve": {"accuracy": solved, "calibration_ge_0.9": reported_calibration,
                         "out_of_scope_answered_confidently": outside_not_flagged, "reliability": bands,
                         "confidence_from": basis, "answers_checked": checks}}
    print(table)
    print(json.dumps(summary))
    confident_right = calib["confident_right"]
    body = (f"{model}: {len(problems)} hand-written problems (benchmarks/data/natural_math.jsonl), one greedy sample "
            f"and a vote of {args.samples} at temperature {args.temperature}, up to {args.max_new_tokens} tokens; "
            f"accuracy in % with 95% intervals over problems.\n\n{table}\n\nVote minus greedy, paired: "
            f"{100 * gain[0]:+.1f} ± {100 * gain[1]:.1f} points. Calibration: {calib['confident']} problems had a "
            f"winner with >= 90% of the vote; of those "
            f"{'none' if confident_right is None else f'{100 * confident_right:.1f}%'} were right. Out of scope "
            f"(benchmarks/data/out_of_scope.jsonl): {confident_outside} of {len(outside)} answered with >= 90% of "
            f"the vote (confidently, where it should have flagged them) by the samples alone; the model's scope check "
            f"(run by solve() before any sample) flags {outside_flagged} of {len(outside)}, and refuses "
            f"{len(inside_refused)} of the {len(problems)} in-scope problems (counted wrong: the vote with those "
            f"refusals is {100 * solve_acc[0]:.1f} ± {100 * solve_acc[1]:.1f}%).\n\n"
            f"**What solve() reports** (SelfConsistency of {args.samples}, the scope check and the step checker: "
            f"false-step samples do not vote, {repairs} repair round(s) for them; the answers to the "
            f"{checks['problems']} problems that state their own value (an expression's value, an equation's or "
            f"a system's solution, a unit conversion, a figure's measure: m1reason.answers.stated_value) checked "
            f"against it: "
            f"{checks['answered_checked']} answered with a checked answer, {checks['every_answer_false']} "
            f"\"no_answer\" because every answer was false): right on "
            f"{100 * solved[0]:.1f} ± {100 * solved[1]:.1f}% of the "
            f"hand-written problems; {reported_calibration['confident']} answered with confidence >= 0.9 and no "
            f"caveat, of which "
            f"{right_share} were right; of the {len(outside)} out-of-scope problems, {outside_not_flagged} were "
            f"answered that confidently (the rest flagged: out of scope, a caveat, or lower confidence). "
            f"Confidence is {basis}; the answers by the confidence solve() reported:\n\n"
            f"{markdown_table(bands, ['confidence', 'answers', 'right'])}\n")
    if not args.no_write:
        write_section("natural_math", "The default model on hand-written problems", body,
                      environment(("torch",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
