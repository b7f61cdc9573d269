"""PagedCache's slot states: a slot handed out again reads as zero, whoever held it before; fork children hold
their parent's state; the zeroing of new slots is batched, done when a model call first reads the states; zeroing
and forking write each kind of state once for every layer."""

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
    assert len(cache.config.mamba_layers) > 1
    assert len(fills) == 2  # one write per kind of state (conv, ssm) for all three slots and every layer
    cache.ssm_state(layer)
    assert len(fills) == 2  # and only once
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


def _forked(n: int, monkeypatch, config: ModelConfig | None = None):
    """A parent of 20 tokens (one full block of 16, a partial one) forked into n; returns the cache, the parent,
    the children and the number of indexed writes and block-table copies the fork made."""
    config = config or ModelConfig.tiny()
    cache = PagedCache(config, slots=10, max_len=64, kv_tokens=256, block_size=16)
    parent = cache.allocate_slot()
    cache.reserve(parent, 20)
    cache.lengths[parent] = 20
    for pool in (*cache._k.values(), *cache._v.values()):
        pool[cache._owned[parent]] = torch.randn_like(pool[cache._owned[parent]])
    writes = []
    real = torch.Tensor.__setitem__
    monkeypatch.setattr(torch.Tensor, "__setitem__", lambda t, i, v: (writes.append(1), real(t, i, v))[1])
    children = cache.fork(parent, n)
    monkeypatch.undo()
    return cache, parent, children, len(writes)


def test_a_fork_writes_once_per_kind_of_state_whatever_the_children_and_the_layers(monkeypatch):
    """On a GPU every indexed write is a kernel launch: 2 children or 8, 6 layers or 12, the same number of them
    (each kind of state, conv, ssm, K and V, is one tensor over the layers)."""
    few = _forked(2, monkeypatch)[3]
    deep = _forked(2, monkeypatch, ModelConfig.tiny(num_layers=12, attn_layers=(1, 5, 9)))[3]
    cache, parent, children, many = _forked(8, monkeypatch)
    assert few == many == deep
    full, partial = cache._owned[parent]
    for child in children:
        assert cache._owned[child][0] == full and cache._owned[child][1] != partial  # shared, then its own copy
        assert cache.block_table[child, :2].tolist() == cache._owned[child]
        for pool in (*cache._k.values(), *cache._v.values()):
            assert torch.equal(pool[cache._owned[child][1]], pool[partial])
    assert cache._refs[full] == 1 + len(children)


def test_freeing_a_slot_drops_its_held_block_table_writes():
    cache = PagedCache(ModelConfig.tiny(), slots=2, max_len=64, kv_tokens=128, block_size=16)
    a, b = cache.allocate_slot(), cache.allocate_slot()
    with cache.batched_block_writes():
        cache.reserve(a, 20)
        cache.free_slot(a)  # gives its blocks back before the writes are made
        cache.reserve(b, 5)
    assert cache.block_table[a].eq(cache.scratch_block).all()  # no entry pointing at a block it no longer owns
    assert cache.block_table[b, 0].item() == cache._owned[b][0]


def test_slots_freed_together_take_one_write_per_tensor(monkeypatch):
    cache = PagedCache(ModelConfig.tiny(), slots=8, max_len=64, kv_tokens=512, block_size=16)
    slots = [cache.allocate_slot() for _ in range(6)]
    for slot in slots:
        cache.reserve(slot, 40)
        cache.lengths[slot] = 40
    writes = []
    real = torch.Tensor.__setitem__
    monkeypatch.setattr(torch.Tensor, "__setitem__", lambda t, i, v: (writes.append(1), real(t, i, v))[1])
    cache.free_many(slots)
    monkeypatch.undo()
    assert len(writes) == 2  # the block-table rows, the lengths
    assert cache.free_slots == 8 and cache.free_blocks == cache.num_blocks
    assert cache.block_table[slots].eq(cache.scratch_block).all() and cache.lengths[slots].eq(0).all()
