"""Distributed evaluation: the (problem, budget) pairs of one eval job spread over Ray actors, one generator each.

Each worker solves one pair at a time and returns its finished record; the driver alone appends records to the
JSONL (the same file, format, lock and failed records as ``run_eval``, so either path resumes the other's run).
A pair is written once, when its record arrives; a worker that dies hands its pair back to the queue and a
replacement is started. Seeds come from ``problem_seed`` (the problem's id), so which worker ran a pair does not
change its samples.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import deque
from pathlib import Path

from m1reason.distributed.cluster import connect, worker_resources
from m1reason.errors import M1Error
from m1reason.evaluation import _append, _attempt, _pending, _Progress, _records_file, _solver

__all__ = ["EvalWorker", "run_eval_ray"]

log = logging.getLogger(__name__)


class EvalWorker:
    """One worker of a distributed eval: it owns a generator and turns a task into a graded record.

    In a cluster it runs as a Ray actor (``run_eval_ray`` wraps it); as a plain object it needs no Ray.
    A task is a dict with id, problem, answer (the dataset row), budget_s and seed (None: unseeded).

    >>> from m1reason.generator.fake import FakeGenerator
    >>> worker = EvalWorker(generator=FakeGenerator(lambda request, i: "</think> $\\\\boxed{4}$"))
    >>> record = worker.solve({"id": "p1", "problem": "2 + 2?", "answer": "4", "budget_s": None, "seed": 1})
    >>> record["id"], record["answer"], record["correct"]
    ('p1', '4', True)
    """

    def __init__(self, model: str | None = None, strategy="auto", *, generator=None):
        if generator is None:
            from m1reason.defaults import default_generator

            generator = default_generator(model)
        self.generator, self.strategy = generator, strategy

    def solve(self, task: dict) -> dict:
        """The record of one (problem, budget): what ``run_eval`` would have written for it, a failed record
        included when the problem cannot run.

        >>> worker = EvalWorker(generator=object())
        >>> worker.solve({"id": "p2", "problem": "", "answer": "1", "budget_s": None, "seed": None})["error"]
        'empty problem'
        """
        return _attempt(task, _solver(self.strategy, self.generator))


def run_eval_ray(rows: list[dict], out: Path, *, budgets: list[float | None], strategy="auto",
                 model: str | None = None, seed: int | None = None, workers: int | None = None,
                 address: str | None = None, max_restarts: int | None = None, progress=None) -> list[dict]:
    """``run_eval`` over a Ray cluster: every (problem, budget) not already in ``out`` is solved by one of
    ``workers`` actors (default: one per GPU, else one per CPU) and appended to ``out`` as it finishes.

    A worker that dies (a crash, a lost node, ``ray.kill``) has its unfinished pair re-run by another; up to
    ``max_restarts`` (default: ``workers``) replacements are started. A record is written once per pair.
    As in ``run_eval``: a problem that cannot run gets a failed record and the run goes on; other errors raised by
    solving (a bad strategy, a grader bug) stop the run; ``out`` is locked for the run and a torn last line cut.

    >>> import json, tempfile
    >>> out = Path(tempfile.mkdtemp()) / "results.jsonl"
    >>> done = {"id": "p1", "budget_s": None, "correct": True, "clusters": [1], "correct_cluster": 0,
    ...         "unanswered": 0, "samples_correct": [True], "num_tokens": 9, "time_s": 0.5}
    >>> _ = out.write_text(json.dumps(done) + "\\n")
    >>> [r["id"] for r in run_eval_ray([{"id": "p1", "problem": "1 + 1?", "answer": "2"}], out, budgets=[None])]
    ['p1']
    >>> records = run_eval_ray(rows, out, budgets=[None], workers=2, seed=0, address="auto")  # doctest: +SKIP
    """
    with _records_file(Path(out)) as (done, sink):
        todo = deque(_pending(rows, budgets, done, seed))
        if not todo:
            return done
        ray = connect(address)
        count, options = worker_resources(ray, workers)
        count = min(count, len(todo))
        job = _Job(ray, ray.remote(**options)(EvalWorker), (model, strategy), f"m1reason-eval-{os.getpid()}")
        try:
            job.run(todo, out, sink, done, workers=count,
                    max_restarts=count if max_restarts is None else max_restarts,
                    progress=sys.stderr if progress is None else progress)  # stderr as it is now, not at import
        finally:
            job.stop()
    return done


class _Job:
    """The driver's loop: keep every live worker busy with one task, write what comes back, replace the dead."""

    def __init__(self, ray, actor_class, args: tuple, name: str):
        self.ray, self.actor_class, self.args, self.name = ray, actor_class, args, name
        self.actors: dict[int, object] = {}
        self.inflight: dict[object, tuple[int, dict]] = {}  # ObjectRef -> (worker index, task)
        self.started = 0

    def start_worker(self) -> int:
        index, self.started = self.started, self.started + 1
        self.actors[index] = self.actor_class.options(name=f"{self.name}-{index}").remote(*self.args)
        return index

    def run(self, todo: deque, out: Path, sink, done: list, *, workers: int, max_restarts: int, progress) -> None:
        written, lost, meter = set(), 0, _Progress(progress, len(todo))
        idle = [self.start_worker() for _ in range(workers)]
        while todo or self.inflight:
            while idle and todo:
                index, task = idle.pop(), todo.popleft()
                self.inflight[self.actors[index].solve.remote(task)] = (index, task)
            [ref], _ = self.ray.wait(list(self.inflight), num_returns=1)
            index, task = self.inflight.pop(ref)
            try:
                record = self.ray.get(ref)
            except self.ray.exceptions.RayActorError as err:
                lost += 1
                log.warning("eval worker %d died (%s); its problem %s goes back to the queue",
                            index, type(err).__name__, task["id"])
                todo.appendleft(task)
                del self.actors[index]
                if lost <= max_restarts:
                    idle.append(self.start_worker())
                elif not self.actors:
                    raise M1Error(f"every eval worker died ({lost} lost, {max_restarts} restarts allowed; last: "
                                  f"{err}); {len(todo)} problems left, rerun to resume from {out}") from None
                continue
            idle.append(index)
            key = (record["id"], record["budget_s"])
            if key in written:  # cannot happen with one attempt in flight per pair; kept as a guard
                continue
            written.add(key)
            _append(sink, record)
            done.append(record)
            meter.update(record, f"  workers {len(self.actors)}" + (f" ({lost} lost)" if lost else ""))
        meter.close()

    def stop(self) -> None:
        for actor in self.actors.values():
            self.ray.kill(actor)
        self.actors.clear()

