"""Accuracy against wall-clock budget (the paper's Figure 3 at toy scale): BudgetAware's own plan beside every
fixed (n, max_new_tokens) of a grid, on held-out problems, one problem at a time as ``solve`` runs them.

For each budget, every configuration solves the same problems with the same per-problem seeds; a configuration
that cannot finish a sample in time has its answer forced out at the deadline (the strategies' usual fallback).
The question the table answers: does BudgetAware land within the best grid point's 95% interval, without being
told the grid?

    python -m benchmarks.budget_curve [--model FOLDER] [--count 50] [--budgets 0.1 0.2 0.4 0.8] [--out DIR]

Defaults are sized for 2 CPU cores and the embedded model (~8 minutes). Run it on an idle machine: the budgets are
wall-clock, so anything else running on the cores moves the numbers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

from benchmarks.report import environment, markdown_table, write_section

GRID_N = (1, 4, 16)
GRID_TOKENS = (48, 160)


def configurations(defaults: dict) -> dict:
    """Name -> strategy factory ``seed -> strategy``: BudgetAware, then the fixed grid."""
    import strategies

    configs = {"BudgetAware": lambda seed: strategies.BudgetAware(**defaults, seed=seed)}
    for n, tokens in itertools.product(GRID_N, GRID_TOKENS):
        configs[f"n={n}, {tokens} tok"] = (
            lambda seed, n=n, tokens=tokens: strategies.SelfConsistency(
                n=n, max_new_tokens=tokens, early_stop="none", force_tokens=defaults.get("force_tokens", 32),
                seed=seed))
    return configs


def run(generator, problems, budgets: list[float], defaults: dict) -> list[dict]:
    """One record per (budget, configuration): accuracy with its 95% interval, mean wall seconds, mean samples."""
    from m1reason.answers import is_equivalent
    from m1reason.train.evaluate import mean_ci

    records = []
    for budget in budgets:
        for name, make in configurations(defaults).items():
            correct, walls, samples = [], [], []
            for i, problem in enumerate(problems):
                started = time.monotonic()
                solution = make(seed=i).run(problem.problem, generator, budget_s=budget)
                walls.append(time.monotonic() - started)
                correct.append(float(solution.answer is not None and is_equivalent(solution.answer, problem.answer)))
                samples.append(len(solution.samples))
            accuracy, half = mean_ci(correct)
            records.append({"budget_s": budget, "config": name, "accuracy": accuracy, "ci95": half,
                            "mean_wall_s": sum(walls) / len(walls), "max_wall_s": max(walls),
                            "mean_samples": sum(samples) / len(samples), "problems": len(problems)})
            print(json.dumps(records[-1]), flush=True)
    return records


def summary(records: list[dict]) -> list[dict]:
    """Per budget: BudgetAware, the best grid point, and whether BudgetAware is inside its interval."""
    rows = []
    for budget in sorted({r["budget_s"] for r in records}):
        here = [r for r in records if r["budget_s"] == budget]
        ours = next(r for r in here if r["config"] == "BudgetAware")
        best = max((r for r in here if r["config"] != "BudgetAware"), key=lambda r: r["accuracy"])
        rows.append({"budget s": budget, "BudgetAware %": _pct(ours), "its samples": round(ours["mean_samples"], 1),
                     "best grid point": best["config"], "best grid %": _pct(best),
                     "within the best's CI": ours["accuracy"] >= best["accuracy"] - best["ci95"]})
    return rows


def _pct(record: dict) -> str:
    return f"{100 * record['accuracy']:.1f} ± {100 * record['ci95']:.1f}"


def plot(records: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name in dict.fromkeys(r["config"] for r in records):
        points = sorted((r["budget_s"], r["accuracy"]) for r in records if r["config"] == name)
        style = {"linewidth": 2.5, "color": "black"} if name == "BudgetAware" else {"linewidth": 1, "alpha": 0.6}
        ax.plot(*zip(*points), marker="o", label=name, **style)
    ax.set_xscale("log")
    ax.set_xlabel("wall-clock budget per problem (s)")
    ax.set_ylabel("held-out accuracy")
    ax.legend(fontsize=7)
    ax.set_title("accuracy vs budget: BudgetAware and fixed (n, length)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="folder or hub id (default: the embedded model)")
    parser.add_argument("--count", type=int, default=50, help="held-out problems (mixed kinds)")
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.1, 0.2, 0.4, 0.8])
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    import torch

    from m1reason.defaults import default_generator
    from m1reason.train.data import heldout_problems

    torch.set_num_threads(1)
    generator = default_generator(args.model, device=args.device)
    defaults = dict(getattr(generator, "strategy_defaults", None) or {})
    problems = heldout_problems(args.count)
    generator.throughput_model()  # calibrate (or load the cached calibration) before any budget runs
    records = run(generator, problems, args.budgets, defaults)
    rows = summary(records)
    table = markdown_table(rows, list(rows[0]))
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "budget_curve.json").write_text(json.dumps({"env": environment(), "records": records}, indent=1))
    plot(records, args.out / "budget_curve.png")
    if not args.no_write:
        body = (f"{args.count} held-out problems (mixed kinds) with the {generator.source['model_id']} model on "
                f"{generator.model.device}, one problem at a time; every configuration uses the same per-problem "
                "seeds. Accuracy in % ± the 95% interval half-width. Grid: SelfConsistency with n in "
                f"{list(GRID_N)} and max_new_tokens in {list(GRID_TOKENS)}, no early stop, answers forced out at "
                "the deadline. All records: `benchmarks/results/budget_curve.json`, plot `budget_curve.png`.\n\n"
                + table)
        write_section("budget_curve", "Accuracy against wall-clock budget: BudgetAware vs a fixed grid", body,
                      environment())
    return 0


if __name__ == "__main__":
    sys.exit(main())
