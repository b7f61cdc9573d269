"""What ``AsyncSolver.stream`` yields before the final Solution: pydantic, frozen, JSON-ready (``kind`` tells them
apart, as for the generator's events). Built from the strategy's progress callbacks and its samples' tokens.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["ProgressUpdate", "SampleEnded", "SolveEvent", "Started", "TextDelta"]


class Started(BaseModel):
    """The request left the queue and its strategy started; ``queued_s`` is how long it waited.

    >>> Started(queued_s=0.25).kind
    'started'
    """

    model_config = ConfigDict(frozen=True)
    kind: Literal["started"] = "started"
    queued_s: float


class TextDelta(BaseModel):
    """New text of one sample's reasoning (possibly text the strategy forced in, such as an answer prefix).

    >>> TextDelta(sample_id="ab12/0", text="Let x = 3").text
    'Let x = 3'
    """

    model_config = ConfigDict(frozen=True)
    kind: Literal["text"] = "text"
    sample_id: str
    text: str


class SampleEnded(BaseModel):
    """One sample ended ("stop", "length", "deadline" or "cancelled").

    >>> SampleEnded(sample_id="ab12/0", finish_reason="stop", num_tokens=120).num_tokens
    120
    """

    model_config = ConfigDict(frozen=True)
    kind: Literal["sample"] = "sample"
    sample_id: str
    finish_reason: str
    num_tokens: int


class ProgressUpdate(BaseModel):
    """The strategy's live view: samples finished and running, tokens, speed, time, and the vote tally.

    >>> ProgressUpdate(finished=1, running=3, tokens=80, elapsed_s=2.0, tokens_per_s=40.0, tally=[("4", 1)]).tally
    [('4', 1)]
    """

    model_config = ConfigDict(frozen=True)
    kind: Literal["progress"] = "progress"
    finished: int
    running: int
    tokens: int
    elapsed_s: float
    tokens_per_s: float
    budget_s: float | None = None
    tally: list[tuple[str, int]] = []


SolveEvent = Started | TextDelta | SampleEnded | ProgressUpdate
