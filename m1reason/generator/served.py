"""Calibrate a generator by serving scratch requests through it: the step a request will wait for, not a proxy.

``m1reason.throughput.measure`` times ``model.step`` eagerly on a scratch cache. The engine serves decode
steps differently: replayed as CUDA graphs, several per host sync, with sampling and its own host work around
them. For a small model on a GPU that difference is everything: the tiny embedded model's eager step is many
times slower than a served one and barely depends on the batch, so BudgetAware, planning from the eager numbers,
forced answers out of samples that had time to finish and lost accuracy.

So when the engine is idle the generator calibrates itself: for each point of a small (batch, context) grid it
serves one scratch request of ``batch`` samples forked from one prompt of ``context`` tokens, and the pace meter
records its decode steps exactly as it records everyone's; prefill rows are the wall time of one-token requests.
"""

from __future__ import annotations

import statistics
import time

import torch

from m1reason.errors import CapacityError
from m1reason.throughput import Calibration, PaceMeter
from m1reason.throughput.measure import grid
from m1reason.types import GenerationRequest, SamplingParams

__all__ = ["measure_served"]

ENGINE_STEPS = 5  # engine steps served per grid point; the first (it holds the prefill) is not a decode row


def measure_served(generator, *, max_batch: int, max_context: int, seed: int = 0) -> Calibration:
    """Decode rows (batch, context, seconds per token as served) and prefill rows (tokens, seconds) for
    ``generator`` (an idle M1Generator), from scratch requests served through it.

    >>> from m1reason import M1Generator
    >>> from m1reason.model import HybridLM, ModelConfig
    >>> cal = measure_served(M1Generator(HybridLM(ModelConfig.tiny()), max_slots=4, max_len=64),
    ...                      max_batch=4, max_context=48)
    >>> sorted({b for b, _, _ in cal.decode}), all(s > 0 for _, _, s in cal.decode), len(cal.prefill) > 1
    ([1, 2, 3, 4], True, True)
    """
    rng = torch.Generator().manual_seed(seed)
    vocab = generator.model.config.vocab_size
    new_tokens = ENGINE_STEPS * generator.engine.decode_steps
    cache = generator.engine.cache
    if cache.uses_blocks:  # the KV pool must hold the prompt and every sample's new tokens (prompt blocks are shared)
        pool = cache.num_blocks * cache.block_size
        max_context = min(max_context, pool - max_batch * (new_tokens + 2 * cache.block_size))
    if max_context < 2 * new_tokens:
        raise CapacityError(f"the KV pool ({cache.num_blocks} blocks) is too small to calibrate {max_batch} slots")

    def serve(batch: int, context: int, max_new_tokens: int) -> float:
        prompt = torch.randint(0, vocab, (context,), generator=rng).tolist()
        params = SamplingParams(n=batch, temperature=1.0, seed=seed, max_new_tokens=max_new_tokens,
                                ignore_eos=True)
        started = time.perf_counter()
        generator.generate([GenerationRequest(prompt_token_ids=prompt, sampling=params)])
        return time.perf_counter() - started  # generate returns with the tokens on the host: no sync needed

    # Each grid point's steps go to a meter of its own: the generator's meter describes its load, and idle-time
    # steps counted there as well as here would pull its refits towards the idle speed twice.
    served_pace, generator.pace = generator.pace, PaceMeter()
    try:
        serve(1, 8, new_tokens)  # warm up: kernel compiles, the smallest graph
        decode = []
        for batch in grid(max_batch, 4):
            for context in grid(max_context - new_tokens, 3):
                generator.pace = PaceMeter()
                serve(batch, context, new_tokens)
                rows = generator.pace.rows()[1:]  # the first step held the prefill
                if rows:
                    decode.append((batch, float(context), statistics.median(s for _, _, s in rows)))
        prefill = [(tokens, statistics.median(serve(1, tokens, 1) for _ in range(3)))
                   for tokens in grid(max_context, 4)]
    finally:
        generator.pace = served_pace
    return Calibration(decode=decode, prefill=prefill)
