"""What the step checker wins by repairing samples instead of only setting them aside: greedy samples whose
written arithmetic is false are cut after the first false claim's "=", the exact value written in, and continued
from there (a new request: the prompt and the repaired text so far; ``strategies._false_steps.repair``), up to
``--rounds`` times: the strategies' ``repair_steps`` on one greedy sample, without a vote.

Scores the hand-written development set (benchmarks/data/natural_dev.jsonl), never the test set; paired gain with
its 95% interval.

    python -m benchmarks.step_repair                 # the embedded model, CPU, ~3 minutes
    python -m benchmarks.step_repair --rounds 1 --no-write
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.natural_math import load_problems
from benchmarks.report import environment, markdown_table, write_section
from m1reason.answers import extract_answer, is_equivalent
from m1reason.generator import GenerationRequest, SamplingParams
from m1reason.stats import mean_ci
from m1reason.tokenizer import build_prompt
from m1reason.train.limits import REPLY_TOKENS
from strategies._false_steps import repair


def repair_run(generator, problems: list, *, rounds: int, max_new_tokens: int = REPLY_TOKENS) -> list[dict]:
    """Per problem: the greedy answer, the answer after at most ``rounds`` repairs, and how many were made.

    >>> from m1reason import FakeGenerator
    >>> from m1reason.train.data import Problem
    >>> fake = FakeGenerator(lambda request, i: "\\n</think> \\\\boxed{56}" if request.prompt.endswith("= 56")
    ...                      else "7 * 8 = 54\\n</think> \\\\boxed{54}")
    >>> row = repair_run(fake, [Problem(kind="mul", problem="7 * 8?", steps=(), answer="56")], rounds=2)[0]
    >>> row["greedy"], row["repaired"], row["repairs"]
    ('54', '56', 1)
    """
    prompts = [build_prompt(p.problem, generator.tokenizer) for p in problems]
    texts, repairs, first = [""] * len(problems), [0] * len(problems), [None] * len(problems)
    open_ = list(range(len(problems)))
    for round_ in range(rounds + 1):
        params = SamplingParams(n=1, temperature=0.0, max_new_tokens=max_new_tokens)
        requests = [GenerationRequest(prompt=prompts[i] + texts[i], sampling=params, request_id=str(i)) for i in open_]
        for i, result in zip(open_, generator.generate(requests)):
            texts[i] += result.samples[0].text
            if round_ == 0:
                first[i] = extract_answer(texts[i])
        still = []
        for i in open_:
            fixed = repair(texts[i]) if round_ < rounds else None
            if fixed is not None:
                texts[i], repairs[i] = fixed[0], repairs[i] + 1
                still.append(i)
        open_ = still
        if not open_:
            break
    return [{"problem": p.problem, "kind": p.kind, "gold": p.answer, "greedy": first[i],
             "repaired": extract_answer(texts[i]), "repairs": repairs[i]} for i, p in enumerate(problems)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a model folder (default: the embedded model)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=3, help="repairs per problem at most")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    from m1reason.defaults import default_generator

    generator = default_generator(args.model, device=args.device)
    problems = load_problems("natural_dev.jsonl")
    rows = repair_run(generator, problems, rounds=args.rounds)
    greedy = [float(r["greedy"] is not None and is_equivalent(r["greedy"], r["gold"])) for r in rows]
    fixed = [float(r["repaired"] is not None and is_equivalent(r["repaired"], r["gold"])) for r in rows]
    gain = mean_ci([b - a for a, b in zip(greedy, fixed)])
    summary = {"problems": len(rows), "greedy": mean_ci(greedy), "repaired": mean_ci(fixed), "gain": gain,
               "repaired problems": sum(r["repairs"] > 0 for r in rows),
               "won": sum(b > a for a, b in zip(greedy, fixed)), "lost": sum(a > b for a, b in zip(greedy, fixed))}
    cell = lambda v, sign="": f"{100 * v[0]:{sign}.1f} ± {100 * v[1]:.1f}"  # noqa: E731
    table = markdown_table([{"problems": summary["problems"], "greedy %": cell(summary["greedy"]),
                             f"repaired (<= {args.rounds}) %": cell(summary["repaired"]),
                             "paired gain": cell(gain, "+"), "problems repaired": summary["repaired problems"],
                             "won": summary["won"], "lost": summary["lost"]}],
                           ["problems", "greedy %", f"repaired (<= {args.rounds}) %", "paired gain",
                            "problems repaired", "won", "lost"])
    print(table)
    print(json.dumps({"bench": "step_repair", "rounds": args.rounds, **summary}))
    if not args.no_write:
        body = (f"{args.model or 'm1reason/embedded'}, greedy, on the 340 hand-written development problems: each "
                "sample whose written arithmetic is false (``check_steps``) cut after its first false claim's \"=\", "
                f"the exact value written in, and continued, at most {args.rounds} times; accuracy in % with 95% "
                "intervals over problems, the gain paired.\n\n"
                + table)
        write_section("step_repair", "Repairing false arithmetic steps and continuing (development set)", body,
                      environment(("torch",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
