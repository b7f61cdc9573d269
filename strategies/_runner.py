"""The sampling loop every strategy runs: stream one request, steer its live samples, vote, build the Solution.

It owns the rules that act on live samples (budget forcing when length or time runs out inside the thinking,
"Wait" when a sample stops too early, cancelling the rest once the vote is settled) and how each degrades when
the generator lacks a capability. Choosing n and lengths is the strategies' business, not this loop's.

Forcing at the deadline is hedged where the generator can fork: the thinking sample is forked and only the copy
gets the answer prefix, so the sample may still finish its chain by itself. Its own answer, if it reaches one,
is the vote; otherwise the copy's forced answer is. Forcing must start early enough for the forced answer to be
written (its prefill and a few tokens), and plain forcing there cuts every chain that would have ended in time:
under a tight budget, forcing that early cut many of the tiny model's chains short and cost accuracy that
forcing later kept. A fork costs one more row in the batch for the last few steps."""

from __future__ import annotations

import logging
import math
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from m1reason.answers import ExpressionValue, extract_answer, stated_value
from m1reason.checks import check_problem
from m1reason.errors import CapacityError
from m1reason.generator import GenerationRequest, RequestFinished, SampleFinished, SamplingParams, TokensAppended
from m1reason.generator.protocol import as_generator
from m1reason.tokenizer import build_prompt
from strategies._false_steps import caveat, checked, excluded, readmitted, repair, steps_of
from strategies._settings import StrategySettings
from strategies.solution import (
    CHECKED_CONFIDENCE,
    NO_ANSWER,
    Plan,
    SampleRecord,
    Solution,
    false_answers_reason,
    no_turn_reason,
)
from strategies.voting import Tally

__all__ = ["Progress", "end_margin", "fallback_force_at", "prompt_for", "run_samples", "step_lateness"]

log = logging.getLogger("strategies")

THINK_END = "</think>"


@dataclass(frozen=True)
class Progress:
    """A snapshot for live displays: samples finished and running, tokens, speed, the tally, time used and left.

    >>> Progress(finished=1, running=3, tokens=120, elapsed_s=2.0, budget_s=10.0, tally=[("4", 1)]).tokens_per_s
    60.0
    """

    finished: int
    running: int
    tokens: int
    elapsed_s: float
    budget_s: float | None
    tally: list[tuple[str, int]]

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class _Live:
    text: str = ""
    tokens: int = 0
    forced: list[str] = field(default_factory=list)
    waits: int = 0


def prompt_for(problem: str, generator) -> str:
    """M1's prompt through the generator's tokenizer (its chat template), or the bare instruction without one.

    >>> from m1reason.generator.fake import FakeGenerator
    >>> "2 + 2?" in prompt_for("2 + 2?", FakeGenerator(lambda request, i: "4"))
    True
    """
    return build_prompt(problem, as_generator(generator).tokenizer)


def forcing_text(text: str, prefix: str) -> str:
    """What budget forcing appends: close the thinking if it is open, then the answer prefix.

    >>> forcing_text("so x = 4", "\\\\boxed{"), forcing_text("</think> so", "\\\\boxed{")
    ('\\n</think>\\\\boxed{', '\\\\boxed{')
    """
    return prefix if THINK_END in text else "\n" + THINK_END + prefix


_forcing_ids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # tokenizer -> {forcing text: ids}


def forcing_ids(generator, text: str) -> list[int] | None:
    """The token ids of a forcing text under the generator's tokenizer, encoded once per tokenizer (there are
    only a few such texts); None for a generator without a tokenizer, which is sent the text.

    >>> from m1reason.defaults import ByteTokenizer
    >>> from m1reason.generator.fake import FakeGenerator
    >>> class WithBytes(FakeGenerator):
    ...     tokenizer = ByteTokenizer()
    >>> forcing_ids(WithBytes(lambda request, i: "4"), "{")
    [123]
    >>> forcing_ids(FakeGenerator(lambda request, i: "4"), "{") is None
    True
    """
    tokenizer = generator.tokenizer
    if tokenizer is None:
        return None
    encode = lambda: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    try:
        known = _forcing_ids.setdefault(tokenizer, {})
    except TypeError:  # a tokenizer that cannot be weakly referenced: encode every time
        return encode()
    if text not in known:
        known[text] = encode()
    return known[text]


