"""The value types every layer shares: what a user hands to a Generator and gets back, as pydantic models
(validated on construction, frozen, JSON in and out).

SamplingParams and GenerationRequest go in; Sample and GenerationResult come out; streaming yields the three
event types; Confidence is what the engine reports for a sample. This is the bottom floor: it imports nothing of
m1reason, so the engine and the generators can both build on it. Nothing here knows how generation is done.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Confidence",
    "FinishReason",
    "GenerationRequest",
    "GenerationResult",
    "RequestFinished",
    "Sample",
    "SampleFinished",
    "SamplingParams",
    "TokensAppended",
]

FinishReason = Literal["stop", "length", "deadline", "cancelled"]


class SamplingParams(BaseModel):
    """How to draw samples. Frozen; invalid values raise a ValidationError naming the field.

    temperature 0 means greedy. top_k -1 and top_p 1 and min_p 0 disable those filters. Sample i of a request
    with ``seed`` s draws from a random stream keyed by (s, i), whatever else shares the batch.

    >>> SamplingParams(n=4, temperature=0.7, max_new_tokens=256).n
    4
    >>> SamplingParams(top_p=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for SamplingParams
    top_p
      Input should be greater than 0 ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int = Field(default=1, ge=1, le=4096)
    temperature: float = Field(default=0.7, ge=0.0, le=100.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    top_k: int = Field(default=-1, ge=-1)
    min_p: float = Field(default=0.0, ge=0.0, le=1.0)
    max_new_tokens: int = Field(default=4096, ge=1)
    min_new_tokens: int = Field(default=0, ge=0)
    ignore_eos: bool = False
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    stop: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] = ()
    logprobs: bool = False
    confidence: bool = False

    @field_validator("top_k")
    @classmethod
    def _top_k(cls, v: int) -> int:
        if v == 0:
            raise ValueError("top_k must be -1 (off) or >= 1")
        return v

    @field_validator("stop")
    @classmethod
    def _stop(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if any(not s for s in v):
            raise ValueError("stop strings must be non-empty")
        return v

    @field_validator("stop_token_ids")
    @classmethod
    def _stop_ids(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(t < 0 for t in v):
            raise ValueError("stop_token_ids must be >= 0")
        return v

    @model_validator(mode="after")
    def _lengths(self) -> SamplingParams:
        if self.min_new_tokens > self.max_new_tokens:
            raise ValueError(f"min_new_tokens ({self.min_new_tokens}) exceeds max_new_tokens ({self.max_new_tokens})")
        return self


class GenerationRequest(BaseModel):
    """One prompt (text or token ids) and how to sample from it; ``deadline`` is seconds from submission.

    >>> GenerationRequest(prompt_token_ids=[1, 2, 3], request_id="r1").request_id
    'r1'
    >>> GenerationRequest()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for GenerationRequest
      Value error, give exactly one of prompt or prompt_token_ids ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str | None = None
    prompt_token_ids: tuple[int, ...] | None = None
    sampling: SamplingParams = SamplingParams()
    deadline: float | None = Field(default=None, gt=0)
    request_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12], min_length=1)

    @model_validator(mode="after")
    def _one_prompt(self) -> GenerationRequest:
        if (self.prompt is None) == (self.prompt_token_ids is None):
            raise ValueError("give exactly one of prompt or prompt_token_ids")
        if self.prompt is not None and not self.prompt:
            raise ValueError("prompt must be non-empty")
        if self.prompt_token_ids is not None and (not self.prompt_token_ids or min(self.prompt_token_ids) < 0):
            raise ValueError("prompt_token_ids must be a non-empty list of token ids >= 0")
        return self


class Confidence(BaseModel):
    """DeepConf scalars computed on the device. Token confidence is -mean of the top-k log-probabilities (higher =
    more confident); ``mean`` averages it over the sample, ``lowest_window`` is the minimum of its sliding-window
    mean (the weakest stretch of the reasoning; equal to ``mean`` while the sample is shorter than ``window``).

    >>> Confidence(mean=4.1, lowest_window=2.3, window=2048).lowest_window
    2.3
    """

    model_config = ConfigDict(frozen=True)

    mean: float
    lowest_window: float
    window: int


class Sample(BaseModel):
    """One finished (or cut) sample of a request.

    >>> Sample(sample_id="r1/0", token_ids=[5, 6], text="hi", finish_reason="length").num_tokens
    2
    """

    model_config = ConfigDict(frozen=True)

    sample_id: str
    token_ids: list[int]
    text: str = ""
    finish_reason: FinishReason
    logprobs: list[float] | None = None
    confidence: Confidence | None = None
    timings: dict[str, float] = Field(default_factory=dict)

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)


class GenerationResult(BaseModel):
    """All samples of one request, and what reproduces them (seed, sampling, model, versions).

    >>> GenerationResult(request_id="r1", samples=[]).samples
    []
    """

    model_config = ConfigDict(frozen=True)

    request_id: str
    samples: list[Sample]
    prompt_tokens: int = 0
    reproducibility: dict = Field(default_factory=dict)


class TokensAppended(BaseModel):
    """New tokens of a live sample (streaming). ``text_delta`` is the text they complete, possibly empty.

    >>> TokensAppended(sample_id="r1/0", token_ids=[7], text_delta="x").kind
    'tokens'
    """

    model_config = ConfigDict(frozen=True)
    kind: Literal["tokens"] = "tokens"
    sample_id: str
    token_ids: list[int]
    text_delta: str = ""


class SampleFinished(BaseModel):
    """A sample ended (stop, length, deadline or cancel); events come in the order samples finish.

    >>> SampleFinished(sample_id="r1/0", sample=Sample(sample_id="r1/0", token_ids=[], finish_reason="stop")).kind
    'sample'
    """

    model_config = ConfigDict(frozen=True)
    kind: Literal["sample"] = "sample"
    sample_id: str
    sample: Sample


class RequestFinished(BaseModel):
    """Every sample of a request has ended.

    >>> RequestFinished(request_id="r1", result=GenerationResult(request_id="r1", samples=[])).kind
    'request'
    """

    model_config = ConfigDict(frozen=True)
    kind: Literal["request"] = "request"
    request_id: str
    result: GenerationResult
