"""mamba-ssm's CUDA selective scan behind ``selective_scan``'s contract, where it is installed.

mamba-ssm (``pip install mamba-ssm``, with its compiled ``selective_scan_cuda`` extension; its newest sources
build the Mamba-1 scan only on request) takes channels-first tensors (u, delta, z [b, d, L]; B and C grouped
[b, G, N, L], channel c reading group c // (d / G), as M1's grouped layout does) and has no input for an
initial state. So it serves prefills of fresh prompts only (every row's state starts at zero); a prompt that
continues a slot's state goes to the Triton kernel. Padding needs nothing special: ``mamba_prefill_ref`` sets dt
to -inf there, mamba-ssm's softplus maps it to a zero step, and the state passes through unchanged to the final
state it returns.

Not measured here: no machine this project runs on has a mamba-ssm CUDA build, so the adapter is tested
against a stand-in written from mamba-ssm's documented contract (tests/model/test_mamba_ssm_adapter.py), and a
GPU test compares the real one with the reference wherever it is installed. Because of that, the installed scan
is used only after it passes a self-check on first use (a small scan against ``selective_scan_ref``); one that
raises or disagrees is logged once and left unused, and the Triton prefill serves every prompt.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable

import torch
from torch import Tensor

log = logging.getLogger(__name__)

__all__ = ["mamba_ssm_scan", "selective_scan_mamba_ssm"]


@functools.cache
def _installed_scan() -> Callable | None:
    try:
        import selective_scan_cuda  # noqa: F401  (the compiled extension; without it mamba-ssm's scan cannot run)
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except ImportError:
        return None
    return selective_scan_fn


def mamba_ssm_scan() -> Callable | None:
    """mamba-ssm's ``selective_scan_fn`` if it is installed with its CUDA extension and not switched off with
    ``M1REASON_MAMBA_SSM=0`` (or ``M1REASON_KERNELS=torch``); else None.

    >>> scan = mamba_ssm_scan()
    >>> scan is None or callable(scan)
    True
    """
    if os.environ.get("M1REASON_MAMBA_SSM", "1") == "0" or os.environ.get("M1REASON_KERNELS") == "torch":
        return None
    return _checked_scan()


@functools.cache
def _checked_scan() -> Callable | None:
    scan_fn = _installed_scan()
    if scan_fn is None:
        return None
    try:
        error = self_check(scan_fn)
    except Exception as exc:  # an incompatible build or version: fall back rather than fail every prefill
        log.warning("mamba-ssm's selective scan failed its self-check (%r); prefills use m1reason's Triton kernel", exc)
        return None
    if error > 1e-3:
        log.warning("mamba-ssm's selective scan disagrees with the reference (relative error %.2e); prefills use "
                    "m1reason's Triton kernel", error)
        return None
    return scan_fn


def self_check(scan_fn: Callable) -> float:
    """Relative error of ``scan_fn`` through the adapter against ``selective_scan_ref`` on a small fp32 scan in
    M1's grouped layout (narrow B, wide C), on the GPU where there is one."""
    from m1reason.kernels.selective_scan import selective_scan_ref

    device = "cuda" if torch.cuda.is_available() else "cpu"
    g = torch.Generator().manual_seed(0)
    b, T, d, N = 2, 40, 64, 16
    x, dt, z = (torch.randn(b, T, d, generator=g) for _ in range(3))
    A, D, dt_bias = -torch.rand(d, N, generator=g) - 0.1, torch.randn(d, generator=g), torch.randn(d, generator=g)
    B, C = torch.randn(b, T, d // (4 * N), N, generator=g), torch.randn(b, T, d // N, N, generator=g)
    args = [t.to(device) for t in (x, dt, A, B, C, D, z, dt_bias)]
    y, h = selective_scan_mamba_ssm(*args, scan_fn=scan_fn)
    want_y, want_h = selective_scan_ref(*args)
    return max(((y - want_y).norm() / want_y.norm()).item(), ((h - want_h).norm() / want_h.norm()).item())


def selective_scan_mamba_ssm(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor,
                             dt_bias: Tensor, scan_fn: Callable | None = None) -> tuple[Tensor, Tensor]:
    """``selective_scan_ref(x, dt, A, B, C, D, z, dt_bias)`` from a zero state, through ``scan_fn`` (default:
    mamba-ssm's): y [b, T, d] in x's dtype and the final state [b, d, N] in fp32."""
    scan_fn = scan_fn or mamba_ssm_scan()
    if scan_fn is None:
        raise RuntimeError("mamba-ssm's CUDA selective scan is not installed (or M1REASON_MAMBA_SSM=0)")
    y, state = scan_fn(x.transpose(1, 2), dt.transpose(1, 2), A.float().contiguous(), B.permute(0, 2, 3, 1),
                       C.permute(0, 2, 3, 1), D.float(), z.transpose(1, 2), dt_bias.float(), delta_softplus=True,
                       return_last_state=True)
    return y.transpose(1, 2).to(x.dtype), state.float()
