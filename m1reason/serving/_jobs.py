"""One AsyncSolver request inside: the job a worker thread runs (its strategy, with the budget left after waiting
for a turn), the generator that job sees, and the Solution a request gets when its budget ran out before an answer.

The solver (``solver``) admits, awaits and cancels jobs; what a job does in its thread lives here.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

from m1reason.generator import SampleFinished, TokensAppended
from m1reason.generator.protocol import GeneratorBase, ThroughputBase, as_throughput_model
from m1reason.serving._channel import Channel
from m1reason.serving.events import ProgressUpdate, SampleEnded, TextDelta
from m1reason.serving.shared import SharedGenerator

__all__ = []

# A request whose budget has less than this fraction left when its turn comes is not started: on its samples'
# deadline they would have had no time for a single token.
MIN_TURN = 0.05


class _Cancelled(Exception):
    """Raised inside a strategy's thread when its caller went away or the solver shut down."""


class _JobGenerator(GeneratorBase):
    """The generator one strategy run sees: the shared one, plus a record of its requests (so the run can be
    cancelled from outside), an optional tap on its events (for streaming text), and the solver's other requests
    among the peers of its throughput model (``peers``: they plan and submit after this one looks). Its prompts go
    as text (no ``encode_prompt``) and its calls run as they come (no ``exclusive``): GeneratorBase's defaults."""

    def __init__(self, shared: SharedGenerator, on_event=None, peers=lambda: 0):
        self.shared, self.on_event, self._peers = shared, on_event, peers
        self.capabilities, self.tokenizer = shared.capabilities, shared.tokenizer
        self.scope, self.confidence_map = shared.scope, shared.confidence_map
        self.strategy_defaults = shared.strategy_defaults
        self.cancelled = False
        self.had_turn = False  # a sample of this run got a token (its turn in the engine came)
        self._request_ids: list[str] = []
        self._lock = threading.Lock()

    def stream(self, requests):
        requests = self._track(requests)
        events = self.shared.stream(requests)
        try:
            for event in events:
                if self.cancelled:
                    raise _Cancelled()
                if not self.had_turn and isinstance(event, TokensAppended) and event.token_ids:
                    self.had_turn = True
                if self.on_event is not None:
                    self.on_event(event)
                yield event
        finally:
            events.close()  # cancels whatever of these requests still runs

    def generate(self, requests):
        requests = self._track(requests)
        results = self.shared.generate(requests)
        if self.cancelled:
            raise _Cancelled()
        return results

    def cancel(self, id: str) -> bool:
        return self.shared.cancel(id)

    def append(self, sample_id, text_or_token_ids, *, sampling=None):
        return self.shared.append(sample_id, text_or_token_ids, sampling=sampling)

    def fork(self, sample_id, n=1, sampling=None):
        return self.shared.fork(sample_id, n, sampling)

    def throughput_model(self):
        return _SolverLoad(self.shared.throughput_model(), self._peers)

    def reserve(self, request_id: str, plan):
        return self.shared.reserve(request_id, plan)

    def unreserve(self, request_id: str) -> None:
        self.shared.unreserve(request_id)

    def cancel_all(self) -> None:
        """From another thread: stop this run; its live samples end now and free their slots."""
        self.cancelled = True
        with self._lock:
            ids = list(self._request_ids)
        for request_id in ids:
            self.shared.cancel(request_id)

    def _track(self, requests) -> list:
        if self.cancelled:
            raise _Cancelled()
        requests = list(requests)
        with self._lock:
            self._request_ids += [r.request_id for r in requests]
        return requests


class _SolverLoad(ThroughputBase):
    """A throughput model as one job sees it: the generator's, with ``peers()`` at least the solver's other
    requests (running, or waiting for a turn) that the generator has not seen yet."""

    def __init__(self, model, solver_peers):
        self._model, self._solver_peers = as_throughput_model(model), solver_peers

    def __getattr__(self, name: str):  # what strategies do not use (e.g. a FittedThroughput's calibration)
        return getattr(self._model, name)

    def decode_step_s(self, batch: int, context: int) -> float:
        return self._model.decode_step_s(batch, context)

    def prefill_s(self, tokens: int) -> float:
        return self._model.prefill_s(tokens)

    def append_s(self, tokens: int, batch: int, context: int) -> float:
        return self._model.append_s(tokens, batch, context)

    def occupancy(self) -> int:
        return self._model.occupancy()

    def capacity(self) -> int | None:
        return self._model.capacity()

    def peers(self) -> int:
        return max(self._model.peers(), self._solver_peers())


