"""mamba-ssm's CUDA selective scan behind ``selective_scan``'s contract, where it is installed: finding it, and
the layout adapter. Whether it is trusted (a self-check against the reference) is decided in
``m1reason.kernels.selective_scan``, which owns the reference; this module imports nothing of m1reason's.

mamba-ssm (``pip install mamba-ssm``, with its compiled ``selective_scan_cuda`` extension; its newest sources
build the Mamba-1 scan only on request) takes channels-first tensors (u, delta, z [b, d, L]; B and C grouped
[b, G, N, L], channel c reading group c // (d / G), as M1's grouped layout does) and has no input for an
initial state. So it serves prefills of fresh prompts only (every row's state starts at zero); a prompt that
continues a slot's state goes to the Triton kernel. Padding needs nothing special: ``mamba_prefill_ref`` sets dt
to -inf there, mamba-ssm's softplus maps it to a zero step, and the state passes through unchanged to the final
state it returns.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from torch import Tensor

__all__ = ["installed_scan", "selective_scan_mamba_ssm"]


@functools.cache
def _installed_scan() -> Callable | None:
    # imported here, not at the top: mamba-ssm is an optional, CUDA-only dependency, slow to import
    try:
        import selective_scan_cuda  # noqa: F401  (the compiled extension; without it mamba-ssm's scan cannot run)
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except ImportError:
        return None
    return selective_scan_fn


def installed_scan() -> Callable | None:
    """mamba-ssm's ``selective_scan_fn`` if it is installed with its CUDA extension and not switched off with
    ``M1REASON_MAMBA_SSM=0`` (or ``M1REASON_KERNELS=torch``); else None. Not yet checked: the kernels use it only
    through ``m1reason.kernels.selective_scan.checked_mamba_ssm_scan``.

    >>> scan = installed_scan()
    >>> scan is None or callable(scan)
    True
    """
    if os.environ.get("M1REASON_MAMBA_SSM", "1") == "0" or os.environ.get("M1REASON_KERNELS") == "torch":
        return None
    return _installed_scan()


def selective_scan_mamba_ssm(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor,
                             dt_bias: Tensor, scan_fn: Callable | None = None) -> tuple[Tensor, Tensor]:
    """``selective_scan_ref(x, dt, A, B, C, D, z, dt_bias)`` from a zero state, through ``scan_fn`` (default:
    mamba-ssm's, ``installed_scan()``): y [b, T, d] in x's dtype and the final state [b, d, N] in fp32.

    >>> import torch
    >>> def zero_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus, return_last_state):  # a stand-in
    ...     return torch.zeros_like(u), torch.zeros(u.shape[0], u.shape[1], A.shape[1])
    >>> b, T, d, N = 1, 3, 4, 2
    >>> y, h = selective_scan_mamba_ssm(torch.randn(b, T, d), torch.randn(b, T, d), -torch.ones(d, N),
    ...                                 torch.randn(b, T, 1, N), torch.randn(b, T, 2, N), torch.ones(d),
    ...                                 torch.randn(b, T, d), torch.zeros(d), scan_fn=zero_scan)
    >>> y.shape, h.shape
    (torch.Size([1, 3, 4]), torch.Size([1, 4, 2]))
    """
    scan_fn = scan_fn or installed_scan()
    if scan_fn is None:
        raise RuntimeError("mamba-ssm's CUDA selective scan is not installed (or M1REASON_MAMBA_SSM=0)")
    y, state = scan_fn(x.transpose(1, 2), dt.transpose(1, 2), A.float().contiguous(), B.permute(0, 2, 3, 1),
                       C.permute(0, 2, 3, 1), D.float(), z.transpose(1, 2), dt_bias.float(), delta_softplus=True,
                       return_last_state=True)
    return y.transpose(1, 2).to(x.dtype), state.float()
