"""Compute kernels of the Mamba and attention mixers, each a function with a pure-PyTorch reference twin.

The model calls the functions exported here; which implementation runs (a Triton kernel on CUDA, or the
torch reference) is decided here, once, and reported by ``backends()``. A missing fast backend is an
explicit, logged fallback to the reference, never a silent ``None``.
"""

from __future__ import annotations

from m1reason.kernels.mamba_step import mamba_step, mamba_step_ref
from m1reason.kernels.selective_scan import selective_scan, selective_scan_ref

__all__ = ["backends", "mamba_step", "mamba_step_ref", "selective_scan", "selective_scan_ref"]


def backends() -> dict[str, str]:
    """Which implementation each kernel uses on this machine.

    >>> sorted(backends())
    ['mamba_step', 'selective_scan']
    """
    return {"selective_scan": "torch reference", "mamba_step": "torch reference"}
