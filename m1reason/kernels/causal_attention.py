"""Causal attention in torch: ``sdpa`` (torch's fused attention, never through cuDNN) and ``attend_causal`` (queries
at positions over keys 0..position, GQA heads expanded).

The reference every cache's attention is held to: the dense cache (``m1reason.model.cache``) attends through it,
and the paged decode's reference (``m1reason.kernels.paged_attention``) gathers its blocks and calls it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

__all__ = ["attend_causal", "sdpa"]


def sdpa(q: Tensor, k: Tensor, v: Tensor, **options) -> Tensor:
    """``F.scaled_dot_product_attention`` over q, k, v [b, H, T, hd]; on a GPU, never through the cuDNN backend.
    Prompts and appended text come in every length, and cuDNN's attention plans each new shape on first sight,
    inside the request that brings it: a first call of a new length costs far more than the attention itself
    (``python -m benchmarks.attention_first_call`` measures it). The backends an enclosing ``sdpa_kernel`` allows
    (training's deterministic math-only one, say) are kept, less cuDNN.

    >>> q = torch.randn(1, 2, 3, 8)
    >>> torch.allclose(sdpa(q, q, q, is_causal=True), F.scaled_dot_product_attention(q, q, q, is_causal=True))
    True
    """
    if not (q.is_cuda and torch.backends.cuda.cudnn_sdp_enabled()):
        return F.scaled_dot_product_attention(q, k, v, **options)
    with sdpa_kernel(_enabled_backends_but_cudnn()):
        return F.scaled_dot_product_attention(q, k, v, **options)


def _enabled_backends_but_cudnn() -> list[SDPBackend]:
    cuda = torch.backends.cuda
    enabled = ((SDPBackend.FLASH_ATTENTION, cuda.flash_sdp_enabled()),
               (SDPBackend.EFFICIENT_ATTENTION, cuda.mem_efficient_sdp_enabled()),
               (SDPBackend.MATH, cuda.math_sdp_enabled()))
    return [backend for backend, on in enabled if on] or [SDPBackend.MATH]


def attend_causal(q: Tensor, k: Tensor, v: Tensor, q_positions: Tensor, k_valid: Tensor | None = None) -> Tensor:
    """Attention of q [b, T, H, hd] over k, v [b, L, Hkv, hd] where key j is seen by a query at position p iff j <= p.

    ``k_valid`` [b, L] can further mask keys (e.g. unused cache entries). GQA heads are expanded here.

    >>> q = torch.randn(1, 2, 4, 8); k = v = torch.randn(1, 2, 2, 8)
    >>> attend_causal(q, k, v, torch.tensor([[0, 1]])).shape
    torch.Size([1, 2, 4, 8])
    """
    heads, kv_heads = q.shape[2], k.shape[2]
    k = k.repeat_interleave(heads // kv_heads, dim=2)
    v = v.repeat_interleave(heads // kv_heads, dim=2)
    key_pos = torch.arange(k.shape[1], device=q.device)
    mask = key_pos[None, None, :] <= q_positions[:, :, None]  # [b, T, L]
    if k_valid is not None:
        mask = mask & k_valid[:, None, :]
    out = sdpa(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask[:, None])
    return out.transpose(1, 2)
