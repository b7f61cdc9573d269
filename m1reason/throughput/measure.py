"""Measure decode-step and prefill times of a HybridLM on its device, for the throughput model.

Runs on a scratch cache (the engine's own may be full of live work): for each batch size and context in a
small grid, the slots are given that many tokens of (garbage) KV and state, and ``model.step`` is timed.
Values in the cache do not change the work done, so garbage is as good as real text here.
"""

from __future__ import annotations

import statistics
import time

import torch

from m1reason.engine.cache import PagedCache
from m1reason.model.hybrid import HybridLM
from m1reason.throughput.fit import Calibration

__all__ = ["grid", "measure"]


def grid(limit: int, points: int) -> list[int]:
    """``points`` roughly geometric values from 1 to ``limit``.

    >>> grid(64, 4), grid(4, 4)
    ([1, 4, 16, 64], [1, 2, 3, 4])
    """
    values = {max(1, round(limit ** (i / max(1, points - 1)))) for i in range(points)}
    return sorted(values)


@torch.no_grad()
def measure(model: HybridLM, *, max_batch: int, max_context: int, repeats: int = 5,
            block_size: int = 16) -> Calibration:
    """Median step time over (batch, context) and prefill time over prompt lengths.

    >>> from m1reason.model import ModelConfig
    >>> cal = measure(HybridLM(ModelConfig.tiny()), max_batch=4, max_context=64, repeats=1)
    >>> sorted({b for b, _, _ in cal.decode}), len(cal.prefill) > 1
    ([1, 2, 3, 4], True)
    """
    device = model.device
    batches, contexts = grid(max_batch, 4), grid(max_context, 3)
    per_slot = -(-(max_context + 1) // block_size) * block_size
    cache = PagedCache(model.config, slots=max_batch, max_len=max_context + 1, kv_tokens=max_batch * per_slot,
                       block_size=block_size, dtype=model.dtype, device=device)
    slots = [cache.allocate_slot() for _ in range(max_batch)]
    for slot in slots:
        cache.reserve(slot, max_context + 1)

    def timed(fn) -> float:
        fn()  # warm up (kernel selection, allocator)
        times = []
        for _ in range(repeats):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            started = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    decode = []
    for batch in batches:
        ids = torch.ones(batch, dtype=torch.long, device=device)
        index = torch.tensor(slots[:batch], device=device)
        for context in contexts:
            def one_step(index=index, ids=ids, context=context):
                cache.lengths[index] = context  # step advances lengths; every repeat starts from the same context
                model.step(ids, cache, index)
            decode.append((batch, float(context), timed(one_step)))
    prefill = []
    first = torch.tensor(slots[:1], device=device)
    for tokens in grid(max_context, 4):
        ids = torch.ones(1, tokens, dtype=torch.long, device=device)
        def one_prefill(ids=ids):
            cache.lengths[first] = 0
            model.prefill(ids, cache, first)
        prefill.append((tokens, timed(one_prefill)))
    return Calibration(decode=decode, prefill=prefill)
