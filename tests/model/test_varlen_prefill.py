"""Prompts of different lengths prefilled together (right-padded, with ``lengths``) leave every slot exactly as
prefilling it alone would: last logits, Mamba conv/SSM states, cache length, and the next decode step."""

from __future__ import annotations

import pytest
import torch

from m1reason.engine.cache import PagedCache
from m1reason.model import DenseCache, HybridLM, ModelConfig

PROMPTS = ([5, 9, 2, 7, 1], [3, 8, 8, 4, 6, 2, 9, 1, 5], [7, 2, 3])


def _dense(model):
    return DenseCache(model.config, slots=len(PROMPTS), max_len=32)


CONTINUATIONS = ([4, 4, 1], [6], [2, 9, 9, 9, 1, 3, 8])  # appended to PROMPTS (different lengths again)


def _paged(model, extra=(0, 0, 0)):
    cache = PagedCache(model.config, slots=len(PROMPTS), max_len=32, kv_tokens=128, block_size=4)
    for prompt, more in zip(PROMPTS, extra):
        cache.reserve(cache.allocate_slot(), len(prompt) + more + 1)  # exactly what each needs: padding is unreserved
    return cache


def _padded(rows):
    width = max(map(len, rows))
    return (torch.tensor([r + [31] * (width - len(r)) for r in rows]),  # any token pads: it must not count
            torch.tensor([len(r) for r in rows]))


def _assert_slots_match(model, together, alone, slots):
    """Same Mamba conv/SSM states in both caches, and the same next decode step from them."""
    for layer in model.config.mamba_layers:
        torch.testing.assert_close(together.conv_state(layer), alone.conv_state(layer))
        torch.testing.assert_close(together.ssm_state(layer), alone.ssm_state(layer), rtol=1e-5, atol=1e-5)
    next_tokens = torch.tensor([4, 10, 20])
    torch.testing.assert_close(model.step(next_tokens, together, slots), model.step(next_tokens, alone, slots),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make_cache", [_dense, _paged], ids=["dense", "paged"])
@pytest.mark.parametrize("attn_layers", [(1, 3), (), (0, 1, 2, 3)], ids=["hybrid", "mamba", "attention"])
def test_padded_batch_prefill_equals_one_prompt_at_a_time(make_cache, attn_layers):
    torch.manual_seed(0)
    model = HybridLM(ModelConfig.tiny(num_layers=4, attn_layers=attn_layers, vocab_size=32)).eval()
    alone, together = make_cache(model), make_cache(model)
    slots = torch.arange(len(PROMPTS))
    with torch.no_grad():
        expected = torch.cat([model.prefill(torch.tensor([p]), alone, slots[i:i + 1]) for i, p in enumerate(PROMPTS)])
        padded, lengths = _padded(PROMPTS)
        got = model.prefill(padded, together, slots, lengths=lengths)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
        assert together.lengths[:3].tolist() == alone.lengths[:3].tolist() == lengths.tolist()  # paged: + pad row
        _assert_slots_match(model, together, alone, slots)


@pytest.mark.parametrize("paged", [False, True], ids=["dense", "paged"])
@pytest.mark.parametrize("attn_layers", [(1, 3), (), (0, 1, 2, 3)], ids=["hybrid", "mamba", "attention"])
def test_padded_continuations_equal_one_slot_at_a_time(paged, attn_layers):
    """Slots that already hold different lengths continue with chunks of different lengths in one padded call (the
    engine's appends): each continues its own state and KV exactly as alone."""
    torch.manual_seed(0)
    model = HybridLM(ModelConfig.tiny(num_layers=4, attn_layers=attn_layers, vocab_size=32)).eval()
    extra = [len(c) for c in CONTINUATIONS]
    alone, together = ((_paged(model, extra), _paged(model, extra)) if paged else (_dense(model), _dense(model)))
    slots = torch.arange(len(PROMPTS))
    with torch.no_grad():
        for cache in (alone, together):
            for i, p in enumerate(PROMPTS):
                model.prefill(torch.tensor([p]), cache, slots[i:i + 1])
        expected = torch.cat([model.prefill(torch.tensor([c]), alone, slots[i:i + 1])
                              for i, c in enumerate(CONTINUATIONS)])
        padded, lengths = _padded(CONTINUATIONS)
        got = model.prefill(padded, together, slots, lengths=lengths)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
        assert together.lengths[:3].tolist() == alone.lengths[:3].tolist() == [
            len(p) + len(c) for p, c in zip(PROMPTS, CONTINUATIONS)]
        _assert_slots_match(model, together, alone, slots)
