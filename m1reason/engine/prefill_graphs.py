"""CUDA graphs for the prefill of a prompt that arrives alone: the wait for one student's first token.

A prefill call of one short prompt is launch-bound: hundreds of kernel launches from Python for a few milliseconds
of GPU work. A new prompt prefilled alone is right-padded to the next length bucket and replayed from the graph
captured for that bucket: each Mamba layer's state stops at the prompt's last real token (``lengths``), attention
is causal (real tokens never see the padding after them), and the padding's keys land at positions the first
decode steps overwrite before anything reads them (or in the cache's scratch block, past the slot's reservation).
Several prompts in one call, continuations of a slot's state (appends, recomputes) and prompts longer than the
largest bucket take the eager path.

``capture=False`` runs the same program eagerly on the same buffers (any device): what the graphs replay,
checkable where there is no GPU.
"""

from __future__ import annotations

import torch
from torch import Tensor

from m1reason.engine.cache import PagedCache
from m1reason.engine.transfer import to_device
from m1reason.model.hybrid import HybridLM

__all__ = ["PrefillGraphs", "length_buckets"]


def length_buckets(max_tokens: int, smallest: int = 32) -> list[int]:
    """Powers of two from ``smallest`` up to ``max_tokens``, and ``max_tokens`` itself: a prompt is padded by
    less than its own length (and by at most ``smallest`` - 1 tokens below that).

    >>> length_buckets(1024), length_buckets(300)
    ([32, 64, 128, 256, 512, 1024], [32, 64, 128, 256, 300])
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    sizes, size = [], smallest
    while size < max_tokens:
        sizes.append(size)
        size *= 2
    return [*sizes, max_tokens]


class PrefillGraphs:
    """Replays ``model.prefill`` of one fresh prompt of up to ``max_tokens`` tokens, capturing a length bucket's
    graph on first use.

    >>> from m1reason.model import ModelConfig
    >>> model = HybridLM(ModelConfig.tiny())
    >>> cache = PagedCache(model.config, slots=2, max_len=64, kv_tokens=128, block_size=16, device="cpu")
    >>> graphs = PrefillGraphs(model, cache, 48, capture=False)  # the graphs' program, run eagerly
    >>> slot = cache.allocate_slot(); cache.reserve(slot, 5)
    >>> graphs.takes(rows=1, width=5, fresh=True), graphs.takes(rows=2, width=5, fresh=True)
    (True, False)
    >>> graphs.run([1, 2, 3, 4, 5], slot).shape, int(cache.lengths[slot])
    (torch.Size([1, 256]), 5)
    """

    def __init__(self, model: HybridLM, cache: PagedCache, max_tokens: int, *, capture: bool = True):
        self.model, self.cache = model, cache
        self.buckets = length_buckets(max_tokens)
        self.capture = capture
        # one buffer for what a replay reads, copied in from the host at once: [slot, length, ids (padded)]
        self._inputs = torch.zeros(2 + self.buckets[-1], dtype=torch.long, device=model.device)
        self._slot, self._length, self._ids = self._inputs[0:1], self._inputs[1:2], self._inputs[2:][None]
        self._graphs: dict[int, torch.cuda.CUDAGraph] = {}
        self._logits: dict[int, Tensor] = {}
        self._pool = None

    def takes(self, *, rows: int, width: int, fresh: bool) -> bool:
        """Whether a prefill call of ``rows`` prompts of up to ``width`` tokens replays a graph: one new prompt
        that fits the largest bucket."""
        return rows == 1 and fresh and width <= self.buckets[-1]

    def run(self, tokens: list[int], slot: int) -> Tensor:
        """Logits [1, vocab] after the prompt ``tokens`` prefilled into the empty slot ``slot``; a view into the
        graph's output, valid until the next run of this bucket."""
        t = len(tokens)
        bucket = next(size for size in self.buckets if size >= t)
        # the prefill writes the slot's whole state (it starts from zeros): no zeroing of it before, which a replay
        # could not do anyway (it reads the states with no accessor call)
        self.cache.written_whole([slot])
        inputs = torch.tensor([slot, t, *tokens, *(0,) * (bucket - t)])
        self._inputs[:2 + bucket].copy_(to_device(inputs, self._inputs.device))
        if not self.capture:
            return self._prefill(bucket)
        if bucket not in self._graphs:
            self._capture(bucket)
        self._graphs[bucket].replay()
        return self._logits[bucket]

    def _prefill(self, bucket: int) -> Tensor:
        return self.model.prefill(self._ids[:, :bucket], self.cache, self._slot, lengths=self._length, fresh=True)

    @torch.no_grad()
    def _capture(self, bucket: int) -> None:
        # Warm-up and capture run the program for real on the buffers: point them at the pad slot (scratch state
        # and KV), and put back what they held and the pad slot's length, which every run advances.
        saved = self._inputs.clone()
        pad = self.cache.pad_slot
        pad_length = self.cache.lengths[pad].clone()
        self._slot.fill_(pad)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):  # compile Triton kernels, settle the allocator
                self._prefill(bucket)
                self.cache.lengths[pad] = pad_length
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            self._logits[bucket] = self._prefill(bucket)
        self._pool = graph.pool()
        self._graphs[bucket] = graph
        self._inputs.copy_(saved)
        self.cache.lengths[pad] = pad_length
