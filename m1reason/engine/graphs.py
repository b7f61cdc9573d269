"""CUDA graphs for the decode step: one captured graph per batch-size bucket.

A decode step of M1-3B is ~600 kernel launches; from Python on a slow host that alone costs tens of
milliseconds, more than the GPU work at small batch. Each bucket's graph replays the whole step (embedding,
all layers, final norm, lm_head) from static input buffers. A batch is padded up to its bucket with rows
pointing at the cache's pad slot, whose state and KV are scratch; its length is reset inside the graph.
"""

from __future__ import annotations

import torch
from torch import Tensor

from m1reason.engine.cache import PagedCache
from m1reason.model.hybrid import HybridLM

__all__ = ["DecodeGraphs", "batch_buckets"]


def batch_buckets(max_batch: int) -> list[int]:
    """1, 2, 4, 8, then steps of 8 up to 64, then of 32, and ``max_batch`` itself.

    >>> batch_buckets(100)
    [1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64, 96, 100]
    """
    sizes = [1, 2, 4, *range(8, 65, 8), *range(96, max_batch + 1, 32)]
    return sorted({s for s in sizes if s < max_batch} | {max_batch})


class DecodeGraphs:
    """Replays ``model.step`` for any batch up to ``max_batch``, capturing a bucket's graph on first use."""

    def __init__(self, model: HybridLM, cache: PagedCache, max_batch: int):
        self.model, self.cache = model, cache
        self.buckets = batch_buckets(max_batch)
        device = model.device
        self._tokens = torch.zeros(max_batch, dtype=torch.long, device=device)
        self._slots = torch.full((max_batch,), cache.pad_slot, dtype=torch.long, device=device)
        self._graphs: dict[int, torch.cuda.CUDAGraph] = {}
        self._logits: dict[int, Tensor] = {}
        self._pool = None

    def run(self, tokens: Tensor, slots: Tensor) -> Tensor:
        """Logits [b, vocab] of one decode step; a view into the graph's output, valid until the next run."""
        b = tokens.shape[0]
        bucket = next(size for size in self.buckets if size >= b)
        if bucket not in self._graphs:
            self._capture(bucket)
        self._tokens[:b].copy_(tokens)
        self._slots[:b].copy_(slots)
        self._slots[b:bucket].fill_(self.cache.pad_slot)
        self._graphs[bucket].replay()
        return self._logits[bucket][:b]

    def _step(self, bucket: int) -> Tensor:
        pad = self.cache.pad_slot
        self.cache.lengths[pad:pad + 1].zero_()  # padding rows advance it every replay
        return self.model.step(self._tokens[:bucket], self.cache, self._slots[:bucket])

    @torch.no_grad()
    def _capture(self, bucket: int) -> None:
        self._slots.fill_(self.cache.pad_slot)  # warm-up and capture must touch no live sequence
        self.cache.zero_new_slots()  # outside the graph: recorded in it, every replay would zero those slots
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):  # compile Triton kernels, settle the allocator
                self._step(bucket)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            self._logits[bucket] = self._step(bucket)
        self._pool = graph.pool()
        self._graphs[bucket] = graph
