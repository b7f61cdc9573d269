"""m1reason: fast math reasoning with hybrid Mamba/attention models such as M1-3B.

>>> import m1reason
>>> m1reason.ModelConfig.tiny().num_layers
4
"""

from m1reason._version import __version__ as __version__
from m1reason.errors import BudgetError, CapacityError, CheckpointError, ConfigError, M1Error, PromptTooLong
from m1reason.generator import (
    FakeGenerator,
    GenerationRequest,
    GenerationResult,
    Generator,
    HFGenerator,
    M1Generator,
    Sample,
    SamplingParams,
)
from m1reason.model import HybridLM, ModelConfig, load_model
from m1reason.scope import Scope
from m1reason.solving import solve
from m1reason.tokenizer import build_prompt, load_tokenizer

__all__ = [
    "BudgetError",
    "CapacityError",
    "CheckpointError",
    "ConfigError",
    "FakeGenerator",
    "GenerationRequest",
    "GenerationResult",
    "Generator",
    "HFGenerator",
    "HybridLM",
    "M1Error",
    "M1Generator",
    "ModelConfig",
    "PromptTooLong",
    "Sample",
    "SamplingParams",
    "Scope",
    "build_prompt",
    "load_model",
    "load_tokenizer",
    "solve",
]
