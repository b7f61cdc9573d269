"""BudgetAware: choose how many samples and how long, from the generator's measured speed, to fit budget_s.

The rule: every sample must be allowed ``needed_tokens`` (the length a chain needs to reach its answer); among
the sample counts that allow it, take the largest, but no more than ``useful_samples``, and give the time left to
length. A chain cut before its answer is wasted or a forced guess, while decoding is memory-bound, so more samples
cost little more per step than one: once each chain is long enough, extra votes are the best use of the time, where
votes help. They do not for every model: where a model's samples share their errors, a vote of many is no better
than one (its vote curve, ``m1reason.vote_curve``, measures that on its development set, and m1reason.defaults
passes its ``useful_samples``), and the time goes to fewer, longer samples; except where each answer is checked
against the problem's own value (``check_answers``: "What is 3 + 4 × 5?"), as any right sample then wins. If not
even one sample gets ``needed_tokens``, one sample runs anyway, capped only by ``max_new_tokens``, and the deadline
cuts it (forcing its answer out at the last moment): a sample capped shorter than its chain is wasted, and under
load that cap cost far more accuracy than the deadline's cut did.
Other users' work joins the batch in the step-time prediction, so under shared load it plans fewer samples instead
of missing the deadline: the sequences running or waiting (``occupancy()``), and the other requests in flight or
waiting for a turn (``peers()``, where the throughput model has it), each counted as taking as many samples as this
one when they hold fewer yet (requests that arrive together plan before any has submitted). Where the generator
decodes at most ``capacity()`` sequences at once, n is also capped at the free slots and at a fair share of them:
samples beyond the slots wait for a turn and would reach the deadline with nothing (many concurrent problems
each planning a full share of slots came back mostly empty).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import Field

from m1reason.answers import stated_value
from m1reason.checks import check_budget
from m1reason.errors import CapacityError, PromptTooLong
from m1reason.generator.protocol import as_generator, as_throughput_model
from strategies._runner import (
    Progress,
    end_margin,
    fallback_force_at,
    forcing_ids,
    forcing_text,
    prompt_for,
    run_samples,
)
from strategies._scope import out_of_scope
from strategies.self_consistency import SelfConsistency
from strategies.solution import Plan, Solution
from strategies.voting import EarlyStop

__all__ = ["BudgetAware"]


class BudgetAware(SelfConsistency):
    """SelfConsistency with n (at most ``n``) and max_new_tokens (at most ``max_new_tokens``) planned for the budget.

    ``safety``: the fraction of the budget kept back for scheduling noise and the vote. It returns by budget_s
    (plus the vote): samples past the deadline end, and if none had an answer, answers are forced out first.

    >>> from m1reason.throughput import Calibration, FittedThroughput
    >>> speed = FittedThroughput(Calibration(decode=[(b, c, 0.01 + 0.001 * b) for b in (1, 64) for c in (1, 9)],
    ...                                      prefill=[(10, 0.0), (1000, 0.1)]))
    >>> plan = BudgetAware(needed_tokens=500).plan(speed, budget_s=30, prompt_tokens=100)
    >>> plan.n, plan.max_new_tokens, plan.predicted_s <= 30
    (32, 642, True)
    >>> print(plan.reason)  # doctest: +NORMALIZE_WHITESPACE
    32 samples of up to 642 tokens (a chain needs about 500): the most that fit 27.0 s on this machine
    (nothing else running)

    ``useful_samples``: the most samples worth drawing for this model: beyond it the vote did not measurably raise
    accuracy on its development set; None: unknown, as for M1-3B, and every sample is assumed to help. With a
    model whose vote never beat one sample, the same budget buys one sample of the longest length:

    >>> plan = BudgetAware(needed_tokens=500, max_new_tokens=4096, useful_samples=1).plan(speed, 30, 100)
    >>> plan.n, plan.max_new_tokens
    (1, 2453)
    >>> print(plan.reason)  # doctest: +NORMALIZE_WHITESPACE
    1 sample of up to 2453 tokens (a chain needs about 500): more samples did not raise this model's accuracy on
    its development set (vote curve), so the time goes to length; it fits 27.0 s on this machine (nothing else
    running)
    """

    n: int = Field(default=64, ge=1, le=4096)
    needed_tokens: int = Field(default=2048, ge=1)
    useful_samples: int | None = Field(default=None, ge=1, le=4096)
    safety: float = Field(default=0.1, ge=0.0, lt=0.9)
    early_stop: EarlyStop = "beta"

    def plan(self, throughput, budget_s: float, prompt_tokens: int) -> Plan:
        """The (n, max_new_tokens) this strategy runs under ``budget_s`` with ``throughput`` (a ThroughputModel)."""
        check_budget(budget_s)
        load = Load.of(throughput)
        usable = budget_s * (1 - self.safety)
        most = load.most_samples(self.n)
        ceiling = most if self.useful_samples is None else min(most, self.useful_samples)
        counts = sorted({ceiling, *(2**k for k in range(13) if 2**k < ceiling)})
        fits = {n: self._longest(throughput, load.batch(n), prompt_tokens, usable) for n in counts}
        enough = [n for n in counts if fits[n] >= min(self.needed_tokens, self.max_new_tokens)]
        n = enough[-1] if enough else 1
        length = max(fits[n], min(self.needed_tokens, self.max_new_tokens)) if enough else self.max_new_tokens
        reason = self._reason(n, length, most, usable, load) if enough else (
            f"1 sample of up to {length} tokens: not even one sample gets the {self.needed_tokens} tokens a chain "
            f"needs in {usable:.1f} s on this machine ({load}); it runs anyway, and its answer is forced out at "
            f"the deadline")
        predicted = self._predict(throughput, load.batch(n), prompt_tokens, length)
        return Plan(strategy="BudgetAware", n=n, max_new_tokens=length, reason=reason, early_stop=self.early_stop,
                    budget_s=budget_s, predicted_s=predicted)

    def run(self, problem: str, generator, *, budget_s: float | None = 30.0,
            on_progress: Callable[[Progress], None] | None = None) -> Solution:
        """Plan from ``generator.throughput_model()`` (its measuring, if any, is a cold-start cost reported as
        ``timings["calibration_s"]``, outside the budget), then sample, vote and stop by the deadline. A problem
        outside ``generator.scope`` is neither measured for nor planned: its Solution is "out_of_scope"."""
        budget_s = 30.0 if budget_s is None else budget_s
        check_budget(budget_s)
        generator = as_generator(generator)
        refused = out_of_scope(problem, generator, "BudgetAware", budget_s)
        if refused is not None:
            return refused
        before = time.monotonic()
        throughput = generator.throughput_model()
        started = time.monotonic()
        # Planning runs inside the budget, ahead of the samples: the prompt is encoded once, here, and sent as
        # token ids where the generator can take them, so the generator does not tokenize it a second time
        # (under the tightest budgets that delay was a noticeable share of the time before forcing).
        prompt = prompt_for(problem, generator)
        prompt_ids = generator.encode_prompt(prompt)
        prompt_tokens = len(prompt_ids) if prompt_ids is not None else _count_tokens(generator, prompt)
        request_id = uuid.uuid4().hex[:12]
        planner = self
        if self.check_answers and self.useful_samples is not None and stated_value(problem) is not None:
            # Every answer is checked against the problem's own value, so any right sample wins the vote: more
            # samples help even where the vote curve says a plain vote stops gaining.
            planner = self.model_copy(update={"useful_samples": None})
        plan = generator.reserve(request_id, lambda: planner.plan(throughput, budget_s, prompt_tokens))
        timings = {"calibration_s": started - before, "plan_s": time.monotonic() - started}
        appended = _count_forcing_tokens(generator, forcing_text("", self.answer_prefix))
        first_reason = plan.reason
        try:
            while True:
                force_at = self.force_at(throughput, plan, budget_s, prompt_tokens, appended)
                try:
                    return run_samples(self, problem, generator, plan, started=started, budget_s=budget_s,
                                       force_at=force_at, timings=timings, on_progress=on_progress, prompt=prompt,
                                       prompt_token_ids=prompt_ids, request_id=request_id)
                except CapacityError as err:
                    if plan.n == 1 or isinstance(err, PromptTooLong):  # fewer samples cannot shorten the prompt
                        raise
                    halved = plan.model_copy(update={"n": plan.n // 2, "reason": (
                        f"{plan.n // 2} samples, halved: the engine had no room for {plan.n} when they were "
                        f"submitted (planned: {first_reason})")})
                    plan = generator.reserve(request_id, lambda halved=halved: halved)
        finally:
            generator.unreserve(request_id)

    def _reason(self, n: int, length: int, most: int, usable: float, load: Load) -> str:
        """The plan in a user's words: what runs, what limited n, and the load it was planned under."""
        if self.useful_samples is not None and n == self.useful_samples < most:
            return (f"{_samples(n)} of up to {length} tokens (a chain needs about {self.needed_tokens}): more "
                    f"samples did not raise this model's accuracy on its development set (vote curve), so the time "
                    f"goes to length; it fits {usable:.1f} s on this machine ({load})")
        if n == self.n:
            why = f"the {self.n} asked for, and they fit {usable:.1f} s"
        elif n == most:
            why = f"the most the engine runs at once for one request, and they fit {usable:.1f} s"
        else:
            why = f"the most that fit {usable:.1f} s"
        return (f"{_samples(n)} of up to {length} tokens (a chain needs about {self.needed_tokens}): {why} on this "
                f"machine ({load})")

    def force_at(self, throughput, plan: Plan, budget_s: float, prompt_tokens: int,
                 appended_tokens: int | None = None) -> float:
        """Seconds into the budget at which answers are forced out of samples still thinking.

        When the plan gives every sample its ``needed_tokens`` in time, forcing comes after that, early enough to
        take in the appended text (``appended_tokens``; None: its length in bytes, which bounds it) and decode
        ``force_tokens`` predicted steps (plus 5% of the budget) before the samples' deadline. The appended text
        costs a prefill, or one decode step per token where the generator feeds short appends through its decode
        steps (the throughput model's ``append_s``). When the plan does not give every sample its chain (not even
        one fits), forcing early would cut the very chains the deadline might still let finish, and the appended
        text's prefill stalls them: answers are forced at the last moment, as SelfConsistency forces them (a
        reserve kept for forcing cost more accuracy at tight budgets than forcing late did). Nor does it force
        earlier than SelfConsistency does: where that reserve is more than a tenth of the budget, the chains are
        about as long as the budget, and forcing them early cuts the ones that would have finished.
        """
        if plan.predicted_s is not None and plan.predicted_s > budget_s * (1 - self.safety):
            return fallback_force_at(budget_s)
        batch, context = Load.of(throughput).batch(plan.n), prompt_tokens + plan.max_new_tokens
        step = throughput.decode_step_s(batch, context)
        if appended_tokens is None:
            appended_tokens = len(forcing_text("", self.answer_prefix).encode())  # bytes: at least its tokens
        taking_in = as_throughput_model(throughput).append_s(appended_tokens, batch, context)
        reserve = taking_in + self.force_tokens * step + 0.05 * budget_s
        return max(budget_s - end_margin(budget_s) - reserve, fallback_force_at(budget_s))

    def _longest(self, throughput, batch: int, prompt_tokens: int, seconds: float) -> int:
        """The most tokens per sample (<= max_new_tokens) that ``batch`` sequences decode within ``seconds``."""
        low, high = 0, self.max_new_tokens
        while low < high:
            mid = (low + high + 1) // 2
            if self._predict(throughput, batch, prompt_tokens, mid) <= seconds:
                low = mid
            else:
                high = mid - 1
        return low

    @staticmethod
    def _predict(throughput, batch: int, prompt_tokens: int, length: int) -> float:
        """Prefill once (the engine forks it into n rows), then ``length`` steps; the step cost is linear in
        context, so the mean context gives the exact sum."""
        step_s = throughput.decode_step_s(batch, prompt_tokens + length / 2)
        return throughput.prefill_s(prompt_tokens) + length * step_s


