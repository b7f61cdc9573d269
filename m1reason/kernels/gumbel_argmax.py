"""Token sampling by the Gumbel-max trick, with noise keyed by (seed, sample index, step, token id).

``gumbel_argmax_ref`` is the definition: argmax of logits / temperature + Gumbel noise (greedy rows: of the
logits), the noise a counter-based hash (``uniform_noise``) rather than a stateful generator, so a sample draws
the same numbers whatever else is in the batch. ``gumbel_argmax`` runs the Triton kernel of ``triton_sampling``
(one pass over the logits, the hash computed in registers) for CUDA tensors where no gradient is recorded, else
the reference. Top-k/top-p/min-p filtering and log-probabilities are the engine's (``m1reason.engine.sampling``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from m1reason.kernels.dispatch import use_triton

__all__ = ["gumbel_argmax", "gumbel_argmax_ref", "row_hash", "uniform_noise"]

_M32 = 0xFFFFFFFF


def _mix32(x: Tensor) -> Tensor:
    """A 32-bit integer finaliser (lowbias32) in int64 arithmetic; products wrap mod 2^64, the low 32 bits are
    exact, and masking keeps every value non-negative before shifting."""
    x = x & _M32
    x = (x ^ (x >> 16)) * 0x7FEB352D & _M32
    x = (x ^ (x >> 15)) * 0x846CA68B & _M32
    return x ^ (x >> 16)


def row_hash(seeds: Tensor, sample_index: Tensor, steps: Tensor) -> Tensor:
    """[b] 32-bit hashes of (seed, sample index, step): the per-row key of the noise (as int64).

    >>> alone = row_hash(torch.tensor([7]), torch.tensor([0]), torch.tensor([3]))
    >>> torch.equal(alone, row_hash(torch.tensor([9, 7]), torch.tensor([1, 0]), torch.tensor([0, 3]))[1:])
    True
    """
    h = _mix32(seeds ^ (seeds >> 32))
    h = _mix32(h ^ _mix32(sample_index + 0x9E3779B9))
    return _mix32(h ^ _mix32(steps + 0x85EBCA6B))


def uniform_noise(seeds: Tensor, sample_index: Tensor, steps: Tensor, vocab: int) -> Tensor:
    """Uniform numbers in (0, 1), [b, vocab], a pure function of (seed, sample index, step, token id).

    >>> a = uniform_noise(torch.tensor([7]), torch.tensor([0]), torch.tensor([3]), 5)
    >>> torch.equal(a, uniform_noise(torch.tensor([9, 7]), torch.tensor([1, 0]), torch.tensor([0, 3]), 5)[1:])
    True
    """
    h = row_hash(seeds, sample_index, steps)
    token = torch.arange(vocab, device=seeds.device, dtype=torch.long)
    bits = _mix32(h[:, None] ^ _mix32(token[None, :] * 0x27D4EB2F + 0x165667B1))
    return ((bits >> 9).float() + 0.5) / 2**23  # 23 bits + 0.5: exact in fp32, never 0 or 1


def gumbel_argmax_ref(logits: Tensor, temperature: Tensor, seeds: Tensor, sample_index: Tensor,
                      steps: Tensor) -> Tensor:
    """Tokens [b]: argmax over logits [b, V] (fp32) of logits / temperature - log(-log(u)), u =
    ``uniform_noise(seeds, sample_index, steps, V)``; rows whose temperature [b] is 0 take the plain argmax.

    >>> logits = torch.tensor([[0.0, 5.0, 1.0], [2.0, 0.0, 0.0]])
    >>> gumbel_argmax_ref(logits, torch.zeros(2), torch.zeros(2, dtype=torch.long), torch.arange(2),
    ...                   torch.zeros(2, dtype=torch.long)).tolist()
    [1, 0]
    """
    logits = logits.float()
    greedy = temperature == 0
    scaled = logits / torch.where(greedy, 1.0, temperature)[:, None]
    noise = uniform_noise(seeds, sample_index, steps, logits.shape[-1])
    drawn = (scaled - torch.log(-torch.log(noise))).argmax(-1)
    return torch.where(greedy, logits.argmax(-1), drawn)


def gumbel_argmax(logits: Tensor, temperature: Tensor, seeds: Tensor, sample_index: Tensor, steps: Tensor) -> Tensor:
    """The Gumbel-max draw on the best backend available; same contract as ``gumbel_argmax_ref`` (the kernel
    reads the logits in their own dtype).

    >>> logits = torch.tensor([[0.0, 5.0, 1.0], [2.0, 0.0, 0.0]])
    >>> gumbel_argmax(logits, torch.zeros(2), torch.zeros(2, dtype=torch.long), torch.arange(2),
    ...               torch.zeros(2, dtype=torch.long)).tolist()
    [1, 0]
    """
    if use_triton(logits):
        from m1reason.kernels.triton_sampling import gumbel_argmax_triton  # lazy: triton is an optional dependency

        return gumbel_argmax_triton(logits, temperature, seeds, sample_index, steps)
    return gumbel_argmax_ref(logits, temperature, seeds, sample_index, steps)
