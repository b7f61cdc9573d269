"""AsyncSolver replicas as Ray actors behind one least-loaded SolverPool, on a real local cluster."""

import asyncio

import pytest

pytest.importorskip("ray")

import strategies  # noqa: E402
from m1reason.distributed import SolverPool  # noqa: E402

pytestmark = pytest.mark.slow


def test_pool_spreads_concurrent_requests_over_replicas(ray_cluster):
    pool = SolverPool.start(2)
    strategy = strategies.SelfConsistency(n=2, max_new_tokens=16)

    async def ask():
        solutions = await asyncio.gather(*(pool.solve(f"What is {k} + 1?", budget_s=None, strategy=strategy)
                                           for k in range(6)))
        stats = await asyncio.gather(*(replica.stats.remote() for replica in pool.replicas))
        return solutions, stats

    try:
        solutions, stats = asyncio.run(ask())
    finally:
        pool.stop()
    assert len(solutions) == 6 and all(s.plan.n == 2 for s in solutions)
    assert [s["served"] for s in stats] == [3, 3]
    assert pool.loads == [0, 0]
