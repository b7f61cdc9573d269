"""Attention decode over the engine's paged KV cache: one new query per sequence, keys 0..its position.

``paged_attention_decode_ref`` gathers each sequence's blocks and runs masked SDPA (it reads the padded
span of the longest sequence); the Triton kernel reads only each sequence's live blocks.
"""

from __future__ import annotations

from torch import Tensor

from m1reason.kernels.causal_attention import attend_causal
from m1reason.kernels.dispatch import use_triton

__all__ = ["paged_attention_decode", "paged_attention_decode_ref", "paged_attention_ref"]


def paged_attention_ref(q: Tensor, k_pool: Tensor, v_pool: Tensor, block_table: Tensor, slots: Tensor,
                        positions: Tensor) -> Tensor:
    """q [b, T, H, hd] at ``positions`` [b, T] attends over keys 0..position of slot slots[i]: the slots' blocks
    up to the longest position are gathered into [b, L, Hkv, hd] and attended with a causal mask.

    >>> import torch
    >>> pool = torch.randn(4, 2, 1, 8)                        # 4 blocks of 2 tokens, 1 kv head
    >>> table = torch.tensor([[2, 0], [1, 3]])                # slot 0 owns blocks 2, 0; slot 1 owns 1, 3
    >>> out = paged_attention_ref(torch.randn(2, 1, 2, 8), pool, pool, table, torch.tensor([1, 0]),
    ...                           torch.tensor([[0], [2]]))
    >>> out.shape
    torch.Size([2, 1, 2, 8])
    """
    span = int(positions.max()) // k_pool.shape[1] + 1
    blocks = block_table[slots, :span]
    b = q.shape[0]
    k = k_pool[blocks].reshape(b, span * k_pool.shape[1], *k_pool.shape[2:])
    v = v_pool[blocks].reshape(b, span * v_pool.shape[1], *v_pool.shape[2:])
    return attend_causal(q, k.to(q.dtype), v.to(q.dtype), positions)


def paged_attention_decode_ref(q: Tensor, k_pool: Tensor, v_pool: Tensor, block_table: Tensor, slots: Tensor,
                               positions: Tensor) -> Tensor:
    """One query per sequence: q [b, H, hd] at positions [b] -> [b, H, hd] (``paged_attention_ref`` with T = 1).

    >>> import torch
    >>> pool = torch.randn(4, 2, 1, 8)
    >>> out = paged_attention_decode_ref(torch.randn(2, 2, 8), pool, pool, torch.tensor([[2, 0], [1, 3]]),
    ...                                  torch.tensor([1, 0]), torch.tensor([0, 2]))
    >>> out.shape
    torch.Size([2, 2, 8])
    """
    return paged_attention_ref(q[:, None], k_pool, v_pool, block_table, slots, positions[:, None])[:, 0]


def paged_attention_decode(q: Tensor, k_pool: Tensor, v_pool: Tensor, block_table: Tensor, slots: Tensor,
                           positions: Tensor) -> Tensor:
    """The best available implementation (Triton on CUDA for cache blocks of at least 16 tokens, else the
    reference); same contract as ``paged_attention_decode_ref``.

    >>> import torch
    >>> pool = torch.randn(4, 2, 1, 8)
    >>> out = paged_attention_decode(torch.randn(2, 2, 8), pool, pool, torch.tensor([[2, 0], [1, 3]]),
    ...                              torch.tensor([1, 0]), torch.tensor([0, 2]))
    >>> out.shape
    torch.Size([2, 2, 8])
    """
    if use_triton(q) and k_pool.shape[1] >= 16:
        # lazy: triton is an optional dependency
        from m1reason.kernels.triton_paged_attention import paged_attention_decode_triton

        return paged_attention_decode_triton(q, k_pool, v_pool, block_table, slots, positions)
    return paged_attention_decode_ref(q, k_pool, v_pool, block_table, slots, positions)
