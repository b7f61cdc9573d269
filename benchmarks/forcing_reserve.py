"""When to force answers out at tight budgets: BudgetAware's rule against the one it replaced and the grid's one
sample, on the same problems and seeds, with event timelines of a few solves.

Before 2026-12-02, BudgetAware kept a reserve for forcing (the appended text's predicted prefill, ``force_tokens``
steps and 5% of the budget, at most a quarter of it) even when not even one sample's chain fit the budget, and it
capped that sample at ``needed_tokens``. On a GPU the appended text's prefill took 12-19 ms for the embedded
model: forcing a quarter of a 0.04 s budget early stalled the chains that would have finished and left the forced
copy too little time to answer. The configurations:

- ``n=1, 160 tok`` (and ``, plain``: without fork, so the sample itself is forced): the grid's best point at these
  budgets, forced 10% of the budget before the deadline;
- ``early forcing`` (and ``, plain``): BudgetAware's rule before 2026-12-02;
- ``early forcing, full length``: the same, without the cap at ``needed_tokens``;
- ``BudgetAware``: the rule now (full length, and forced at the last moment when the chain cannot fit).

Every problem runs every configuration before the next. The first ``--timelines`` problems are also solved with
every generator call and event time-stamped (fork, append, each token event), which is how the prefill stall was
seen.

    python -m benchmarks.forcing_reserve [--model FOLDER] [--device cpu] [--count 160] [--budgets 0.02 0.04]
                                         [--timelines 8] [--feed-appends N] [--overlap false] [--json FILE]
                                         [--section NAME] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.forcing_ab import WithoutFork
from benchmarks.report import environment, markdown_table, true_or_false, write_section
from strategies import BudgetAware, SelfConsistency
from strategies._runner import end_margin, forcing_text


class EarlyForcing(BudgetAware):
    """BudgetAware as it was before 2026-12-02: one sample capped at ``needed_tokens`` when no chain fits, and
    the forcing reserve kept whether or not the chain fits."""

    def plan(self, throughput, budget_s, prompt_tokens):
        plan = super().plan(throughput, budget_s, prompt_tokens)
        if "not even one sample" in plan.reason:
            return plan.model_copy(update={"max_new_tokens": min(self.needed_tokens, self.max_new_tokens)})
        return plan

    def force_at(self, throughput, plan, budget_s, prompt_tokens, appended_tokens=None):
        """The reserve as it was: a prefill of the appended text (its bytes), ``force_tokens`` steps and 5% of
        the budget, at most a quarter of it, whether or not the chain fits."""
        step = throughput.decode_step_s(plan.n + throughput.occupancy(), prompt_tokens + plan.max_new_tokens)
        appended = len(forcing_text("", self.answer_prefix).encode())
        forcing = throughput.prefill_s(appended) + self.force_tokens * step
        return budget_s - end_margin(budget_s) - min(0.25 * budget_s, forcing + 0.05 * budget_s)


class EarlyForcingFullLength(EarlyForcing):
    """``EarlyForcing`` without the cap at ``needed_tokens``."""

    def plan(self, throughput, budget_s, prompt_tokens):
        return BudgetAware.plan(self, throughput, budget_s, prompt_tokens)


def configurations(defaults: dict, generator) -> dict:
    """Name -> (strategy factory ``seed -> strategy``, the generator it runs on)."""
    plain = WithoutFork(generator)
    one = lambda seed: SelfConsistency(n=1, max_new_tokens=160, early_stop="none",  # noqa: E731
                                       force_tokens=defaults.get("force_tokens", 32), seed=seed)
    early = lambda seed: EarlyForcing(**defaults, seed=seed)  # noqa: E731
    return {"n=1, 160 tok": (one, generator), "n=1, 160 tok, plain": (one, plain),
            "early forcing": (early, generator), "early forcing, plain": (early, plain),
            "early forcing, full length": (lambda seed: EarlyForcingFullLength(**defaults, seed=seed), generator),
            "BudgetAware": (lambda seed: BudgetAware(**defaults, seed=seed), generator)}


class Timeline:
    """The generator, with every fork, append, cancel and stream event time-stamped (ms from creation)."""

    def __init__(self, generator):
        self._generator, self.capabilities = generator, generator.capabilities
        self._t0, self.log = time.monotonic(), []

    def __getattr__(self, name):
        return getattr(self._generator, name)

    def _ms(self) -> float:
        return round(1e3 * (time.monotonic() - self._t0), 2)

    def fork(self, sample_id):
        started = self._ms()
        copies = self._generator.fork(sample_id)
        self.log.append(("fork", sample_id, started, self._ms()))
        return copies

    def append(self, sample_id, text, **options):
        started = self._ms()
        self._generator.append(sample_id, text, **options)
        self.log.append(("append", sample_id, started, self._ms()))

    def cancel(self, request_id):
        self.log.append(("cancel", request_id, self._ms()))
        return self._generator.cancel(request_id)

    def stream(self, requests):
        for event in self._generator.stream(requests):
            sample = getattr(event, "sample", None)
            detail = sample.finish_reason if sample is not None else len(getattr(event, "token_ids", ()) or ())
            self.log.append((type(event).__name__, getattr(event, "sample_id", None), self._ms(), detail))
            yield event


def run(generator, problems, budgets: list[float], defaults: dict, timelines: int = 0) -> dict:
    """Accuracy records per (budget, configuration), and the time-stamped solves of the first ``timelines``
    problems (early forcing and the grid's one sample, at every budget)."""
    from m1reason.answers import is_equivalent
    from m1reason.train.evaluate import mean_ci

    configs = configurations(defaults, generator)
    for make, solver in configs.values():  # warm every path once: compiles and graph captures stay out of the cells
        make(0).run(problems[0].problem, solver, budget_s=max(budgets))
    stamped = []
    for budget in budgets:
        for i, problem in enumerate(problems[:timelines]):
            for name in ("early forcing", "n=1, 160 tok", "BudgetAware"):
                make, _ = configs[name]
                timeline = Timeline(generator)
                solution = make(i).run(problem.problem, timeline, budget_s=budget)
                stamped.append({"budget_s": budget, "config": name, "problem": i, "answer": solution.answer,
                                "samples": [(s.sample_id, s.num_tokens, s.finish_reason, s.forced)
                                            for s in solution.samples], "log": timeline.log})
    scores = {(b, name): [] for b in budgets for name in configs}
    answered = {key: 0 for key in scores}
    for budget in budgets:
        for i, problem in enumerate(problems):
            for name, (make, solver) in configs.items():
                solution = make(i).run(problem.problem, solver, budget_s=budget)
                scores[budget, name].append(float(solution.answer is not None
                                                  and is_equivalent(solution.answer, problem.answer)))
                answered[budget, name] += solution.answer is not None
    records = []
    for (budget, name), values in scores.items():
        accuracy, half = mean_ci(values)
        records.append({"budget_s": budget, "config": name, "accuracy": accuracy, "ci95": half,
                        "answered": answered[budget, name] / len(values), "problems": len(values)})
    return {"records": records, "timelines": stamped}


def table(records: list[dict]) -> str:
    rows = [{"budget s": r["budget_s"], "configuration": r["config"],
             "accuracy %": f"{100 * r['accuracy']:.1f} ± {100 * r['ci95']:.1f}",
             "answered %": f"{100 * r['answered']:.1f}"} for r in records]
    return markdown_table(rows, ["budget s", "configuration", "accuracy %", "answered %"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="m1reason/embedded")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--count", type=int, default=160, help="held-out problems (mixed kinds)")
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.02, 0.04])
    parser.add_argument("--timelines", type=int, default=8, help="problems also solved with time-stamped events")
    parser.add_argument("--feed-appends", type=int, default=None,
                        help="M1Generator's feed_appends (default: its own); 0 prefills every append")
    parser.add_argument("--overlap", type=true_or_false, default=None,
                        help="true/false: M1Generator's overlap (default: its own, on with CUDA graphs)")
    parser.add_argument("--json", type=Path, help="write the records and timelines here")
    parser.add_argument("--section", default="forcing_reserve", help="the BENCHMARKS.md section to write")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    from benchmarks.budget_curve import load_warm
    from m1reason.train.data import heldout_problems

    options = {**({} if args.feed_appends is None else {"feed_appends": args.feed_appends}),
               **({} if args.overlap is None else {"overlap": args.overlap})}
    generator, defaults = load_warm(args.model, args.device, **options)
    result = run(generator, heldout_problems(args.count), args.budgets, defaults, args.timelines)
    body = table(result["records"])
    print(body)
    env = environment()
    if args.json:
        args.json.write_text(json.dumps({"env": env, **result}))
    if not args.no_write:
        engine = generator.engine
        text = (f"`{args.model}` on {args.device} (feed_appends {engine.feed_appends}, overlap {engine.overlap}), "
                f"{args.count} held-out problems (mixed kinds), one at a time; each "
                "problem runs every configuration before the next, with the same seed. Accuracy in % ± the 95% "
                "interval half-width; answered: any answer at all. Configurations: the module docstring of "
                "benchmarks/forcing_reserve.py.\n\n" + body)
        write_section(args.section, "When to force answers out at tight budgets", text, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
