"""FakeGenerator: scripted completions behind the Generator protocol, for testing what sits on top of a generator.

It owns a simulated decode loop in which one token is one character (token id = ``ord(char)``) and every live
sample advances once per step, ``step_s`` simulated seconds apart, so tests control which sample finishes when.
It knows nothing of models, tokenizers or memory; its throughput model is synthetic.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from m1reason._version import __version__
from m1reason.generator.protocol import CAPABILITIES, GenerationEvent, GeneratorBase
from m1reason.generator.text import StopMatcher
from m1reason.scope import Scope
from m1reason.throughput import Calibration, FittedThroughput
from m1reason.types import (
    Confidence,
    GenerationRequest,
    GenerationResult,
    RequestFinished,
    Sample,
    SampleFinished,
    SamplingParams,
    TokensAppended,
)

__all__ = ["FakeCompletion", "FakeGenerator"]


@dataclass(frozen=True)
class FakeCompletion:
    """What one sample generates: ``text`` spread over ``steps`` decode steps (default: ``tokens_per_step``
    characters a step), then ``finish_reason``. Stop strings, max_new_tokens, deadlines and cancels cut it short.

    ``after_append`` says how the sample goes on after ``append``: a string (spread over the default steps, the
    script's other settings kept), another FakeCompletion, or a callable given the sample's whole text so far
    (forced text included) that returns either; it stays in force for later appends until a FakeCompletion
    replaces it. Without it the sample goes on with the rest of its script (nothing, if it had finished).
    ``confidence`` (a Confidence, or a float used for both scalars) and ``logprob`` (per token) are reported
    when the request asks for them and the generator declares the capability.

    >>> FakeCompletion("x = 4. </think> \\\\boxed{4}", steps=3).steps
    3
    >>> FakeCompletion("abc", finish_reason="cancelled")
    Traceback (most recent call last):
    ...
    ValueError: finish_reason must be 'stop' or 'length', not 'cancelled'
    """

    text: str
    finish_reason: str = "stop"
    steps: int | None = None
    confidence: Confidence | float | None = None
    logprob: float = 0.0
    after_append: str | FakeCompletion | Callable[[str], str | FakeCompletion] | None = None

    def __post_init__(self):
        if self.finish_reason not in ("stop", "length"):
            raise ValueError(f"finish_reason must be 'stop' or 'length', not {self.finish_reason!r}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be >= 1, not {self.steps}")


Script = str | FakeCompletion
Handler = Callable[[GenerationRequest, int], Script]


@dataclass(eq=False)
class _FakeSample:
    sample_id: str
    request: GenerationRequest
    params: SamplingParams
    run: _Run
    deadline_at: float | None
    completion: FakeCompletion = FakeCompletion("")
    script: str = ""  # the current script segment: the completion's text, or what follows an append
    emitted: int = 0  # characters of the segment generated so far
    start_step: int = 0  # the segment's characters are spread over steps start_step+1 .. start_step+steps
    steps: int = 1
    tokens: list[int] = field(default_factory=list)
    stops: StopMatcher = field(default_factory=lambda: StopMatcher(()))
    reported_tokens: int = 0
    reported_text: int = 0
    finish_reason: str | None = None
    finished_at: float = 0.0
    reported: bool = False  # its SampleFinished has been yielded
    freed: bool = False  # finished before the current step: its state is gone, so fork no longer reaches it

    def start(self, completion: FakeCompletion, tokens_per_step: int) -> None:
        self.completion, self.script, self.emitted, self.start_step = completion, completion.text, 0, self.run.step
        self.steps = completion.steps or max(1, math.ceil(len(completion.text) / tokens_per_step))

    @property
    def text(self) -> str:
        """What the sample shows: text held back as a possible stop prefix stays hidden until it ends."""
        return self.stops.visible if self.finish_reason is None or self.stops.matched else self.stops.text

    def restart_stops(self, text: str) -> None:
        """Stops count only in what is generated after ``text`` (forced or inherited)."""
        self.stops = StopMatcher(self.params.stop)
        self.stops.feed(text)
        self.stops.reopen()

    def advance(self) -> str | None:
        """Generate this step's characters; the finish reason if the sample ends now."""
        elapsed = self.run.step - self.start_step
        due = math.ceil(len(self.script) * min(1.0, elapsed / self.steps))
        while self.emitted < due:
            if len(self.tokens) >= self.params.max_new_tokens:
                return "length"
            char = self.script[self.emitted]
            self.emitted += 1
            self.tokens.append(ord(char))
            if self.stops.feed(char):
                return "stop"
        if self.emitted == len(self.script) and elapsed >= self.steps:
            return self.completion.finish_reason
        if len(self.tokens) >= self.params.max_new_tokens and self.emitted < len(self.script):
            return "length"
        return None


@dataclass(eq=False)
class _Run:
    """One stream: its requests' samples (forks included), unfinished or delivered, and the step count."""

    pending: dict[str, list[_FakeSample]] = field(default_factory=dict)
    delivered: dict[str, list[_FakeSample]] = field(default_factory=dict)  # RequestFinished sent; append revives
    requests: dict[str, GenerationRequest] = field(default_factory=dict)
    step: int = 0


class FakeGenerator(GeneratorBase):
    """A Generator whose samples say what ``handler(request, sample_index)`` scripts: a string or a FakeCompletion.

    The handler is called once per sample when its request is submitted. Each step, every live sample (in
    submission order: requests, sample index, then forks) emits its due characters; samples of different
    requests interleave as if batched. A sample scripted with fewer ``steps`` finishes first: that is how a test
    sets the order of SampleFinished events. Time is simulated: step k starts at ``(k - 1) * step_s`` seconds
    after submission, and a sample past its deadline then ends "deadline" (with ``real_time`` each step sleeps
    ``step_s`` and deadlines use the wall clock). A cancelled sample's SampleFinished comes at its next turn.

    As on M1Generator: ``append`` reaches any sample of a running stream that was not cancelled, even after its
    request's RequestFinished (the request then finishes again later); its forced text is reported in a
    TokensAppended, and the sample ends again with a second SampleFinished. ``fork`` reaches a sample while it
    is live or right after its SampleFinished (until the stream moves to the next step). Forks are named
    ``f"{sample_id}.{k}"``, belong to the parent's request and follow its n samples in the result; their events
    carry only what comes after the fork. Token ids are character codes; temperature, seed, min_new_tokens,
    ignore_eos and stop_token_ids have no effect here. ``scope`` (an ``m1reason.scope.Scope``) is what the scripted
    model covers: strategies refuse a problem outside it before any request (None: anything).

    >>> fake = FakeGenerator(lambda request, i: FakeCompletion(f"answer {i}", steps=3 - i))
    >>> request = GenerationRequest(prompt="q", request_id="r", sampling=SamplingParams(n=2))
    >>> [s.text for s in fake.generate([request])[0].samples]
    ['answer 0', 'answer 1']
    >>> [e.sample_id for e in fake.stream([request]) if e.kind == "sample"]  # sample 1 has fewer steps
    ['r/1', 'r/0']
    """

    def __init__(self, handler: Handler, *, capabilities: Iterable[str] = CAPABILITIES, tokens_per_step: int = 1,
                 step_s: float = 0.01, real_time: bool = False, calibration: Calibration | None = None,
                 scope: Scope | None = None):
        unknown = set(capabilities) - CAPABILITIES
        if unknown:
            raise ValueError(f"unknown capabilities {sorted(unknown)}; choose among {sorted(CAPABILITIES)}")
        if tokens_per_step < 1 or step_s <= 0:
            raise ValueError(f"tokens_per_step must be >= 1 and step_s > 0 (got {tokens_per_step}, {step_s})")
        self.handler = handler
        self.capabilities = frozenset(capabilities)
        self.scope = scope  # what the scripted "model" covers (m1reason.scope); None: anything
        self.tokens_per_step, self.step_s, self.real_time = tokens_per_step, step_s, real_time
        self.calibration = calibration or Calibration(
            decode=[(b, c, step_s) for b in (1, 8, 64) for c in (128, 4096)], prefill=[(16, 0.0), (4096, 0.0)])
        self._samples: dict[str, _FakeSample] = {}  # samples of running streams, for cancel, append and fork
        self._fork_ids = itertools.count(1)

    # ---- the protocol -----------------------------------------------------------------------------------------
    def generate(self, requests: Iterable[GenerationRequest]) -> list[GenerationResult]:
        """Run every request to the end; results in request order."""
        requests = list(requests)
        done = {e.request_id: e.result for e in self._events(requests) if isinstance(e, RequestFinished)}
        return [done[r.request_id] for r in requests]

    def stream(self, requests: Iterable[GenerationRequest]) -> Iterator[GenerationEvent]:
        """Events in the order they happen (see the class docstring)."""
        self._require("stream")
        return self._events(list(requests))

    def cancel(self, id: str) -> bool:
        """End a live sample, or every live sample of a request, with "cancelled"; False if none was live."""
        self._require("cancel")
        hits = [s for s in self._samples.values()
                if id in (s.sample_id, s.request.request_id) and s.finish_reason is None]
        for s in hits:
            s.finish_reason = "cancelled"
            s.finished_at = s.run.step * self.step_s
        return bool(hits)

    def append(self, sample_id: str, text_or_token_ids: str | list[int], *,
               sampling: SamplingParams | None = None) -> None:
        """Force text (or character codes) into a sample; it goes on as its script's ``after_append`` says.
        ``sampling`` replaces its parameters from here on (e.g. a larger max_new_tokens after "length")."""
        self._require("append")
        s = self._reachable(sample_id)
        forced = text_or_token_ids if isinstance(text_or_token_ids, str) else "".join(map(chr, text_or_token_ids))
        if not forced:
            raise ValueError("nothing to append: empty text or token list")
        if sampling is not None:
            s.params = sampling
        request_id = s.request.request_id
        if request_id in s.run.delivered:
            s.run.pending[request_id] = s.run.delivered.pop(request_id)
        text = (s.stops.text if s.finish_reason is None else s.text) + forced
        s.tokens.extend(map(ord, forced))
        s.restart_stops(text)
        follow = s.completion.after_append
        follow = follow(text) if callable(follow) else follow
        if isinstance(follow, str):  # the script's other settings, after_append included, carry on
            follow = replace(s.completion, text=follow, steps=None, finish_reason="stop")
        elif isinstance(follow, FakeCompletion) and follow.after_append is None:
            follow = replace(follow, after_append=s.completion.after_append)
        elif follow is None and s.finish_reason is not None:
            follow = replace(s.completion, text="", steps=None)
        if follow is not None:
            s.start(_as_completion(follow), self.tokens_per_step)
        s.finish_reason, s.reported = None, False

    def fork(self, sample_id: str, n: int = 1, sampling: SamplingParams | None = None) -> list[str]:
        """Branch a sample into n copies that continue its script; returns their ids."""
        self._require("fork")
        parent = self._reachable(sample_id)
        if n < 1:
            raise ValueError(f"fork needs n >= 1, got {n}")
        if parent.freed or parent.request.request_id not in parent.run.pending:
            raise ValueError(f"{sample_id} holds no state to fork (it finished before this step)")
        ids = []
        for _ in range(n):
            child = replace(parent, sample_id=f"{sample_id}.{next(self._fork_ids)}", params=sampling or parent.params,
                            tokens=list(parent.tokens), reported_tokens=len(parent.tokens), finish_reason=None,
                            reported=False, freed=False)
            child.restart_stops(parent.stops.text if parent.finish_reason is None else parent.text)
            child.reported_text = len(child.text)
            self._samples[child.sample_id] = child
            parent.run.pending[parent.request.request_id].append(child)
            ids.append(child.sample_id)
        return ids

    def throughput_model(self) -> FittedThroughput:
        """A synthetic fit (by default ``step_s`` per decode step, free prefill), not a measurement."""
        return FittedThroughput(self.calibration, lambda: sum(s.finish_reason is None for s in self._samples.values()))

    # ---- the simulated decode loop ----------------------------------------------------------------------------
    def _events(self, requests: list[GenerationRequest]) -> Iterator[GenerationEvent]:
        ids = [r.request_id for r in requests]
        running = {s.request.request_id for s in self._samples.values()}
        if len(set(ids)) < len(ids) or running & set(ids):
            raise ValueError(f"request ids must be unique among running requests: {ids}")
        run = _Run(requests={r.request_id: r for r in requests})
        for request in requests:
            run.pending[request.request_id] = [self._submit(request, i, run) for i in range(request.sampling.n)]
        return self._loop(run, time.monotonic())

    def _submit(self, request: GenerationRequest, index: int, run: _Run) -> _FakeSample:
        s = _FakeSample(f"{request.request_id}/{index}", request, request.sampling, run, request.deadline)
        s.restart_stops("")
        s.start(_as_completion(self.handler(request, index)), self.tokens_per_step)
        self._samples[s.sample_id] = s
        return s

    def _loop(self, run: _Run, started: float) -> Iterator[GenerationEvent]:
        try:
            while run.pending:
                run.step += 1
                now = time.monotonic() - started if self.real_time else (run.step - 1) * self.step_s
                live = [s for samples in run.pending.values() for s in samples]
                for s in live:
                    s.freed = s.reported
                for s in live:
                    if s.finish_reason is None:
                        expired = s.deadline_at is not None and now >= s.deadline_at
                        s.finish_reason = "deadline" if expired else s.advance()
                        s.finished_at = now if expired else now + self.step_s
                    yield from self._report(s, run)
                if self.real_time:
                    time.sleep(self.step_s)
        finally:
            for samples in (*run.pending.values(), *run.delivered.values()):
                for s in samples:
                    self._samples.pop(s.sample_id, None)

    def _report(self, s: _FakeSample, run: _Run) -> Iterator[GenerationEvent]:
        if s.reported:
            return
        text = s.text
        if len(s.tokens) > s.reported_tokens or len(text) > s.reported_text:
            yield TokensAppended(sample_id=s.sample_id, token_ids=s.tokens[s.reported_tokens:],
                                 text_delta=text[s.reported_text:])
            s.reported_tokens, s.reported_text = len(s.tokens), len(text)
        if s.finish_reason is None:
            return
        s.reported = True
        yield SampleFinished(sample_id=s.sample_id, sample=self._sample(s))
        request_id = s.request.request_id
        samples = run.pending.get(request_id, [])
        if samples and all(x.reported for x in samples):  # checked after the consumer's turn: it may have appended
            run.delivered[request_id] = run.pending.pop(request_id)
            request = run.requests[request_id]
            result = GenerationResult(request_id=request_id, samples=[self._sample(x) for x in samples],
                                      prompt_tokens=len(request.prompt_token_ids or request.prompt),
                                      reproducibility=self._reproducibility(request))
            yield RequestFinished(request_id=request_id, result=result)

    def _sample(self, s: _FakeSample) -> Sample:
        p, c = s.params, s.completion
        confidence = c.confidence if p.confidence and "confidence" in self.capabilities else None
        if isinstance(confidence, float | int):
            confidence = Confidence(mean=confidence, lowest_window=confidence, window=2048)
        logprobs = [c.logprob] * len(s.tokens) if p.logprobs and "logprobs" in self.capabilities else None
        return Sample(sample_id=s.sample_id, token_ids=list(s.tokens), text=s.text, finish_reason=s.finish_reason,
                      logprobs=logprobs, confidence=confidence, timings={"total_s": s.finished_at})

    def _reachable(self, sample_id: str) -> _FakeSample:
        s = self._samples.get(sample_id)
        if s is None:
            raise KeyError(f"no live sample {sample_id!r} (unknown, or its stream has ended)")
        if s.finish_reason == "cancelled":
            raise ValueError(f"sample {sample_id!r} was cancelled; it cannot continue")
        return s

    def _reproducibility(self, request: GenerationRequest) -> dict:
        return {"generator": "FakeGenerator", "handler": getattr(self.handler, "__qualname__", repr(self.handler)),
                "seed": request.sampling.seed, "sampling": request.sampling.model_dump(mode="json"),
                "versions": {"m1reason": __version__}}

    def _require(self, capability: str) -> None:
        if capability not in self.capabilities:
            raise NotImplementedError(f"this FakeGenerator was built without the {capability!r} capability "
                                      f"(it has {sorted(self.capabilities)})")


def _as_completion(script: Script) -> FakeCompletion:
    if isinstance(script, str):
        return FakeCompletion(script)
    if isinstance(script, FakeCompletion):
        return script
    raise TypeError(f"a FakeGenerator handler must return a str or FakeCompletion, not {type(script).__name__}")
