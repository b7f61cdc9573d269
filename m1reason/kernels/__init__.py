"""Compute kernels of the Mamba and attention mixers, each a function with a pure-PyTorch reference twin.

The model calls the functions exported here; which implementation runs (a Triton kernel on CUDA, or the
torch reference) is decided per call from the tensors' device and whether autograd is recording (the Triton
kernels have no backward), and reported by ``backends()``. Set ``M1REASON_KERNELS=torch`` to force the
references (for debugging or comparison).
"""

from __future__ import annotations

from m1reason.kernels.dispatch import triton_enabled, use_triton
from m1reason.kernels.mamba_prefill import mamba_prefill, mamba_prefill_ref
from m1reason.kernels.mamba_step import mamba_step, mamba_step_ref
from m1reason.kernels.paged_attention import paged_attention_decode, paged_attention_decode_ref
from m1reason.kernels.selective_scan import selective_scan, selective_scan_ref

__all__ = ["backends", "mamba_prefill", "mamba_prefill_ref", "mamba_step", "mamba_step_ref", "paged_attention_decode",
           "paged_attention_decode_ref", "selective_scan", "selective_scan_ref", "triton_enabled", "use_triton"]


def backends() -> dict[str, str]:
    """Which implementation each kernel uses for CUDA tensors on this machine.

    >>> sorted(backends())[:4]
    ['decode_rope', 'mamba_prefill', 'mamba_step', 'paged_attention_decode']
    """
    import torch

    from m1reason.kernels.mamba_ssm_scan import mamba_ssm_scan  # here: a package-level name would shadow the module

    triton = "triton" if torch.cuda.is_available() and triton_enabled() else "torch reference"
    names = ("mamba_prefill", "selective_scan", "mamba_step", "paged_attention_decode", "sampling", "rms_norm",
             "silu_mul", "decode_rope")
    chosen = {name: triton for name in names}
    if triton == "triton" and mamba_ssm_scan() is not None:
        chosen["mamba_prefill"] = "mamba-ssm scan for new prompts, else triton"
    return chosen
