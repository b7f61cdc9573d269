"""Triton: RMSNorm (alone, or after the residual add), and the MLP's silu(gate) * up, one kernel each instead of a
chain of elementwise ops.

At decode batch sizes these ops are tiny and launch-bound (57 norms per M1-3B step, ~7 kernels each in eager
torch); fused, they cost one read and one write. Rounding follows the torch references step for step (the norm
rounds to the activation dtype before the weight multiply; silu rounds before the product).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

__all__ = ["add_rms_norm_triton", "rms_norm_triton", "silu_mul_triton", "softplus"]


@triton.jit
def softplus(v):
    """log(1 + exp(v)) with torch's threshold (v itself above 20), for the Mamba kernels' delta."""
    return tl.where(v > 20.0, v, tl.log(1.0 + tl.exp(v)))


@triton.jit
def _rms_norm_kernel(x_ptr, w_ptr, out_ptr, n, stride_x, stride_out, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    live = cols < n
    x = tl.load(x_ptr + row * stride_x + cols, mask=live, other=0.0).to(tl.float32)
    rstd = 1.0 / tl.sqrt(tl.sum(x * x, axis=0) / n + eps)
    normed = (x * rstd).to(x_ptr.dtype.element_ty).to(tl.float32)
    w = tl.load(w_ptr + cols, mask=live, other=0.0).to(tl.float32)
    tl.store(out_ptr + row * stride_out + cols, (w * normed).to(out_ptr.dtype.element_ty), mask=live)


@triton.jit
def _add_rms_norm_kernel(h_ptr, x_ptr, w_ptr, sum_ptr, out_ptr, n, stride_h, stride_x, stride_sum, stride_out, eps,
                         BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    live = cols < n
    h = tl.load(h_ptr + row * stride_h + cols, mask=live, other=0.0).to(tl.float32)
    x = tl.load(x_ptr + row * stride_x + cols, mask=live, other=0.0).to(tl.float32)
    total = (h + x).to(sum_ptr.dtype.element_ty)  # torch's add rounds to the activations' dtype
    tl.store(sum_ptr + row * stride_sum + cols, total, mask=live)
    total = total.to(tl.float32)
    rstd = 1.0 / tl.sqrt(tl.sum(total * total, axis=0) / n + eps)
    normed = (total * rstd).to(sum_ptr.dtype.element_ty).to(tl.float32)
    w = tl.load(w_ptr + cols, mask=live, other=0.0).to(tl.float32)
    tl.store(out_ptr + row * stride_out + cols, (w * normed).to(out_ptr.dtype.element_ty), mask=live)


@triton.jit
def _silu_mul_kernel(gate_ptr, up_ptr, out_ptr, cols, stride_gate, stride_up, stride_out, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    live = offs < cols
    g = tl.load(gate_ptr + row * stride_gate + offs, mask=live, other=0.0).to(tl.float32)
    u = tl.load(up_ptr + row * stride_up + offs, mask=live, other=0.0).to(tl.float32)
    act = (g * tl.sigmoid(g)).to(gate_ptr.dtype.element_ty).to(tl.float32)
    tl.store(out_ptr + row * stride_out + offs, (act * u).to(out_ptr.dtype.element_ty), mask=live)


def rms_norm_triton(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    """weight * (x / rms(x)) over the last dimension; same result as ``m1reason.kernels.rms_norm_ref``."""
    shape = x.shape
    rows = _rows(x)
    out_dtype = torch.promote_types(weight.dtype, x.dtype)
    out = torch.empty(rows.shape, dtype=out_dtype, device=x.device)
    block = triton.next_power_of_2(shape[-1])
    _rms_norm_kernel[(rows.shape[0],)](rows, weight, out, shape[-1], rows.stride(0), out.stride(0), eps,
                                       BLOCK=block, num_warps=8 if block >= 4096 else 4)
    return out.view(shape)


def add_rms_norm_triton(h: Tensor, x: Tensor, weight: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """(h + x, RMSNorm(h + x)) in one pass: the residual add and the norm after it, a decoder layer's two
    elementwise kernels between mixer and MLP. Same results as torch's add, then ``rms_norm_triton``
    (``m1reason.kernels.add_rms_norm_ref``)."""
    shape = h.shape
    h_rows, x_rows = _rows(h), _rows(x)
    total = torch.empty(h_rows.shape, dtype=h.dtype, device=h.device)
    out = torch.empty(h_rows.shape, dtype=torch.promote_types(weight.dtype, h.dtype), device=h.device)
    block = triton.next_power_of_2(shape[-1])
    _add_rms_norm_kernel[(h_rows.shape[0],)](h_rows, x_rows, weight, total, out, shape[-1], h_rows.stride(0),
                                             x_rows.stride(0), total.stride(0), out.stride(0), eps, BLOCK=block,
                                             num_warps=8 if block >= 4096 else 4)
    return total.view(shape), out.view(shape)


def silu_mul_triton(gate: Tensor, up: Tensor) -> Tensor:
    """silu(gate) * up elementwise (same shapes). The rows may be strided, as the two halves of one merged
    gate-and-up GEMM's output are (``GatedMLP.merge_gate_up``): they are read in place, not copied."""
    shape, cols = gate.shape, gate.shape[-1]
    gate_rows, up_rows = _rows(gate), _rows(up)
    out = torch.empty(shape, dtype=gate.dtype, device=gate.device)
    out_rows = out.view(-1, cols)
    block = min(4096, triton.next_power_of_2(cols))
    grid = (gate_rows.shape[0], triton.cdiv(cols, block))
    _silu_mul_kernel[grid](gate_rows, up_rows, out_rows, cols, gate_rows.stride(0), up_rows.stride(0),
                           out_rows.stride(0), BLOCK=block, num_warps=8 if block >= 2048 else 4)
    return out


def _rows(x: Tensor) -> Tensor:
    """x as [rows, last dim] with unit stride along the row: a view where one exists, else a copy."""
    rows = x.reshape(-1, x.shape[-1])
    return rows if rows.stride(-1) == 1 else rows.contiguous()
