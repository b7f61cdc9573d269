"""The Generator interface and its implementations (M1Generator, HFGenerator, FakeGenerator)."""

from m1reason.generator.fake import FakeCompletion, FakeGenerator
from m1reason.generator.hf import HFGenerator
from m1reason.generator.m1 import M1Generator
from m1reason.generator.protocol import (
    CAPABILITIES,
    GenerationEvent,
    Generator,
    GeneratorBase,
    ThroughputBase,
    ThroughputModel,
    as_generator,
    as_throughput_model,
)
from m1reason.types import (
    Confidence,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    RequestFinished,
    Sample,
    SampleFinished,
    SamplingParams,
    TokensAppended,
)

__all__ = [
    "CAPABILITIES",
    "Confidence",
    "FakeCompletion",
    "FakeGenerator",
    "FinishReason",
    "GenerationEvent",
    "GenerationRequest",
    "GenerationResult",
    "Generator",
    "GeneratorBase",
    "HFGenerator",
    "M1Generator",
    "RequestFinished",
    "Sample",
    "SampleFinished",
    "SamplingParams",
    "ThroughputBase",
    "ThroughputModel",
    "TokensAppended",
    "as_generator",
    "as_throughput_model",
]
