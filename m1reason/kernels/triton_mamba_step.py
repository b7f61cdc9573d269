"""Triton: M1's whole Mamba decode step after in_proj in one kernel per layer.

Conv-state shift + depthwise conv + silu, delta = softplus(dt + b_dt), state update, C readout, D skip and the
silu(z) gate, reading x and B in their narrow d_xb form: channel c of the repeated tensor is narrow element
(c // (r N)) N + c % N, where r = d / d_xb, so the GQA-style repeat is an index, never a copy.
One program handles BLOCK_D channels of ROWS sequences; the state rows it touches belong to it alone.
Matches ``mamba_step_ref`` (including the cast of the conv output to the activation dtype).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from m1reason.kernels.triton_elementwise import softplus

__all__ = ["mamba_step_triton"]


@triton.jit
def _mamba_step_kernel(x_ptr, z_ptr, B_ptr, C_ptr, dt_ptr, conv_ptr, ssm_ptr, w_ptr, conv_bias_ptr, A_log_ptr, D_ptr,
                       dt_bias_ptr, slots_ptr, y_ptr, b, d, stride_x, stride_z, stride_B, stride_C, stride_dt,
                       stride_conv_slot, stride_ssm_slot, stride_y,
                       HAS_CONV_BIAS: tl.constexpr, K: tl.constexpr, N: tl.constexpr, R: tl.constexpr,
                       BLOCK_D: tl.constexpr, ROWS: tl.constexpr):
    c = tl.program_id(1) * BLOCK_D + tl.arange(0, BLOCK_D)
    live = c < d
    k = tl.arange(0, K)
    n = tl.arange(0, N)
    narrow = (c // (R * N)) * N  # start of the narrow N-group that channel c repeats

    # The channels' parameters, read once for the program's ROWS sequences (from L2 for every program otherwise).
    # A = -exp(A_log) here, not in torch: two more kernels per layer and step, ~2% of a step at batch 1.
    w = tl.load(w_ptr + c[:, None] * K + k[None, :], mask=live[:, None], other=0.0).to(tl.float32)
    conv_bias = tl.zeros([BLOCK_D], tl.float32)
    if HAS_CONV_BIAS:
        conv_bias = tl.load(conv_bias_ptr + c, mask=live, other=0.0).to(tl.float32)
    dt_bias = tl.load(dt_bias_ptr + c, mask=live, other=0.0).to(tl.float32)
    A = -tl.exp(tl.load(A_log_ptr + c[:, None] * N + n[None, :], mask=live[:, None], other=0.0).to(tl.float32))
    D = tl.load(D_ptr + c, mask=live, other=0.0).to(tl.float32)

    for r in tl.static_range(ROWS):
        row = tl.program_id(0) * ROWS + r
        here = c < tl.where(row < b, d, 0)  # the row's live channels: none for a spare row past the batch
        slot = tl.load(slots_ptr + row, mask=row < b, other=0).to(tl.int64)

        # conv state: shift left by one and append the new (narrow-indexed) x
        x = tl.load(x_ptr + row * stride_x + narrow + c % N, mask=here, other=0.0)
        conv_rows = conv_ptr + slot * stride_conv_slot + c[:, None] * K
        shifted = tl.load(conv_rows + k[None, :] + 1, mask=here[:, None] & (k[None, :] < K - 1), other=0.0)
        window = tl.where(k[None, :] == K - 1, x.to(shifted.dtype)[:, None], shifted)
        tl.store(conv_rows + k[None, :], window, mask=here[:, None])
        xc = tl.sum(window.to(tl.float32) * w, axis=1) + conv_bias
        xc = xc * tl.sigmoid(xc)
        xc = xc.to(x_ptr.dtype.element_ty).to(tl.float32)  # the reference rounds the conv output to the model dtype

        dt = tl.load(dt_ptr + row * stride_dt + c, mask=here, other=0.0).to(tl.float32)
        delta = softplus(dt + dt_bias)
        Bv = tl.load(B_ptr + row * stride_B + narrow[:, None] + n[None, :], mask=here[:, None],
                     other=0.0).to(tl.float32)
        Cv = tl.load(C_ptr + row * stride_C + (c // N * N)[:, None] + n[None, :], mask=here[:, None],
                     other=0.0).to(tl.float32)
        state_rows = ssm_ptr + slot * stride_ssm_slot + c[:, None] * N + n[None, :]
        h = tl.load(state_rows, mask=here[:, None], other=0.0).to(tl.float32)
        h = h * tl.exp(delta[:, None] * A) + (delta * xc)[:, None] * Bv
        tl.store(state_rows, h.to(ssm_ptr.dtype.element_ty), mask=here[:, None])

        y = tl.sum(h * Cv, axis=1) + D * xc
        z = tl.load(z_ptr + row * stride_z + c, mask=here, other=0.0).to(tl.float32)
        tl.store(y_ptr + row * stride_y + c, (y * z * tl.sigmoid(z)).to(y_ptr.dtype.element_ty), mask=here)


def mamba_step_triton(x: Tensor, z: Tensor, B: Tensor, C: Tensor, dt: Tensor, conv_state: Tensor,
                      ssm_state: Tensor, conv_weight: Tensor, conv_bias: Tensor | None, A_log: Tensor, D: Tensor,
                      dt_bias: Tensor, slots: Tensor | None = None, block_d: int = 64, num_warps: int = 2,
                      rows: int = 1) -> Tensor:
    """Same contract as ``m1reason.kernels.mamba_step_ref``; CUDA tensors, states contiguous per slot.
    ``block_d`` channels, ``rows`` sequences and ``num_warps`` warps per program: the defaults are the fastest
    tiling ``python -m benchmarks.kernel_tiles`` found at M1-3B's shapes. Several rows per program share one read
    of the channels' parameters, but measured slower at every tiling, so one row is the default."""
    b, d = z.shape
    N, K = ssm_state.shape[-1], conv_state.shape[-1]
    R = d // x.shape[-1]
    if slots is None:
        slots = torch.arange(b, device=x.device)
    assert conv_state.stride(1) == K and conv_state.stride(2) == 1 and ssm_state.stride(1) == N
    assert all(t.stride(-1) == 1 for t in (x, z, B, C, dt))
    y = torch.empty_like(z)
    grid = (triton.cdiv(b, rows), triton.cdiv(d, block_d))
    _mamba_step_kernel[grid](
        x, z, B, C, dt, conv_state, ssm_state, conv_weight.contiguous(), conv_bias if conv_bias is not None else x,
        A_log.float().contiguous(), D, dt_bias, slots, y, b, d, x.stride(0), z.stride(0), B.stride(0), C.stride(0),
        dt.stride(0), conv_state.stride(0), ssm_state.stride(0), y.stride(0),
        HAS_CONV_BIAS=conv_bias is not None, K=K, N=N, R=R, BLOCK_D=block_d, ROWS=rows, num_warps=num_warps)
    return y
