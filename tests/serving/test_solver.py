"""AsyncSolver: shared batches, own answers, backpressure, tenant limits, cancellation, shutdown, error isolation."""

import asyncio
import time

import pytest

import strategies
from m1reason.errors import BudgetError, CapacityError
from m1reason.serving import AsyncSolver, ProgressUpdate, SampleEnded, Started, TextDelta
from strategies import Solution


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def sc(seed, n=2, tokens=64):
    return strategies.SelfConsistency(n=n, max_new_tokens=tokens, seed=seed, early_stop="none", force_answers=False)


def test_every_caller_gets_its_own_answer(fake):
    async def main():
        async with AsyncSolver(fake) as solver:
            return await asyncio.gather(*(solver.solve(f"number {k}: double it", strategy=sc(k, n=3))
                                          for k in range(40)))

    solutions = run(main())
    assert [s.answer for s in solutions] == [str(2 * k) for k in range(40)]
    assert all(s.timings["queue_s"] >= 0 for s in solutions)


def test_concurrent_requests_share_decode_steps_and_match_running_alone(tiny):
    problems = [f"What is {k} + {k}?" for k in range(6)]

    async def main():
        async with AsyncSolver(tiny) as solver:
            return await asyncio.gather(*(solver.solve(p, budget_s=None, strategy=sc(k, tokens=16)) for k, p in
                                          enumerate(problems)))

    mark = tiny.engine.timings.decode.mark()
    together = run(main())
    batches = [b for b, _, _ in tiny.engine.timings.decode.since(mark)]
    assert max(batches) > 2  # samples of different students were decoded in one step
    alone = [sc(k, tokens=16).run(p, tiny) for k, p in enumerate(problems)]
    assert [[s.text for s in a.samples] for a in together] == [[s.text for s in a.samples] for a in alone]


def test_full_queue_says_busy_with_retry_after(slow_fake):
    async def main():
        async with AsyncSolver(slow_fake, max_active=1, max_queue=1) as solver:
            first = asyncio.create_task(solver.solve("a?", strategy="long"))
            second = asyncio.create_task(solver.solve("b?", strategy="long"))
            await asyncio.sleep(0.05)
            assert solver.stats()["active"] == 1 and solver.stats()["queued"] == 1
            with pytest.raises(CapacityError, match="busy") as err:
                await solver.solve("c?", strategy="long")
            assert err.value.retry_after_s > 0
            return await asyncio.gather(first, second)

    assert [s.answer for s in run(main())] == ["1", "1"]


def test_tenant_concurrency_cap_lets_other_tenants_through(slow_fake):
    async def main():
        async with AsyncSolver(slow_fake, tenant_concurrency=1, tenant_queue=1) as solver:
            a1 = asyncio.create_task(solver.solve("a1?", strategy="long", tenant="a"))
            a2 = asyncio.create_task(solver.solve("a2?", strategy="long", tenant="a"))
            b1 = asyncio.create_task(solver.solve("b1?", strategy="long", tenant="b"))
            await asyncio.sleep(0.05)
            assert solver.admission.tenant_active == {"a": 1, "b": 1}
            with pytest.raises(CapacityError, match="tenant 'a'"):
                await solver.solve("a3?", strategy="long", tenant="a")
            return await asyncio.gather(a1, a2, b1)

    first, second, other = run(main())
    assert second.timings["queue_s"] > 0.1 > other.timings["queue_s"]


def test_tenant_rate_limit_spaces_starts(fake):
    async def main():
        async with AsyncSolver(fake, tenant_rate=2, tenant_period_s=0.4) as solver:
            return await asyncio.gather(*(solver.solve(f"number {k}", strategy=sc(k), tenant="t") for k in range(3)))

    waits = sorted(s.timings["queue_s"] for s in run(main()))
    assert waits[1] < 0.2 and waits[2] >= 0.35