class _Run:
    """State of one streamed request; see ``run_samples``."""

    def __init__(self, generator, settings: StrategySettings, params: SamplingParams, *, started: float,
                 budget_s: float | None, force_at: float | None, on_progress: Callable | None):
        self.generator, self.settings, self.params = generator, settings, params
        self.caps = frozenset(generator.capabilities)
        self.started, self.budget_s, self.force_at, self.on_progress = started, budget_s, force_at, on_progress
        self.live: dict[str, _Live] = {}
        self.records: dict[str, SampleRecord] = {}
        self.tally = Tally(deadline=None if budget_s is None else started + budget_s)
        self.tokens = 0
        self.stopped = "finished"
        self.first_sample_s: float | None = None
        self.reproducibility: dict = {}
        self.reprompts: list[tuple[str, str]] = []  # (sample id, forced text) for generators without append
        self.deadline_forced = False
        self.copy_of: dict[str, str] = {}  # hedged sample -> its forced copy
        self.original_of: dict[str, str] = {}  # forced copy -> the sample it hedges
        self.first_end: dict[str, SampleRecord] = {}  # hedged sample -> the record of whichever side ended first
        self.first_token_s: float | None = None  # when the request's first token came (its turn in the batch)
        self.samples_end: float | None = None  # when every sample must have ended (seconds from ``started``)
        self.expected: ExpressionValue | None = None  # the problem's exact value, when it only asks for one
        self._shown_at = 0.0

    def now(self) -> float:
        return time.monotonic() - self.started

    def samples_left(self) -> float | None:
        """Seconds until ``samples_end`` (at least 1 ms, so that a late request still ends at once), or None."""
        return None if self.samples_end is None else max(1e-3, self.samples_end - self.now())

    def on_tokens(self, event: TokensAppended, request_id: str) -> None:
        live = self.live.setdefault(event.sample_id, _Live())
        if self.first_token_s is None and event.token_ids:
            self.first_token_s = self.now()
        live.text += event.text_delta
        live.tokens += len(event.token_ids)
        self.tokens += len(event.token_ids)
        if self.force_at is not None and not self.deadline_forced and self.now() >= self.force_at:
            self.at_deadline(request_id)
        self.progress()

    def at_deadline(self, request_id: str) -> None:
        """Time is nearly up: vote over what finished, or force answers out of the live samples if none has one."""
        self.deadline_forced = True
        if self.tally.votes() or not self.settings.force_answers or "append" not in self.caps:
            if self.tally.votes() and "cancel" in self.caps:
                self.stopped = "deadline"
                self.generator.cancel(request_id)
            return
        self.stopped = "forced"
        with self.generator.exclusive():  # all of them before the next step, not one per step
            for sample_id, live in list(self.live.items()):
                if sample_id not in self.records and not live.forced:
                    if "fork" in self.caps:
                        self.hedge(sample_id, live)
                    else:
                        self.force(sample_id, live)

    def hedge(self, sample_id: str, live: _Live) -> None:
        """Force the answer out of a fork of the sample, not the sample itself (see the module's docstring)."""
        try:
            [copy] = self.generator.fork(sample_id)
        except (KeyError, ValueError):  # it ended in the step that brought us here: nothing to hedge
            return
        except CapacityError:  # no slot for a copy: force the sample itself
            return self.force(sample_id, live)
        self.copy_of[sample_id], self.original_of[copy] = copy, sample_id
        self.live[copy] = _Live(text=live.text, tokens=live.tokens)
        self.force(copy, self.live[copy])

    def force(self, sample_id: str, live: _Live) -> None:
        forced = forcing_text(live.text, self.settings.answer_prefix)
        limit = live.tokens + len(forced.encode()) + self.settings.force_tokens
        # its token ids, not the text: at the deadline every live sample is forced while the generator's steps
        # are held off (``at_deadline``), and the hold should not pay the tokenizer once per sample
        self.generator.append(sample_id, forcing_ids(self.generator, forced) or forced,
                              sampling=self.params.model_copy(update={"max_new_tokens": limit}))
        live.forced.append(forced)

    def on_finished(self, event: SampleFinished, request_id: str) -> None:
        sample, live = event.sample, self.live.setdefault(event.sample_id, _Live())
        live.text, live.tokens = sample.text, sample.num_tokens
        if self.continues(sample, live):
            return
        modes = {"strict": self.settings.strict, "lenient": self.settings.lenient}
        answer = None if sample.finish_reason == "cancelled" else extract_answer(sample.text, **modes)
        if (sample.finish_reason == "length" and answer is None and self.settings.force_answers
                and "append" not in self.caps):
            self.reprompts.append((sample.sample_id, forcing_text(sample.text, self.settings.answer_prefix)))
        confidence = sample.confidence.lowest_window if sample.confidence is not None else None
        record = SampleRecord(
            sample_id=sample.sample_id, answer=answer, text=sample.text, num_tokens=sample.num_tokens,
            finish_reason=sample.finish_reason, confidence=confidence, forced=list(live.forced),
            counted=sample.finish_reason != "cancelled", **steps_of(sample.text, sample.finish_reason))
        key = self.original_of.get(sample.sample_id, sample.sample_id)
        if key in self.copy_of:
            record = self.settle_hedge(key, record)
            if record is None:
                return
        self.count(key, record, request_id)

    def settle_hedge(self, original: str, record: SampleRecord) -> SampleRecord | None:
        """One side of a hedge ended: the record that votes for ``original`` once that is decided, else None.
        The sample's own answer wins, and ends its copy; without one, the copy's answer (forced) votes."""
        if original in self.records:
            return None  # the other side already voted (a copy cancelled after the sample answered, say)
        other = self.first_end.pop(original, None)
        if other is None:
            if record.sample_id == original and record.answer is not None:
                if "cancel" in self.caps:
                    self.generator.cancel(self.copy_of[original])
                return record
            self.first_end[original] = record
            return None
        own, copy = (record, other) if record.sample_id == original else (other, record)
        return own if own.answer is not None or not copy.counted else copy

    def count(self, key: str, record: SampleRecord, request_id: str) -> None:
        """``record`` is sample ``key``'s vote (a hedged sample's may come from its copy); a sample that wrote a
        false arithmetic step does not vote (``readmit_false_steps`` may let it at the end)."""
        self.records[key] = record = self.judged(record)
        if record.counted:
            self.first_sample_s = self.first_sample_s or self.now()
            self.tally.add(key, record.answer, self.weight(record.confidence), record.confidence or 0.0)
        running = self.params.n - len(self.records)
        can_stop = record.counted and self.stopped == "finished" and "cancel" in self.caps
        if running and can_stop and self.settled(running):
            self.stopped = "settled"  # without cancel the rest cannot be stopped, so they all vote
            self.generator.cancel(request_id)
        self.progress(force=True)

    def judged(self, record: SampleRecord) -> SampleRecord:
        """The record as it votes: its answer checked against the problem's exact value (``expected``), then left
        out of the vote if that or a step is false."""
        return excluded(checked(record, self.expected))

    def readmit_false_steps(self) -> bool:
        """Let the samples with false steps vote after all when none without one answered (``readmitted``)."""
        records = readmitted(self.records)
        if records is None:
            return False
        self.records = records
        self.tally.order = [(key, r.answer, self.weight(r.confidence), r.confidence or 0.0)
                            for key, r in records.items() if r.counted]  # in the order they finished
        return True

    def continues(self, sample, live: _Live) -> bool:
        """Budget forcing after a "length" end inside the thinking, or "Wait" after a too-early stop."""
        if "append" not in self.caps or sample.finish_reason not in ("length", "stop"):
            return False
        s = self.settings
        if sample.finish_reason == "length":
            if (not s.force_answers or live.forced or sample.sample_id in self.copy_of
                    or extract_answer(sample.text, strict=True) is not None):
                return False
            self.force(sample.sample_id, live)
            return True
        if sample.num_tokens >= s.min_tokens or live.waits >= s.max_waits or self.deadline_forced:
            return False
        live.waits += 1
        live.forced.append(s.wait_text)
        self.generator.append(sample.sample_id, s.wait_text)
        return True

    def settled(self, running: int) -> bool:
        s = self.settings
        return self.tally.settled(s.early_stop, remaining=running, m=s.m, threshold=s.beta_threshold)

    def weight(self, confidence: float | None) -> float:
        """exp(lowest-window mean log-probability): a probability in (0, 1], so one vote weighs at most 1."""
        if self.settings.weighting != "confidence" or confidence is None:
            return 1.0
        return min(1.0, max(1e-6, math.exp(confidence)))

    def progress(self, force: bool = False) -> None:
        now = self.now()
        if self.on_progress is None or (not force and now - self._shown_at < 0.1):
            return
        self._shown_at = now
        votes = [(v.answer, v.count) for v in self.tally.votes()]
        self.on_progress(Progress(finished=len(self.records), running=self.params.n - len(self.records),
                                  tokens=self.tokens, elapsed_s=now, budget_s=self.budget_s, tally=votes))


