"""Which implementation a kernel runs: Triton for CUDA tensors when triton is installed, else the torch reference."""

from __future__ import annotations

import functools
import importlib.util
import os

from torch import Tensor

__all__ = ["triton_enabled", "use_triton"]


@functools.cache
def _triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def triton_enabled() -> bool:
    """Triton installed and not switched off with ``M1REASON_KERNELS=torch``.

    >>> isinstance(triton_enabled(), bool)
    True
    """
    return _triton_installed() and os.environ.get("M1REASON_KERNELS", "auto") != "torch"


def use_triton(t: Tensor) -> bool:
    """Whether a kernel given tensor ``t`` runs its Triton version (a CUDA tensor, and Triton enabled).

    >>> import torch
    >>> use_triton(torch.zeros(1))
    False
    """
    return t.is_cuda and triton_enabled()
