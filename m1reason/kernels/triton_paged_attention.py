"""Triton: attention decode over a paged KV cache (split-K flash-decoding), GQA-aware.

One program per (sequence, kv head, split): the G query heads that share the kv head are one tile, and the
program walks its share of the sequence's blocks up to the live length only (never the padded maximum),
keeping a running max and sum, several blocks per iteration (``TILE_TOKENS``); a second small kernel merges
the splits. Splits give a small batch enough programs to fill the GPU; a large batch needs one.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

__all__ = ["paged_attention_decode_triton", "TILE_TOKENS"]

# Keys per loop iteration and warps per program, the fastest tiling ``python -m benchmarks.kernel_tiles`` found
# at large batch and long contexts, where the kernel is bound by reading the cache (several cache blocks per
# iteration keep more loads in flight); at batch 1 every tiling takes about the same time.
TILE_TOKENS = 64
NUM_WARPS = 2


@triton.jit
def _paged_decode_kernel(q_ptr, k_ptr, v_ptr, table_ptr, slots_ptr, pos_ptr, acc_ptr, ml_ptr, scale, max_blocks,
                         stride_q_b, stride_q_h, stride_k_blk, stride_k_pos, stride_k_h, stride_table,
                         stride_acc_b, stride_acc_h, stride_acc_s, stride_ml_b, stride_ml_h, stride_ml_s,
                         G: tl.constexpr, G_PAD: tl.constexpr, HD: tl.constexpr, BLOCK: tl.constexpr,
                         PAGES: tl.constexpr, TILES_PER_SPLIT: tl.constexpr, IEEE: tl.constexpr):
    b = tl.program_id(0)
    kvh = tl.program_id(1)
    split = tl.program_id(2)
    slot = tl.load(slots_ptr + b).to(tl.int64)
    length = tl.load(pos_ptr + b) + 1  # keys 0..position (the new token's key is already written)
    g = tl.arange(0, G_PAD)
    d = tl.arange(0, HD)
    heads = kvh * G + g
    q = tl.load(q_ptr + b * stride_q_b + heads[:, None] * stride_q_h + d[None, :], mask=g[:, None] < G, other=0.0)
    # A tile is PAGES cache blocks: token j of the tile sits at row j % BLOCK of the tile's page j // BLOCK.
    TILE: tl.constexpr = PAGES * BLOCK
    j = tl.arange(0, TILE)
    first = split * TILES_PER_SPLIT
    last = tl.minimum(first + TILES_PER_SPLIT, tl.cdiv(length, TILE))
    m = tl.full([G_PAD], float("-inf"), tl.float32)
    denom = tl.zeros([G_PAD], tl.float32)
    acc = tl.zeros([G_PAD, HD], tl.float32)
    for tile in range(first, last):
        token = tile * TILE + j
        live = token < length
        page = tile * PAGES + j // BLOCK
        phys = tl.load(table_ptr + slot * stride_table + page, mask=live & (page < max_blocks), other=0).to(tl.int64)
        offs = phys[:, None] * stride_k_blk + (j % BLOCK)[:, None] * stride_k_pos + kvh * stride_k_h + d[None, :]
        k = tl.load(k_ptr + offs, mask=live[:, None], other=0.0)
        v = tl.load(v_ptr + offs, mask=live[:, None], other=0.0)
        if IEEE:  # fp32 models: exact products (tensor-core tf32 would round them)
            s = tl.dot(q, tl.trans(k), input_precision="ieee") * scale
        else:
            s = tl.dot(q, tl.trans(k)).to(tl.float32) * scale
        s = tl.where(live[None, :], s, float("-inf"))
        m_new = tl.maximum(m, tl.max(s, axis=1))
        p = tl.exp(s - m_new[:, None])
        alpha = tl.exp(m - m_new)
        denom = denom * alpha + tl.sum(p, axis=1)
        if IEEE:
            acc = acc * alpha[:, None] + tl.dot(p, v, input_precision="ieee")
        else:
            acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v).to(tl.float32)
        m = m_new
    out = acc_ptr + b * stride_acc_b + heads[:, None] * stride_acc_h + split * stride_acc_s + d[None, :]
    tl.store(out, acc, mask=g[:, None] < G)
    ml = ml_ptr + b * stride_ml_b + heads * stride_ml_h + split * stride_ml_s
    tl.store(ml, m, mask=g < G)
    tl.store(ml + 1, denom, mask=g < G)


@triton.jit
def _combine_kernel(acc_ptr, ml_ptr, out_ptr, splits, stride_acc_b, stride_acc_h, stride_acc_s, stride_ml_b,
                    stride_ml_h, stride_ml_s, stride_out_b, stride_out_h, HD: tl.constexpr, S_PAD: tl.constexpr):
    """Merge one (sequence, head)'s splits: sum over splits of exp(m_s - max m) acc_s, over the same sum of the
    denominators. Empty splits have m = -inf and weigh 0."""
    b = tl.program_id(0).to(tl.int64)
    h = tl.program_id(1)
    s = tl.arange(0, S_PAD)
    d = tl.arange(0, HD)
    ml = ml_ptr + b * stride_ml_b + h * stride_ml_h + s * stride_ml_s
    m = tl.load(ml, mask=s < splits, other=float("-inf"))
    denom = tl.load(ml + 1, mask=s < splits, other=0.0)
    weight = tl.exp(m - tl.max(m, axis=0))
    weight = tl.where(s < splits, weight, 0.0)  # exp(-inf - -inf) would be nan for padding
    acc = tl.load(acc_ptr + b * stride_acc_b + h * stride_acc_h + s[:, None] * stride_acc_s + d[None, :],
                  mask=(s < splits)[:, None], other=0.0)
    out = tl.sum(acc * weight[:, None], axis=0) / tl.sum(denom * weight, axis=0)
    tl.store(out_ptr + b * stride_out_b + h * stride_out_h + d, out.to(out_ptr.dtype.element_ty))


def num_splits(batch: int, kv_heads: int, max_tiles: int, programs: int = 264) -> int:
    """Splits per sequence so that batch x kv_heads x splits reaches about ``programs`` (by default 2 per SM of a
    132-SM GPU)."""
    return max(1, min(max_tiles, -(-programs // (batch * kv_heads))))


def paged_attention_decode_triton(q: Tensor, k_pool: Tensor, v_pool: Tensor, block_table: Tensor, slots: Tensor,
                                  positions: Tensor, splits: int | None = None, tile_tokens: int = TILE_TOKENS,
                                  num_warps: int = NUM_WARPS) -> Tensor:
    """q [b, H, hd] attends over keys 0..positions[i] of slot slots[i]; pools [blocks, block_size, Hkv, hd].
    Returns [b, H, hd] in q's dtype. Capturable in a CUDA graph (no host synchronisation). ``tile_tokens``: keys
    per loop iteration (whole cache blocks, at least one)."""
    b, H, hd = q.shape
    block = k_pool.shape[1]
    kv_heads = k_pool.shape[2]
    G = H // kv_heads
    max_blocks = block_table.shape[1]
    pages = max(1, tile_tokens // block)
    max_tiles = -(-max_blocks // pages)
    splits = splits or num_splits(b, kv_heads, max_tiles)
    per_split = -(-max_tiles // splits)
    acc = torch.empty(b, H, splits, hd, dtype=torch.float32, device=q.device)
    ml = torch.empty(b, H, splits, 2, dtype=torch.float32, device=q.device)
    q = q.contiguous()
    _paged_decode_kernel[(b, kv_heads, splits)](
        q, k_pool, v_pool, block_table, slots, positions, acc, ml, hd ** -0.5, max_blocks,
        q.stride(0), q.stride(1), k_pool.stride(0), k_pool.stride(1), k_pool.stride(2), block_table.stride(0),
        acc.stride(0), acc.stride(1), acc.stride(2), ml.stride(0), ml.stride(1), ml.stride(2),
        G=G, G_PAD=max(16, triton.next_power_of_2(G)), HD=hd, BLOCK=block, PAGES=pages, TILES_PER_SPLIT=per_split,
        IEEE=q.dtype == torch.float32, num_warps=num_warps)
    # one kernel merges the splits (in torch it took nine, each a launch per attention layer and step)
    out = torch.empty(b, H, hd, dtype=q.dtype, device=q.device)
    _combine_kernel[(b, H)](acc, ml, out, splits, acc.stride(0), acc.stride(1), acc.stride(2), ml.stride(0),
                            ml.stride(1), ml.stride(2), out.stride(0), out.stride(1), HD=hd,
                            S_PAD=max(2, triton.next_power_of_2(splits)), num_warps=4)
    return out
