"""The small shared pieces of a decoder layer: RMSNorm, the gated MLP, and rotary embeddings.

Plain eager PyTorch, any device and dtype. Parameter names follow the Hugging Face checkpoint so that
loading is a name table, not a translation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from m1reason.kernels.dispatch import use_triton
from m1reason.model.config import RopeConfig

__all__ = ["RMSNorm", "GatedMLP", "rope_inverse_frequencies", "apply_rope"]


class RMSNorm(nn.Module):
    """Root-mean-square norm, computed in fp32 and cast back, as Llama does.

    >>> norm = RMSNorm(4)
    >>> norm(torch.tensor([[3.0, -3.0, 3.0, -3.0]])).round(decimals=4).tolist()
    [[1.0, -1.0, 1.0, -1.0]]
    """

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        if use_triton(x):
            from m1reason.kernels.triton_elementwise import rms_norm_triton

            return rms_norm_triton(x, self.weight, self.eps)
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)

    def add_and_norm(self, h: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """(h + x, norm(h + x)): a residual add and the norm after it, one kernel on a GPU.

        >>> sum_, normed = RMSNorm(2).add_and_norm(torch.tensor([[1.0, -3.0]]), torch.tensor([[2.0, 0.0]]))
        >>> sum_.tolist(), normed.round(decimals=4).tolist()
        ([[3.0, -3.0]], [[1.0, -1.0]])
        """
        if use_triton(h) and h.dtype == x.dtype and h.shape == x.shape:
            from m1reason.kernels.triton_elementwise import add_rms_norm_triton

            return add_rms_norm_triton(h, x, self.weight, self.eps)
        h = h + x
        return h, self(h)


class GatedMLP(nn.Module):
    """down(silu(gate(x)) * up(x)), Llama's MLP.

    >>> mlp = GatedMLP(8, 16)
    >>> mlp(torch.randn(2, 3, 8)).shape
    torch.Size([2, 3, 8])
    """

    # After ``merge_gate_up``, batches of at most this many rows run gate and up as one GEMM. On an H200 (bf16,
    # M1-3B shapes, 28 MLPs in a CUDA graph) the whole MLP took 7-9% less time merged at 1-192 rows and 4% less at
    # 256, but 1-7% more at 384-512 (BENCHMARKS.md "gate_up_merge"); prefill calls' tens of thousands of rows
    # showed no consistent gain and stay unmerged.
    merged_gemm_max_rows = 256

    def __init__(self, hidden: int, intermediate: int):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, intermediate, bias=False)
        self.up_proj = nn.Linear(hidden, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, hidden, bias=False)
        self._gate_up: Tensor | None = None  # [2I, H]: gate's rows, then up's; the two weights are views of it

    def merge_gate_up(self) -> None:
        """Keep the gate and up weights in one tensor, so that a small batch reads them in one GEMM (the
        decode step at batch 1 is bound by its GEMMs' weight reads). The parameters keep their names, values,
        shapes and gradients, and cost no extra memory: each becomes a view of its half. Anything that gives
        either weight new storage later (``.to(dtype)``, ``load_state_dict(assign=True)``) undoes the merge
        (the two GEMMs run again; merge again after it). Training, which needs the weights' gradients, always
        runs the two GEMMs.

        >>> mlp, x = GatedMLP(8, 16), torch.randn(3, 8)
        >>> before = mlp(x)
        >>> mlp.merge_gate_up()
        >>> with torch.no_grad():
        ...     torch.allclose(mlp(x), before, atol=1e-6)
        True
        """
        if self._still_merged():
            return
        gate, up = self.gate_proj.weight, self.up_proj.weight
        merged = torch.cat([gate.detach(), up.detach()])
        gate.data, up.data = merged[: len(gate)], merged[len(gate):]
        self._gate_up = merged

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self._still_merged()  # a move or cast gave the weights new storage: let the old merged tensor go now
        return self

    def forward(self, x: Tensor) -> Tensor:
        merged = self._merged_weight(x)
        if merged is not None:
            gate, up = F.linear(x, merged).chunk(2, dim=-1)
        else:
            gate, up = self.gate_proj(x), self.up_proj(x)
        if use_triton(gate):
            from m1reason.kernels.triton_elementwise import silu_mul_triton

            return self.down_proj(silu_mul_triton(gate, up))
        return self.down_proj(F.silu(gate) * up)

    def _merged_weight(self, x: Tensor) -> Tensor | None:
        """The merged [2I, H] weight, where it should run x: merged, still backing both weights, x small, and no
        gradient wanted (the merged tensor is not a parameter: a GEMM through it would train nothing)."""
        if self._gate_up is None or x.numel() > self.merged_gemm_max_rows * x.shape[-1]:
            return None
        if torch.is_grad_enabled() and (self.gate_proj.weight.requires_grad or self.up_proj.weight.requires_grad):
            return None
        return self._gate_up if self._still_merged() else None

    def _still_merged(self) -> bool:
        merged, gate, up = self._gate_up, self.gate_proj.weight, self.up_proj.weight
        if merged is not None and gate.data_ptr() == merged.data_ptr() == up.data_ptr() - gate.nbytes:
            return True
        self._gate_up = None  # never merged, or the weights were given new storage since
        return False


def rope_inverse_frequencies(head_dim: int, rope: RopeConfig) -> Tensor:
    """Inverse frequencies [head_dim / 2] in fp32, with llama3 scaling when ``rope.scaling`` says so.

    >>> rope_inverse_frequencies(4, RopeConfig(theta=10000.0))
    tensor([1.0000, 0.0100])
    """
    inv_freq = 1.0 / rope.theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    if rope.scaling is not None:
        inv_freq = _llama3_scaled(inv_freq, **rope.scaling)
    return inv_freq.float()


def _llama3_scaled(inv_freq: Tensor, factor: float, low_freq_factor: float, high_freq_factor: float,
                   original_max_position_embeddings: int) -> Tensor:
    # Llama 3.1's long-context recipe: long wavelengths slowed by `factor`, short ones kept, a smooth ramp between.
    low_wavelen = original_max_position_embeddings / low_freq_factor
    high_wavelen = original_max_position_embeddings / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    smooth = (original_max_position_embeddings / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    ramp = (1 - smooth) * inv_freq / factor + smooth * inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    is_medium = (wavelen <= low_wavelen) & (wavelen >= high_wavelen)
    return torch.where(is_medium, ramp, scaled)


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
