"""The gated MLP's activation: silu(gate) * up, elementwise.

``silu_mul_ref`` is the definition (torch rounds silu to the activation dtype before the product);
``silu_mul`` runs the fused Triton kernel of ``triton_elementwise`` for CUDA tensors where no gradient is
recorded, else the reference. The kernel reads strided rows in place, as the two halves of a merged gate-and-up
GEMM's output are (``m1reason.model.layers.GatedMLP.merge_gate_up``).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from m1reason.kernels.dispatch import use_triton

__all__ = ["silu_mul", "silu_mul_ref"]


def silu_mul_ref(gate: Tensor, up: Tensor) -> Tensor:
    """silu(gate) * up for gate, up of one shape [..., n].

    >>> import torch
    >>> silu_mul_ref(torch.tensor([0.0, 1.0]), torch.tensor([5.0, 2.0]))
    tensor([0.0000, 1.4621])
    """
    return F.silu(gate) * up


def silu_mul(gate: Tensor, up: Tensor) -> Tensor:
    """silu(gate) * up on the best backend available; same contract as ``silu_mul_ref``.

    >>> import torch
    >>> silu_mul(torch.tensor([0.0, 1.0]), torch.tensor([5.0, 2.0]))
    tensor([0.0000, 1.4621])
    """
    if use_triton(gate):
        from m1reason.kernels.triton_elementwise import silu_mul_triton  # lazy: triton is an optional dependency

        return silu_mul_triton(gate, up)
    return silu_mul_ref(gate, up)
