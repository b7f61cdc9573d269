"""Serving: the async front for apps where many users solve at once and share the engine's batched steps.

``AsyncSolver`` (``await solve``, ``stream``, tenant limits, backpressure, cancellation, graceful shutdown) and
``AsyncGenerator`` (the Generator protocol for asyncio code) sit on ``SharedGenerator``, which lets many
threads drive one generator, one at a time. See docs/deployment.md.

>>> import m1reason.serving as serving
>>> sorted(serving.__all__) == serving.__all__
True
"""

from m1reason.serving._memory import steady_allocator
from m1reason.serving.admission import Admission
from m1reason.serving.async_generator import AsyncGenerator
from m1reason.serving.events import ProgressUpdate, SampleEnded, SolveEvent, Started, TextDelta
from m1reason.serving.shared import SharedGenerator
from m1reason.serving.solver import AsyncSolver

__all__ = [
    "Admission",
    "AsyncGenerator",
    "AsyncSolver",
    "ProgressUpdate",
    "SampleEnded",
    "SharedGenerator",
    "SolveEvent",
    "Started",
    "TextDelta",
    "steady_allocator",
]