def run_samples(settings: StrategySettings, problem: str, generator, plan: Plan, *, started: float,
                budget_s: float | None, force_at: float | None = None, timings: dict | None = None,
                on_progress: Callable[[Progress], None] | None = None, prompt: str | None = None,
                prompt_token_ids: list[int] | None = None, request_id: str | None = None) -> Solution:
    """Draw ``plan.n`` samples of ``problem`` (streaming when the generator can), steer and vote; ``budget_s``
    counts from ``started`` (a ``time.monotonic()`` value); samples still running then end "deadline".
    ``prompt``: the problem's prompt if the caller has rendered it already (``prompt_for``), and
    ``prompt_token_ids`` its encoding by the generator (``encode_prompt``), sent instead of the text.
    ``request_id``: the id to submit the samples under (a planner's ``reserve`` names it); None draws one."""
    check_problem(problem)
    generator = as_generator(generator)
    caps = frozenset(generator.capabilities)
    want_confidence = settings.weighting == "confidence" or settings.keep_top < 1.0
    if want_confidence and "confidence" not in caps:
        log.warning("this generator reports no confidence; voting unweighted and unfiltered")
    seed = settings.seed if settings.seed is not None else secrets.randbits(63)
    params = SamplingParams(n=plan.n, temperature=settings.temperature, top_p=settings.top_p, seed=seed,
                            max_new_tokens=plan.max_new_tokens, confidence=want_confidence and "confidence" in caps)
    if prompt is None:
        prompt = prompt_for(problem, generator)
    late = step_lateness(generator, budget_s)
    if force_at is not None:
        force_at = max(0.0, force_at - late)
    run = _Run(generator, settings, params, started=started, budget_s=budget_s, force_at=force_at,
               on_progress=on_progress)
    if settings.check_answers:
        run.expected = stated_value(problem)
    if budget_s is not None:
        run.samples_end = budget_s - end_margin(budget_s) - late
    deadline = run.samples_left()
    sent = {"prompt_token_ids": prompt_token_ids} if prompt_token_ids is not None else {"prompt": prompt}
    if request_id is not None:
        sent["request_id"] = request_id
    request = GenerationRequest(**sent, sampling=params, deadline=deadline)
    if "stream" in caps:
        _stream(run, request)
    else:
        [result] = generator.generate([request])
        for sample in result.samples:
            run.on_finished(SampleFinished(sample_id=sample.sample_id, sample=sample), request.request_id)
        run.reproducibility = result.reproducibility
    _reprompt(run, prompt)
    _repair(run, prompt)
    return _solution(run, problem, plan, settings, timings or {})


