"""The engine: slots and paged KV (PagedCache), scheduling with preemption, device-side sampling, and the step
loop (Engine). It works in token ids; the Generator layer (m1reason.generator) adds text, requests and events."""

from m1reason.engine.cache import OutOfBlocks, PagedCache
from m1reason.engine.engine import Engine, StepOutput
from m1reason.engine.sequence import Sequence, Status

__all__ = ["Engine", "OutOfBlocks", "PagedCache", "Sequence", "Status", "StepOutput"]
