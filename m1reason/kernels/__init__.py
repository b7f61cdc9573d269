"""Compute kernels of the Mamba and attention mixers, each a function with a pure-PyTorch reference twin.

One module per op holds its reference (``x_ref``, the definition) and its public function (``x``), which runs
the op's Triton kernel (module ``triton_*``) for CUDA tensors where Triton is installed and autograd is not
recording (the Triton kernels have no backward), else the reference. The model calls the public functions only.
``backends()`` reports the choice; ``M1REASON_KERNELS=torch`` forces the references (for debugging or comparison).
"""

from __future__ import annotations

import torch

from m1reason.kernels.causal_attention import attend_causal, sdpa
from m1reason.kernels.dispatch import triton_enabled, use_triton
from m1reason.kernels.gumbel_argmax import gumbel_argmax, gumbel_argmax_ref
from m1reason.kernels.mamba_prefill import mamba_prefill, mamba_prefill_ref
from m1reason.kernels.mamba_step import mamba_step, mamba_step_ref
from m1reason.kernels.paged_attention import paged_attention_decode, paged_attention_decode_ref
from m1reason.kernels.rms_norm import add_rms_norm, add_rms_norm_ref, rms_norm, rms_norm_ref
from m1reason.kernels.rope import apply_rope, rope_qk, rope_qk_ref
from m1reason.kernels.selective_scan import checked_mamba_ssm_scan, selective_scan, selective_scan_ref
from m1reason.kernels.silu_mul import silu_mul, silu_mul_ref

__all__ = ["add_rms_norm", "add_rms_norm_ref", "apply_rope", "attend_causal", "backends", "gumbel_argmax",
           "gumbel_argmax_ref", "mamba_prefill", "mamba_prefill_ref", "mamba_step", "mamba_step_ref",
           "paged_attention_decode", "paged_attention_decode_ref", "rms_norm", "rms_norm_ref", "rope_qk",
           "rope_qk_ref", "sdpa", "selective_scan", "selective_scan_ref", "silu_mul", "silu_mul_ref",
           "triton_enabled", "use_triton"]


def backends() -> dict[str, str]:
    """Which implementation each kernel uses for CUDA tensors on this machine.

    >>> sorted(backends())[:4]
    ['decode_rope', 'mamba_prefill', 'mamba_step', 'paged_attention_decode']
    """
    triton = "triton" if torch.cuda.is_available() and triton_enabled() else "torch reference"
    names = ("mamba_prefill", "selective_scan", "mamba_step", "paged_attention_decode", "sampling", "rms_norm",
             "silu_mul", "decode_rope")
    chosen = {name: triton for name in names}
    if triton == "triton" and checked_mamba_ssm_scan() is not None:
        chosen["mamba_prefill"] = "mamba-ssm scan for new prompts, else triton"
    return chosen