def _stream(run: _Run, request: GenerationRequest) -> None:
    stream = run.generator.stream([request])
    try:
        for event in stream:
            if isinstance(event, TokensAppended):
                run.on_tokens(event, request.request_id)
            elif isinstance(event, SampleFinished):
                run.on_finished(event, request.request_id)
            elif isinstance(event, RequestFinished):  # not the end: SampleFinished events of the same step may follow
                run.reproducibility = event.result.reproducibility
    finally:
        stream.close()  # on Ctrl-C or an error, whatever still runs is cancelled


def _reprompt(run: _Run, prompt: str) -> None:
    """Budget forcing without ``append``: prompt again with the partial text and the answer prefix (a re-prefill),
    ending, as the samples do, at the samples' end."""
    if not run.reprompts or (run.budget_s is not None and run.now() >= run.budget_s):
        return
    ids = [sample_id for sample_id, _ in run.reprompts]
    limit, deadline = run.settings.force_tokens, run.samples_left()
    requests = [GenerationRequest(prompt=prompt + run.records[i].text + forced, deadline=deadline,
                                  sampling=run.params.model_copy(update={"n": 1, "max_new_tokens": limit}))
                for i, forced in run.reprompts]
    for sample_id, (_, forced), result in zip(ids, run.reprompts, run.generator.generate(requests)):
        old = run.records[sample_id]
        text = old.text + forced + result.samples[0].text
        answer = extract_answer(text, strict=run.settings.strict, lenient=run.settings.lenient)
        run.records[sample_id] = new = run.judged(old.model_copy(update={  # the forced answer's arithmetic too
            "text": text, "answer": answer, "forced": [forced], **steps_of(text, old.finish_reason),
            "num_tokens": old.num_tokens + result.samples[0].num_tokens}))
        run.tally.order = [(s, answer if s == sample_id else a, w, c) for s, a, w, c in run.tally.order
                           if s != sample_id or new.counted]


