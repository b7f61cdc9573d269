"""Serving on Ray: ``AsyncSolver`` replicas (one per GPU) behind one ``SolverPool`` that routes each request to the
replica with the fewest requests in flight.

Plain Ray actors, not Ray Serve: a replica is an async actor holding one AsyncSolver (its own admission,
batching and tenant limits); the pool is the one endpoint an app calls (wrap it in any web framework). It does
not retry a request whose replica died (a solve is not idempotent in time budget); the caller sees the error.
"""

from __future__ import annotations

import itertools

from m1reason.distributed.cluster import connect, worker_resources

__all__ = ["SolverPool", "SolverReplica", "least_loaded"]


def least_loaded(loads: list[int], start: int = 0) -> int:
    """The index of the smallest load; ties go to the first at or after ``start`` (round robin among equals).

    >>> least_loaded([2, 0, 1]), least_loaded([1, 1, 1], start=2), least_loaded([0, 3, 0], start=1)
    (1, 2, 2)
    """
    order = [(load, (i - start) % len(loads), i) for i, load in enumerate(loads)]
    return min(order)[2]


class SolverReplica:
    """One replica: an AsyncSolver over its own generator, run as a Ray async actor by ``SolverPool.start``.

    ``solver_options`` go to AsyncSolver (``max_active``, tenant limits, ...); ``generator`` replaces the model.

    >>> import asyncio
    >>> from m1reason.generator.fake import FakeGenerator
    >>> replica = SolverReplica(generator=FakeGenerator(lambda request, i: "</think> $\\\\boxed{9}$"))
    >>> asyncio.run(replica.solve("3 * 3?", budget_s=None)).answer
    '9'
    """

    def __init__(self, model: str | None = None, *, generator=None, **solver_options):
        from m1reason.serving import AsyncSolver

        self.solver = AsyncSolver(generator, model=model, **solver_options)
        self.served = 0

    async def solve(self, problem: str, **options):
        """``AsyncSolver.solve`` on this replica: a ``strategies.Solution``."""
        self.served += 1
        return await self.solver.solve(problem, **options)

    async def stats(self) -> dict:
        """This replica's AsyncSolver stats (running, queued, engine occupancy) and requests served so far."""
        return {**self.solver.stats(), "served": self.served}


class SolverPool:
    """One endpoint over several replicas (Ray actor handles of SolverReplica): ``await pool.solve(problem)`` goes
    to the replica with the fewest of this pool's requests in flight. ``start`` creates the replicas.

    >>> import asyncio
    >>> class Handle:  # stands in for a Ray actor handle in this example
    ...     def __init__(self, name): self.name, self.solve = name, self
    ...     def remote(self, problem, **options): return asyncio.sleep(0.01, result=self.name)
    >>> pool = SolverPool([Handle("a"), Handle("b")])
    >>> async def three(): return await asyncio.gather(*(pool.solve("1 + 1?") for _ in range(3)))
    >>> asyncio.run(three())
    ['a', 'b', 'a']
    """

    def __init__(self, replicas: list):
        if not replicas:
            raise ValueError("a SolverPool needs at least one replica")
        self.replicas = list(replicas)
        self.loads = [0] * len(self.replicas)
        self._turn = itertools.count()

    @classmethod
    def start(cls, replicas: int | None = None, *, model: str | None = None, address: str | None = None,
              **solver_options) -> SolverPool:
        """Start ``replicas`` SolverReplica actors (default: one per GPU, else one per CPU) and pool them.

        >>> pool = SolverPool.start(2, address="auto")  # doctest: +SKIP
        """
        ray = connect(address)
        count, options = worker_resources(ray, replicas)
        actor = ray.remote(**options)(SolverReplica)
        return cls([actor.remote(model, **solver_options) for _ in range(count)])

    async def solve(self, problem: str, **options):
        """``AsyncSolver.solve`` on the least-loaded replica (options: budget_s, strategy, tenant)."""
        index = least_loaded(self.loads, start=next(self._turn) % len(self.loads))
        self.loads[index] += 1
        try:
            return await self.replicas[index].solve.remote(problem, **options)
        finally:
            self.loads[index] -= 1

    def stop(self) -> None:
        """Kill the replicas (their in-flight requests fail)."""
        import ray

        for replica in self.replicas:
            ray.kill(replica)
