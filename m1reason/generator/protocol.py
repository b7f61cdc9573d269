"""The Generator protocol: the one plug-in point strategies, serving and eval build on.

A generator turns GenerationRequests into samples, blocking (``generate``) or as a stream of events
(``stream``), and may support steering live samples (cancel, append, fork). ``capabilities`` says which,
so a strategy can degrade instead of failing. ``throughput_model`` tells a budget-aware strategy how long
work will take on this model and device. Every other member a caller may use is named here too, and
``GeneratorBase`` / ``ThroughputBase`` give each one a neutral default, so callers call them and never probe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from m1reason.types import (
    GenerationRequest,
    GenerationResult,
    RequestFinished,
    SampleFinished,
    SamplingParams,
    TokensAppended,
)

if TYPE_CHECKING:
    from m1reason.confidence_map import ConfidenceMap
    from m1reason.scope import Scope

__all__ = ["CAPABILITIES", "GenerationEvent", "Generator", "GeneratorBase", "ThroughputBase", "ThroughputModel",
           "as_generator", "as_throughput_model"]

GenerationEvent = TokensAppended | SampleFinished | RequestFinished

CAPABILITIES = frozenset({"stream", "cancel", "append", "fork", "confidence", "logprobs"})

_Plan = TypeVar("_Plan")


@runtime_checkable
class ThroughputModel(Protocol):
    """Measured speed of one generator on one device, and the load it carries now.

    - ``decode_step_s(batch, context)``: seconds for one decode step of ``batch`` sequences whose mean context
      is ``context`` tokens; ``prefill_s(tokens)``: seconds to prefill that many prompt tokens.
    - ``occupancy()``: sequences in flight right now, running or waiting (other users' work shares the batch).
    - ``append_s(tokens, batch, context)``: seconds for a decoding sample to take in that many appended tokens
      (default in ThroughputBase: a prefill of them).
    - ``peers()``: other requests in flight or about to be, whose samples will share the batch (default 0).
    - ``capacity()``: the most sequences decoded at once, more waiting for a turn (default None: no fixed limit).

    FittedThroughput has them all; a model of one's own inherits ThroughputBase for the last three, and
    ``as_throughput_model`` lends the defaults to one that does neither.

    >>> from m1reason.throughput import Calibration, FittedThroughput
    >>> fit = FittedThroughput(Calibration(decode=[(1, 8, 0.01), (2, 8, 0.012), (2, 64, 0.02)],
    ...                                    prefill=[(8, 0.01), (64, 0.03)]))
    >>> isinstance(fit, ThroughputModel)
    True
    """

    def decode_step_s(self, batch: int, context: int) -> float: ...

    def prefill_s(self, tokens: int) -> float: ...

    def occupancy(self) -> int: ...

    def append_s(self, tokens: int, batch: int, context: int) -> float: ...

    def peers(self) -> int: ...

    def capacity(self) -> int | None: ...


class ThroughputBase:
    """The neutral defaults of a ThroughputModel's optional members; a subclass defines ``decode_step_s``,
    ``prefill_s`` and ``occupancy``.

    >>> class Flat(ThroughputBase):
    ...     def decode_step_s(self, batch, context): return 0.01
    ...     def prefill_s(self, tokens): return 0.001 * tokens
    ...     def occupancy(self): return 0
    >>> flat = Flat()
    >>> flat.append_s(20, 4, 100), flat.peers(), flat.capacity(), isinstance(flat, ThroughputModel)
    (0.02, 0, None, True)
    """

    def append_s(self, tokens: int, batch: int, context: int) -> float:
        """Seconds to take in ``tokens`` appended tokens: without a better model, a prefill of them."""
        return self.prefill_s(tokens)

    def peers(self) -> int:
        """Other requests in flight: none known."""
        return 0

    def capacity(self) -> int | None:
        """The most sequences decoded at once: no fixed limit known."""
        return None


@runtime_checkable
class Generator(Protocol):
    """What every generator offers. Sample ids are ``f"{request_id}/{i}"`` for sample i of a request.

    Each generator defines:

    - ``generate(requests)``: blocks until every sample of every request has ended; results in request order.
    - ``stream(requests)``: events in the order they happen: TokensAppended, SampleFinished (as each sample
      ends), RequestFinished (once all of a request's samples ended).
    - ``cancel(id)``: a sample id or request id; its samples end with finish_reason "cancelled" and free their
      memory at the next step. Returns False if nothing live had that id.
    - ``append(sample_id, text_or_token_ids)``: force tokens into a live sample and continue from its state.
    - ``fork(sample_id, n=1, sampling=None)``: branch a live sample into n new ones; returns their ids.
    - ``throughput_model()``: a ThroughputModel for this generator.
    - ``capabilities``: which of CAPABILITIES it supports; strategies check it before steering and fall back.

    GeneratorBase gives the rest a neutral default (in brackets), which a generator overrides where it can
    do better:

    - ``tokenizer``: renders the chat template and counts tokens [None: the bare instruction, characters].
    - ``scope``: an ``m1reason.scope.Scope`` saying what the model was trained to answer; strategies answer a
      problem outside it with a Solution of status "out_of_scope", drawing no sample [None: anything].
    - ``confidence_map``: an ``m1reason.confidence_map.ConfidenceMap`` turning a vote share into the chance of
      a right answer [None: a Solution's confidence is the raw share].
    - ``strategy_defaults``: field values for strategies made by name for this model
      (``m1reason.solving.make_strategy``), e.g. a small model's short answer lengths [None: the strategies'
      own defaults, which suit M1-3B].
    - ``failure``: why the generator stopped serving [None: it serves].
    - ``encode_prompt(prompt)``: the token ids it would run for a text prompt, so a caller that counts them
      can send them instead of the text [None: send the text].
    - ``exclusive()``: a context in which this thread's calls run back to back, with no step between them
      [a no-op context].
    - ``occupancy()``: sequences in flight now [the throughput model's ``occupancy()``].
    - ``warm_up()``: pay the cold-start costs (calibration, graph capture) before serving; returns the scratch
      calls it made [measure the throughput model; 0].
    - ``reserve(request_id, plan)`` / ``unreserve(request_id)``: run a planner and hold the samples it plans
      as load until the request is submitted [run ``plan()``; nothing held].

    >>> from m1reason.generator.m1 import M1Generator
    >>> from m1reason.model import HybridLM, ModelConfig
    >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32)
    >>> isinstance(gen, Generator), "fork" in gen.capabilities
    (True, True)
    """

    capabilities: frozenset[str]
    tokenizer: object | None
    scope: Scope | None
    confidence_map: ConfidenceMap | None
    strategy_defaults: Mapping[str, object] | None
    failure: str | None

    def generate(self, requests: Iterable[GenerationRequest]) -> list[GenerationResult]: ...

    def stream(self, requests: Iterable[GenerationRequest]) -> Iterator[GenerationEvent]: ...

    def cancel(self, id: str) -> bool: ...

    def append(self, sample_id: str, text_or_token_ids: str | list[int]) -> None: ...

    def fork(self, sample_id: str, n: int = 1, sampling: SamplingParams | None = None) -> list[str]: ...

    def throughput_model(self) -> ThroughputModel: ...

    def encode_prompt(self, prompt: str) -> list[int] | None: ...

    def exclusive(self) -> AbstractContextManager: ...

    def occupancy(self) -> int: ...

    def step_latency_s(self) -> float: ...

    def warm_up(self) -> int: ...

    def reserve(self, request_id: str, plan: Callable[[], _Plan]) -> _Plan: ...

    def unreserve(self, request_id: str) -> None: ...


class GeneratorBase:
    """The neutral defaults of the Generator protocol's optional members (see ``Generator``); every generator
    of m1reason inherits it, and so may one's own. A subclass defines generate, stream, cancel, append, fork,
    throughput_model and its capabilities.

    >>> from m1reason.throughput import Calibration, FittedThroughput
    >>> class Echo(GeneratorBase):
    ...     def throughput_model(self):
    ...         return FittedThroughput(Calibration(decode=[(1, 8, 0.01), (2, 8, 0.02)], prefill=[(8, 0.01)] * 2))
    >>> echo = Echo()
    >>> echo.tokenizer, echo.scope, echo.encode_prompt("2 + 2?"), echo.occupancy(), echo.warm_up()
    (None, None, None, 0, 0)
    >>> with echo.exclusive():
    ...     echo.reserve("r", lambda: "planned")
    'planned'
    """

    capabilities: frozenset[str] = frozenset()
    tokenizer = None
    scope: Scope | None = None
    confidence_map: ConfidenceMap | None = None
    strategy_defaults: Mapping[str, object] | None = None
    failure: str | None = None

    def encode_prompt(self, prompt: str) -> list[int] | None:
        """No encoding of its own: the caller sends the prompt as text."""
        return None

    def exclusive(self) -> AbstractContextManager:
        """A generator without steps of its own runs calls as they come: nothing to hold off."""
        return nullcontext()

    def occupancy(self) -> int:
        """Sequences in flight, as the throughput model sees them."""
        return self.throughput_model().occupancy()

    def step_latency_s(self) -> float:
        """How late this generator may act on a deadline (seconds): none known. A generator whose steps cannot
        be interrupted returns its recent longest step, and strategies end their samples that much earlier."""
        return 0.0

    def warm_up(self) -> int:
        """The only cold-start cost known here: measuring the throughput model. No scratch calls."""
        self.throughput_model()
        return 0

    def reserve(self, request_id: str, plan: Callable[[], _Plan]) -> _Plan:
        """Run ``plan()``; nothing is held for the request."""
        return plan()

    def unreserve(self, request_id: str) -> None:
        """Nothing is held, so nothing to drop."""


class _Filled:
    """Every attribute comes from ``inner``; what ``inner`` lacks comes from the base class mixed in after this."""

    def __init__(self, inner):
        object.__setattr__(self, "_inner", inner)

    def __getattribute__(self, name: str):
        inner = object.__getattribute__(self, "_inner")
        try:
            return getattr(inner, name)
        except AttributeError:
            return object.__getattribute__(self, name)


class _FilledGenerator(_Filled, GeneratorBase):
    pass


class _FilledThroughput(_Filled, ThroughputBase):
    pass


def as_generator(generator) -> GeneratorBase:
    """``generator`` itself when it inherits GeneratorBase, else a view of it with GeneratorBase's defaults for
    the members it lacks: strategies, the solver and serving call this once, then call every member directly.

    >>> from m1reason.generator.fake import FakeGenerator
    >>> fake = FakeGenerator(lambda request, i: "</think> 4")
    >>> as_generator(fake) is fake
    True
    >>> class Bare:
    ...     capabilities = frozenset({"stream"})
    >>> bare = as_generator(Bare())
    >>> bare.capabilities, bare.tokenizer, bare.strategy_defaults, bare.encode_prompt("2 + 2?")
    (frozenset({'stream'}), None, None, None)
    """
    return generator if isinstance(generator, GeneratorBase) else _FilledGenerator(generator)


def as_throughput_model(model) -> ThroughputBase | ThroughputModel:
    """``model`` itself when it has every ThroughputModel member, else a view of it with ThroughputBase's
    defaults for ``append_s``, ``peers`` and ``capacity``.

    >>> class Bare:
    ...     def decode_step_s(self, batch, context): return 0.01
    ...     def prefill_s(self, tokens): return 0.002 * tokens
    ...     def occupancy(self): return 3
    >>> bare = as_throughput_model(Bare())
    >>> bare.occupancy(), bare.append_s(10, 1, 50), bare.peers(), bare.capacity()
    (3, 0.02, 0, None)
    """
    return model if isinstance(model, ThroughputBase | ThroughputModel) else _FilledThroughput(model)
