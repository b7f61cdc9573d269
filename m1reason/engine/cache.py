"""PagedCache: the engine's decode state, a fixed pool of sequence slots.

Per Mamba layer: conv_state [slots, d_inner, d_conv] and ssm_state [slots, d_inner, d_state], a fixed
2.7 MB per slot for M1-3B whatever the length. Per attention layer: a pool of fixed-size KV blocks shared
by all slots through per-slot block tables, so a few 32k-token chains and many short samples fit in one
pool. Verbs: allocate/free slots, reserve blocks for a length, fork one slot into others, reset.
Implements m1reason.model.InferenceCache, so HybridLM.prefill/step run on it unchanged.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import Tensor

from m1reason.engine.transfer import to_device
from m1reason.errors import CapacityError
from m1reason.kernels.paged_attention import paged_attention_decode, paged_attention_ref
from m1reason.model.config import ModelConfig

__all__ = ["OutOfBlocks", "PagedCache"]


class OutOfBlocks(CapacityError):
    """The KV block pool cannot hold what a step needs; the scheduler preempts and retries."""


class PagedCache:
    """Slots + paged KV for ``config``. ``kv_tokens`` is the pool size in tokens (rounded up to blocks).

    >>> cache = PagedCache(ModelConfig.tiny(), slots=4, max_len=64, kv_tokens=128, block_size=16)
    >>> slot = cache.allocate_slot(); cache.reserve(slot, 20); cache.free_blocks
    6
    >>> cache.lengths[slot] = 20   # as a 20-token prefill leaves it
    >>> children = cache.fork(slot, 2); cache.free_blocks   # full blocks shared, the partial one copied
    4
    """

    def __init__(self, config: ModelConfig, *, slots: int, max_len: int, kv_tokens: int, block_size: int = 16,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        self.config, self.block_size, self.max_len = config, block_size, max_len
        self.num_slots = slots
        self.device = torch.device(device)
        # One extra row, never handed out: batch padding (CUDA graphs run fixed batch sizes) points there, and
        # its block-table row points at one scratch block outside the pool, so padding never touches real state.
        self.pad_slot = slots
        rows = slots + 1
        self.lengths = torch.zeros(rows, dtype=torch.long, device=device)
        # Each kind of state is one tensor over the layers, and a layer's state a view into it, so zeroing new
        # slots or forking one is an indexed write per kind for all layers (a kernel launch each on a GPU; per
        # layer, a fork of M1-3B's 22 Mamba and 6 attention layers took over a hundred).
        mamba, attn = config.mamba_layers, config.attn_layers
        self._conv_all = torch.zeros(len(mamba), rows, config.d_inner, config.d_conv, dtype=dtype, device=device)
        self._ssm_all = torch.zeros(len(mamba), rows, config.d_inner, config.d_state, dtype=dtype, device=device)
        self._conv = {layer: self._conv_all[i] for i, layer in enumerate(mamba)}
        self._ssm = {layer: self._ssm_all[i] for i, layer in enumerate(mamba)}
        self.uses_blocks = bool(attn)
        num_blocks = -(-kv_tokens // block_size) if self.uses_blocks else 0
        shape = (num_blocks + 1, block_size, config.num_kv_heads, config.head_dim)  # + the scratch block
        self._k_all = torch.zeros(len(attn), *shape, dtype=dtype, device=device)
        self._v_all = torch.zeros(len(attn), *shape, dtype=dtype, device=device)
        self._k = {layer: self._k_all[i] for i, layer in enumerate(attn)}
        self._v = {layer: self._v_all[i] for i, layer in enumerate(attn)}
        self.blocks_per_slot = -(-max_len // block_size)
        # Every block-table entry a slot does not own points at the scratch block: a write past a slot's
        # reservation (the padding of a batched prefill, a decode step run ahead) lands there, never in a block
        # another slot owns.
        self.scratch_block = num_blocks
        self.block_table = torch.full((rows, self.blocks_per_slot), num_blocks, dtype=torch.long, device=device)
        self._owned: list[list[int]] = [[] for _ in range(slots)]  # host mirror of each slot's blocks
        self._refs = [0] * num_blocks
        self._free_blocks = list(range(num_blocks - 1, -1, -1))
        self._free_slots = list(range(slots - 1, -1, -1))
        self._pending_writes: list[tuple[int, int, int]] | None = None  # block-table writes held for one copy
        # Slots handed out whose Mamba states are still to be zeroed: done for all of them at once when a model call
        # first reads the states (two writes, whatever the count), and never for
        # fork children, whose states are overwritten with the parent's.
        self._unzeroed: list[int] = []

    # ---- capacity -------------------------------------------------------------------------------------------
    @property
    def free_slots(self) -> int:
        return len(self._free_slots)

    @property
    def free_blocks(self) -> int:
        return len(self._free_blocks)

    @property
    def num_blocks(self) -> int:
        return len(self._refs)

    def blocks_needed(self, slot: int, length: int) -> int:
        """New blocks ``slot`` needs to hold ``length`` tokens."""
        if not self.uses_blocks:
            return 0
        return max(0, -(-length // self.block_size) - len(self._owned[slot]))

    def room(self, slot: int) -> int:
        """Tokens ``slot`` can hold without reserving: its blocks' capacity (max_len when there is no KV).

        >>> cache = PagedCache(ModelConfig.tiny(), slots=1, max_len=64, kv_tokens=128, block_size=16)
        >>> slot = cache.allocate_slot(); cache.reserve(slot, 20); cache.room(slot)
        32
        """
        if not self.uses_blocks:
            return self.max_len
        return min(len(self._owned[slot]) * self.block_size, self.max_len)

    # ---- verbs ----------------------------------------------------------------------------------------------
    def allocate_slot(self) -> int:
        """A free slot; its length is 0 (every slot starts so and ``free_slot`` puts it back so: no write here, which
        on a GPU would be a kernel launch per slot), its Mamba states zeroed when a model call first reads them."""
        if not self._free_slots:
            raise CapacityError(f"all {self.num_slots} slots are in use")
        slot = self._free_slots.pop()
        self._unzeroed.append(slot)
        return slot

    def zero_new_slots(self) -> None:
        """Zero the Mamba states of the slots handed out since the last call, in one batched write per tensor.
        The state accessors call it, so a model call never reads a new slot's stale state; a CUDA graph being
        captured must not record it (``DecodeGraphs`` calls it before capturing)."""
        if not self._unzeroed:
            return
        if self.device.type == "cuda" and torch.cuda.is_current_stream_capturing():
            raise RuntimeError("new slots must be zeroed before a CUDA graph capture, not recorded in it")
        rows = to_device(torch.tensor(self._unzeroed), self.device)
        self._unzeroed = []
        for states in (self._conv_all, self._ssm_all):
            states.index_fill_(1, rows, 0)

    def written_whole(self, slots: list[int]) -> None:
        """These slots' Mamba states are about to be written whole (fork children, a fresh prompt's prefill replayed
        from a graph): they need not be zeroed, and must not be later, after they were written."""
        self._unzeroed = [s for s in self._unzeroed if s not in slots]

    def free_slot(self, slot: int) -> None:
        self.free_many([slot])

    def free_many(self, slots: list[int]) -> None:
        """Give slots back: their blocks (shared ones once no slot holds them), their block-table rows pointed at
        the scratch block and their lengths set to 0, in one write each for all of them (a kernel launch each on
        a GPU, for the samples of a request that end together).

        >>> cache = PagedCache(ModelConfig.tiny(), slots=2, max_len=64, kv_tokens=128, block_size=16)
        >>> a, b = cache.allocate_slot(), cache.allocate_slot(); cache.reserve(a, 20); cache.reserve(b, 5)
        >>> cache.free_many([a, b]); cache.free_slots, cache.free_blocks
        (2, 8)
        """
        if not slots:
            return
        if self._pending_writes:  # block-table writes held for these slots would point at blocks they give back
            self._pending_writes = [write for write in self._pending_writes if write[0] not in slots]
        for slot in slots:
            for block in self._owned[slot]:
                self._release(block)
            self._owned[slot] = []
        rows = slots[0] if len(slots) == 1 else to_device(torch.tensor(slots), self.device)
        self.block_table[rows] = self.scratch_block
        self.lengths[rows] = 0
        self._free_slots.extend(slots)

    def reserve(self, slot: int, length: int) -> None:
        """Make sure ``slot`` has blocks for ``length`` tokens; raises OutOfBlocks (taking none) if the pool can't."""
        if length > self.max_len:
            raise CapacityError(f"a sequence of {length} tokens exceeds max_len {self.max_len}")
        need = self.blocks_needed(slot, length)
        if need > len(self._free_blocks):
            raise OutOfBlocks(f"need {need} KV blocks, {len(self._free_blocks)} free")
        for _ in range(need):
            block = self._free_blocks.pop()
            self._refs[block] = 1
            if self._pending_writes is None:
                self.block_table[slot, len(self._owned[slot])] = block
            else:
                self._pending_writes.append((slot, len(self._owned[slot]), block))
            self._owned[slot].append(block)

    @contextmanager
    def batched_block_writes(self):
        """Hold the block-table writes of the ``reserve`` calls inside, and make them as one copy on leaving.

        A decode step of n samples started together crosses a block boundary in all n at once; one indexed
        write per block would be n kernel launches on a GPU, this is one host-to-device copy and one launch.

        >>> cache = PagedCache(ModelConfig.tiny(), slots=2, max_len=64, kv_tokens=128, block_size=16)
        >>> a, b = cache.allocate_slot(), cache.allocate_slot()
        >>> with cache.batched_block_writes():
        ...     cache.reserve(a, 20); cache.reserve(b, 5)
        >>> cache.block_table[[a, b], :2].tolist()  # b's second entry: the scratch block (8 blocks + 1)
        [[0, 1], [2, 8]]
        """
        if self._pending_writes is not None:  # already inside one: the outer one writes
            yield
            return
        self._pending_writes = []
        try:
            yield
        finally:
            writes, self._pending_writes = self._pending_writes, None
            if writes:
                where = to_device(torch.tensor(writes, dtype=torch.long), self.device).T
                self.block_table[where[0], where[1]] = where[2]

    def fork(self, parent: int, n: int, length: int | None = None) -> list[int]:
        """n new slots holding ``parent``'s state. Full KV blocks are shared (never written again: writes go
        to positions >= length); the partially filled last block is copied so each child writes its own. Every
        copy is one indexed write for all n children (on a GPU each write is a kernel launch: M1-3B's 16 samples
        of a prompt would otherwise take hundreds). ``length``: the parent's, as the caller knows it (None reads
        it from the device, which waits for the work queued there)."""
        length = int(self.lengths[parent]) if length is None else length
        partial = length % self.block_size != 0 and self.uses_blocks
        if len(self._free_slots) < n:
            raise CapacityError(f"fork needs {n} slots, {len(self._free_slots)} free")
        if partial and len(self._free_blocks) < n:
            raise OutOfBlocks(f"fork needs {n} KV blocks, {len(self._free_blocks)} free")
        self.zero_new_slots()  # the parent's state must be settled before it is copied
        children = [self.allocate_slot() for _ in range(n)]
        self.written_whole(children)  # overwritten just below
        rows = to_device(torch.tensor(children), self.device)
        for states in (self._conv_all, self._ssm_all):
            states[:, rows] = states[:, parent, None].clone()
        self.lengths[rows] = length
        shared = self._owned[parent][:-1] if partial else self._owned[parent]
        if shared:
            self.block_table[rows, :len(shared)] = self.block_table[parent, :len(shared)]
        for child in children:
            for block in shared:
                self._refs[block] += 1
            self._owned[child] = list(shared)
        if partial:
            with self.batched_block_writes():
                for child in children:
                    self.reserve(child, length)
            src = self._owned[parent][-1]
            copies = to_device(torch.tensor([self._owned[child][-1] for child in children]), self.device)
            for pool in (self._k_all, self._v_all):
                pool[:, copies] = pool[:, src, None].clone()
        return children

    def _release(self, block: int) -> None:
        self._refs[block] -= 1
        if self._refs[block] == 0:
            self._free_blocks.append(block)

    # ---- InferenceCache -------------------------------------------------------------------------------------
    def conv_state(self, layer: int) -> Tensor:
        self.zero_new_slots()
        return self._conv[layer]

    def ssm_state(self, layer: int) -> Tensor:
        self.zero_new_slots()
        return self._ssm[layer]

    def write_kv(self, layer: int, slots: Tensor, positions: Tensor, k: Tensor, v: Tensor) -> None:
        blocks = self.block_table[slots[:, None], positions // self.block_size]  # [b, T]
        offsets = positions % self.block_size
        self._k[layer][blocks, offsets] = k.to(self._k[layer].dtype)
        self._v[layer][blocks, offsets] = v.to(self._v[layer].dtype)

    def attend_decode(self, layer: int, slots: Tensor, q: Tensor, positions: Tensor) -> Tensor:
        """One query per slot, q [b, H, hd], over keys 0..positions: the paged decode kernel (live blocks only)."""
        return paged_attention_decode(q, self._k[layer], self._v[layer], self.block_table, slots, positions)

    def attend(self, layer: int, slots: Tensor, q: Tensor, positions: Tensor) -> Tensor:
        """Several queries per slot (a chunk continuing a sequence): gather its live blocks and attend."""
        return paged_attention_ref(q, self._k[layer], self._v[layer], self.block_table, slots, positions)
