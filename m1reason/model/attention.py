"""GQA self-attention with plain rotary embeddings, as M1's six attention layers (and Llama/Qwen2) use it.

Owns the fused Q/K/V projection (checkpoint name ``mha.in_proj``) and RoPE; where the keys and values of
earlier tokens live is the cache's business (see m1reason.model.cache).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from m1reason.kernels import rope_qk, sdpa
from m1reason.model.cache import InferenceCache
from m1reason.model.config import ModelConfig
from m1reason.model.layers import rope_inverse_frequencies

__all__ = ["Attention"]


class Attention(nn.Module):
    """Causal GQA attention; RoPE is applied to q and k before k is stored, so the cache holds rotated keys.

    >>> attn = Attention(ModelConfig.tiny(), layer_idx=1)
    >>> attn(torch.randn(2, 5, 64)).shape
    torch.Size([2, 5, 64])
    """

    def __init__(self, config: ModelConfig, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.heads, self.kv_heads, self.head_dim = config.num_heads, config.num_kv_heads, config.head_dim
        q_dim, kv_dim = config.num_heads * config.head_dim, config.kv_dim
        self.in_proj = nn.Linear(config.hidden_size, q_dim + 2 * kv_dim, bias=config.attention_bias)
        self.out_proj = nn.Linear(q_dim, config.hidden_size, bias=False)
        self.register_buffer("inv_freq", rope_inverse_frequencies(config.head_dim, config.rope), persistent=False)

    def forward(self, x: Tensor, positions: Tensor | None = None, cache: InferenceCache | None = None,
                slots: Tensor | None = None, fresh: bool | None = None) -> Tensor:
        """x: [b, T, hidden]; positions: [b, T] (0..T-1 when None). With a cache, k/v are stored at
        ``positions`` of ``slots`` and the queries also see what the slots held before, unless ``fresh`` (every
        row starts at position 0; None: read from ``positions``, a host synchronisation)."""
        b, T, _ = x.shape
        if positions is None:
            positions = torch.arange(T, device=x.device).expand(b, T)
        q, k, v = self._rotated_qkv(x, positions)
        if cache is not None:
            slots = torch.arange(b, device=x.device) if slots is None else slots
            cache.write_kv(self.layer_idx, slots, positions, k, v)
        if fresh is None and cache is not None:
            fresh = bool((positions[:, 0] == 0).all())
        if cache is None or fresh:
            out = self._attend_local(q, k, v)  # a fresh prompt sees only itself: no need to read the cache back
        else:
            out = cache.attend(self.layer_idx, slots, q, positions)
        return self.out_proj(out.reshape(b, T, -1))

    def step(self, x: Tensor, positions: Tensor, cache: InferenceCache, slots: Tensor) -> Tensor:
        """One token per sequence: x [b, hidden] at ``positions`` [b]. Stores its k/v, attends over the slot's
        keys 0..position. No host synchronisation, so a CUDA graph can capture it."""
        b = x.shape[0]
        q, k, v = self._rotated_qkv(x, positions)
        cache.write_kv(self.layer_idx, slots, positions[:, None], k[:, None], v[:, None])
        if hasattr(cache, "attend_decode"):
            out = cache.attend_decode(self.layer_idx, slots, q, positions)
        else:
            out = cache.attend(self.layer_idx, slots, q[:, None], positions[:, None])[:, 0]
        return self.out_proj(out.reshape(b, -1))

    def _rotated_qkv(self, x: Tensor, positions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """in_proj, then RoPE on q and k: x [..., hidden] at ``positions`` [...] -> q [..., heads, head_dim],
        k and v [..., kv_heads, head_dim]."""
        lead = x.shape[:-1]
        qkv = self.in_proj(x)
        q_dim, kv_dim = self.heads * self.head_dim, self.kv_heads * self.head_dim
        v = qkv[..., q_dim + kv_dim:].view(*lead, self.kv_heads, self.head_dim)
        q, k = rope_qk(qkv, positions, self.inv_freq, self.heads, self.kv_heads, self.head_dim)
        return q, k, v

    def _attend_local(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        group = self.heads // self.kv_heads
        k, v = k.repeat_interleave(group, dim=2), v.repeat_interleave(group, dim=2)
        out = sdpa(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
        return out.transpose(1, 2)
