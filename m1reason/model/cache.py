"""The decode-state contract between the model and whoever owns the memory, plus its simplest owner.

HybridLM reads and writes per-sequence state only through an ``InferenceCache``: Mamba conv/ssm state
tensors indexed by slot, and attention KV behind two verbs (write, attend). ``DenseCache`` keeps KV as
one contiguous [slots, kv_heads, max_len, head_dim] buffer per attention layer: the reference the
engine's paged cache is tested against.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

from m1reason.errors import CapacityError
from m1reason.model.config import ModelConfig

__all__ = ["DenseCache", "InferenceCache", "attend_causal", "sdpa"]


@runtime_checkable
class InferenceCache(Protocol):
    """What HybridLM needs from a decode-state store. Rows are slots of a fixed pool."""

    lengths: Tensor  # [slots] tokens already held per slot (= position of the next token)

    def conv_state(self, layer: int) -> Tensor: ...  # [slots, d_inner, d_conv]

    def ssm_state(self, layer: int) -> Tensor: ...  # [slots, d_inner, d_state]

    def write_kv(self, layer: int, slots: Tensor, positions: Tensor, k: Tensor, v: Tensor) -> None:
        """Store k, v [b, T, kv_heads, head_dim] at ``positions`` [b, T] of ``slots`` [b]."""

    def attend(self, layer: int, slots: Tensor, q: Tensor, positions: Tensor) -> Tensor:
        """Causal attention of q [b, T, heads, head_dim] at ``positions`` over the slot's stored KV."""


def sdpa(q: Tensor, k: Tensor, v: Tensor, **options) -> Tensor:
    """``F.scaled_dot_product_attention`` over q, k, v [b, H, T, hd]; on a GPU, never through the cuDNN backend.
    Prompts and appended text come in every length, and cuDNN's attention, which torch 2.11 picked on the H200,
    plans each new shape on first sight, inside the request that brings it: a median 47 ms (up to 0.9 s) for a
    causal prompt of a length not seen before and 62 ms (up to 0.8 s) with a mask, against 0.09 and 0.17 ms
    without cuDNN (H200, 2026-12-03: ``python -m benchmarks.attention_first_call``, BENCHMARKS.md
    "attention_first_call"; "head_start_h200_warm_cudnn" for what it did to 0.02 s budgets). The backends an
    enclosing ``sdpa_kernel`` allows (training's deterministic math-only one, say) are kept, less cuDNN.

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


class DenseCache:
    """Decode state for ``slots`` sequences of up to ``max_len`` tokens each, in plain contiguous tensors.

    >>> from m1reason.model.config import ModelConfig
    >>> cache = DenseCache(ModelConfig.tiny(), slots=2, max_len=16)
    >>> cache.conv_state(0).shape, cache.lengths.tolist()
    (torch.Size([2, 128, 4]), [0, 0])
    """

    def __init__(self, config: ModelConfig, *, slots: int, max_len: int, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu"):
        self.max_len = max_len
        self.lengths = torch.zeros(slots, dtype=torch.long, device=device)
        self._conv: dict[int, Tensor] = {}
        self._ssm: dict[int, Tensor] = {}
        self._k: dict[int, Tensor] = {}
        self._v: dict[int, Tensor] = {}
        for i in config.mamba_layers:
            self._conv[i] = torch.zeros(slots, config.d_inner, config.d_conv, dtype=dtype, device=device)
            self._ssm[i] = torch.zeros(slots, config.d_inner, config.d_state, dtype=dtype, device=device)
        for i in config.attn_layers:
            shape = (slots, max_len, config.num_kv_heads, config.head_dim)
            self._k[i] = torch.zeros(shape, dtype=dtype, device=device)
            self._v[i] = torch.zeros(shape, dtype=dtype, device=device)

    def conv_state(self, layer: int) -> Tensor:
        return self._conv[layer]

    def ssm_state(self, layer: int) -> Tensor:
        return self._ssm[layer]

    def write_kv(self, layer: int, slots: Tensor, positions: Tensor, k: Tensor, v: Tensor) -> None:
        if int(positions.max()) >= self.max_len:
            raise CapacityError(f"sequence reached {int(positions.max()) + 1} tokens; this cache holds {self.max_len}")
        rows = slots[:, None].expand_as(positions)
        self._k[layer][rows, positions] = k.to(self._k[layer].dtype)
        self._v[layer][rows, positions] = v.to(self._v[layer].dtype)

    def attend(self, layer: int, slots: Tensor, q: Tensor, positions: Tensor) -> Tensor:
        span = int(positions.max()) + 1  # read only the live prefix of the buffers
        k, v = self._k[layer][slots, :span], self._v[layer][slots, :span]
        return attend_causal(q, k.to(q.dtype), v.to(q.dtype), positions)

    def reset(self, slots: Tensor) -> None:
        """Forget what ``slots`` held (states to zero, length 0)."""
        self.lengths[slots] = 0
        for t in (*self._conv.values(), *self._ssm.values()):
            t[slots] = 0
