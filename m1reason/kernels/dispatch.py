"""Which implementation a kernel runs: Triton for CUDA tensors when triton is installed and no gradient is being
recorded, else the torch reference."""

from __future__ import annotations

import functools
import importlib.util
import os

import torch
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
    """Whether a kernel given tensor ``t`` runs its Triton version: a CUDA tensor, Triton enabled, and autograd not
    recording. The Triton kernels have no backward pass, so wherever gradients may be needed (training's forward
    passes) the differentiable torch references run; inference (the engine's steps, under ``torch.no_grad``) gets
    the kernels, also inside a training process (GRPO's rollouts).

    >>> import torch
    >>> use_triton(torch.zeros(1))
    False
    """
    return t.is_cuda and triton_enabled() and not torch.is_grad_enabled()
