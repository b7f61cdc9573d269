"""Token sampling on the model's device, batch-composition independent.

Randomness comes from a counter-based hash of (seed, sample index, step, vocabulary id), defined in
``m1reason.kernels.gumbel_argmax``, instead of a stateful generator: sample i of a request with seed s draws the
same numbers whatever else is in the batch, survives preemption and recompute, and needs no host round trip (so
it can live in a CUDA graph). Sampling is the Gumbel-max trick over the filtered, temperature-scaled logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from m1reason.engine.transfer import to_device
from m1reason.kernels import use_triton
from m1reason.kernels.gumbel_argmax import gumbel_argmax, uniform_noise
from m1reason.types import SamplingParams

__all__ = ["SamplingBatch", "sample"]


@dataclass
class SamplingBatch:
    """Per-row sampling settings as device tensors ([b] each); temperature 0 means greedy."""

    temperature: Tensor
    top_k: Tensor  # -1 = off
    top_p: Tensor
    min_p: Tensor
    seeds: Tensor
    sample_index: Tensor
    steps: Tensor  # tokens this sample has generated so far
    banned: Tensor | None = None  # [b, vocab] bool: tokens not allowed now (EOS before min_new_tokens)
    any_random: bool = True  # False when every row is greedy: no noise to draw
    any_filter: bool = True  # False when no row uses top-k/top-p/min-p: no sort over the vocabulary


    @classmethod
    def build(cls, rows: list[tuple[SamplingParams, int, int, int]], vocab: int, eos_token_ids,
              device: torch.device | str) -> SamplingBatch:
        """One row per sample from (params, seed, sample index, tokens generated so far): two host-to-device
        copies, and EOS/stop tokens banned for rows still short of their min_new_tokens.

        >>> p = SamplingParams(temperature=0, min_new_tokens=2)
        >>> b = SamplingBatch.build([(p, 7, 0, 1)], vocab=4, eos_token_ids=(3,), device="cpu")
        >>> b.banned.tolist(), b.any_random
        ([[False, False, False, True]], False)
        """
        params = [r[0] for r in rows]
        floats = torch.tensor([[p.temperature for p in params], [p.top_p for p in params],
                               [p.min_p for p in params]], dtype=torch.float32)
        ints = torch.tensor([[p.top_k for p in params], [r[1] for r in rows], [r[2] for r in rows],
                             [r[3] for r in rows]], dtype=torch.long)
        floats, ints = to_device(floats, device), to_device(ints, device)
        banned = None
        early = [i for i, (p, _, _, generated) in enumerate(rows) if generated < p.min_new_tokens]
        if early:
            banned = torch.zeros(len(rows), vocab, dtype=torch.bool, device=device)
            for i in early:
                banned[i, [t for t in (*eos_token_ids, *params[i].stop_token_ids) if t < vocab]] = True
        return cls(temperature=floats[0], top_p=floats[1], min_p=floats[2], top_k=ints[0], seeds=ints[1],
                   sample_index=ints[2], steps=ints[3], banned=banned,
                   any_random=any(p.temperature > 0 for p in params),
                   any_filter=any(p.top_k > 0 or p.top_p < 1 or p.min_p > 0 for p in params))

    def advance(self) -> None:
        """Count one more generated token in every row, on the device: the batch's next decode step.
        Only valid with no banned tokens (which rows are banned depends on the count; rebuild instead).

        >>> b = SamplingBatch.build([(SamplingParams(), 7, 0, 3)], vocab=4, eos_token_ids=(3,), device="cpu")
        >>> b.advance(); b.steps.tolist()
        [4]
        """
        if self.banned is not None:
            raise ValueError("a batch with banned tokens changes with the step count: build it again")
        self.steps = self.steps + 1


def _filter(scaled: Tensor, batch: SamplingBatch) -> Tensor:
    """Mask (-inf) what top-k, top-p and min-p exclude. scaled: [b, V] fp32 logits / temperature."""
    sorted_logits, order = scaled.sort(dim=-1, descending=True)
    rank = torch.arange(scaled.shape[-1], device=scaled.device)[None]
    k = torch.where(batch.top_k > 0, batch.top_k, scaled.shape[-1])[:, None]
    probs = sorted_logits.softmax(-1)
    # top-p keeps the smallest prefix whose mass reaches p: a token stays if the mass before it is < p
    mass_before = probs.cumsum(-1) - probs
    keep = (rank < k) & (mass_before < batch.top_p[:, None])
    keep |= rank == 0
    keep &= probs >= batch.min_p[:, None] * probs[:, :1]
    masked = sorted_logits.masked_fill(~keep, float("-inf"))
    return torch.empty_like(scaled).scatter_(-1, order, masked)


def sample(logits: Tensor, batch: SamplingBatch, *, with_logprobs: bool = True) -> tuple[Tensor, Tensor | None]:
    """Next tokens [b] and their log-probabilities [b] under the model's own distribution (before temperature
    and filters, as vLLM reports them; None unless ``with_logprobs``).

    >>> logits = torch.tensor([[0.0, 5.0, 1.0], [2.0, 0.0, 0.0]])
    >>> b = SamplingBatch(temperature=torch.zeros(2), top_k=torch.full((2,), -1), top_p=torch.ones(2),
    ...                   min_p=torch.zeros(2), seeds=torch.zeros(2, dtype=torch.long),
    ...                   sample_index=torch.arange(2), steps=torch.zeros(2, dtype=torch.long))
    >>> sample(logits, b)[0].tolist()
    [1, 0]
    """
    if batch.banned is not None:
        logits = logits.masked_fill(batch.banned, float("-inf"))
    if batch.any_random and not batch.any_filter and use_triton(logits):
        # the fused kernel: one pass over the logits in their own dtype
        tokens = gumbel_argmax(logits, batch.temperature, batch.seeds, batch.sample_index, batch.steps)
    else:
        logits = logits.float()
        tokens = logits.argmax(-1)
        if batch.any_random:
            greedy = batch.temperature == 0
            scaled = logits / torch.where(greedy, 1.0, batch.temperature)[:, None]
            filtered = _filter(scaled, batch) if batch.any_filter else scaled
            noise = uniform_noise(batch.seeds, batch.sample_index, batch.steps, logits.shape[-1])
            drawn = (filtered - torch.log(-torch.log(noise))).argmax(-1)
            tokens = torch.where(greedy, tokens, drawn)
    if not with_logprobs:
        return tokens, None
    logits = logits.float()
    chosen = logits.gather(-1, tokens[:, None])[:, 0]
    return tokens, chosen - logits.logsumexp(-1)
