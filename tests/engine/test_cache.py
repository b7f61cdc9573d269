"""PagedCache's slot states: a slot handed out again reads as zero, whoever held it before; fork children hold
their parent's state; the zeroing of new slots is batched, done when a model call first reads the states."""

import torch

from m1reason.engine import PagedCache
from m1reason.model import ModelConfig


def cache_with_a_used_slot():
    config = ModelConfig.tiny()
    cache = PagedCache(config, slots=4, max_len=32, kv_tokens=64)
    layer = config.mamba_layers[0]
    slot = cache.allocate_slot()
    cache.conv_state(layer)[slot] = 7.0  # as a sequence leaves it
    cache.ssm_state(layer)[slot] = -3.0
    cache.free_slot(slot)
    return cache, layer, slot


def test_a_slot_handed_out_again_reads_as_zero():
    cache, layer, slot = cache_with_a_used_slot()
    again = cache.allocate_slot()
    assert again == slot  # the free list hands the same slot back
    assert not cache.conv_state(layer)[again].any() and not cache.ssm_state(layer)[again].any()


def test_new_slots_are_zeroed_together_when_the_states_are_read(monkeypatch):
    cache, layer, _ = cache_with_a_used_slot()
    fills = []
    original = torch.Tensor.index_fill_
    monkeypatch.setattr(torch.Tensor, "index_fill_", lambda t, *a: fills.append(1) or original(t, *a))
    slots = [cache.allocate_slot() for _ in range(3)]
    assert not fills  # handing out slots writes no state
    cache.conv_state(layer)
    per_tensor = 2 * len(cache.config.mamba_layers)
    assert len(fills) == per_tensor  # one write per state tensor for all three slots
    cache.ssm_state(layer)
    assert len(fills) == per_tensor  # and only once
    assert all(not cache.conv_state(i)[slots].any() for i in cache.config.mamba_layers)


def test_fork_children_hold_the_parent_state_not_zeros():
    config = ModelConfig.tiny()
    cache = PagedCache(config, slots=4, max_len=32, kv_tokens=64)
    layer = config.mamba_layers[0]
    parent = cache.allocate_slot()
    cache.conv_state(layer)[parent] = 5.0
    cache.reserve(parent, 3)
    cache.lengths[parent] = 3
    children = cache.fork(parent, 2)
    assert torch.all(cache.conv_state(layer)[children] == 5.0)