def test_cancelling_the_caller_cancels_its_samples_and_frees_slots(tiny):
    async def main():
        async with AsyncSolver(tiny) as solver:
            task = asyncio.create_task(solver.solve("long one", budget_s=None, strategy=sc(1, n=4, tokens=200)))
            while tiny.occupancy() < 4:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            for _ in range(200):
                if tiny.occupancy() == 0 and solver.stats()["active"] == 0:
                    break
                await asyncio.sleep(0.01)
            return tiny.occupancy(), solver.stats()["active"]

    assert run(main()) == (0, 0)


def test_shutdown_finishes_or_cancels_and_refuses(slow_fake):
    async def main():
        solver = AsyncSolver(slow_fake, max_active=1)
        running = asyncio.create_task(solver.solve("a?", strategy="long"))
        waiting = asyncio.create_task(solver.solve("b?", strategy="long"))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await solver.aclose(grace_s=0.01)
        closing_s = time.monotonic() - started
        with pytest.raises(CapacityError, match="shut"):
            await solver.solve("c?")
        results = await asyncio.gather(running, waiting, return_exceptions=True)
        return closing_s, results

    closing_s, (running, waiting) = run(main())
    assert closing_s < 1.0
    assert isinstance(running, CapacityError) and isinstance(waiting, CapacityError)


def test_one_requests_error_does_not_touch_the_others(fake):
    async def main():
        async with AsyncSolver(fake) as solver:
            calls = [solver.solve(f"number {k}" if k != 3 else "boom", strategy=sc(k)) for k in range(6)]
            return await asyncio.gather(*calls, return_exceptions=True)

    results = run(main())
    assert isinstance(results[3], RuntimeError)
    assert [r.answer for i, r in enumerate(results) if i != 3] == ["0", "2", "4", "8", "10"]


def test_bad_arguments_fail_before_queueing(fake):
    async def main():
        async with AsyncSolver(fake) as solver:
            with pytest.raises(BudgetError):
                await solver.solve("x", budget_s=0)
            with pytest.raises(ValueError, match="unknown strategy"):
                await solver.solve("x", strategy="magic")
            with pytest.raises(ValueError, match="non-empty"):
                await solver.solve(" ")
            return solver.stats()

    assert run(main())["active"] == 0


def test_stream_gives_text_progress_and_the_solution_last(fake):
    async def main():
        async with AsyncSolver(fake) as solver:
            return [e async for e in solver.stream("number 5", strategy=sc(5, n=2))]

    events = run(main())
    assert isinstance(events[0], Started) and isinstance(events[-1], Solution)
    assert events[-1].answer == "10"
    text = "".join(e.text for e in events if isinstance(e, TextDelta) and e.sample_id.endswith("/0"))
    assert text == events[-1].samples[0].text
    assert sum(isinstance(e, SampleEnded) for e in events) == 2
    assert any(isinstance(e, ProgressUpdate) and e.tally == [("10", 2)] for e in events)


def test_leaving_a_stream_early_cancels_it(tiny):
    async def main():
        async with AsyncSolver(tiny) as solver:
            stream = solver.stream("long one", budget_s=None, strategy=sc(2, n=2, tokens=200))
            async for event in stream:
                if isinstance(event, TextDelta):
                    break
            await stream.aclose()
            for _ in range(200):
                if tiny.occupancy() == 0 and solver.stats()["active"] == 0:
                    break
                await asyncio.sleep(0.01)
            return tiny.occupancy(), solver.stats()["active"]

    assert run(main()) == (0, 0)


def test_check_runs_answer_equivalence_off_the_loop(fake):
    async def main():
        async with AsyncSolver(fake) as solver:
            return await solver.check("1/2", "0.5"), await solver.check("3", "4")

    assert run(main()) == (True, False)


def test_a_named_strategy_is_sized_for_the_model(tiny):
    """The embedded model's short-answer strategy_defaults reach strategies the solver makes by name."""
    async def main():
        async with AsyncSolver(tiny) as solver:
            return await solver.solve("What is 48 + 27?", budget_s=5)

    solution = run(main())
    assert solution.plan.strategy == "BudgetAware" and solution.plan.max_new_tokens <= 320
    assert solution.answer is not None


