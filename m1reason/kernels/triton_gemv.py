"""Triton: y = x W^T + b for a few rows of x, the shape of every projection in a small-batch decode step.

At batch 1 a decode step of M1-3B is ~160 matrix-vector products whose only real cost is reading the weights
(6.9 GB a token). cuBLAS runs them at ~75% of the copy bandwidth on an H200 (BENCHMARKS.md "profile_b1_h200"),
some as split-K with an extra reduction kernel each. Here each program owns BLOCK_N output columns, walks K in
BLOCK_K slices with STAGES slices' loads in flight, and multiplies every row of x against the same weight tile
(read once for all rows), accumulating in fp32. ``gated_gemv_triton`` is the MLP's first half in one launch:
silu(x W_gate^T) * (x W_up^T), both weight tiles walked by the same program (where cuBLAS takes two GEMMs and a
third kernel for the product).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

__all__ = ["gated_gemv_triton", "gemv_triton"]


@triton.jit
def _gemv_kernel(x_ptr, w_ptr, up_ptr, bias_ptr, y_ptr, M, N, K, stride_xm, stride_wn, stride_ym,
                 GATED: tl.constexpr, HAS_BIAS: tl.constexpr, M_PAD: tl.constexpr, BLOCK_N: tl.constexpr,
                 BLOCK_K: tl.constexpr, STAGES: tl.constexpr):
    """y = x W^T (+ bias); GATED: y = silu(x W^T) * (x U^T), U at ``up_ptr`` walked with the same tiles."""
    n = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    live_n = n < N
    m = tl.arange(0, M_PAD)
    live_m = m < M
    k = tl.arange(0, BLOCK_K)
    acc = tl.zeros([M_PAD, BLOCK_N], tl.float32)
    up = tl.zeros([M_PAD, BLOCK_N], tl.float32)
    for start in tl.range(0, K, BLOCK_K, num_stages=STAGES):
        live_k = start + k < K
        w_rows = n[:, None].to(tl.int64) * stride_wn + (start + k)[None, :]
        w_live = live_n[:, None] & live_k[None, :]
        x = tl.load(x_ptr + m[:, None] * stride_xm + (start + k)[None, :],
                    mask=live_m[:, None] & live_k[None, :], other=0.0).to(tl.float32)[:, None, :]
        acc += tl.sum(x * tl.load(w_ptr + w_rows, mask=w_live, other=0.0).to(tl.float32)[None, :, :], axis=2)
        if GATED:
            up += tl.sum(x * tl.load(up_ptr + w_rows, mask=w_live, other=0.0).to(tl.float32)[None, :, :], axis=2)
    dtype = y_ptr.dtype.element_ty
    if HAS_BIAS:
        acc += tl.load(bias_ptr + n, mask=live_n, other=0.0).to(tl.float32)[None, :]
    if GATED:
        # each projection rounded to the activation dtype first, as the unfused path's GEMM outputs are
        gate, up = acc.to(dtype).to(tl.float32), up.to(dtype).to(tl.float32)
        acc = gate * tl.sigmoid(gate) * up
    tl.store(y_ptr + m[:, None] * stride_ym + n[None, :], acc.to(dtype), mask=live_m[:, None] & live_n[None, :])


def _launch(x: Tensor, weight: Tensor, up: Tensor | None, bias: Tensor | None, block_n: int, block_k: int,
            num_warps: int, stages: int) -> Tensor:
    M, K = x.shape
    N = weight.shape[0]
    assert M <= 8 and weight.shape[1] == K and weight.stride(1) == 1 and x.stride(1) == 1
    assert up is None or (up.shape == weight.shape and up.stride() == weight.stride())  # one offset for both
    y = torch.empty(M, N, dtype=x.dtype, device=x.device)
    _gemv_kernel[(triton.cdiv(N, block_n),)](
        x, weight, up if up is not None else weight, bias if bias is not None else weight, y, M, N, K, x.stride(0),
        weight.stride(0), y.stride(0), GATED=up is not None, HAS_BIAS=bias is not None,
        M_PAD=triton.next_power_of_2(M), BLOCK_N=block_n, BLOCK_K=block_k, STAGES=stages, num_warps=num_warps)
    return y


def gemv_triton(x: Tensor, weight: Tensor, bias: Tensor | None = None, *, block_n: int = 32, block_k: int = 256,
                num_warps: int = 4, stages: int = 3) -> Tensor:
    """``F.linear(x, weight, bias)`` for x [M, K] with few rows (M <= 8; each row's last dimension contiguous),
    weight [N, K] contiguous, on CUDA; y [M, N] in x's dtype."""
    return _launch(x, weight, None, bias, block_n, block_k, num_warps, stages)


def gated_gemv_triton(x: Tensor, w_gate: Tensor, w_up: Tensor, *, block_n: int = 32, block_k: int = 256,
                      num_warps: int = 4, stages: int = 3) -> Tensor:
    """``silu(F.linear(x, w_gate)) * F.linear(x, w_up)`` for x [M, K] with M <= 8 rows, in one launch; weights
    [N, K] with the same strides, last dimension contiguous, on CUDA."""
    return _launch(x, w_gate, w_up, None, block_n, block_k, num_warps, stages)
