"""What M1Generator holds while it serves a request: the request and its samples (text, stop strings, results),
and what a step posts to a stream before the stream builds events from it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from pydantic import TypeAdapter

from m1reason.engine import Sequence
from m1reason.generator.text import IncrementalText, StopMatcher
from m1reason.types import GenerationRequest, Sample, TokensAppended

__all__ = ["LiveRequest", "LiveSample", "PendingTokens", "RequestFailure", "runs_by_sample"]


class PendingTokens(NamedTuple):
    """A TokensAppended event not built yet. A step posts one per sample; a stream builds the pydantic event when
    it collects it, and ``generate`` (which only returns results) never does."""

    sample_id: str
    token_ids: list[int]
    text_delta: str

    @staticmethod
    def build_all(pending: list[PendingTokens]) -> list[TokensAppended]:
        """The events, validated in one call (a third cheaper than one model at a time)."""
        return _TOKEN_EVENTS.validate_python(
            [{"sample_id": p.sample_id, "token_ids": p.token_ids, "text_delta": p.text_delta} for p in pending])


_TOKEN_EVENTS = TypeAdapter(list[TokensAppended])


class RequestFailure(NamedTuple):
    """A request's end by an error, posted to its mailbox: its stream raises M1Error(message) on reaching it."""

    message: str


@dataclass(eq=False)
class LiveSample:
    """One sample being served: its engine sequence, its text so far and stop strings, and its result once ended."""

    seq: Sequence
    text: IncrementalText | None
    stops: StopMatcher
    shown: int = 0  # characters of stops.visible already sent in TokensAppended events
    finish_reason: str | None = None
    result: Sample | None = None
    first_token_at: float | None = None


@dataclass(eq=False)
class LiveRequest:
    """One request being served: its samples, and whether its end was reported or a step failed it.

    >>> live = LiveRequest(GenerationRequest(prompt="2 + 2?"), seed=0, prompt_len=4, submitted_at=0.0)
    >>> live.done  # no sample is still running
    True
    """

    request: GenerationRequest
    seed: int
    prompt_len: int
    submitted_at: float
    samples: list[LiveSample] = field(default_factory=list)
    reported: bool = False  # RequestFinished sent (cleared if append/fork revives it)
    failed: str | None = None  # why a step failed it (its stream raises; it is never reported)
    # guards the samples' results and ``reported``: the stream reporting the request's end takes this lock, not
    # the generator's, which the driver holds through a whole step (under load, a second or more)
    ends: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def done(self) -> bool:
        return all(s.result is not None for s in self.samples)


def runs_by_sample(tokens: list[tuple[Sequence, int]]) -> Iterator[tuple[Sequence, list[int]]]:
    """Consecutive (sequence, token) pairs of one sample grouped: the engine reports a sample's tokens together.

    >>> list(runs_by_sample([("a", 1), ("a", 2), ("b", 3)]))
    [('a', [1, 2]), ('b', [3])]
    """
    for seq, pairs in itertools.groupby(tokens, key=lambda pair: pair[0]):
        yield seq, [token for _, token in pairs]
