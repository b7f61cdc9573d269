"""``linear``: the model's projections, through a Triton GEMV for a few rows where that is switched on.

Off by default: the GEMV (``m1reason.kernels.triton_gemv``) is checked against ``F.linear`` in Triton's CPU
interpreter; its GPU tests (tests/kernels, tests/engine) and its timing against cuBLAS (``python -m
benchmarks.kernel_tiles --gemv 1``) are still to run, and the default should follow that timing.
``M1REASON_GEMV=1`` switches it on for inference on CUDA with at most ``GEMV_MAX_ROWS`` rows (batch-1 to
batch-4 decode steps); everything else goes to ``torch.nn.functional.linear``. ``silu_gate`` is the MLP's gate
and up projections with their product, one GEMV kernel where it applies.
"""

from __future__ import annotations

import os

import torch.nn.functional as F
from torch import Tensor

from m1reason.kernels.dispatch import use_triton

__all__ = ["GEMV_MAX_ROWS", "gemv_enabled", "linear", "silu_gate"]

GEMV_MAX_ROWS = 4


def gemv_enabled() -> bool:
    """Whether ``M1REASON_GEMV=1`` asks for the Triton GEMV.

    >>> gemv_enabled() == (os.environ.get("M1REASON_GEMV") == "1")
    True
    """
    return os.environ.get("M1REASON_GEMV", "0") == "1"


def _gemv_rows(x: Tensor, weight: Tensor) -> Tensor | None:
    """x as [rows, K] where the Triton GEMV takes it (CUDA, inference, switched on, few rows), else None. The
    cheap device test comes first: on a CPU, the common case here, nothing else is looked at."""
    rows = x.numel() // x.shape[-1]
    if (use_triton(x) and rows <= GEMV_MAX_ROWS and gemv_enabled() and x.dtype == weight.dtype
            and weight.stride(-1) == 1 and x.stride(-1) == 1):
        return x.reshape(rows, x.shape[-1])
    return None


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``F.linear(x, weight, bias)``; for a few rows on CUDA with the GEMV switched on, the Triton GEMV.

    >>> import torch
    >>> w = torch.randn(3, 4)
    >>> torch.equal(linear(torch.ones(2, 4), w), torch.ones(2, 4) @ w.T)
    True
    """
    if (rows := _gemv_rows(x, weight)) is not None:
        from m1reason.kernels.triton_gemv import gemv_triton

        return gemv_triton(rows, weight, bias).view(*x.shape[:-1], weight.shape[0])
    return F.linear(x, weight, bias)


def silu_gate(x: Tensor, w_gate: Tensor, w_up: Tensor) -> Tensor:
    """silu(x W_gate^T) * (x W_up^T), the first half of Llama's MLP: one Triton kernel where the GEMV applies,
    else two GEMMs and the product (fused into one Triton kernel on CUDA).

    >>> import torch
    >>> x, wg, wu = torch.randn(2, 4), torch.randn(3, 4), torch.randn(3, 4)
    >>> torch.allclose(silu_gate(x, wg, wu), F.silu(x @ wg.T) * (x @ wu.T))
    True
    """
    if (rows := _gemv_rows(x, w_gate)) is not None and w_up.stride() == w_gate.stride():
        from m1reason.kernels.triton_gemv import gated_gemv_triton

        return gated_gemv_triton(rows, w_gate, w_up).view(*x.shape[:-1], w_gate.shape[0])
    gate, up = F.linear(x, w_gate), F.linear(x, w_up)
    if use_triton(gate):
        from m1reason.kernels.triton_elementwise import silu_mul_triton

        return silu_mul_triton(gate, up)
    return F.silu(gate) * up
