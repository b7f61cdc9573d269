"""Triton: RoPE on the query and key heads of any number of tokens in one launch.

In torch, ``apply_rope`` on one token per sequence is ~12 tiny kernels (angles, cos and sin twice, concatenations,
the rotate-half, casts) for q and again for k: ~150 launches a step over M1-3B's 6 attention layers, each
launch-bound at decode batch sizes. Here one program per (token, block of heads) reads q's and k's heads straight
from in_proj's fused output, rotates them in fp32 and writes them in the input dtype: the same math as
``m1reason.kernels.rope.rope_qk_ref`` (NeoX rotate-half, angles in fp32).
A prefill's tokens are rows too, and there torch's rotation moves q and k through fp32 copies several times.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

__all__ = ["rope_qk_triton"]


@triton.jit
def _rope_qk_kernel(qkv_ptr, q_ptr, k_ptr, positions_ptr, inv_freq_ptr, stride_row, q_heads, heads,
                    HALF: tl.constexpr, BLOCK_H: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    head = tl.program_id(1) * BLOCK_H + tl.arange(0, BLOCK_H)
    live = head < heads
    j = tl.arange(0, HALF)
    angle = tl.load(positions_ptr + row).to(tl.float32) * tl.load(inv_freq_ptr + j)
    cos, sin = tl.cos(angle)[None, :], tl.sin(angle)[None, :]
    src = qkv_ptr + row * stride_row + head[:, None] * (2 * HALF) + j[None, :]
    x1 = tl.load(src, mask=live[:, None], other=0.0).to(tl.float32)
    x2 = tl.load(src + HALF, mask=live[:, None], other=0.0).to(tl.float32)
    first = x1 * cos + -x2 * sin  # x * cos + rotate_half(x) * sin, rotate_half(x) = (-x2, x1)
    second = x2 * cos + x1 * sin
    is_q = (head < q_heads)[:, None]
    q_dst = q_ptr + row * q_heads * (2 * HALF) + head[:, None] * (2 * HALF) + j[None, :]
    k_dst = k_ptr + row * (heads - q_heads) * (2 * HALF) + (head - q_heads)[:, None] * (2 * HALF) + j[None, :]
    q_mask, k_mask = live[:, None] & is_q, live[:, None] & ~is_q
    tl.store(q_dst, first.to(q_ptr.dtype.element_ty), mask=q_mask)
    tl.store(q_dst + HALF, second.to(q_ptr.dtype.element_ty), mask=q_mask)
    tl.store(k_dst, first.to(k_ptr.dtype.element_ty), mask=k_mask)
    tl.store(k_dst + HALF, second.to(k_ptr.dtype.element_ty), mask=k_mask)


def rope_qk_triton(qkv: Tensor, positions: Tensor, inv_freq: Tensor, q_heads: int, kv_heads: int,
                   head_dim: int) -> tuple[Tensor, Tensor]:
    """q [n, q_heads, head_dim] and k [n, kv_heads, head_dim], rotated to ``positions`` [n], from in_proj's output
    ``qkv`` [n, (q_heads + 2 kv_heads) head_dim] for n tokens (q's heads, then k's, then v's; its last dimension
    contiguous). CUDA tensors; fresh contiguous outputs in qkv's dtype."""
    n = qkv.shape[0]
    assert qkv.stride(-1) == 1 and head_dim % 2 == 0
    q = torch.empty(n, q_heads, head_dim, dtype=qkv.dtype, device=qkv.device)
    k = torch.empty(n, kv_heads, head_dim, dtype=qkv.dtype, device=qkv.device)
    heads, block_h = q_heads + kv_heads, 8
    _rope_qk_kernel[(n, triton.cdiv(heads, block_h))](
        qkv, q, k, positions, inv_freq.float().contiguous(), qkv.stride(0), q_heads, heads,
        HALF=head_dim // 2, BLOCK_H=block_h, num_warps=2)
    return q, k
