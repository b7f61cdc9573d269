"""Rotary position embeddings (NeoX rotate-half, angles in fp32) on the query and key heads of attention.

``apply_rope`` rotates one tensor of heads; ``rope_qk_ref`` is the definition of what the attention layer needs:
q's and k's heads cut from in_proj's fused output and rotated. ``rope_qk`` runs the Triton kernel of
``triton_rope`` (both in one launch, read straight from the fused output) for CUDA tensors where no gradient is
recorded and the head size suits it, else the reference. The inverse frequencies come from
``m1reason.model.layers.rope_inverse_frequencies``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from m1reason.kernels.dispatch import use_triton

__all__ = ["apply_rope", "rope_qk", "rope_qk_ref"]


def apply_rope(x: Tensor, positions: Tensor, inv_freq: Tensor) -> Tensor:
    """Rotate-half (NeoX layout) RoPE over all of the last dimension.

    x: [..., T, H, head_dim]; positions: [..., T] (integers, per sequence); inv_freq: [head_dim / 2].
    Angles are computed in fp32 and the result cast back to x's dtype.

    >>> x = torch.randn(1, 3, 2, 4)
    >>> torch.allclose(apply_rope(x, torch.zeros(1, 3, dtype=torch.long), torch.ones(2)), x)
    True
    """
    angles = positions.unsqueeze(-1).float() * inv_freq  # [..., T, hd/2]
    cos = torch.cat([angles.cos(), angles.cos()], dim=-1).unsqueeze(-2)  # [..., T, 1, hd]
    sin = torch.cat([angles.sin(), angles.sin()], dim=-1).unsqueeze(-2)
    x32 = x.float()
    half = x.shape[-1] // 2
    rotated = torch.cat([-x32[..., half:], x32[..., :half]], dim=-1)
    return (x32 * cos + rotated * sin).to(x.dtype)


def rope_qk_ref(qkv: Tensor, positions: Tensor, inv_freq: Tensor, q_heads: int, kv_heads: int,
                head_dim: int) -> tuple[Tensor, Tensor]:
    """q [..., q_heads, head_dim] and k [..., kv_heads, head_dim] rotated to ``positions`` [...], from in_proj's
    fused output ``qkv`` [..., (q_heads + 2 kv_heads) head_dim] (q's heads, then k's, then v's).

    >>> qkv = torch.randn(2, 3, (4 + 2 * 2) * 8)
    >>> q, k = rope_qk_ref(qkv, torch.zeros(2, 3, dtype=torch.long), torch.ones(4), 4, 2, 8)
    >>> q.shape, k.shape, torch.equal(q.flatten(-2), qkv[..., :32])
    (torch.Size([2, 3, 4, 8]), torch.Size([2, 3, 2, 8]), True)
    """
    lead = qkv.shape[:-1]
    q_dim, kv_dim = q_heads * head_dim, kv_heads * head_dim
    q, k = qkv[..., :q_dim], qkv[..., q_dim:q_dim + kv_dim]
    q = apply_rope(q.view(*lead, q_heads, head_dim), positions, inv_freq)
    k = apply_rope(k.view(*lead, kv_heads, head_dim), positions, inv_freq)
    return q, k


def rope_qk(qkv: Tensor, positions: Tensor, inv_freq: Tensor, q_heads: int, kv_heads: int,
            head_dim: int) -> tuple[Tensor, Tensor]:
    """q's and k's heads rotated on the best backend available; same contract as ``rope_qk_ref``. The kernel
    takes the tokens as rows (any leading shape) and replaces torch's chain of small elementwise ops by one launch.

    >>> qkv = torch.randn(5, (4 + 2 * 2) * 8)
    >>> q, k = rope_qk(qkv, torch.arange(5), torch.ones(4), 4, 2, 8)
    >>> q.shape, k.shape
    (torch.Size([5, 4, 8]), torch.Size([5, 2, 8]))
    """
    if use_triton(qkv) and kernel_fits(head_dim):
        from m1reason.kernels.triton_rope import rope_qk_triton  # lazy: triton is an optional dependency

        lead = qkv.shape[:-1]
        q, k = rope_qk_triton(qkv.reshape(-1, qkv.shape[-1]), positions.reshape(-1), inv_freq, q_heads, kv_heads,
                              head_dim)
        return q.view(*lead, q_heads, head_dim), k.view(*lead, kv_heads, head_dim)
    return rope_qk_ref(qkv, positions, inv_freq, q_heads, kv_heads, head_dim)


def kernel_fits(head_dim: int) -> bool:
    """Whether the Triton kernel takes this head size: its ``tl.arange`` over half a head needs a power of 2.

    >>> kernel_fits(128), kernel_fits(96)
    (True, False)
    """
    half = head_dim // 2
    return half & (half - 1) == 0
