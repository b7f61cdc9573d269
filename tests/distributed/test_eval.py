"""Distributed eval on a real local Ray cluster with the tiny model: the same records as one process, and a
worker killed mid-run loses no problem and counts none twice."""

import io
import json
import threading
import time

import pytest

pytest.importorskip("ray")

import strategies  # noqa: E402
from m1reason.defaults import default_generator  # noqa: E402
from m1reason.distributed import run_eval_ray  # noqa: E402
from m1reason.evaluation import _solver, run_eval  # noqa: E402

pytestmark = pytest.mark.slow
TIMING = {"time_s"}


def _content(records):
    return sorted(({k: v for k, v in r.items() if k not in TIMING} for r in records), key=lambda r: r["id"])


def _single_process(rows, out, strategy, seed):
    return run_eval(rows, _solver(strategy, default_generator()), out, budgets=[None], seed=seed,
                    progress=io.StringIO())


def test_distributed_eval_equals_single_process(ray_cluster, dataset, tmp_path):
    _, rows = dataset(6)
    strategy = strategies.SelfConsistency(n=3, max_new_tokens=24)
    alone = _single_process(rows, tmp_path / "alone.jsonl", strategy, seed=0)
    spread = run_eval_ray(rows, tmp_path / "ray.jsonl", budgets=[None], strategy=strategy, seed=0, workers=2,
                          progress=io.StringIO())
    written = [json.loads(line) for line in (tmp_path / "ray.jsonl").read_text().splitlines()]
    assert _content(spread) == _content(written) == _content(alone)
    other_seed = _single_process(rows, tmp_path / "other.jsonl", strategy, seed=1)
    assert _content(other_seed) != _content(alone), "the comparison must be able to see different samples"


def test_killed_worker_loses_nothing_and_counts_nothing_twice(ray_cluster, dataset, tmp_path):
    _, rows = dataset(12)
    strategy = strategies.SelfConsistency(n=3, max_new_tokens=64)
    out, progress, result = tmp_path / "ray.jsonl", io.StringIO(), {}
    run = threading.Thread(target=lambda: result.update(records=run_eval_ray(
        rows, out, budgets=[None], strategy=strategy, seed=0, workers=2, progress=progress)))
    run.start()
    deadline = time.monotonic() + 120
    while not (out.exists() and out.read_text().count("\n") >= 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = sorted(name for name in ray_cluster.util.list_named_actors() if name.startswith("m1reason-eval-"))[0]
    ray_cluster.kill(ray_cluster.get_actor(victim))
    run.join(timeout=180)
    assert not run.is_alive()
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in written) == [row["id"] for row in sorted(rows, key=lambda r: r["id"])]
    assert "(1 lost)" in progress.getvalue()
    assert _content(written) == _content(_single_process(rows, tmp_path / "alone.jsonl", strategy, seed=0))


def test_problems_that_cannot_run_are_failed_records_through_ray_too(ray_cluster, dataset, tmp_path):
    _, rows = dataset(2)
    rows += [{"id": "empty", "problem": "", "answer": "1"},
             {"id": "long", "problem": "What is 1 + 1? " * 200, "answer": "2"}]
    strategy = strategies.SelfConsistency(n=1, max_new_tokens=8)
    spread = run_eval_ray(rows, tmp_path / "ray.jsonl", budgets=[None], strategy=strategy, seed=0, workers=2,
                          progress=io.StringIO())
    failed = {r["id"]: r["error"] for r in spread if r["status"] == "failed"}
    assert failed.keys() == {"empty", "long"} and "does not fit max_len" in failed["long"]
    assert _content(spread) == _content(_single_process(rows, tmp_path / "alone.jsonl", strategy, seed=0))
