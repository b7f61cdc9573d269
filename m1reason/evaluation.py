"""Evaluation: run a strategy over a JSONL dataset (id, problem, answer), grade, estimate pass@k and maj@k.

Records go to a JSONL file one problem at a time, so an interrupted run resumes where it stopped. The pass@k
and maj@k estimators are the unbiased ones (expectations over k-subsets of the n samples drawn), checked against
brute-force enumeration in the tests. Plotting is optional (matplotlib) and never needed to grade.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

from m1reason.errors import ConfigError

__all__ = ["grade", "load_dataset", "maj_at_k", "pass_at_k", "plot_accuracy", "problem_seed", "run_eval", "summarize"]


def pass_at_k(n: int, correct: int, k: int) -> float:
    """P(at least one of k samples drawn without replacement from n is correct).

    >>> pass_at_k(4, 1, 1), pass_at_k(4, 1, 2), pass_at_k(4, 0, 4)
    (0.25, 0.5, 0.0)
    """
    if not 0 < k <= n:
        raise ValueError(f"need 0 < k <= n, got k={k}, n={n}")
    return 1.0 - math.comb(n - correct, k) / math.comb(n, k)


def maj_at_k(counts: list[int], correct: int | None, k: int, unanswered: int = 0) -> float:
    """Expected correctness of a majority vote over a random k-subset of the samples.

    ``counts``: samples per answer cluster; ``correct``: index of the correct cluster (None: none is);
    ``unanswered``: samples without an answer (they take a place in the subset but do not vote).
    A tie between t + 1 leading clusters counts 1 / (t + 1), as a fair coin would.

    >>> maj_at_k([3, 1], 0, 1), maj_at_k([2, 2], 0, 4), round(maj_at_k([1, 1, 2], 2, 3), 4)
    (0.75, 0.5, 0.6667)
    """
    n = sum(counts) + unanswered
    if not 0 < k <= n:
        raise ValueError(f"need 0 < k <= n, got k={k}, n={n}")
    if correct is None:
        return 0.0
    others = [c for i, c in enumerate(counts) if i != correct]
    total = 0.0
    for j in range(1, min(counts[correct], k) + 1):
        ways = {(0, 0): 1}  # (samples taken from other clusters, clusters tied at j) -> number of ways
        for c in others:
            step: dict[tuple[int, int], int] = {}
            for (size, ties), w in ways.items():
                for x in range(0, min(c, j, k - j - size) + 1):
                    key = (size + x, ties + (x == j))
                    step[key] = step.get(key, 0) + w * math.comb(c, x)
            ways = step
        for (size, ties), w in ways.items():
            total += math.comb(counts[correct], j) * w * math.comb(unanswered, k - j - size) / (ties + 1)
    return total / math.comb(n, k)


def load_dataset(path: str | Path, limit: int | None = None) -> list[dict]:
    """Problems from a JSONL file with fields id, problem, answer; a bad line names its number.

    >>> load_dataset("/no/such.jsonl")
    Traceback (most recent call last):
    ...
    m1reason.errors.ConfigError: cannot read dataset /no/such.jsonl: No such file or directory
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ConfigError(f"cannot read dataset {path}: {err.strerror or err}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path} line {number}: not JSON ({err.msg})") from None
        missing = [f for f in ("id", "problem", "answer") if not isinstance(row, dict) or f not in row]
        if missing:
            raise ConfigError(f"{path} line {number}: missing field(s) {', '.join(missing)}")
        rows.append({"id": str(row["id"]), "problem": str(row["problem"]), "answer": str(row["answer"])})
        if limit is not None and len(rows) >= limit:
            break
    return rows


def grade(solution, gold: str) -> dict:
    """One record: the answer, whether it is right, and each sample's answer cluster and correctness."""
    from m1reason.answers import is_equivalent

    cluster_of = {sid: i for i, vote in enumerate(solution.votes) for sid in vote.sample_ids}
    right = [is_equivalent(vote.answer, gold) for vote in solution.votes]
    counted = [s for s in solution.samples if s.counted]
    return {"answer": solution.answer, "correct": bool(solution.answer is not None and right and right[0]),
            "clusters": [vote.count for vote in solution.votes],
            "correct_cluster": right.index(True) if any(right) else None,
            "unanswered": sum(s.sample_id not in cluster_of for s in counted),
            "samples_correct": [bool(s.sample_id in cluster_of and right[cluster_of[s.sample_id]]) for s in counted],
            "n": solution.plan.n, "num_tokens": solution.num_tokens, "stopped": solution.stopped,
            "time_s": solution.timings.get("total_s", 0.0)}


