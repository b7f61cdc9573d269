"""Evaluation: run a strategy over a JSONL dataset (id, problem, answer), grade, estimate pass@k and maj@k.

Records go to a JSONL file one problem at a time, so an interrupted run resumes where it stopped; one run at a
time holds the file (a lock beside it). A problem that cannot run (empty, too long for the model) becomes a
failed record with its reason and the run goes on. The pass@k and maj@k estimators are the unbiased ones
(expectations over k-subsets of the n samples drawn), checked against brute-force enumeration in the tests.
Plotting (m1reason.eval_plot) is optional (matplotlib) and never needed to grade.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import m1reason.solving as solving  # looked up per call: the one solve path, as tests see it
from m1reason.answers import is_equivalent
from m1reason.errors import ConfigError, PromptTooLong
from m1reason.eval_plot import plot_accuracy

log = logging.getLogger(__name__)

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
    """Problems from a JSONL file with fields id, problem, answer; a bad line or a repeated id names its line.

    A null problem or answer reads as "" (never the text "None"): ``run_eval`` records such a row as failed.

    >>> load_dataset("/no/such.jsonl")
    Traceback (most recent call last):
    ...
    m1reason.errors.ConfigError: cannot read dataset /no/such.jsonl: No such file or directory
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read dataset {path}: {getattr(err, 'strerror', None) or err}") from None
    rows, first_line = [], {}
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
        row_id = str(row["id"])
        if row_id in first_line:  # its records would be indistinguishable, and resume would skip the second
            raise ConfigError(f"{path} line {number}: id {row_id!r} repeats line {first_line[row_id]}")
        first_line[row_id] = number
        rows.append({"id": row_id, "problem": _text(row["problem"]), "answer": _text(row["answer"])})
        if limit is not None and len(rows) >= limit:
            break
    return rows


def _text(value) -> str:
    return "" if value is None else str(value)


