"""Hedged against plain forcing at the deadline: the same strategies, problems and seeds, with and without fork.

With fork, answers are forced out of a copy of each sample still thinking and the sample goes on; without it the
sample itself is forced (strategies/_runner.py). The generator is the same object both ways: plain runs see it
through a view that hides the "fork" capability. Every problem runs every configuration before the next problem,
for ``--rounds`` passes, so the machine's drift over a run lands on all configurations alike (on the shared 2-core
machine, cells of the budget curve run minutes apart moved by 20 points between reruns).

    python -m benchmarks.forcing_ab [--model FOLDER] [--device cpu] [--count 60] [--rounds 2] [--budget 0.2]
                                    [--out DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.report import environment, markdown_table, write_section


class WithoutFork:
    """The generator, minus the "fork" capability: the strategies then force the sample itself.

    >>> from m1reason.generator.fake import FakeGenerator
    >>> "fork" in WithoutFork(FakeGenerator(lambda r, i: "x")).capabilities
    False
    """

    def __init__(self, generator):
        self._generator = generator
        self.capabilities = frozenset(generator.capabilities) - {"fork"}

    def __getattr__(self, name):
        return getattr(self._generator, name)


def configurations(defaults: dict) -> dict:
    """Name -> strategy factory ``seed -> strategy``: BudgetAware and one sample of up to 160 tokens."""
    import strategies

    return {
        "BudgetAware": lambda seed: strategies.BudgetAware(**defaults, seed=seed),
        "n=1, 160 tok": lambda seed: strategies.SelfConsistency(
            n=1, max_new_tokens=160, early_stop="none", force_tokens=defaults.get("force_tokens", 32), seed=seed),
    }


def run(generator, problems, budget: float, defaults: dict, rounds: int) -> list[dict]:
    """One record per (configuration, forcing): accuracy over problems (each problem's mean over the rounds)
    with its 95% interval, and for hedged forcing its paired gain over plain on the same problems."""
    from m1reason.answers import is_equivalent
    from m1reason.train.evaluate import mean_ci, paired_gain

    ways = {"hedged": generator, "plain": WithoutFork(generator)}
    scores = {(name, way): [0.0] * len(problems) for name in configurations(defaults) for way in ways}
    for _ in range(rounds):
        for i, problem in enumerate(problems):
            for name, make in configurations(defaults).items():
                for way, solver in ways.items():
                    solution = make(i).run(problem.problem, solver, budget_s=budget)
                    right = solution.answer is not None and is_equivalent(solution.answer, problem.answer)
                    scores[name, way][i] += right / rounds
    records = []
    for (name, way), values in scores.items():
        accuracy, half = mean_ci(values)
        gain = paired_gain(values, scores[name, "plain"]) if way == "hedged" else None
        records.append({"config": name, "forcing": way, "budget_s": budget, "accuracy": accuracy, "ci95": half,
                        "gain_over_plain": gain, "problems": len(problems), "rounds": rounds})
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="m1reason/embedded")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--count", type=int, default=60, help="held-out problems (mixed kinds)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--budget", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    from benchmarks.budget_curve import load_warm
    from m1reason.train.data import heldout_problems

    generator, defaults = load_warm(args.model, args.device)
    records = run(generator, heldout_problems(args.count), args.budget, defaults, args.rounds)
    rows = [{"configuration": r["config"], "forcing": r["forcing"],
             "accuracy %": f"{100 * r['accuracy']:.1f} ± {100 * r['ci95']:.1f}",
             "hedged - plain": "" if r["gain_over_plain"] is None else
             f"{100 * r['gain_over_plain'][0]:+.1f} ± {100 * r['gain_over_plain'][1]:.1f}"} for r in records]
    table = markdown_table(rows, ["configuration", "forcing", "accuracy %", "hedged - plain"])
    print(table)
    env = environment()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "forcing_ab.json").write_text(json.dumps({"env": env, "records": records}, indent=1))
    if not args.no_write:
        body = (f"`{args.model}` on {args.device}, {args.count} held-out problems (mixed kinds) x {args.rounds} "
                f"rounds at a {args.budget} s budget, one problem at a time; each problem runs every configuration "
                "both ways before the next. Accuracy in % (each problem's mean over the rounds) ± the 95% interval "
                "half-width over problems; hedged - plain: the paired difference on the same problems and seeds. "
                "Hedged: answers forced out of a fork of each sample still thinking; plain: out of the sample.\n\n"
                + table)
        write_section("forcing_ab", "Hedged vs plain forcing at the deadline", body, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
