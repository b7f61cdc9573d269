"""One decode step of M1's Mamba mixer after in_proj: conv-state update, conv, SSM-state update, readout.

``mamba_step_ref`` is the definition. It reads x and B in their narrow d_xb form and expands them
group-wise itself, which is what a fused kernel does without materialising the repeat.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from m1reason.kernels.dispatch import use_triton
from m1reason.kernels.mamba_prefill import repeat_groups

__all__ = ["mamba_step", "mamba_step_ref"]


def mamba_step_ref(x: Tensor, z: Tensor, B: Tensor, C: Tensor, dt: Tensor, conv_state: Tensor,
                   ssm_state: Tensor, conv_weight: Tensor, conv_bias: Tensor | None, A_log: Tensor, D: Tensor,
                   dt_bias: Tensor, slots: Tensor | None = None) -> Tensor:
    """Advance the states of ``slots`` by one token and return the gated output y [b, d].

    x, B: [b, d_xb] (before the group repeat); z, C, dt: [b, d] (C already d wide, dt projected);
    conv_state: [S, d, K] (last K pre-conv inputs, newest last); ssm_state: [S, d, N]; both updated in
    place at rows ``slots`` [b] (rows 0..b-1 when None). conv_weight: [d, K]; A_log: [d, N], the
    checkpoint's parameter (A = -exp(A_log)); D, dt_bias: [d].
    The math runs in fp32; states keep their own dtype.

    >>> b, d, dxb, N, K = 2, 4, 2, 1, 3
    >>> conv, ssm = torch.zeros(b, d, K), torch.zeros(b, d, N)
    >>> y = mamba_step_ref(torch.ones(b, dxb), torch.ones(b, d), torch.ones(b, dxb), torch.ones(b, d),
    ...                    torch.zeros(b, d), conv, ssm, torch.ones(d, K), None, torch.zeros(d, N),
    ...                    torch.zeros(d), torch.zeros(d))
    >>> conv[0, 0].tolist()   # the new input entered on the right
    [0.0, 0.0, 1.0]
    """
    b, d = z.shape
    N = ssm_state.shape[-1]
    rows = torch.arange(b, device=x.device) if slots is None else slots
    x_full = repeat_groups(x, d, N)  # [b, d]
    conv = torch.cat([conv_state[rows, :, 1:], x_full.unsqueeze(-1).to(conv_state.dtype)], dim=-1)
    conv_state[rows] = conv
    xc = (conv.float() * conv_weight.float()).sum(-1)
    if conv_bias is not None:
        xc = xc + conv_bias.float()
    xc = F.silu(xc)
    # The reference casts the conv output to the model dtype before the scan; do the same.
    xc = xc.to(x.dtype).float()
    delta = F.softplus(dt.float() + dt_bias.float())  # [b, d]
    B_full = repeat_groups(B, d, N).float().view(b, -1, N).repeat_interleave(N, dim=1)  # [b, d, N]
    C_full = C.float().view(b, -1, N).repeat_interleave(N, dim=1)  # [b, d, N]
    A = -torch.exp(A_log.float())
    h = ssm_state[rows].float() * torch.exp(delta[..., None] * A) + (delta * xc)[..., None] * B_full
    ssm_state[rows] = h.to(ssm_state.dtype)
    y = (h * C_full).sum(-1) + D.float() * xc
    return (y * F.silu(z.float())).to(x.dtype)


def mamba_step(x: Tensor, z: Tensor, B: Tensor, C: Tensor, dt: Tensor, conv_state: Tensor, ssm_state: Tensor,
               conv_weight: Tensor, conv_bias: Tensor | None, A_log: Tensor, D: Tensor, dt_bias: Tensor,
               slots: Tensor | None = None) -> Tensor:
    """The Mamba decode step on the best backend available (Triton for CUDA tensors); same contract as
    ``mamba_step_ref``.

    >>> b, d, dxb, N, K = 2, 4, 2, 1, 3
    >>> conv, ssm = torch.zeros(b, d, K), torch.zeros(b, d, N)
    >>> mamba_step(torch.ones(b, dxb), torch.ones(b, d), torch.ones(b, dxb), torch.ones(b, d), torch.zeros(b, d),
    ...            conv, ssm, torch.ones(d, K), None, torch.zeros(d, N), torch.zeros(d), torch.zeros(d)).shape
    torch.Size([2, 4])
    """
    if use_triton(x):
        from m1reason.kernels.triton_mamba_step import mamba_step_triton  # lazy: triton is an optional dependency

        return mamba_step_triton(x, z, B, C, dt, conv_state, ssm_state, conv_weight, conv_bias, A_log, D, dt_bias,
                                 slots)
    return mamba_step_ref(x, z, B, C, dt, conv_state, ssm_state, conv_weight, conv_bias, A_log, D, dt_bias, slots)
