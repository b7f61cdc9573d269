"""Triton: Gumbel-max sampling fused into one pass over the logits.

The torch reference (``m1reason.kernels.gumbel_argmax_ref``) hashes (seed, sample, step, token) in int64 tensor
ops over the whole [batch, vocab] grid: at 512 x 128k that is ~25 full passes of 8-byte integers. Here each
program walks one row's logits once, hashing in registers, and keeps the running argmax of logits / temperature
+ Gumbel noise (greedy rows: of the logits). Same hash, same numbers, same tokens.
"""

from __future__ import annotations

import functools

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
def _gumbel_argmax_kernel(logits_ptr, temperature_ptr, seeds_ptr, sample_index_ptr, steps_ptr, best_ptr, index_ptr,
                          V, span, stride_row, BLOCK: tl.constexpr):
    row, split = tl.program_id(0), tl.program_id(1)
    temperature = tl.load(temperature_ptr + row)
    greedy = temperature == 0.0
    divisor = tl.where(greedy, 1.0, temperature)
    seed = tl.load(seeds_ptr + row)  # the row hash of kernels.gumbel_argmax.row_hash, computed here: no extra launches
    h = _mix32(seed ^ (seed >> 32))
    h = _mix32(h ^ _mix32(tl.load(sample_index_ptr + row) + 0x9E3779B9))
    h = _mix32(h ^ _mix32(tl.load(steps_ptr + row) + 0x85EBCA6B))
    best = tl.full([], float("-inf"), tl.float32)
    lo = split.to(tl.int64) * span
    hi = tl.minimum(lo + span, V)
    best_index = lo
    for start in range(lo, hi, BLOCK):
        token = start + tl.arange(0, BLOCK).to(tl.int64)
        live = token < hi
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
    splits = tl.num_programs(1)
    tl.store(best_ptr + row * splits + split, best)
    tl.store(index_ptr + row * splits + split, best_index)


@triton.jit
def _first_best_kernel(best_ptr, index_ptr, out_ptr, splits, BLOCK_S: tl.constexpr):
    """Each row's token: that of its first split with the highest score (so the first maximum overall wins)."""
    row = tl.program_id(0)
    split = tl.arange(0, BLOCK_S)
    best = tl.load(best_ptr + row * splits + split, mask=split < splits, other=float("-inf"))
    first = tl.argmax(best, axis=0, tie_break_left=True)
    tl.store(out_ptr + row, tl.load(index_ptr + row * splits + first))


BLOCK = 2048  # logits per loop iteration of a program


@functools.cache
def _sm_count(device_index: int) -> int:
    return torch.cuda.get_device_properties(device_index).multi_processor_count


def vocab_splits(batch: int, vocab: int, device: torch.device) -> int:
    """How many programs share one row's vocabulary: enough for ~2 programs per SM over the batch (one row alone
    in one program walks 128k logits serially, a visible part of a batch-1 decode step), and one at large batch,
    where rows fill the GPU and a merge would cost a launch for nothing.

    >>> vocab_splits(512, 128256, torch.device("cpu")), vocab_splits(1, 128256, torch.device("cpu"))
    (1, 63)
    """
    if device.type == "cuda":
        sms = _sm_count(device.index if device.index is not None else torch.cuda.current_device())
    else:
        sms = 132  # the interpreter: any count works; a large GPU's
    return max(1, min(triton.cdiv(vocab, BLOCK), triton.cdiv(2 * sms, batch)))


def gumbel_argmax_triton(logits: Tensor, temperature: Tensor, seeds: Tensor, sample_index: Tensor,
                         steps: Tensor, splits: int | None = None) -> Tensor:
    """Tokens [b]: argmax of logits / temperature + Gumbel noise keyed by (seed, sample index, step), greedy where
    temperature is 0; the same numbers as ``m1reason.kernels.gumbel_argmax.uniform_noise``. Each row's
    vocabulary is cut into ``splits`` spans (default: ``vocab_splits``), each walked by its own program, then
    merged."""
    b, V = logits.shape
    splits = splits or vocab_splits(b, V, logits.device)
    span = triton.cdiv(triton.cdiv(V, splits), BLOCK) * BLOCK
    splits = triton.cdiv(V, span)
    best = torch.empty(b, splits, dtype=torch.float32, device=logits.device)
    index = torch.empty(b, splits, dtype=torch.long, device=logits.device)
    logits = logits if logits.stride(-1) == 1 else logits.contiguous()
    _gumbel_argmax_kernel[(b, splits)](logits, temperature.float().contiguous(), seeds.contiguous(),
                                       sample_index.contiguous(), steps.contiguous(), best, index, V, span,
                                       logits.stride(0), BLOCK=BLOCK, num_warps=8)
    if splits == 1:
        return index.view(b)
    out = torch.empty(b, dtype=torch.long, device=logits.device)
    _first_best_kernel[(b,)](best, index, out, splits, BLOCK_S=triton.next_power_of_2(splits))
    return out
