"""The Mamba-1 selective scan over a whole sequence (prefill), in M1's grouped-B/C layout.

``selective_scan_ref`` is the definition: a chunked recurrence in fp32. Faster kernels (Triton, or
mamba-ssm's CUDA scan from a zero state where it is installed) must match it and are chosen in ``selective_scan``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["selective_scan", "selective_scan_ref"]

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
        # step (quadratic in the chunk), which made training through this function ~13x slower
        for decay_t, inject_t in zip(decay.unbind(1), inject.unbind(1)):
            h = torch.addcmul(inject_t, decay_t, h)
            states.append(h)
        ys.append((torch.stack(states, dim=1) * Cc[:, sl]).sum(-1))
    y = torch.cat(ys, dim=1) + D.float() * x32
    y = y * F.silu(z.float())
    return y.to(x.dtype), h


def selective_scan(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor,
                   dt_bias: Tensor, ssm_state: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The selective scan on the best backend available; same contract as ``selective_scan_ref``."""
    from m1reason.kernels import use_triton
    from m1reason.kernels.mamba_ssm_scan import mamba_ssm_scan, selective_scan_mamba_ssm

    if ssm_state is None and use_triton(x) and (scan_fn := mamba_ssm_scan()) is not None:
        return selective_scan_mamba_ssm(x, dt, A, B, C, D, z, dt_bias, scan_fn)  # it cannot start from a state
    if use_triton(x):
        from m1reason.kernels.triton_selective_scan import selective_scan_triton

        return selective_scan_triton(x, dt, A, B, C, D, z, dt_bias, ssm_state)
    return selective_scan_ref(x, dt, A, B, C, D, z, dt_bias, ssm_state)