def _repair(run: _Run, prompt: str) -> None:
    """``repair_steps``: each finished sample kept out of the vote by a false step is continued from its text up to
    that step, corrected (``repair``), all such samples in one batch a round, until the samples' end. A repaired
    sample votes when its new text has an answer and no false step; one whose continuation reached no answer keeps
    its old record (a caveated vote may still need it)."""
    for _ in range(run.settings.repair_steps):
        if run.samples_end is not None and run.now() >= run.samples_end:
            return
        todo = {key: fixed for key, record in run.records.items()
                if record.false_steps and not record.counted and record.finish_reason != "cancelled"
                and (fixed := repair(record.text)) is not None}
        if not todo:
            return
        params, deadline = run.params.model_copy(update={"n": 1}), run.samples_left()
        requests = [GenerationRequest(prompt=prompt + text, sampling=params, deadline=deadline)
                    for text, _ in todo.values()]
        modes = {"strict": run.settings.strict, "lenient": run.settings.lenient}
        for (key, (text, note)), result in zip(todo.items(), run.generator.generate(requests)):
            sample, old = result.samples[0], run.records[key]
            run.tokens += sample.num_tokens
            text += sample.text
            answer = extract_answer(text, **modes)
            if answer is None:
                continue
            run.records[key] = new = run.judged(old.model_copy(update={
                "text": text, "answer": answer, "num_tokens": old.num_tokens + sample.num_tokens,
                "finish_reason": sample.finish_reason, "repaired": [*old.repaired, note], "counted": True,
                **steps_of(text, sample.finish_reason)}))
            if new.counted:  # it votes now, as the last to finish
                run.first_sample_s = run.first_sample_s or run.now()
                run.tally.order = [entry for entry in run.tally.order if entry[0] != key]
                run.tally.add(key, answer, run.weight(new.confidence), new.confidence or 0.0)


def _solution(run: _Run, problem: str, plan: Plan, settings: StrategySettings, timings: dict) -> Solution:
    doubted = run.readmit_false_steps()
    records = list(run.records.values())
    counted = [r for r in records if r.counted]
    keep = None
    if settings.keep_top < 1.0 and any(r.confidence is not None for r in counted):
        ranked = sorted(counted, key=lambda r: r.confidence if r.confidence is not None else -math.inf, reverse=True)
        keep = {r.sample_id for r in ranked[: max(1, math.ceil(settings.keep_top * len(ranked)))]}
        records = [r if r.sample_id in keep or not r.counted else r.model_copy(update={"counted": False})
                   for r in records]
        counted = [r for r in records if r.counted]
    votes = run.tally.votes(keep)
    total_weight = sum(run.weight(r.confidence) for r in counted)
    share = votes[0].weight / total_weight if votes and total_weight else 0.0
    elapsed = run.now()
    all_timings = {**timings, "total_s": elapsed}
    if run.first_token_s is not None:  # the request's turn in the batch: under load, the wait before decoding
        all_timings["first_token_s"] = run.first_token_s
    if run.first_sample_s is not None:
        all_timings["first_sample_s"] = run.first_sample_s
    generated = sum(r.num_tokens for r in records)
    repro = {**run.reproducibility, "strategy": plan.strategy, "settings": settings.model_dump(mode="json"),
             "seed": run.params.seed}
    answer = votes[0].answer if votes else None
    status, reason = ("answered", None) if answer is not None else _why_no_answer(run, records, elapsed)
    share = min(1.0, share)
    confidence, basis = _confidence(run.generator, share, len(counted)) if answer is not None else (0.0, None)
    if answer is not None and run.records[votes[0].sample_ids[0]].answer_checked:  # right, whatever its steps
        confidence = max(confidence, CHECKED_CONFIDENCE)
        basis = f"checked: the answer is {run.expected.stated} (the vote alone: {basis})"
    elif answer is not None and doubted:
        reason, confidence = caveat(votes[0], run.records, confidence)
    return Solution(problem=problem, answer=answer, status=status, status_reason=reason,
                    confidence=confidence, vote_share=share if answer is not None else None,
                    confidence_basis=basis, votes=votes, samples=records, plan=plan, stopped=run.stopped,
                    timings=all_timings, num_tokens=generated,
                    tokens_per_s=generated / elapsed if elapsed > 0 else 0.0, reproducibility=repro)


