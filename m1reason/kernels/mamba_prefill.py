"""M1's Mamba mixer over a whole sequence after in_proj (prefill): group repeat, causal conv + silu, selective scan,
gate; optionally continuing from, and leaving, a slot's decode state.

``mamba_prefill_ref`` is the definition, in torch ops: it repeats x from its narrow d_xb width BEFORE the conv (a
checkpoint quirk: the conv has d_inner channels), runs torch's depthwise conv1d, then ``selective_scan``. The
Triton version (``triton_mamba_prefill``) does all of it in one kernel without materialising the repeat, the
padded conv input or the conv output. Where mamba-ssm's CUDA scan is installed, fresh prompts (states starting at
zero, which is all it can do) take the torch conv and that scan instead (``m1reason.kernels.mamba_ssm_scan``).
``repeat_groups`` (M1's d_xb -> d_inner repeat) is shared with the decode step (``mamba_step``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from m1reason.kernels.dispatch import use_triton
from m1reason.kernels.selective_scan import checked_mamba_ssm_scan, selective_scan

__all__ = ["mamba_prefill", "mamba_prefill_ref", "repeat_groups"]


def repeat_groups(v: Tensor, d: int, group: int) -> Tensor:
    """[..., d_xb] -> [..., d]: output group j of ``group`` channels takes input group j // (d / d_xb).

    >>> repeat_groups(torch.tensor([1, 2, 3, 4]), 8, 2).tolist()
    [1, 2, 1, 2, 3, 4, 3, 4]
    """
    *shape, d_xb = v.shape
    v = v.reshape(*shape, d_xb // group, 1, group).expand(*shape, d_xb // group, d // d_xb, group)
    return v.reshape(*shape, d)


def mamba_prefill_ref(x: Tensor, z: Tensor, B: Tensor, C: Tensor, dt: Tensor, conv_weight: Tensor,
                      conv_bias: Tensor | None, A_log: Tensor, D: Tensor, dt_bias: Tensor,
                      conv_state: Tensor | None = None, ssm_state: Tensor | None = None, slots: Tensor | None = None,
                      lengths: Tensor | None = None, fresh: bool = False) -> Tensor:
    """The gated output y [b, T, d] of T tokens per row.

    x, B: [b, T, d_xb] (narrow, before the group repeat); z, C, dt: [b, T, d] (dt projected, biased once; the
    scan adds ``dt_bias`` again, as the checkpoint's reference does); conv_weight: [d, K]; A_log: [d, N], the
    checkpoint's parameter (A = -exp(A_log)); D, dt_bias: [d]. With states (conv_state [S, d, K], ssm_state
    [S, d, N]) the rows continue from slots ``slots`` (rows 0..b-1 when None) and the states are updated in place
    to those after each row's last real token; without, rows start from zeros and nothing is kept. ``fresh``: the
    rows start from zeros even with states (new prompts: the slots' states are not read, only written).
    ``lengths`` [b]: right-padded rows; outputs at padding are garbage.

    >>> b, T, d, dxb, N, K = 1, 3, 4, 2, 1, 2
    >>> y = mamba_prefill_ref(torch.ones(b, T, dxb), torch.ones(b, T, d), torch.ones(b, T, dxb),
    ...                       torch.ones(b, T, d), torch.zeros(b, T, d), torch.ones(d, K), None,
    ...                       torch.zeros(d, N), torch.zeros(d), torch.zeros(d))
    >>> y.shape
    torch.Size([1, 3, 4])
    """
    b, T, d = z.shape
    N, K = A_log.shape[-1], conv_weight.shape[-1]
    if lengths is not None:
        # delta = softplus(-inf) = 0 at padding: decay exp(0) = 1 and no input, so the scan carries each row's
        # state through its padding unchanged
        padding = torch.arange(T, device=x.device) >= lengths[:, None]
        dt = dt.masked_fill(padding[..., None], float("-inf"))
    x = repeat_groups(x, d, N)  # [b, T, d]
    rows = torch.arange(b, device=x.device) if slots is None else slots
    past = conv_state[rows, :, 1:] if conv_state is not None and not fresh else x.new_zeros(b, d, K - 1)
    x_padded = torch.cat([past.to(x.dtype), x.transpose(1, 2)], dim=-1)  # [b, d, K-1+T]
    if conv_state is not None:
        conv_state[rows] = _conv_tail(x_padded, K, T if lengths is None else lengths).to(conv_state.dtype)
    xc = F.silu(F.conv1d(x_padded, conv_weight.unsqueeze(1), conv_bias, groups=d)).transpose(1, 2)
    # B stays narrow: the scan reads group c // (d / G) for channel c, which with G = d_xb / N groups is the group
    # the repeat would have copied there
    B = B.reshape(b, T, -1, N)
    C = C.reshape(b, T, -1, N)
    h0 = ssm_state[rows] if ssm_state is not None and not fresh else None  # None: from zeros
    y, h = selective_scan(xc, dt, -torch.exp(A_log.float()), B, C, D, z, dt_bias, h0)
    if ssm_state is not None:
        ssm_state[rows] = h.to(ssm_state.dtype)
    return y


def _conv_tail(x_padded: Tensor, K: int, lengths: Tensor | int) -> Tensor:
    """The conv state after each row's last real token: the K inputs ending there. x_padded [b, d, K-1+T] holds
    the K-1 past inputs, then the T new ones; a row of length L ends at index K-2+L."""
    if isinstance(lengths, int):
        return x_padded[..., -K:]
    index = (lengths - 1)[:, None] + torch.arange(K, device=x_padded.device)  # [b, K]
    return x_padded.gather(2, index[:, None, :].expand(-1, x_padded.shape[1], -1))


def mamba_prefill(x: Tensor, z: Tensor, B: Tensor, C: Tensor, dt: Tensor, conv_weight: Tensor,
                  conv_bias: Tensor | None, A_log: Tensor, D: Tensor, dt_bias: Tensor, conv_state: Tensor | None = None,
                  ssm_state: Tensor | None = None, slots: Tensor | None = None,
                  lengths: Tensor | None = None, fresh: bool = False) -> Tensor:
    """The Mamba prefill on the best backend available; same contract as ``mamba_prefill_ref``. For CUDA tensors:
    the fused Triton kernel, or, for fresh rows where mamba-ssm's CUDA scan is installed, the torch conv and that
    scan.

    >>> b, T, d, dxb, N, K = 1, 3, 4, 2, 1, 2
    >>> x, B, z, C, dt = (torch.randn(b, T, w) for w in (dxb, dxb, d, d, d))
    >>> y = mamba_prefill(x, z, B, C, dt, torch.randn(d, K), None, torch.zeros(d, N), torch.ones(d), torch.zeros(d))
    >>> y.shape
    torch.Size([1, 3, 4])
    """
    fresh = fresh or ssm_state is None
    if fresh and use_triton(z) and checked_mamba_ssm_scan() is not None:
        return mamba_prefill_ref(x, z, B, C, dt, conv_weight, conv_bias, A_log, D, dt_bias, conv_state, ssm_state,
                                 slots, lengths, fresh=True)
    if use_triton(z):
        from m1reason.kernels.triton_mamba_prefill import mamba_prefill_triton  # lazy: triton is optional

        return mamba_prefill_triton(x, z, B, C, dt, conv_weight, conv_bias, A_log, D, dt_bias, conv_state, ssm_state,
                                    slots, lengths)
    return mamba_prefill_ref(x, z, B, C, dt, conv_weight, conv_bias, A_log, D, dt_bias, conv_state, ssm_state, slots,
                             lengths, fresh)