# --- begin scale-out change (issue 9): per-problem seeds and one record builder shared with m1reason.distributed
def problem_seed(seed: int, problem_id: str, budget_s: float | None) -> int:
    """The sample seed of one (problem, budget) in a run seeded with ``seed``: it derives from the problem's id,
    not its place in the queue, so any worker of a distributed eval draws the same samples for it.

    >>> problem_seed(0, "p1", None) == problem_seed(0, "p1", None) != problem_seed(0, "p2", None)
    True
    >>> 0 <= problem_seed(7, "p1", 5.0) < 2**63
    True
    """
    digest = hashlib.sha256(f"{seed}\0{problem_id}\0{budget_s}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _record(row: dict, budget: float | None, solution) -> dict:
    return {"id": row["id"], "budget_s": budget, "gold": row["answer"], **grade(solution, row["answer"])}


def _solver(strategy, generator) -> Callable:
    """``solve_one(problem, budget, seed=None)`` for run_eval: ``strategy`` (a name or object) with ``seed`` set."""
    from m1reason.solving import make_strategy, solve

    def solve_one(problem: str, budget: float | None, seed: int | None = None):
        chosen = make_strategy(strategy, budget, generator)
        chosen = chosen if seed is None else chosen.model_copy(update={"seed": seed})
        return solve(problem, budget_s=budget, strategy=chosen, generator=generator)

    return solve_one
# --- end scale-out change


def run_eval(rows: list[dict], solve_one: Callable, out: Path, *, budgets: list[float | None],
             progress=None, seed: int | None = None) -> list[dict]:
    """Solve every (problem, budget) not already in ``out``; append one record per problem; return all records.

    With ``seed``, ``solve_one`` is called as ``solve_one(problem, budget, seed=problem_seed(seed, id, budget))``.
    ``progress``: where the progress line goes (default: sys.stderr as it is at call time)."""
    progress = sys.stderr if progress is None else progress  # not bound at import: stderr can be replaced
    done = _read_records(out)
    seen = {(r["id"], r.get("budget_s")) for r in done}
    todo = [(b, row) for b in budgets for row in rows if (row["id"], b) not in seen]
    started, right = time.monotonic(), 0
    with out.open("a", encoding="utf-8") as sink:
        for count, (budget, row) in enumerate(todo, 1):
            seeded = {} if seed is None else {"seed": problem_seed(seed, row["id"], budget)}
            record = _record(row, budget, solve_one(row["problem"], budget, **seeded))
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            done.append(record)
            right += record["correct"]
            elapsed = time.monotonic() - started
            eta = elapsed / count * (len(todo) - count)
            print(f"\r[{count}/{len(todo)}] accuracy {right / count:.1%}  {elapsed / count:.1f} s/problem  "
                  f"ETA {eta / 60:.1f} min ", end="", file=progress, flush=True)
    if todo:
        print(file=progress)
    return done


def summarize(records: list[dict], k: int | None = None) -> list[dict]:
    """One row per budget: accuracy, pass@1, maj@k (k = the smallest sample count, unless given), time.

    >>> rows = [{"budget_s": 5, "correct": True, "clusters": [2, 1], "correct_cluster": 0, "unanswered": 0,
    ...          "samples_correct": [True, True, False], "time_s": 2.0, "num_tokens": 300}]
    >>> s = summarize(rows)[0]; s["accuracy"], round(s["pass@1"], 3), s["k"], s["accuracy_per_s"]
    (1.0, 0.667, 3, 0.5)
    """
    table = []
    for budget in sorted({r.get("budget_s") for r in records}, key=lambda b: (b is None, b or 0)):
        group = [r for r in records if r.get("budget_s") == budget]
        sizes = [len(r["samples_correct"]) for r in group if r["samples_correct"]]
        kk = k or (min(sizes) if sizes else 1)
        maj = [maj_at_k(r["clusters"], r["correct_cluster"], kk, r["unanswered"]) if r["clusters"] else 0.0
               for r in group if len(r["samples_correct"]) >= kk]
        mean_s = sum(r["time_s"] for r in group) / len(group)
        accuracy = sum(r["correct"] for r in group) / len(group)
        table.append({"budget_s": budget, "problems": len(group), "accuracy": accuracy,
                      "pass@1": sum(sum(r["samples_correct"]) / len(r["samples_correct"])
                                    for r in group if r["samples_correct"]) / max(1, len(sizes)),
                      "k": kk, f"maj@{kk}": sum(maj) / len(maj) if maj else 0.0, "mean_s": mean_s,
                      "accuracy_per_s": accuracy / mean_s if mean_s > 0 else 0.0,
                      "tokens_per_s": sum(r["num_tokens"] for r in group) / max(1e-9, sum(r["time_s"] for r in group))})
    return table


def plot_accuracy(table: list[dict], path: Path) -> Path:
    """Accuracy against the time budget (the paper's Figure 3 shape) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [(row["budget_s"], row["accuracy"]) for row in table if row["budget_s"] is not None]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([p[0] for p in points], [p[1] for p in points], marker="o")
    ax.set_xlabel("time budget per problem (s)")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _read_records(out: Path) -> list[dict]:
    if not out.exists():
        return []
    records = []
    for number, line in enumerate(out.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise ConfigError(f"{out} line {number} is not JSON; fix or remove it to resume") from None
    return records