def _confidence(generator, share: float, voters: int) -> tuple[float, str]:
    """The chance of a right answer and what it rests on: the model's confidence map where it has one."""
    mapping = generator.confidence_map
    if mapping is None:
        return share, f"vote share of {voters} sample(s), not calibrated for this model"
    return mapping(share), mapping.describe(share)


_ENDINGS = {"deadline": "cut by the deadline", "length": "cut by the length limit", "stop": "ended without one",
            "cancelled": "cancelled"}


def _why_no_answer(run: _Run, records: list[SampleRecord], elapsed: float) -> tuple[str, str]:
    """The status of a run whose vote has no winner: "no_turn" when no sample got a single token before the
    deadline (the request waited for a turn the whole time), else "no_answer", with how its samples ended."""
    if records and all(r.num_tokens == 0 for r in records) and any(r.finish_reason == "deadline" for r in records):
        return "no_turn", no_turn_reason(elapsed)
    if not records:
        return "no_answer", NO_ANSWER
    false = list(dict.fromkeys(r.answer for r in records if r.answer_checked is False))
    if false:
        return "no_answer", false_answers_reason(false[:5], run.expected.worked)
    endings = {}
    for record in records:
        endings[record.finish_reason] = endings.get(record.finish_reason, 0) + 1
    reason = f"{NO_ANSWER} ({', '.join(f'{count} {_ENDINGS.get(end, end)}' for end, count in endings.items())})"
    waited = run.first_token_s
    if waited is not None and run.budget_s is not None and waited > 0.5 * run.budget_s:
        reason += f"; the first token came after {waited:.1f} s waiting for a turn"
    return "no_answer", reason


def step_lateness(generator, budget_s: float | None) -> float:
    """How much earlier than planned the samples end and their answers are forced: the generator's
    ``step_latency_s`` (it sees a deadline up to one uninterruptible step late), at most a quarter of the budget
    (beyond that the budget cannot be kept by ending earlier, only by admitting less: the rest is left to the
    planner).

    >>> from m1reason.generator.fake import FakeGenerator
    >>> class Slow(FakeGenerator):
    ...     def step_latency_s(self): return 0.8
    >>> slow = Slow(lambda request, i: "x")
    >>> step_lateness(slow, 10.0), step_lateness(slow, 2.0), step_lateness(slow, None)
    (0.8, 0.5, 0.0)
    """
    if budget_s is None:
        return 0.0
    return min(as_generator(generator).step_latency_s(), 0.25 * budget_s)


def end_margin(budget_s: float) -> float:
    """Time kept after the samples' deadline for the vote and the return: 5% of the budget, at most 0.5 s."""
    return min(0.05 * budget_s, 0.5)


def fallback_force_at(budget_s: float | None) -> float | None:
    """Without a throughput model: force answers 10% of the budget (at most 5 s) before the samples' deadline.

    >>> fallback_force_at(10.0), fallback_force_at(None)
    (8.5, None)
    """
    return None if budget_s is None else budget_s - end_margin(budget_s) - min(0.1 * budget_s, 5.0)
