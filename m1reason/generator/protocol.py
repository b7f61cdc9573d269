"""The Generator protocol: the one plug-in point strategies, serving and eval build on.

A generator turns GenerationRequests into samples, blocking (``generate``) or as a stream of events
(``stream``), and may support steering live samples (cancel, append, fork). ``capabilities`` says which,
so a strategy can degrade instead of failing. ``throughput_model`` tells a budget-aware strategy how long
work will take on this model and device.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from m1reason.generator.data import (
    GenerationRequest,
    GenerationResult,
    RequestFinished,
    SampleFinished,
    SamplingParams,
    TokensAppended,
)

__all__ = ["CAPABILITIES", "GenerationEvent", "Generator", "ThroughputModel"]

GenerationEvent = TokensAppended | SampleFinished | RequestFinished

CAPABILITIES = frozenset({"stream", "cancel", "append", "fork", "confidence", "logprobs"})


@runtime_checkable
class ThroughputModel(Protocol):
    """Measured speed of one generator on one device.

    ``decode_step_s(batch, context)``: seconds for one decode step of ``batch`` sequences whose mean context is
    ``context`` tokens. ``prefill_s(tokens)``: seconds to prefill that many prompt tokens. ``occupancy()``:
    sequences in flight right now, running or waiting (other users' work shares the batch). Optional:
    ``append_s(tokens, batch, context)``, seconds for a decoding sample to take in that many appended tokens
    (BudgetAware uses a prefill's time where a model lacks it); ``peers()``, other requests in flight or about to
    be (their samples will share the batch; 0 where a model lacks it); ``capacity()``, the most sequences decoded
    at once, more waiting for a turn (None: no fixed limit). FittedThroughput has all three.

    >>> from m1reason.generator.throughput import Calibration, FittedThroughput
    >>> fit = FittedThroughput(Calibration(decode=[(1, 8, 0.01), (2, 8, 0.012), (2, 64, 0.02)],
    ...                                    prefill=[(8, 0.01), (64, 0.03)]))
    >>> isinstance(fit, ThroughputModel)
    True
    """

    def decode_step_s(self, batch: int, context: int) -> float: ...

    def prefill_s(self, tokens: int) -> float: ...

    def occupancy(self) -> int: ...


@runtime_checkable
class Generator(Protocol):
    """What every generator offers. Sample ids are ``f"{request_id}/{i}"`` for sample i of a request.

    - ``generate(requests)``: blocks until every sample of every request has ended; results in request order.
    - ``stream(requests)``: events in the order they happen: TokensAppended, SampleFinished (as each sample
      ends), RequestFinished (once all of a request's samples ended).
    - ``cancel(id)``: a sample id or request id; its samples end with finish_reason "cancelled" and free their
      memory at the next step. Returns False if nothing live had that id.
    - ``append(sample_id, text_or_token_ids)``: force tokens into a live sample and continue from its state.
    - ``fork(sample_id, n=1, sampling=None)``: branch a live sample into n new ones; returns their ids.

    Optional: ``scope``, an ``m1reason.scope.Scope`` saying what the model was trained to answer (absent or None:
    anything). Strategies read it first and answer a problem outside it with a Solution of status "out_of_scope",
    drawing no sample; ``confidence_map``, an ``m1reason.confidence_map.ConfidenceMap`` turning a vote share into
    the chance of a right answer (absent or None: a Solution's confidence is the raw share). Wrappers of a
    generator (``SharedGenerator``) pass both on.

    Strategies check ``capabilities`` before steering, and fall back when a generator lacks one:

    >>> from m1reason.generator.m1 import M1Generator
    >>> from m1reason.model import HybridLM, ModelConfig
    >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32)
    >>> isinstance(gen, Generator), "fork" in gen.capabilities
    (True, True)
    """

    capabilities: frozenset[str]

    def generate(self, requests: Iterable[GenerationRequest]) -> list[GenerationResult]: ...

    def stream(self, requests: Iterable[GenerationRequest]) -> Iterator[GenerationEvent]: ...

    def cancel(self, id: str) -> bool: ...

    def append(self, sample_id: str, text_or_token_ids: str | list[int]) -> None: ...

    def fork(self, sample_id: str, n: int = 1, sampling: SamplingParams | None = None) -> list[str]: ...

    def throughput_model(self) -> ThroughputModel: ...
