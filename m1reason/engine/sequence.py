"""Sequence: one sample in flight, as the engine sees it (tokens, slot, what is cached, why it ended)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from m1reason.types import SamplingParams

__all__ = ["Sequence", "Status"]


class Status(enum.Enum):
    WAITING = "waiting"  # queued: not yet prefilled, or preempted and waiting to be recomputed
    RUNNING = "running"
    FINISHED = "finished"


@dataclass(eq=False)
class Sequence:
    """tokens = prompt + generated (sampled and appended); the slot holds the state of tokens[:num_cached].

    >>> s = Sequence("r/0", "r", 0, 42, SamplingParams(), tokens=[1, 2, 3], prompt_len=3)
    >>> s.pending, s.num_generated
    ([1, 2, 3], 0)
    """

    sample_id: str
    request_id: str
    stream_index: int  # which random stream of the seed this sample draws from
    seed: int
    params: SamplingParams
    tokens: list[int]
    prompt_len: int
    deadline_at: float | None = None
    status: Status = Status.WAITING
    slot: int | None = None
    num_cached: int = 0
    finish_reason: str | None = None  # "stop", "length", "deadline", "cancelled", or "error" (then see ``error``)
    error: str | None = None  # why a step failed it: finish_reason "error" (the engine went on without it)
    logprobs: list[float] = field(default_factory=list)
    admitted: int = -1  # admission order: the youngest is preempted first
    released: bool = True  # a finished sequence keeps its slot for one step, so append() can resume it
    # it ended inside a multi-step decode, so its slot's state holds tokens past its end: resuming it (append,
    # fork) recomputes the state from its tokens instead of continuing it
    state_overrun: bool = False
    # its pending tokens (an append) go through decode steps, one per step, instead of a prefill call
    # (Engine feed_appends): the samples those steps draw are discarded until the last pending token is in
    feeding: bool = False

    @property
    def pending(self) -> list[int]:
        """Tokens the model has not seen yet: normally just the last sampled one."""
        return self.tokens[self.num_cached:]

    @property
    def num_pending(self) -> int:
        """len(pending), without building the list (the decode step asks every sequence, every step)."""
        return len(self.tokens) - self.num_cached

    @property
    def num_generated(self) -> int:
        return len(self.tokens) - self.prompt_len

    @property
    def generated(self) -> list[int]:
        return self.tokens[self.prompt_len:]

    @property
    def is_live(self) -> bool:
        return self.status is not Status.FINISHED