def grade(solution, gold: str) -> dict:
    """One record: the answer, whether it is right, the Solution's ``status`` and ``status_reason`` (as
    ``solution_status``, ``status_reason``: why there is no answer, e.g. "out_of_scope"), and each sample's answer
    cluster and correctness.

    >>> from strategies import Plan, Solution
    >>> refused = Solution(problem="Integrate x.", answer=None, status="out_of_scope", confidence=0,
    ...                    status_reason="out of the embedded model's scope: calculus ('integrate')",
    ...                    plan=Plan(strategy="LongCoT", n=0, max_new_tokens=0, reason="not run"))
    >>> record = grade(refused, "x^2/2")
    >>> record["correct"], record["solution_status"], record["samples_correct"]
    (False, 'out_of_scope', [])
    """
    cluster_of = {sid: i for i, vote in enumerate(solution.votes) for sid in vote.sample_ids}
    right = [is_equivalent(vote.answer, gold) for vote in solution.votes]
    counted = [s for s in solution.samples if s.counted]
    return {"answer": solution.answer, "correct": bool(solution.answer is not None and right and right[0]),
            "solution_status": solution.status, "status_reason": solution.status_reason,
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
    return {"id": row["id"], "budget_s": budget, "gold": row["answer"], "status": "done", "error": None,
            **grade(solution, row["answer"])}


def _failed_record(row: dict, budget: float | None, error: str, time_s: float) -> dict:
    """The record of a problem that could not run: no samples, wrong, and why (the fields of a graded one)."""
    return {"id": row["id"], "budget_s": budget, "gold": row["answer"], "status": "failed", "error": error,
            "answer": None, "correct": False, "solution_status": None, "status_reason": None, "clusters": [],
            "correct_cluster": None, "unanswered": 0,
            "samples_correct": [], "n": 0, "num_tokens": 0, "stopped": None, "time_s": time_s}


def _solver(strategy, generator) -> Callable:
    """``solve_one(problem, budget, seed=None)`` for run_eval: ``m1reason.solving.solve`` (the one solve path) with
    ``strategy`` (a name or object, made by ``make_strategy`` for ``generator``) and ``seed`` set."""

    def solve_one(problem: str, budget: float | None, seed: int | None = None):
        chosen = solving.make_strategy(strategy, budget, generator)
        chosen = chosen if seed is None else chosen.model_copy(update={"seed": seed})
        return solving.solve(problem, budget_s=budget, strategy=chosen, generator=generator)

    return solve_one
# --- end scale-out change


# A generator names the request in its errors; request ids are random, and a record must read the same whichever
# run or worker wrote it.
_REQUEST_ID = re.compile(r"^request \S+: ")


def _attempt(task: dict, solve_one: Callable) -> dict:
    """The record of one task (a dataset row with budget_s and seed): graded, or failed with the reason when the
    problem itself cannot run (empty, no gold answer, a prompt too long for the model). Any other error (a bad
    strategy, more samples than the generator holds, a broken generator, a grader bug) is not this problem's fault
    and propagates: recorded as failed, every problem would fail alike and a resume would skip them all."""
    started = time.monotonic()
    error = _unrunnable(task)
    if error is None:
        seeded = {} if task["seed"] is None else {"seed": task["seed"]}
        try:
            return _record(task, task["budget_s"], solve_one(task["problem"], task["budget_s"], **seeded))
        except PromptTooLong as err:
            error = _REQUEST_ID.sub("", str(err))
    return _failed_record(task, task["budget_s"], error, time.monotonic() - started)


def _unrunnable(row: dict) -> str | None:
    if not isinstance(row["problem"], str) or not row["problem"].strip():
        return "empty problem"
    if not isinstance(row["answer"], str) or not row["answer"].strip():
        return "empty gold answer: nothing to grade against"
    return None


def _pending(rows: list[dict], budgets: list[float | None], done: list[dict], seed: int | None) -> list[dict]:
    """The tasks (row, budget_s, seed) of every (problem, budget) without a record in ``done``, budget by budget."""
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        if first.setdefault(row["id"], index) != index:  # both would count, and a resume would skip the second
            raise ValueError(f"problem id {row['id']!r} appears twice (rows {first[row['id']]} and {index})")
    seen = {(r["id"], r["budget_s"]) for r in done}
    return [{**row, "budget_s": b, "seed": None if seed is None else problem_seed(seed, row["id"], b)}
            for b in budgets for row in rows if (row["id"], b) not in seen]


def run_eval(rows: list[dict], solve_one: Callable, out: Path, *, budgets: list[float | None],
             progress=None, seed: int | None = None) -> list[dict]:
    """Solve every (problem, budget) not already in ``out``; append one record per problem; return all records.

    With ``seed``, ``solve_one`` is called as ``solve_one(problem, budget, seed=problem_seed(seed, id, budget))``.
    ``progress``: where the progress line goes (default: sys.stderr as it is at call time).

    A problem that cannot run (empty, no gold answer, a prompt too long for the model) gets a record with
    ``status`` "failed" and its ``error``, counts as wrong, and the run goes on; any other error stops the run
    (rerun to resume). A rerun skips failed records as it skips done ones. One run at a time writes ``out``: a
    second gets a ConfigError. A torn last line (a killed run) is cut from ``out`` with a warning.

    >>> import io, tempfile
    >>> out = Path(tempfile.mkdtemp()) / "results.jsonl"
    >>> [record] = run_eval([{"id": "p1", "problem": " ", "answer": "2"}], print, out, budgets=[None],
    ...                     progress=io.StringIO())
    >>> record["status"], record["error"], record["correct"]
    ('failed', 'empty problem', False)
    """
    progress = sys.stderr if progress is None else progress  # not bound at import: stderr can be replaced
    with _records_file(Path(out)) as (done, sink):
        todo = _pending(rows, budgets, done, seed)
        meter = _Progress(progress, len(todo))
        for task in todo:
            record = _attempt(task, solve_one)
            _append(sink, record)
            done.append(record)
            meter.update(record)
        meter.close()
    return done


class _Progress:
    """The live line of a run: records written of those to do, accuracy so far, failures, speed, time left."""

    def __init__(self, stream, total: int):
        self.stream, self.total, self.count, self.right, self.failed = stream, total, 0, 0, 0
        self.started = time.monotonic()

    def update(self, record: dict, note: str = "") -> None:
        self.count += 1
        self.right += record["correct"]
        self.failed += record.get("status") == "failed"
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.count * (self.total - self.count)
        failed = f" ({self.failed} failed)" if self.failed else ""
        print(f"\r[{self.count}/{self.total}] accuracy {self.right / self.count:.1%}{failed}  "
              f"{elapsed / self.count:.1f} s/problem{note}  ETA {eta / 60:.1f} min ", end="", file=self.stream,
              flush=True)

    def close(self) -> None:
        if self.count:
            print(file=self.stream)


def _append(sink, record: dict) -> None:
    sink.write(json.dumps(record) + "\n")  # one write per record: a kill can tear only the last line
    sink.flush()


def summarize(records: list[dict], k: int | None = None) -> list[dict]:
    """One row per budget: accuracy, pass@1, maj@k (k = the smallest sample count, unless given), time, failures.

    A failed record (its problem could not run) counts as wrong in accuracy, pass@1 and maj@k; ``failed`` says
    how many there were. So does a problem outside the model's scope (``solution_status`` "out_of_scope": no
    sample drawn), counted in ``out_of_scope``.

    >>> rows = [{"budget_s": 5, "correct": True, "clusters": [2, 1], "correct_cluster": 0, "unanswered": 0,
    ...          "samples_correct": [True, True, False], "time_s": 2.0, "num_tokens": 300}]
    >>> s = summarize(rows)[0]; s["accuracy"], round(s["pass@1"], 3), s["k"], s["accuracy_per_s"], s["failed"]
    (1.0, 0.667, 3, 0.5, 0)
    >>> failed = {**rows[0], "status": "failed", "correct": False, "clusters": [], "samples_correct": []}
    >>> s = summarize(rows + [failed])[0]; s["accuracy"], round(s["pass@1"], 3), s["maj@3"], s["failed"]
    (0.5, 0.333, 0.5, 1)
    >>> refused = {**failed, "status": "done", "solution_status": "out_of_scope"}
    >>> s = summarize(rows + [refused])[0]; s["accuracy"], round(s["pass@1"], 3), s["failed"], s["out_of_scope"]
    (0.5, 0.333, 0, 1)
    """
    table = []
    for budget in sorted({r.get("budget_s") for r in records}, key=lambda b: (b is None, b or 0)):
        group = [r for r in records if r.get("budget_s") == budget]
        failed = sum(r.get("status") == "failed" for r in group)
        refused = sum(r.get("solution_status") == "out_of_scope" for r in group)
        unsampled = failed + refused  # no samples, so pass@1 and maj@k would leave them out: they count as wrong
        sampled = [r for r in group if r["samples_correct"]]
        sizes = [len(r["samples_correct"]) for r in sampled]
        kk = k or (min(sizes) if sizes else 1)
        maj = [maj_at_k(r["clusters"], r["correct_cluster"], kk, r["unanswered"]) if r["clusters"] else 0.0
               for r in group if len(r["samples_correct"]) >= kk] + [0.0] * unsampled
        mean_s = sum(r["time_s"] for r in group) / len(group)
        accuracy = sum(r["correct"] for r in group) / len(group)
        table.append({"budget_s": budget, "problems": len(group), "accuracy": accuracy,
                      "pass@1": sum(sum(r["samples_correct"]) / len(r["samples_correct"]) for r in sampled)
                      / max(1, len(sampled) + unsampled),
                      "k": kk, f"maj@{kk}": sum(maj) / len(maj) if maj else 0.0, "mean_s": mean_s,
                      "accuracy_per_s": accuracy / mean_s if mean_s > 0 else 0.0,
                      "tokens_per_s": sum(r["num_tokens"] for r in group) / max(1e-9, sum(r["time_s"] for r in group)),
                      "failed": failed, "out_of_scope": refused})
    return table


@contextlib.contextmanager
def _records_file(out: Path) -> Iterator[tuple[list[dict], object]]:
    """Hold ``out`` for one run: lock it, read its records (a torn last line cut), and open it to append.

    The lock is an flock on ``<out>.lock``, taken without waiting: two runs appending to one file would solve
    and count the same problems twice. The kernel drops it when the process ends, however it ends."""
    import fcntl  # POSIX only, as the rest of the eval machinery; here so that importing this module never needs it

    lock_path = out.with_name(out.name + ".lock")
    try:
        lock = lock_path.open("a")
    except OSError as err:
        raise ConfigError(f"cannot write records to {out}: {err.strerror or err}") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"another eval is writing {out} (it holds {lock_path}); wait for it to end or write "
                              "to another file") from None
        done = _read_records(out)
        try:
            sink = out.open("a", encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"cannot write records to {out}: {err.strerror or err}") from None
        with sink:
            yield done, sink


