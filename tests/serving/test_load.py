"""AsyncSolver under load and failure: every caller gets a Solution with a status by its budget + 1 s, planning
counts the requests that arrive together, a failed engine shows in health and shuts down in seconds, and answer
checks never wait behind solves."""

import asyncio
import threading
import time

import pytest

import strategies
from m1reason.defaults import ByteTokenizer
from m1reason.errors import CapacityError, M1Error
from m1reason.generator import GenerationRequest, SamplingParams
from m1reason.generator.fake import FakeCompletion, FakeGenerator
from m1reason.generator.m1 import M1Generator
from m1reason.serving import AsyncSolver
from m1reason.serving.solver import RETURN_BY_S
from tests.conftest import flat_tiny_model

STATUSES = {"answered", "no_answer", "no_turn"}


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.fixture(scope="module")
def model():
    return flat_tiny_model(259)


@pytest.fixture(scope="module", autouse=True)
def throughput_cache(tmp_path_factory):
    """One calibration for this module's generators, measured with their slowed steps, kept out of the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("M1REASON_CACHE", str(tmp_path_factory.mktemp("throughput")))
        yield


@pytest.fixture
def few_slots(model):
    """A real engine with 8 slots whose steps take a few ms more (on a fast host races need room to happen)."""
    gen = M1Generator(model, ByteTokenizer(), max_slots=8, max_len=256, freeze_gc=False)
    step = gen.engine.step

    def slow_step():
        time.sleep(0.004)
        return step()

    gen.engine.step = slow_step
    return gen


def sc(n, tokens=40):
    return strategies.SelfConsistency(n=n, max_new_tokens=tokens, early_stop="none", force_answers=False)


async def timed(call):
    started = time.monotonic()
    result = await call
    return result, time.monotonic() - started


def test_many_callers_on_few_slots_all_get_a_solution_with_a_status_in_time(few_slots):
    # Groups of 3 arriving while others' deadlines pass: admission once let their forks exceed the free slots,
    # which ended the engine's thread and left every caller waiting (tests/engine/test_step_failures.py).
    async def main():
        async with AsyncSolver(few_slots) as solver:
            await solver.start()  # the budget counts from the call with a warm generator
            results = []
            for r in range(4):
                calls = [timed(solver.solve(f"{k} + {r}?", budget_s=0.4, strategy=sc(3))) for k in range(12)]
                results += await asyncio.gather(*calls)
            return results, few_slots._driver.is_alive()

    results, alive = run(main())
    assert alive and few_slots.failure is None
    assert all(s.status in STATUSES and (s.answer is None) == (s.status != "answered") for s, _ in results)
    assert all(s.status_reason for s, _ in results if s.status != "answered")
    assert max(seconds for _, seconds in results) < 0.4 + 1.0 + 0.5  # the contract, with room for a slow host


def test_requests_arriving_together_plan_within_the_engines_slots(few_slots):
    # Time is no limit here (8 tokens in 5 s): alone, each would plan 8 samples, the whole engine.
    budget = strategies.BudgetAware(n=8, needed_tokens=8, max_new_tokens=16)

    async def main():
        async with AsyncSolver(few_slots) as solver:
            await solver.start()  # loaded: the 8 calls reach admission together, as a class's requests do
            return await asyncio.gather(*(solver.solve(f"{k} + 1?", budget_s=5, strategy=budget) for k in range(8)))

    solutions = run(main())
    assert sum(s.plan.n for s in solutions) <= 8  # a fair share each, not a full engine each
    assert all("of 8 slots" in s.plan.reason for s in solutions)


def test_a_budget_spent_waiting_for_a_turn_says_so_in_time(few_slots):
    # every slot, for longer than the budget below
    holder = GenerationRequest(prompt_token_ids=[1, 2, 3], request_id="holder",
                               sampling=SamplingParams(n=8, max_new_tokens=200, ignore_eos=True))

    async def main():
        async with AsyncSolver(few_slots, max_active=1) as solver:
            await solver.start()
            few_slots.submit([holder])  # the solver's engine thread drives it
            while len(few_slots.engine.scheduler.running) < 8:
                await asyncio.sleep(0.005)
            in_engine = asyncio.create_task(timed(solver.solve("a?", budget_s=0.6, strategy=sc(1))))
            await asyncio.sleep(0.05)
            in_admission = asyncio.create_task(timed(solver.solve("b?", budget_s=0.6, strategy=sc(1))))
            results = await asyncio.gather(in_engine, in_admission)
            few_slots.cancel("holder")
            return results

    for solution, seconds in run(main()):
        assert solution.answer is None and solution.status == "no_turn"
        assert solution.status_reason.startswith("no answer within the budget: waited ")
        assert solution.status_reason.endswith(" s for a turn")
        assert seconds < 0.6 + 1.0
        assert solution.model_dump(mode="json")["status"] == "no_turn"  # what the app's JSON carries


def test_a_request_the_engine_fails_raises_and_later_ones_are_answered(few_slots, monkeypatch):
    real = few_slots.model.prefill

    def prefill(ids, *args, **kwargs):  # fails any prefill holding "~" (only the bad problem has one)
        if (ids == ord("~")).any():
            raise RuntimeError("injected")
        return real(ids, *args, **kwargs)

    monkeypatch.setattr(few_slots.model, "prefill", prefill)

    async def main():
        async with AsyncSolver(few_slots) as solver:
            with pytest.raises(M1Error, match=r"an engine step failed while running it \(RuntimeError: injected\)"):
                await solver.solve("~ bad ~", budget_s=None, strategy=sc(2))
            later = await solver.solve("1 + 1?", budget_s=None, strategy=sc(2))
            return later, solver.stats()

    later, stats = run(main())
    assert later.status in STATUSES and len(later.samples) == 2
    assert stats["ok"] is True and stats["error"] is None


def test_a_failed_engine_fails_health_and_shutdown_takes_seconds(few_slots, monkeypatch):
    async def main():
        solver = AsyncSolver(few_slots)
        calls = [asyncio.create_task(solver.solve(f"{k}?", budget_s=None, strategy=sc(2, tokens=200)))
                 for k in range(3)]
        while few_slots.occupancy() < 6:
            await asyncio.sleep(0.01)
        driver = few_slots._driver

        def broken(out):
            raise AssertionError("bookkeeping broke")

        monkeypatch.setattr(few_slots.engine, "_expire_deadlines", broken)
        results = await asyncio.gather(*calls, return_exceptions=True)
        stats = solver.stats()
        with pytest.raises(M1Error, match="stopped serving"):
            await solver.solve("after?", budget_s=None, strategy=sc(1))
        started = time.monotonic()
        await solver.aclose()
        return results, stats, time.monotonic() - started, driver

    results, stats, closing_s, driver = run(main(), timeout=30)
    assert all(isinstance(r, M1Error) and "stopped serving" in str(r) for r in results)
    assert stats["ok"] is False and "AssertionError: bookkeeping broke" in stats["error"]
    assert closing_s < 5.0 and not driver.is_alive()


def test_aclose_stops_the_engine_thread_it_started(few_slots):
    async def main():
        solver = AsyncSolver(few_slots)
        await solver.solve("1 + 1?", budget_s=None, strategy=sc(1, tokens=4))
        driver = few_slots._driver
        await solver.aclose()
        return driver

    driver = run(main())
    assert driver is not None and not driver.is_alive() and few_slots._driver is None


@pytest.fixture
def slow_checks(monkeypatch):
    """``is_equivalent("slow", ...)`` blocks until the returned event is set."""
    import m1reason.answers

    release, real = threading.Event(), m1reason.answers.is_equivalent

    def is_equivalent(candidate, gold):
        if candidate == "slow":
            release.wait(10)
        return real(candidate, gold)

    monkeypatch.setattr(m1reason.answers, "is_equivalent", is_equivalent)
    yield release
    release.set()


def test_a_check_never_waits_for_solves(slow_checks):
    busy = FakeGenerator(lambda request, i: FakeCompletion("</think> \\boxed{1}", steps=400), real_time=True)

    async def main():
        async with AsyncSolver(busy) as solver:
            solving = asyncio.create_task(solver.solve("busy", strategy="long"))
            solver._control.submit(slow_checks.wait, 10)  # the solver's control thread (loads, cancels) is held
            trivial = await asyncio.wait_for(solver.check("1/2", "0.5"), 5)
            slow_checks.set()
            solving.cancel()
            return trivial

    assert run(main()) is True


def test_slow_checks_neither_starve_a_trivial_one_nor_queue_without_bound(slow_checks):
    async def main():
        async with AsyncSolver(FakeGenerator(lambda request, i: "x"), check_workers=2, max_checks=4) as solver:
            one_slow = asyncio.create_task(solver.check("slow", "1"))
            await asyncio.sleep(0.02)
            trivial = await asyncio.wait_for(solver.check("1/2", "0.5"), 5)  # on the other thread
            crowd = [asyncio.create_task(solver.check("slow", "1")) for _ in range(3)]
            await asyncio.sleep(0.02)
            with pytest.raises(CapacityError, match="max_checks=4"):  # busy at once, never an open-ended wait
                await solver.check("1/2", "0.5")
            slow_checks.set()
            await asyncio.gather(one_slow, *crowd)
            return trivial, solver.stats()["checks"]

    assert run(main()) == (True, 0)


class Stuck:
    """A strategy that never returns in time: after streaming its samples (or before any, ``turn=False``) it
    blocks, as a vote held up on an overloaded host would."""

    def __init__(self, turn: bool):
        self.turn, self.release = turn, threading.Event()

    def run(self, problem, generator, *, budget_s=None):
        if self.turn:
            list(generator.stream([GenerationRequest(prompt=problem)]))
        self.release.wait(10)
        raise RuntimeError("released")


@pytest.mark.parametrize("turn, status, reason", [
    (True, "no_answer", "no answer within the budget: the strategy had not returned "),
    (False, "no_turn", "no answer within the budget: waited "),
])
def test_a_strategy_that_overruns_its_budget_is_not_waited_for(turn, status, reason):
    stuck = Stuck(turn)

    async def main():
        async with AsyncSolver(FakeGenerator(lambda request, i: "thinking")) as solver:
            solution, seconds = await timed(solver.solve("2 + 2?", budget_s=0.3, strategy=stuck))
            stuck.release.set()
            return solution, seconds

    solution, seconds = run(main())
    assert solution.answer is None and solution.status == status and solution.status_reason.startswith(reason)
    assert 0.3 + RETURN_BY_S - 0.05 <= seconds < 0.3 + RETURN_BY_S + 0.5
