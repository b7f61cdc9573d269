"""The engine: slots and paged KV (PagedCache), scheduling with preemption (Scheduler), the model runner with CUDA
graphs and device-side sampling (ModelRunner), the batch being decoded (DecodeBatch), confidence bookkeeping, and
the step loop that sequences them (Engine), configured by one EngineConfig. It works in token ids; the Generator
layer (m1reason.generator) adds text, requests and events.
"""

from m1reason.engine.cache import OutOfBlocks, PagedCache
from m1reason.engine.config import EngineConfig
from m1reason.engine.engine import Engine, StepOutput
from m1reason.engine.sequence import Sequence, Status

__all__ = ["Engine", "EngineConfig", "OutOfBlocks", "PagedCache", "Sequence", "Status", "StepOutput"]