@dataclass(frozen=True)
class Load:
    """What a new request shares the generator with: ``others`` sequences running or waiting, ``peers`` other
    requests in flight or waiting for a turn, and at most ``capacity`` sequences decoded at once (None: no limit).

    >>> crowd = Load(others=0, peers=29, capacity=64)   # 30 requests arriving together on a 64-slot engine
    >>> crowd.most_samples(64), crowd.batch(2), str(crowd)
    (2, 60, '29 other requests, at most 2 samples each of 64 slots')
    >>> str(Load(others=0, capacity=32)), str(Load(others=3))
    ('nothing else running, 32 slots', '3 sequences running or waiting')
    """

    others: int
    peers: int = 0
    capacity: int | None = None

    @classmethod
    def of(cls, throughput) -> Load:
        """Read from a ThroughputModel (its ``peers`` and ``capacity``, with ThroughputBase's defaults)."""
        throughput = as_throughput_model(throughput)
        return cls(max(0, int(throughput.occupancy())), max(0, int(throughput.peers())), throughput.capacity())

    def most_samples(self, n: int) -> int:
        """At most ``n`` samples; with a capacity, at most the free slots and a fair share of all of them (one
        at least: it waits for a turn)."""
        if self.capacity is None:
            return n
        return max(1, min(n, self.capacity - self.others, self.capacity // (self.peers + 1)))

    def batch(self, n: int) -> int:
        """The batch ``n`` samples decode in: theirs, plus the sequences there now or, where the other requests
        hold fewer yet, as many per request as this one; at most the capacity."""
        batch = n + max(self.others, self.peers * n)
        return batch if self.capacity is None else max(n, min(batch, self.capacity))

    def __str__(self) -> str:
        busy = [f"{self.others} sequences running or waiting"] if self.others else []
        busy += [f"{self.peers} other requests"] if self.peers else []
        text = " and ".join(busy) or "nothing else running"
        if self.capacity is None:
            return text
        if not self.peers:
            return f"{text}, {self.capacity} slots"
        return f"{text}, at most {self.most_samples(self.capacity)} samples each of {self.capacity} slots"


def _samples(n: int) -> str:
    return "1 sample" if n == 1 else f"{n} samples"


def _count_tokens(generator, prompt: str) -> int:
    tokenizer = generator.tokenizer
    if tokenizer is None:
        return len(prompt)  # characters: at least the token count for any subword tokenizer
    return len(tokenizer(prompt, add_special_tokens=False)["input_ids"])


def _count_forcing_tokens(generator, text: str) -> int:
    """``_count_tokens`` of the forcing text, from the ids the runner sends (encoded once per tokenizer): it is
    the same text every solve, and counting it again sat between BudgetAware's call and its submission."""
    ids = forcing_ids(generator, text)
    return len(text) if ids is None else len(ids)
