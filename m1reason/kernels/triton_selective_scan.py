"""Triton: the Mamba-1 selective scan for prefill, one program per (sequence, block of channels).

Each program keeps its channels' [BLOCK_D, N] state in registers and walks the time steps in order, so memory
traffic is one read of x, dt, z, B, C and one write of y: no [b, T, d, N] intermediates, which at 512 prompts x
256 tokens would not fit. B and C are read per group (channel c uses group c // (d / G)), never repeated; M1's
B comes in fewer groups than its C.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from m1reason.kernels.triton_elementwise import softplus

__all__ = ["selective_scan_triton"]


@triton.jit
def _scan_kernel(x_ptr, dt_ptr, z_ptr, B_ptr, C_ptr, A_ptr, D_ptr, dt_bias_ptr, h0_ptr, y_ptr, h_ptr, T, d,
                 stride_x_b, stride_x_t, stride_B_b, stride_B_t, stride_C_b, stride_C_t, stride_y_b, stride_y_t,
                 HAS_H0: tl.constexpr, N: tl.constexpr, GROUP_B: tl.constexpr, GROUP_C: tl.constexpr,
                 BLOCK_D: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    c = tl.program_id(1) * BLOCK_D + tl.arange(0, BLOCK_D)
    live = c < d
    n = tl.arange(0, N)
    A = tl.load(A_ptr + c[:, None] * N + n[None, :], mask=live[:, None], other=0.0).to(tl.float32)
    D = tl.load(D_ptr + c, mask=live, other=0.0).to(tl.float32)
    dt_bias = tl.load(dt_bias_ptr + c, mask=live, other=0.0).to(tl.float32)
    state = row * d * N + c[:, None] * N + n[None, :]
    if HAS_H0:
        h = tl.load(h0_ptr + state, mask=live[:, None], other=0.0).to(tl.float32)
    else:
        h = tl.zeros([BLOCK_D, N], tl.float32)
    group_B, group_C = (c // GROUP_B) * N, (c // GROUP_C) * N
    for t in range(T):
        at = row * stride_x_b + t * stride_x_t + c
        x = tl.load(x_ptr + at, mask=live, other=0.0).to(tl.float32)
        dt = tl.load(dt_ptr + at, mask=live, other=0.0).to(tl.float32) + dt_bias
        z = tl.load(z_ptr + at, mask=live, other=0.0).to(tl.float32)
        Bv = tl.load(B_ptr + row * stride_B_b + t * stride_B_t + group_B[:, None] + n[None, :], mask=live[:, None],
                     other=0.0).to(tl.float32)
        Cv = tl.load(C_ptr + row * stride_C_b + t * stride_C_t + group_C[:, None] + n[None, :], mask=live[:, None],
                     other=0.0).to(tl.float32)
        delta = softplus(dt)
        h = h * tl.exp(delta[:, None] * A) + (delta * x)[:, None] * Bv
        y = (tl.sum(h * Cv, axis=1) + D * x) * z * tl.sigmoid(z)
        tl.store(y_ptr + row * stride_y_b + t * stride_y_t + c, y.to(y_ptr.dtype.element_ty), mask=live)
    tl.store(h_ptr + state, h, mask=live[:, None])


def selective_scan_triton(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor,
                          dt_bias: Tensor, ssm_state: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Same contract as ``m1reason.kernels.selective_scan_ref``."""
    b, T, d = x.shape
    N = B.shape[-1]
    x, dt, z = x.contiguous(), dt.contiguous(), z.contiguous()
    B, C = B.contiguous(), C.contiguous()
    y = torch.empty_like(x)
    h = torch.empty(b, d, N, dtype=torch.float32, device=x.device)
    h0 = ssm_state.contiguous() if ssm_state is not None else h
    BLOCK_D = 32
    _scan_kernel[(b, triton.cdiv(d, BLOCK_D))](
        x, dt, z, B, C, A.float().contiguous(), D, dt_bias, h0, y, h, T, d, x.stride(0), x.stride(1),
        B.stride(0), B.stride(1), C.stride(0), C.stride(1), y.stride(0), y.stride(1),
        HAS_H0=ssm_state is not None, N=N, GROUP_B=d // B.shape[-2], GROUP_C=d // C.shape[-2], BLOCK_D=BLOCK_D,
        num_warps=2)
    return y, h
