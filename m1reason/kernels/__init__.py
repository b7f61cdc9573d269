"""Compute kernels of the Mamba and attention mixers, each a function with a pure-PyTorch reference twin.

The model calls the functions exported here; which implementation runs (a Triton kernel on CUDA, or the
torch reference) is decided per call from the tensors' device and reported by ``backends()``. Set
``M1REASON_KERNELS=torch`` to force the references (for debugging or comparison).
"""

from __future__ import annotations

import functools
import importlib.util
import os

from torch import Tensor

from m1reason.kernels.mamba_step import mamba_step, mamba_step_ref
from m1reason.kernels.paged_attention import paged_attention_decode, paged_attention_decode_ref
from m1reason.kernels.selective_scan import selective_scan, selective_scan_ref

__all__ = ["backends", "mamba_step", "mamba_step_ref", "paged_attention_decode", "paged_attention_decode_ref",
           "selective_scan", "selective_scan_ref", "use_triton"]


@functools.cache
def _triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def use_triton(t: Tensor) -> bool:
    """Whether a kernel given tensor ``t`` runs its Triton version (CUDA tensor, triton installed, not disabled).

    >>> import torch
    >>> use_triton(torch.zeros(1))
    False
    """
    return t.is_cuda and _triton_installed() and os.environ.get("M1REASON_KERNELS", "auto") != "torch"


def backends() -> dict[str, str]:
    """Which implementation each kernel uses for CUDA tensors on this machine.

    >>> sorted(backends())
    ['mamba_step', 'paged_attention_decode', 'selective_scan']
    """
    import torch

    fast = torch.cuda.is_available() and _triton_installed() and os.environ.get("M1REASON_KERNELS") != "torch"
    triton = "triton" if fast else "torch reference"
    return {"selective_scan": triton, "mamba_step": triton, "paged_attention_decode": triton}
