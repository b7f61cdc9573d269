"""Serving passes the generator's scope on: the wrappers forward it, and AsyncSolver answers a problem outside it
at once ("out_of_scope"), without a place in the queue or a request to the engine."""

import asyncio
import time

from m1reason.generator.fake import FakeCompletion, FakeGenerator
from m1reason.scope import EMBEDDED_SCOPE
from m1reason.serving import AsyncGenerator, AsyncSolver
from m1reason.serving._jobs import _JobGenerator
from m1reason.serving.shared import SharedGenerator
from strategies import Solution

OUTSIDE = "Integrate 3x from 0 to 2."


def scoped_fake(prompts):
    """Each sample takes about 40 steps of 10 ms of real time; every prompt is recorded."""
    def handler(request, i):
        prompts.append(request.prompt)
        return FakeCompletion("</think> \\boxed{1}", steps=40)

    return FakeGenerator(handler, real_time=True, step_s=0.01, scope=EMBEDDED_SCOPE)


def test_the_wrappers_forward_the_scope():
    shared = SharedGenerator(scoped_fake([]))
    assert shared.scope is EMBEDDED_SCOPE and _JobGenerator(shared).scope is EMBEDDED_SCOPE
    assert AsyncGenerator(shared.generator).scope is EMBEDDED_SCOPE
    assert SharedGenerator(FakeGenerator(lambda request, i: "x")).scope is None


def test_a_problem_out_of_scope_is_answered_at_once_while_the_only_slot_is_busy():
    prompts = []

    async def main():
        async with AsyncSolver(scoped_fake(prompts), max_active=1, max_queue=1) as solver:
            busy = asyncio.create_task(solver.solve("Ava has 2 pens and 3 more. How many?", budget_s=10,
                                                    strategy="sc"))
            await asyncio.sleep(0.1)  # the in-scope problem holds the one slot
            started = time.monotonic()
            refused = await solver.solve(OUTSIDE, budget_s=10)
            waited = time.monotonic() - started
            events = [event async for event in solver.stream(OUTSIDE, budget_s=10)]
            return refused, waited, events, await busy

    refused, waited, events, busy = asyncio.run(asyncio.wait_for(main(), 60))
    assert refused.status == "out_of_scope" and refused.answer is None and refused.plan.strategy == "BudgetAware"
    assert refused.status_reason == "out of the embedded model's scope: calculus ('integrate')"
    assert waited < 0.2  # not behind the busy slot (its samples take about 0.4 s)
    assert len(events) == 1 and isinstance(events[0], Solution) and events[0].status == "out_of_scope"
    assert busy.answer == "1" and len(prompts) == 8 and not any("Integrate" in p for p in prompts)
