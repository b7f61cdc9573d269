"""The model: configuration, layers, HybridLM, decode-state caches, and checkpoint reading and writing.

Plain eager PyTorch; speed machinery lives in m1reason.engine and m1reason.kernels.
"""

from m1reason.model.cache import DenseCache, InferenceCache
from m1reason.model.checkpoint import config_files, save_model, write_random_checkpoint
from m1reason.model.config import ModelConfig, RopeConfig
from m1reason.model.hybrid import HybridLM
from m1reason.model.loading import load_model, resolve_checkpoint

__all__ = [
    "DenseCache",
    "HybridLM",
    "InferenceCache",
    "ModelConfig",
    "RopeConfig",
    "config_files",
    "load_model",
    "resolve_checkpoint",
    "save_model",
    "write_random_checkpoint",
]
