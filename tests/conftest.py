"""Shared test setup: the gpu marker skips cleanly without CUDA; tiny checkpoints in the exact M1 layout."""

from __future__ import annotations

import pytest
import torch

from m1reason.model import HybridLM, ModelConfig, write_random_checkpoint


def flat_tiny_model(vocab_size: int) -> HybridLM:
    """A seeded 4-layer hybrid (attention at 1 and 3) with small embeddings: its next-token distribution is nearly
    flat, so seeded sampling really varies from sample to sample (a peaked one would hide sampling bugs)."""
    torch.manual_seed(0)
    model = HybridLM(ModelConfig.tiny(num_layers=4, attn_layers=(1, 3), vocab_size=vocab_size)).eval()
    with torch.no_grad():
        model.model.embed_tokens.weight.normal_(0, 0.1)
    return model


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (run with -m gpu on the device machine)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def tiny_config() -> ModelConfig:
    """Four layers, attention at 1 and 3, M1's proportions (x/B repeated 2x, GQA 4/2)."""
    return ModelConfig.tiny(num_layers=4, attn_layers=(1, 3))


@pytest.fixture
def tiny_checkpoint(tmp_path, tiny_config):
    """A random fp32 checkpoint of ``tiny_config`` in two shards with an index, tied embeddings."""
    return write_random_checkpoint(tmp_path / "ckpt", tiny_config, dtype=torch.float32, shards=2, seed=1)
