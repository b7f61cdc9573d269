"""The decode-state contract between the model and whoever owns the memory, plus its simplest owner.

HybridLM reads and writes per-sequence state only through an ``InferenceCache``: Mamba conv/ssm state
tensors indexed by slot, and attention KV behind two verbs (write, attend). ``DenseCache`` keeps KV as
one contiguous [slots, kv_heads, max_len, head_dim] buffer per attention layer: the reference the
engine's paged cache is tested against.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from m1reason.errors import CapacityError
from m1reason.kernels.causal_attention import attend_causal, sdpa  # defined with the kernels; re-exported here
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
