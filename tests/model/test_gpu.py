"""The model on CUDA: loads through the same path, and bf16 on the GPU tracks the fp32 CPU reference."""

import pytest
import torch

from m1reason.model import DenseCache, load_model

pytestmark = pytest.mark.gpu


def test_cuda_bf16_tracks_cpu_fp32(tiny_checkpoint):
    cpu = load_model(tiny_checkpoint, device="cpu")
    gpu = load_model(tiny_checkpoint, device="cuda")
    assert gpu.dtype == torch.bfloat16 and gpu.model.layers[0].mamba.A_log.dtype == torch.float32
    ids = torch.randint(0, 256, (4, 48))
    with torch.no_grad():
        expected = cpu(ids)
        got = gpu(ids.cuda()).float().cpu()
    assert ((got - expected).abs().max() / expected.abs().max()).item() < 2e-2
    assert (got.argmax(-1) == expected.argmax(-1)).float().mean().item() >= 0.95


def test_cuda_steps_equal_cuda_forward_in_fp32(tiny_checkpoint):
    model = load_model(tiny_checkpoint, device="cuda", dtype=torch.float32)
    ids = torch.randint(0, 256, (2, 24), device="cuda")
    cache = DenseCache(model.config, slots=2, max_len=24, device="cuda")
    with torch.no_grad():
        logits = [model.prefill(ids[:, :10], cache, all_logits=True)]
        logits += [model.step(ids[:, t], cache)[:, None] for t in range(10, 24)]
        full = model(ids)
    assert ((torch.cat(logits, 1) - full).abs().max() / full.abs().max()).item() < 1e-4


def test_a_long_prompt_prefilled_in_chunks_continues_as_one_prefilled_whole(tiny_checkpoint, monkeypatch):
    """The chunked Mamba prefill through the model (one 300-token prompt: chunks of 64 where CHUNKED_PREFILL is on):
    the same last logits and, stepping on from the states it left, the same next logits as the whole walk."""
    from m1reason.kernels import triton_mamba_prefill

    model = load_model(tiny_checkpoint, device="cuda", dtype=torch.float32)
    ids = torch.randint(0, 256, (1, 301), device="cuda")
    results = []
    for chunked in (False, True):
        monkeypatch.setattr(triton_mamba_prefill, "CHUNKED_PREFILL", chunked)
        assert triton_mamba_prefill.prefill_chunk(1, 300, model.config.d_inner, ids.device) == (64 if chunked else 0)
        cache = DenseCache(model.config, slots=1, max_len=301, device="cuda")
        with torch.no_grad():
            results.append(torch.cat([model.prefill(ids[:, :300], cache), model.step(ids[:, 300], cache)]))
    whole, chunks = results
    assert ((chunks - whole).abs().max() / whole.abs().max()).item() < 1e-4