# What resuming and summarize read from every record; older records without status/error read as done.
_RECORD_FIELDS = ("id", "budget_s", "correct", "clusters", "correct_cluster", "unanswered", "samples_correct",
                  "num_tokens", "time_s")
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
               type(None): "null"}


def _read_records(out: Path) -> list[dict]:
    """The records in ``out`` ([] when there is no such file), its torn last line first cut from the file.

    Any other line that is not a record, and a second record of one (problem, budget), is an error naming the
    file and line: resuming past it would skip or count problems wrongly."""
    try:
        data = _repair_tail(out, out.read_bytes())
    except FileNotFoundError:
        return []
    except OSError as err:
        raise ConfigError(f"cannot read records {out}: {err.strerror or err}") from None
    records, first_line = [], {}
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        record = _parse_record(out, number, line)
        key = (record["id"], record["budget_s"])
        if key in first_line:
            raise ConfigError(f"{out} line {number}: a second record of problem {key[0]!r} at budget_s {key[1]} "
                              f"(the first is line {first_line[key]}); remove one to resume")
        first_line[key] = number
        records.append(record)
    return records


def _repair_tail(out: Path, data: bytes) -> bytes:
    """``data`` with a torn last line dropped (the file cut to match) or a missing final newline added.

    A run writes each record with its newline in one write, so a last line that is not JSON was cut short by a
    killed run: it is dropped with a warning and its problem runs again."""
    content = data.rstrip()
    start = content.rfind(b"\n") + 1
    if not content:
        return data
    try:
        json.loads(content[start:])
    except ValueError:  # not JSON, or not UTF-8
        log.warning("%s line %d is torn (a run killed while writing it?): dropped, its problem runs again",
                    out, content.count(b"\n") + 1)
        with out.open("r+b") as file:
            file.truncate(start)
        return data[:start]
    if not data.endswith(b"\n"):
        with out.open("ab") as file:
            file.write(b"\n")
        return data + b"\n"
    return data


def _parse_record(out: Path, number: int, line: bytes) -> dict:
    try:
        record = json.loads(line)
    except ValueError as err:
        raise ConfigError(f"{out} line {number}: not JSON ({getattr(err, 'msg', err)}); fix or remove it to "
                          "resume") from None
    if not isinstance(record, dict):
        raise ConfigError(f"{out} line {number}: a record must be a JSON object, not {_JSON_KINDS[type(record)]}; "
                          "fix or remove it to resume")
    missing = [f for f in _RECORD_FIELDS if f not in record]
    if missing:
        raise ConfigError(f"{out} line {number}: not an eval record (missing {', '.join(missing)}); fix or remove "
                          "it to resume")
    budget = record["budget_s"]
    if not isinstance(record["id"], str) or not (budget is None or type(budget) in (int, float)):
        raise ConfigError(f"{out} line {number}: id must be a string and budget_s a number or null; fix or remove "
                          "it to resume")
    return record