class _Job:
    def __init__(self, strategy, problem: str, budget_s: float | None, tenant: str | None, arrived: float,
                 channel: Channel | None, cold: dict):
        self.strategy, self.problem, self.budget_s, self.tenant = strategy, problem, budget_s, tenant
        self.arrived, self.channel, self.cold = arrived, channel, cold
        self.generator: _JobGenerator | None = None
        self.queued_s = 0.0
        self.started = time.monotonic()
        self.deadline: float | None = None  # when the solver stops waiting for it (monotonic; None: never)
        self.future: Future | None = None  # the strategy's run on a worker thread; None once released
        self.outcome = None  # the asyncio future callers await, wrapping ``future``

    def run(self):
        """In a worker thread: the strategy, with the budget left after waiting for a turn (it counts from the
        call); none is started when too little is left, and the Solution says it had no turn."""
        try:
            self.queued_s = time.monotonic() - self.arrived
            budget = None if self.budget_s is None else self.budget_s - self.queued_s
            if budget is not None and budget < MIN_TURN * self.budget_s:
                return unanswered(self.problem, self.strategy, "no_turn", self.queued_s,
                                  {"total_s": 0.0, "queue_s": self.queued_s, **self.cold})
            from m1reason.solving import solve  # looked up per call: the one solve path, as tests see it

            progress = self._progress if self.channel is not None else None
            solution = solve(self.problem, budget_s=budget, strategy=self.strategy, generator=self.generator,
                             on_progress=progress)
            update = {"timings": {**solution.timings, "queue_s": self.queued_s, **self.cold}}
            if solution.status == "no_turn":  # it waited in the engine too: say how long in all
                from strategies.solution import no_turn_reason

                update["status_reason"] = no_turn_reason(self.queued_s + solution.timings.get("total_s", 0.0))
            return solution.model_copy(update=update)
        finally:
            if self.channel is not None:
                self.channel.close()

    def release(self) -> None:
        """Drop the references that tie a finished job into cycles (its future's done-callback and error
        traceback lead back to it, and so does its generator's bound ``on_event``), so that what it holds, a
        prompt's tokens among it, is freed when its caller lets go, not at the next full garbage collection."""
        self.future = None
        self.generator = None

    def late(self):
        """The Solution of a job the solver stopped waiting for (its budget and the grace after it are spent):
        "no_turn" if none of its samples had got a token yet, else "no_answer"."""
        waited = time.monotonic() - self.arrived
        status = "no_answer" if self.generator is not None and self.generator.had_turn else "no_turn"
        return unanswered(self.problem, self.strategy, status, waited,
                          {"total_s": waited - self.queued_s, "queue_s": self.queued_s})

    def _progress(self, p) -> None:
        self.channel.put(ProgressUpdate(finished=p.finished, running=p.running, tokens=p.tokens,
                                        elapsed_s=p.elapsed_s, tokens_per_s=p.tokens_per_s, budget_s=p.budget_s,
                                        tally=[(str(a), int(c)) for a, c in p.tally]))

    def on_event(self, event) -> None:
        if isinstance(event, TokensAppended):
            if event.text_delta:
                self.channel.put(TextDelta(sample_id=event.sample_id, text=event.text_delta))
        elif isinstance(event, SampleFinished):
            self.channel.put(SampleEnded(sample_id=event.sample_id, finish_reason=event.sample.finish_reason,
                                         num_tokens=event.sample.num_tokens))


def unanswered(problem: str, strategy, status: str, waited_s: float, timings: dict):
    """A Solution with no answer and the reason (``status`` "no_turn": the budget ran out waiting for a turn;
    "no_answer": the solver stopped waiting for the strategy), for a request whose strategy never ran or never
    returned in time.

    >>> sol = unanswered("2 + 2?", object(), "no_turn", 3.04, {"queue_s": 3.04})
    >>> sol.answer, sol.status, sol.status_reason
    (None, 'no_turn', 'no answer within the budget: waited 3.0 s for a turn')
    """
    from strategies.solution import Plan, Solution, no_turn_reason

    if status == "no_turn":
        reason = no_turn_reason(waited_s)
    else:
        reason = f"no answer within the budget: the strategy had not returned {waited_s:.1f} s after the call"
    plan = Plan(strategy=type(strategy).__name__, n=0, max_new_tokens=0, reason="not run: " + reason)
    return Solution(problem=problem, answer=None, status=status, status_reason=reason, confidence=0.0, plan=plan,
                    stopped="deadline", timings=timings)
