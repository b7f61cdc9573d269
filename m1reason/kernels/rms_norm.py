"""RMSNorm over the last dimension, alone or after a residual add (a decoder layer's two elementwise steps).

``rms_norm_ref`` and ``add_rms_norm_ref`` are the definitions (Llama's: fp32 statistics, rounded to the activation
dtype before the weight multiply). ``rms_norm`` and ``add_rms_norm`` run the fused Triton kernels of
``triton_elementwise`` for CUDA tensors where no gradient is recorded, else the references. The module
``m1reason.model.layers.RMSNorm`` owns the weight; this one owns the math.
"""

from __future__ import annotations

import torch
from torch import Tensor

from m1reason.kernels.dispatch import use_triton

__all__ = ["add_rms_norm", "add_rms_norm_ref", "rms_norm", "rms_norm_ref"]


def rms_norm_ref(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    """weight * (x / rms(x)) over the last dimension: x [..., n], weight [n] -> [..., n], statistics in fp32.

    >>> rms_norm_ref(torch.tensor([[3.0, -3.0, 3.0, -3.0]]), torch.ones(4), 1e-5).round(decimals=4).tolist()
    [[1.0, -1.0, 1.0, -1.0]]
    """
    x32 = x.float()
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x32.to(x.dtype)


def rms_norm(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    """RMSNorm on the best backend available; same contract as ``rms_norm_ref``.

    >>> rms_norm(torch.tensor([[3.0, -3.0, 3.0, -3.0]]), torch.ones(4), 1e-5).round(decimals=4).tolist()
    [[1.0, -1.0, 1.0, -1.0]]
    """
    if use_triton(x):
        from m1reason.kernels.triton_elementwise import rms_norm_triton  # lazy: triton is an optional dependency

        return rms_norm_triton(x, weight, eps)
    return rms_norm_ref(x, weight, eps)


def add_rms_norm_ref(h: Tensor, x: Tensor, weight: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """(h + x, rms_norm_ref(h + x)): a residual add and the norm after it. h, x: [..., n]; weight: [n].

    >>> total, normed = add_rms_norm_ref(torch.tensor([[1.0, -3.0]]), torch.tensor([[2.0, 0.0]]), torch.ones(2), 1e-5)
    >>> total.tolist(), normed.round(decimals=4).tolist()
    ([[3.0, -3.0]], [[1.0, -1.0]])
    """
    total = h + x
    return total, rms_norm_ref(total, weight, eps)


def add_rms_norm(h: Tensor, x: Tensor, weight: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """The residual add and the norm on the best backend available; same contract as ``add_rms_norm_ref``. The
    fused kernel takes h and x of one shape and dtype; otherwise torch adds and ``rms_norm`` normalises.

    >>> total, normed = add_rms_norm(torch.tensor([[1.0, -3.0]]), torch.tensor([[2.0, 0.0]]), torch.ones(2), 1e-5)
    >>> total.tolist(), normed.round(decimals=4).tolist()
    ([[3.0, -3.0]], [[1.0, -1.0]])
    """
    if use_triton(h) and h.dtype == x.dtype and h.shape == x.shape:
        from m1reason.kernels.triton_elementwise import add_rms_norm_triton  # lazy: triton is optional

        return add_rms_norm_triton(h, x, weight, eps)
    total = h + x
    return total, rms_norm(total, weight, eps)
