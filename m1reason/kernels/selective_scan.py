"""The Mamba-1 selective scan over a whole sequence (prefill), in M1's grouped-B/C layout.

``selective_scan_ref`` is the definition: a chunked recurrence in fp32. Faster kernels (Triton, or
mamba-ssm's CUDA scan from a zero state where it is installed) must match it and are chosen in ``selective_scan``;
mamba-ssm's only after it passed a self-check against the reference (``checked_mamba_ssm_scan``), because no
machine this project runs on has a mamba-ssm CUDA build to test it on (its adapter is tested against a stand-in
written from mamba-ssm's documented contract, tests/kernels/test_mamba_ssm_adapter.py). One that raises or
disagrees is logged once and left unused, and the Triton prefill serves every prompt.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from m1reason.kernels.dispatch import use_triton
from m1reason.kernels.mamba_ssm_scan import installed_scan, selective_scan_mamba_ssm

log = logging.getLogger(__name__)

__all__ = ["checked_mamba_ssm_scan", "selective_scan", "selective_scan_ref"]

_CHUNK = 64  # time steps whose decay factors are materialised at once: bounds memory at [b, 64, d, N]


def selective_scan_ref(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor,
                       dt_bias: Tensor, ssm_state: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """y_t = (C_t . h_t + D x_t) * silu(z_t), h_t = exp(delta_t A) h_{t-1} + delta_t B_t x_t.

    x, dt, z: [b, T, d] (dt already projected to d channels); A: [d, N]; B: [b, T, G, N] and C: [b, T, G_C, N],
    each in groups of consecutive channels (channel c reads B's group c // (d/G) and C's group c // (d/G_C):
    M1's narrow B has fewer groups than its C); D, dt_bias: [d].
    delta = softplus(dt + dt_bias). ssm_state: [b, d, N] initial state (zeros when None).
    Returns y [b, T, d] in x's dtype and the final state [b, d, N] in fp32.

    >>> b, T, d, N, G = 1, 5, 4, 2, 2
    >>> y, h = selective_scan_ref(torch.randn(b, T, d), torch.randn(b, T, d), -torch.ones(d, N),
    ...                           torch.randn(b, T, G, N), torch.randn(b, T, G, N), torch.ones(d),
    ...                           torch.randn(b, T, d), torch.zeros(d))
    >>> y.shape, h.shape
    (torch.Size([1, 5, 4]), torch.Size([1, 4, 2]))
    """
    b, T, d = x.shape
    delta = F.softplus(dt.float() + dt_bias.float())  # [b, T, d]
    Bc = B.float().repeat_interleave(d // B.shape[-2], dim=2)  # [b, T, d, N]
    Cc = C.float().repeat_interleave(d // C.shape[-2], dim=2)
    N = B.shape[-1]
    x32 = x.float()
    h = x.new_zeros(b, d, N, dtype=torch.float32) if ssm_state is None else ssm_state.float().clone()
    ys = []
    for start in range(0, T, _CHUNK):
        sl = slice(start, start + _CHUNK)
        decay = torch.exp(delta[:, sl, :, None] * A.float())  # [b, t, d, N]
        inject = (delta[:, sl] * x32[:, sl])[..., None] * Bc[:, sl]
        states = []
        # unbind/stack rather than indexing [:, t]: the backward of an index writes a full-size zero tensor per
        # step (quadratic in the chunk), which made training through this function many times slower
        for decay_t, inject_t in zip(decay.unbind(1), inject.unbind(1)):
            h = torch.addcmul(inject_t, decay_t, h)
            states.append(h)
        ys.append((torch.stack(states, dim=1) * Cc[:, sl]).sum(-1))
    y = torch.cat(ys, dim=1) + D.float() * x32
    y = y * F.silu(z.float())
    return y.to(x.dtype), h


def selective_scan(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor,
                   dt_bias: Tensor, ssm_state: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The selective scan on the best backend available; same contract as ``selective_scan_ref``.

    >>> b, T, d, N, G = 1, 5, 4, 2, 2
    >>> y, h = selective_scan(torch.randn(b, T, d), torch.randn(b, T, d), -torch.ones(d, N),
    ...                       torch.randn(b, T, G, N), torch.randn(b, T, G, N), torch.ones(d),
    ...                       torch.randn(b, T, d), torch.zeros(d))
    >>> y.shape, h.shape
    (torch.Size([1, 5, 4]), torch.Size([1, 4, 2]))
    """
    if ssm_state is None and use_triton(x) and (scan_fn := checked_mamba_ssm_scan()) is not None:
        return selective_scan_mamba_ssm(x, dt, A, B, C, D, z, dt_bias, scan_fn)  # it cannot start from a state
    if use_triton(x):
        from m1reason.kernels.triton_selective_scan import selective_scan_triton  # lazy: triton is optional

        return selective_scan_triton(x, dt, A, B, C, D, z, dt_bias, ssm_state)
    return selective_scan_ref(x, dt, A, B, C, D, z, dt_bias, ssm_state)


def checked_mamba_ssm_scan() -> Callable | None:
    """mamba-ssm's ``selective_scan_fn`` where it is installed, switched on
    (``m1reason.kernels.mamba_ssm_scan.installed_scan``) and passed its self-check on first use; else None.

    >>> scan = checked_mamba_ssm_scan()
    >>> scan is None or callable(scan)
    True
    """
    scan_fn = installed_scan()
    return None if scan_fn is None else _checked(scan_fn)


@functools.cache
def _checked(scan_fn: Callable) -> Callable | None:
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
    M1's grouped layout (narrow B, wide C), on the GPU where there is one.

    >>> def exact(u, delta, A, B, C, D, z, delta_bias, delta_softplus, return_last_state):  # the reference itself
    ...     y, h = selective_scan_ref(u.transpose(1, 2), delta.transpose(1, 2), A, B.permute(0, 3, 1, 2),
    ...                               C.permute(0, 3, 1, 2), D, z.transpose(1, 2), delta_bias)
    ...     return y.transpose(1, 2), h
    >>> self_check(exact)
    0.0
    """
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