def test_a_finished_job_is_freed_without_a_garbage_collection(fake):
    # A job held in reference cycles (its future's callback, its generator's bound on_event) kept its prompt
    # and text alive until the next full collection; a burst of large problems then held gigabytes.
    import gc

    from m1reason.serving._jobs import _Job

    async def main():
        async with AsyncSolver(fake) as solver:
            solutions = await asyncio.gather(*(solver.solve(f"number {k}: double it", strategy=sc(k))
                                               for k in range(8)))
            await asyncio.sleep(0.05)  # the done-callbacks that release each job run on the loop
            return solutions, sum(type(o) is _Job for o in gc.get_objects())  # type(): no module __getattr__

    gc.collect()
    gc.disable()
    try:
        solutions, alive = run(main())
    finally:
        gc.enable()
    assert [s.answer for s in solutions] == [str(2 * k) for k in range(8)] and alive == 0


def test_a_stream_left_early_logs_no_unretrieved_error(slow_fake, caplog):
    # The outcome of a stream whose client went away is never awaited; asyncio must not log its error.
    import gc
    import logging

    async def main():
        async with AsyncSolver(slow_fake) as solver:
            updates = solver.stream("2 + 2?", strategy=sc(3, n=2))
            await updates.__anext__()  # started: the samples are running
            await updates.aclose()  # the client leaves; its job is cancelled mid-way
            await asyncio.sleep(0.3)

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        run(main())
        gc.collect()
    assert "never retrieved" not in caplog.text


def test_idle_solver_hands_freed_memory_back_once_and_not_while_busy(fake, monkeypatch):
    import threading

    import m1reason.serving.solver as solver_module

    trims = []
    monkeypatch.setattr(solver_module, "IDLE_TRIM_S", 0.05)
    monkeypatch.setattr(solver_module, "release_free_memory", lambda: trims.append(time.monotonic()) or True)
    release = threading.Event()

    class Held:  # a strategy that runs until the test lets it go
        def run(self, problem, generator, budget_s=None):
            release.wait(10)
            return sc(0, n=1).run("number 1", generator)

    async def main():
        async with AsyncSolver(fake) as solver:
            held = asyncio.create_task(solver.solve("held", strategy=Held(), budget_s=None))
            await solver.solve("number 2", strategy=sc(0, n=1), budget_s=None)
            await asyncio.sleep(0.3)  # well past IDLE_TRIM_S after this one ended, with the held one running
            trims_while_busy = list(trims)
            release.set()
            await held
            await asyncio.sleep(0.3)
            return trims_while_busy

    assert run(main()) == []
    assert len(trims) == 1  # one trim after going idle, not one per finished job


def test_release_free_memory_calls_the_c_library_where_it_has_malloc_trim():
    import ctypes.util
    import platform

    from m1reason.serving._memory import release_free_memory

    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc" and ctypes.util.find_library("c")
    assert release_free_memory() is bool(glibc)


def test_idle_solver_retires_its_burst_threads(fake):
    import threading

    def solve_threads():
        return sum(t.name.startswith("m1reason-solve") and t.is_alive() for t in threading.enumerate())

    async def main():
        async with AsyncSolver(fake, max_active=16) as solver:
            await asyncio.gather(*(solver.solve(f"number {k}", strategy=sc(0, n=1), budget_s=None)
                                   for k in range(12)))
            during = solve_threads()
            for _ in range(50):  # the idle trim retires the pool about IDLE_TRIM_S after the last job
                await asyncio.sleep(0.1)
                if solve_threads() == 0:
                    break
            after = solve_threads()
            again = await solver.solve("number 99", strategy=sc(0, n=1), budget_s=None)  # a fresh pool serves
            return during, after, again

    during, after, again = run(main())
    assert during > 1 and after == 0
    assert again.answer is not None


def test_steady_allocator_refuses_nonsense_and_calls_mallopt_on_glibc():
    import platform

    from m1reason.serving import steady_allocator

    with pytest.raises(ValueError, match="arenas and mmap_threshold"):
        steady_allocator(arenas=0)
    with pytest.raises(ValueError, match="arenas and mmap_threshold"):
        steady_allocator(mmap_threshold=-1)
    assert steady_allocator(arenas=8) is (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")
