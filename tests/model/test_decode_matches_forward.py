"""Step-by-step decoding equals the parallel forward (fp32, relative 1e-5), for any mix of layer kinds."""

import pytest
import torch

from m1reason.model import DenseCache, HybridLM, ModelConfig

RTOL = 1e-5


def relative_error(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def make_model(attn_layers, num_layers=4, seed=0):
    torch.manual_seed(seed)
    model = HybridLM(ModelConfig.tiny(num_layers=num_layers, attn_layers=attn_layers)).eval()
    with torch.no_grad():  # non-trivial dt bias and D so the quirks matter numerically
        for layer in model.model.layers:
            if not layer.is_attention:
                layer.mamba.dt_proj.bias.uniform_(-3, 1)
                layer.mamba.D.uniform_(0.5, 1.5)
    return model


@pytest.mark.parametrize("attn_layers", [(), (1,), (0, 3), (0, 1, 2, 3)], ids=["mamba", "m1-like", "ends", "attention"])
@torch.no_grad()
def test_steps_after_prefill_equal_forward(attn_layers):
    model = make_model(attn_layers)
    ids = torch.randint(0, 256, (3, 20))
    full = model(ids)
    cache = DenseCache(model.config, slots=3, max_len=32)
    logits = [model.prefill(ids[:, :7], cache, all_logits=True)]
    logits += [model.step(ids[:, t], cache)[:, None] for t in range(7, 20)]
    assert relative_error(torch.cat(logits, 1), full) < RTOL
    assert cache.lengths.tolist() == [20, 20, 20]


@torch.no_grad()
def test_prefill_in_chunks_continues_state():
    model = make_model((1,))
    ids = torch.randint(0, 256, (2, 17))
    cache = DenseCache(model.config, slots=2, max_len=32)
    chunks = [model.prefill(ids[:, a:b], cache, all_logits=True) for a, b in [(0, 5), (5, 6), (6, 17)]]
    assert relative_error(torch.cat(chunks, 1), model(ids)) < RTOL


@torch.no_grad()
def test_different_prompt_lengths_decode_together_in_any_slots():
    """Prompts of lengths 3, 9 and 14 are prefilled alone into slots 4, 0, 2, then decoded in one batch."""
    model = make_model((1, 2), num_layers=4)
    lengths, slots, steps = [3, 9, 14], torch.tensor([4, 0, 2]), 6
    seqs = [torch.randint(0, 256, (n + steps,)) for n in lengths]
    cache = DenseCache(model.config, slots=5, max_len=32)
    for seq, n, slot in zip(seqs, lengths, slots):
        model.prefill(seq[None, :n], cache, slot[None])
    decoded = []
    for t in range(steps):
        tokens = torch.stack([seq[n + t] for seq, n in zip(seqs, lengths)])
        decoded.append(model.step(tokens, cache, slots))
    for row, (seq, n) in enumerate(zip(seqs, lengths)):
        expected = model(seq[None])[0, n:]
        got = torch.stack([d[row] for d in decoded])
        assert relative_error(got, expected) < RTOL, f"prompt of length {n}"


@torch.no_grad()
def test_bfloat16_keeps_A_log_and_D_in_float32():
    model = make_model((1,)).to(torch.bfloat16)
    mamba = model.model.layers[0].mamba
    assert mamba.A_log.dtype == torch.float32 and mamba.D.dtype == torch.float32
    assert mamba.in_proj.weight.dtype == torch.bfloat16
    ids = torch.randint(0, 256, (1, 6))
    cache = DenseCache(model.config, slots=1, max_len=8, dtype=torch.bfloat16)
    model.prefill(ids[:, :5], cache)
    step = model.step(ids[:, 5], cache).float()
    assert relative_error(step, model(ids)[:, -1].float()) < 2e-2
