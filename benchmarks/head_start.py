"""How much later BudgetAware's samples start than SelfConsistency's, and what that costs at tight budgets.

BudgetAware counts the prompt's tokens, reads the throughput model and plans before it submits its request, all
inside the budget; SelfConsistency submits at once. At budgets where most chains end within a few ms of the
forcing time, that head start decides problems. This runs both (BudgetAware, and one sample of up to 160 tokens:
the grid point BudgetAware falls back to when no chain fits) on the same problems and seeds, interleaved, through
a view of the generator that time-stamps the request's submission and the first forced answer.

    python -m benchmarks.head_start [--model FOLDER] [--device cpu] [--count 96] [--budgets 0.1 0.2]
                                    [--json FILE] [--section NAME] [--no-write] [--uncapped]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from benchmarks.forcing_ab import configurations  # BudgetAware and one sample of up to 160 tokens
from benchmarks.gc_pause import Collections
from benchmarks.report import environment, markdown_table, write_section
from m1reason.generator import TokensAppended


class Stamped:
    """The generator, with the monotonic time of the first ``stream``/``generate`` call (the request submitted),
    of the first token a stream delivers (after the generator has tokenized and prefilled the prompt: where a
    strategy that tokenizes before submitting and one that leaves it to the generator compare fairly), of the
    first ``fork``/``append`` call (an answer forced: at the deadline, or at a sample's length cap) and of the
    first ``fork`` (at the deadline only: the runner hedges there) since ``reset()``.

    >>> from m1reason.generator.fake import FakeGenerator
    >>> view = Stamped(FakeGenerator(lambda r, i: "x")); view.reset()
    >>> view.submitted is None, "fork" in view.capabilities
    (True, True)
    """

    def __init__(self, generator):
        self._generator = generator
        self.submitted: float | None = None
        self.forced: float | None = None
        self.forked: float | None = None
        self.first_token: float | None = None

    def reset(self) -> None:
        self.submitted = self.forced = self.forked = self.first_token = None

    def _first_token_stamped(self, events):
        try:
            for event in events:
                if self.first_token is None and isinstance(event, TokensAppended):
                    self.first_token = time.monotonic()
                yield event
        finally:
            events.close()  # the caller closing this view's stream closes (and so cancels) the generator's

    def _stamped(self, method, *fields: str):
        def call(*args, **kwargs):
            now = time.monotonic()
            for field in fields:
                setattr(self, field, getattr(self, field) or now)
            return method(*args, **kwargs)
        return call

    def __getattr__(self, name):
        method = getattr(self._generator, name)
        if name == "stream":
            stream = self._stamped(method, "submitted")
            return lambda *args, **kwargs: self._first_token_stamped(stream(*args, **kwargs))
        if name == "generate":
            return self._stamped(method, "submitted")
        if name == "fork":
            return self._stamped(method, "forced", "forked")
        if name == "append":
            return self._stamped(method, "forced")
        return method


def uncapped(defaults: dict):
    """A factory ``seed -> strategy`` of BudgetAware whose plan lifts each sample's length cap back to
    ``max_new_tokens``: the deadline alone ends the chains, as it does SelfConsistency's. (Tests the suspicion
    that the cap, the length BudgetAware predicts will fit, cuts chains a host faster than predicted had time
    to finish.)

    >>> uncapped({"needed_tokens": 8, "max_new_tokens": 32})(0).max_new_tokens
    32
    """
    import strategies

    class BudgetAwareUncapped(strategies.BudgetAware):
        def plan(self, throughput, budget_s, prompt_tokens):
            plan = super().plan(throughput, budget_s, prompt_tokens)
            return plan.model_copy(update={"max_new_tokens": self.max_new_tokens})

    return lambda seed: BudgetAwareUncapped(**defaults, seed=seed)


def run(generator, problems, budgets: list[float], defaults: dict, with_uncapped: bool = False) -> list[dict]:
    """One record per (budget, configuration): accuracy with its 95% interval, the paired difference from the
    one-sample configuration, and mean milliseconds from the call to the request's submission, to the first
    forced answer (over the problems that forced one) and to the return, the longest return and the time spent
    in the garbage collector's full passes; ``rows``: the same per problem, with the first fork (deadline
    forcing), the plan (n, max_new_tokens, predicted time), how it stopped and each sample's (tokens, finish
    reason, forced)."""
    from m1reason.answers import is_equivalent
    from m1reason.train.evaluate import mean_ci, paired_gain

    view, configs = Stamped(generator), configurations(defaults)
    if with_uncapped:
        configs["BudgetAware, uncapped"] = uncapped(defaults)
    records = []
    for budget in budgets:
        rows: dict[str, list[dict]] = {name: [] for name in configs}
        for i, problem in enumerate(problems):
            for name, make in configs.items():
                view.reset()
                with Collections() as collector:
                    started = time.monotonic()
                    solution = make(i).run(problem.problem, view, budget_s=budget)
                    wall = time.monotonic() - started
                rows[name].append({
                    "correct": float(solution.answer is not None and is_equivalent(solution.answer, problem.answer)),
                    "wall_ms": 1e3 * wall,
                    "submit_ms": 1e3 * (view.submitted - started) if view.submitted else None,
                    "forced_ms": 1e3 * (view.forced - started) if view.forced else None,
                    "forked_ms": 1e3 * (view.forked - started) if view.forked else None,
                    "first_token_ms": 1e3 * (view.first_token - started) if view.first_token else None,
                    "problem": i, "n": solution.plan.n, "max_new_tokens": solution.plan.max_new_tokens,
                    "predicted_ms": None if solution.plan.predicted_s is None else 1e3 * solution.plan.predicted_s,
                    "stopped": solution.stopped,
                    "gc_full_ms": sum(ms for generation, ms in collector.passes if generation == 2),
                    "samples": [(s.num_tokens, s.finish_reason, bool(s.forced)) for s in solution.samples]})
        baseline = [r["correct"] for r in rows["n=1, 160 tok"]]
        for name, found in rows.items():
            correct = [r["correct"] for r in found]
            forced = [r["forced_ms"] for r in found if r["forced_ms"] is not None]
            accuracy, half = mean_ci(correct)
            records.append({
                "budget_s": budget, "config": name, "problems": len(found), "accuracy": accuracy, "ci95": half,
                "minus_one_sample": paired_gain(correct, baseline),
                "submit_ms": _mean(r["submit_ms"] for r in found),
                "first_token_ms": _mean(r["first_token_ms"] for r in found),
                "forced": len(forced), "forced_ms": _mean(forced),
                "wall_ms": statistics.mean(r["wall_ms"] for r in found),
                "max_wall_ms": max(r["wall_ms"] for r in found),
                "gc_full_ms": sum(r["gc_full_ms"] for r in found), "rows": found})
    return records


def _mean(values) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.mean(found) if found else None


def snapshot(generator) -> dict:
    """The generator's throughput model as the last plan saw it: the calibration's and the served fit's
    coefficients (seconds = a + b * batch + c * batch * context), the prefill fit and the served rows."""
    throughput = generator.throughput_model()
    pace = getattr(generator, "pace", None)
    return {"calibration": list(throughput.decode_coef), "served": list(throughput._coef()),
            "prefill": list(throughput.prefill_coef), "pace_rows": pace.rows() if pace is not None else []}


def table(records: list[dict]) -> str:
    rows = [{"budget s": r["budget_s"], "configuration": r["config"],
             "accuracy %": f"{100 * r['accuracy']:.1f} ± {100 * r['ci95']:.1f}",
             "minus one sample": f"{100 * r['minus_one_sample'][0]:+.1f} ± {100 * r['minus_one_sample'][1]:.1f}",
             "submitted at ms": f"{r['submit_ms']:.2f}",
             "first token at ms": "" if r.get("first_token_ms") is None else f"{r['first_token_ms']:.2f}",
             "forced (problems)": r["forced"],
             "forced at ms": "" if r["forced_ms"] is None else f"{r['forced_ms']:.1f}",
             "wall ms": f"{r['wall_ms']:.1f}", "max wall ms": f"{r['max_wall_ms']:.1f}",
             "full gc ms": f"{r['gc_full_ms']:.1f}"} for r in records]
    return markdown_table(rows, list(rows[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="m1reason/embedded")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--count", type=int, default=96, help="held-out problems (mixed kinds)")
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.1, 0.2])
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/head_start.json"))
    parser.add_argument("--section", default="head_start")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument("--uncapped", action="store_true",
                        help="also run BudgetAware with its samples' length cap lifted to max_new_tokens")
    args = parser.parse_args(argv)
    from benchmarks.budget_curve import load_warm
    from m1reason.train.data import heldout_problems

    generator, defaults = load_warm(args.model, args.device)
    problems = heldout_problems(args.count)
    run(generator, problems[:4], args.budgets[:1], defaults)  # untimed: compiles, first prefills
    records = run(generator, problems, args.budgets, defaults, with_uncapped=args.uncapped)
    text = table(records)
    print(text)
    env = environment()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    # compact: with a row per problem and configuration and the served rows, an indented file runs to ~0.5 MB
    args.json.write_text(json.dumps({"env": env, "records": records, "throughput": snapshot(generator)},
                                    separators=(",", ":")))
    if not args.no_write:
        body = (f"`{args.model}` on {args.device}, {args.count} held-out problems (mixed kinds), one at a time; "
                "each problem runs every configuration before the next, with the same seed. Accuracy in % ± the "
                "95% interval half-width; minus one sample: the paired difference from `n=1, 160 tok` on the same "
                "problems. Submitted at: mean ms from the strategy's call to its request reaching the generator "
                "(BudgetAware plans and tokenizes in between); first token at: mean ms to the first token "
                "streamed back (the prompt tokenized and prefilled by then, whoever tokenized it); forced at: mean "
                "ms to the first forced answer, over the problems that forced one (at the deadline, or at a "
                "sample's length cap); full gc ms: time in the garbage collector's full passes during the solves, "
                "all problems together. Records (per problem, with the "
                f"throughput model's fit): `{args.json}`.\n\n" + text)
        write_section(args.section, "BudgetAware's head start against one sample", body, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
