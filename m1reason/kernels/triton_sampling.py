"""Triton: Gumbel-max sampling fused into one pass over the logits.

The torch reference (m1reason.engine.sampling) hashes (seed, sample, step, token) in int64 tensor ops over the
whole [batch, vocab] grid: at 512 x 128k that is ~25 full passes of 8-byte integers, several milliseconds per
step. Here each program walks one row's logits once, hashing in registers, and keeps the running argmax of
logits / temperature + Gumbel noise (greedy rows: of the logits). Same hash, same numbers, same tokens.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

__all__ = ["gumbel_argmax_triton"]


@triton.jit
def _mix32(x):
    x = x & 0xFFFFFFFF
    x = ((x ^ (x >> 16)) * 0x7FEB352D) & 0xFFFFFFFF
    x = ((x ^ (x >> 15)) * 0x846CA68B) & 0xFFFFFFFF
    return x ^ (x >> 16)


@triton.jit
def _gumbel_argmax_kernel(logits_ptr, temperature_ptr, seeds_ptr, sample_index_ptr, steps_ptr, out_ptr, V,
                          stride_row, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    temperature = tl.load(temperature_ptr + row)
    greedy = temperature == 0.0
    divisor = tl.where(greedy, 1.0, temperature)
    seed = tl.load(seeds_ptr + row)  # the row hash of engine.sampling.row_hash, computed here: no extra launches
    h = _mix32(seed ^ (seed >> 32))
    h = _mix32(h ^ _mix32(tl.load(sample_index_ptr + row) + 0x9E3779B9))
    h = _mix32(h ^ _mix32(tl.load(steps_ptr + row) + 0x85EBCA6B))
    best = tl.full([], float("-inf"), tl.float32)
    best_index = tl.full([], 0, tl.int64)
    for start in range(0, V, BLOCK):
        token = start + tl.arange(0, BLOCK).to(tl.int64)
        live = token < V
        logit = tl.load(logits_ptr + row * stride_row + token, mask=live, other=float("-inf")).to(tl.float32)
        bits = _mix32(h ^ _mix32(token * 0x27D4EB2F + 0x165667B1))
        u = ((bits >> 9).to(tl.float32) + 0.5) / 8388608.0
        score = tl.where(greedy, logit, logit / divisor - tl.log(-tl.log(u)))
        score = tl.where(live, score, float("-inf"))
        chunk_best = tl.max(score, axis=0)
        chunk_index = tl.argmax(score, axis=0).to(tl.int64) + start
        better = chunk_best > best  # strict: the first maximum wins, as torch.argmax
        best_index = tl.where(better, chunk_index, best_index)
        best = tl.where(better, chunk_best, best)
    tl.store(out_ptr + row, best_index)


def gumbel_argmax_triton(logits: Tensor, temperature: Tensor, seeds: Tensor, sample_index: Tensor,
                         steps: Tensor) -> Tensor:
    """Tokens [b]: argmax of logits / temperature + Gumbel noise keyed by (seed, sample index, step), greedy where
    temperature is 0; the same numbers as ``engine.sampling.uniform_noise``."""
    b, V = logits.shape
    out = torch.empty(b, dtype=torch.long, device=logits.device)
    logits = logits if logits.stride(-1) == 1 else logits.contiguous()
    _gumbel_argmax_kernel[(b,)](logits, temperature.float().contiguous(), seeds.contiguous(),
                                sample_index.contiguous(), steps.contiguous(), out, V, logits.stride(0),
                                BLOCK=2048, num_warps=8)
    return out
