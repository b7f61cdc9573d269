"""The small shared pieces of a decoder layer: RMSNorm, the gated MLP, and the rotary embeddings' frequencies.

Plain eager PyTorch, any device and dtype; the math of the norm, the MLP's activation and the rotation itself is
in m1reason.kernels (``rms_norm``, ``add_rms_norm``, ``silu_mul``, ``rope_qk``). Parameter names follow the
Hugging Face checkpoint so that loading is a name table, not a translation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from m1reason.kernels import add_rms_norm, rms_norm, silu_mul
from m1reason.model.config import RopeConfig

__all__ = ["RMSNorm", "GatedMLP", "rope_inverse_frequencies"]


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
        return rms_norm(x, self.weight, self.eps)

    def add_and_norm(self, h: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """(h + x, norm(h + x)): a residual add and the norm after it, one kernel on a GPU.

        >>> sum_, normed = RMSNorm(2).add_and_norm(torch.tensor([[1.0, -3.0]]), torch.tensor([[2.0, 0.0]]))
        >>> sum_.tolist(), normed.round(decimals=4).tolist()
        ([[3.0, -3.0]], [[1.0, -1.0]])
        """
        return add_rms_norm(h, x, self.weight, self.eps)


class GatedMLP(nn.Module):
    """down(silu(gate(x)) * up(x)), Llama's MLP.

    >>> mlp = GatedMLP(8, 16)
    >>> mlp(torch.randn(2, 3, 8)).shape
    torch.Size([2, 3, 8])
    """

    # After ``merge_gate_up``, batches of at most this many rows run gate and up as one GEMM: one wide GEMM
    # reads the weights once, which wins while a small batch is bound by those reads and loses once the batch is
    # large enough to be compute-bound (``python -m benchmarks.gate_up_merge`` measures the crossover); prefill
    # calls' many rows stay unmerged.
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
        return self.down_proj(silu_mul(gate, up))

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
