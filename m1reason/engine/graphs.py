"""CUDA graphs for the decode step: one captured graph per batch-size bucket.

A decode step of a hybrid model is hundreds of kernel launches; launched from Python on a slow host they cost
more than the GPU work at small batch. Each bucket's graph replays the whole step (embedding,
all layers, final norm, lm_head) from static input buffers. A batch is padded up to its bucket with rows
pointing at the cache's pad slot, whose state and KV are scratch; its length is reset inside the graph.

``step_and_sample`` replays a graph that also samples, checks which rows finished and moves the rows on to the
next step, all on the device: the rows' sampling settings, token counts and budgets live in static buffers here,
copied in when the engine's batch changes (``bind``), advanced in place by each replay, and each replay's tokens,
finish codes and log-probabilities land in the next row of an output ring, so that several steps back to back
launch nothing but the graph. ``run`` replays the model alone (logits out), for rows the sampling graph does not
take: tokens banned until ``min_new_tokens``, whose mask changes from step to step.

``capture=False`` runs the same programs eagerly on the same buffers (any device): what the graphs replay,
checkable where there is no GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from m1reason.engine.cache import PagedCache
from m1reason.engine.sampling import SamplingBatch, sample
from m1reason.model.hybrid import HybridLM

__all__ = ["DecodeGraphs", "batch_buckets"]

NO_LIMIT = 2**40  # a padding row's budget: it never finishes by length


def batch_buckets(max_batch: int) -> list[int]:
    """1, 2, 4, 8, then steps of 8 up to 64, then of 32, and ``max_batch`` itself.

    >>> batch_buckets(100)
    [1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64, 96, 100]
    """
    sizes = [1, 2, 4, *range(8, 65, 8), *range(96, max_batch + 1, 32)]
    return sorted({s for s in sizes if s < max_batch} | {max_batch})


@dataclass(frozen=True)
class SamplingVariant:
    """What a sampling graph computes besides the model step: the branches ``sample`` takes (host-side flags of
    the batch) and the width of the stop-token table. One graph per bucket and variant.

    >>> SamplingVariant(random=True, filtered=False, logprobs=False, ends=1)
    SamplingVariant(random=True, filtered=False, logprobs=False, ends=1)
    """

    random: bool  # some row samples (temperature > 0): draw noise
    filtered: bool  # some row uses top-k, top-p or min-p
    logprobs: bool  # some row reports log-probabilities
    ends: int  # stop tokens per row (-1 pads), 0 when no row ends on a token


class DecodeGraphs:
    """Replays ``model.step`` for any batch up to ``max_batch``, capturing a bucket's graph on first use; with
    sampling on the device too for up to ``max_steps`` steps between two reads of the output ring.

    >>> from m1reason.engine import PagedCache
    >>> from m1reason.model import ModelConfig
    >>> model = HybridLM(ModelConfig.tiny())
    >>> cache = PagedCache(model.config, slots=2, max_len=16, kv_tokens=32, block_size=16, dtype=torch.float32,
    ...                    device="cpu")
    >>> graphs = DecodeGraphs(model, cache, 2, capture=False)  # the graphs' programs, run eagerly
    >>> graphs.run(torch.tensor([1, 2]), torch.tensor([0, 1])).shape, cache.lengths[:2].tolist()
    (torch.Size([2, 256]), [1, 1])
    """

    def __init__(self, model: HybridLM, cache: PagedCache, max_batch: int, *, max_steps: int = 1,
                 capture: bool = True):
        self.model, self.cache = model, cache
        self.buckets = batch_buckets(max_batch)
        self.max_steps = max_steps
        self.capture = capture
        device = model.device
        long = dict(dtype=torch.long, device=device)
        self._tokens = torch.zeros(max_batch, **long)
        self._slots = torch.full((max_batch,), cache.pad_slot, **long)
        # the bound rows' sampling settings and counters (padding rows: greedy, unfiltered, never ending)
        self._temperature = torch.zeros(max_batch, device=device)
        self._top_k = torch.full((max_batch,), -1, **long)
        self._top_p = torch.ones(max_batch, device=device)
        self._min_p = torch.zeros(max_batch, device=device)
        self._seeds = torch.zeros(max_batch, **long)
        self._sample_index = torch.zeros(max_batch, **long)
        self._steps = torch.zeros(max_batch, **long)
        self._budget = torch.full((max_batch,), NO_LIMIT, **long)
        self._ends: dict[int, Tensor] = {}  # stop-token table per width: [max_batch, width]
        # the output ring: row i holds the i-th step since reset_ring()
        self._ring_index = torch.zeros(1, **long)
        self.ring_tokens = torch.zeros(max_steps, max_batch, **long)
        self.ring_codes = torch.zeros(max_steps, max_batch, **long)
        self.ring_logprobs = torch.zeros(max_steps, max_batch, device=device)
        self._graphs: dict = {}  # bucket, or (bucket, variant) -> torch.cuda.CUDAGraph
        self._logits: dict = {}  # the same keys -> the graph's logits
        self._pool = None
        # (rows, the view of the token buffer they took as inputs): the rows the buffers hold now. Any other
        # move of theirs (an eager step) gives them new inputs, so they no longer match and are copied in again.
        self._bound: tuple[object, Tensor] | None = None

    # ---- the model step alone --------------------------------------------------------------------------------
    def run(self, tokens: Tensor, slots: Tensor) -> Tensor:
        """Logits [b, vocab] of one decode step; a view into the graph's output, valid until the next run."""
        b = tokens.shape[0]
        bucket = self._bucket(b)
        self._tokens[:b].copy_(tokens)
        self._slots[:b].copy_(slots)
        self._slots[b:bucket].fill_(self.cache.pad_slot)
        self._bound = None  # the token buffer no longer holds the bound rows' inputs
        self._replay(bucket, lambda: self._step(bucket))
        return self._logits[bucket][:b]

    # ---- the step with sampling --------------------------------------------------------------------------------
    @staticmethod
    def can_sample(rows) -> bool:
        """Whether ``step_and_sample`` takes these rows: not while tokens are banned (the mask changes per step)."""
        return rows.sampling.banned is None

    def bind(self, rows) -> None:
        """Make the buffers hold ``rows`` (the engine's per-row device tensors: slots, inputs, sampling, budget,
        ends), unless they already do: rows moved on only by this object's own replays need no copy."""
        if self._bound is not None and self._bound[0] is rows and self._bound[1] is rows.inputs:
            return
        b, s = len(rows.seqs), rows.sampling
        for buffer, values, pad in ((self._slots, rows.slots, self.cache.pad_slot), (self._tokens, rows.inputs, 0),
                                    (self._temperature, s.temperature, 0.0), (self._top_k, s.top_k, -1),
                                    (self._top_p, s.top_p, 1.0), (self._min_p, s.min_p, 0.0),
                                    (self._seeds, s.seeds, 0), (self._sample_index, s.sample_index, 0),
                                    (self._steps, s.steps, 0), (self._budget, rows.budget, NO_LIMIT)):
            buffer[:b].copy_(values)
            buffer[b:].fill_(pad)
        if rows.ends is not None:
            ends = self._ends_table(rows.ends.shape[1])
            ends[:b].copy_(rows.ends)
            ends[b:].fill_(-1)
        self._bound = None  # until a replay has moved them on (their inputs: the buffer's view)

    def reset_ring(self) -> None:
        """The next ``step_and_sample`` writes the ring's first row."""
        self._ring_index.zero_()

    def step_and_sample(self, rows) -> Tensor:
        """One decode step of the bound ``rows`` with sampling, finish codes and the move to the next step done on
        the device; its tokens, codes and log-probabilities go to the next ring row. Returns the logits [b, vocab]
        (valid until the next replay). The rows' device tensors become views of the buffers that the next step
        advances, and their host counters move on by one step."""
        self.bind(rows)
        b = len(rows.seqs)
        bucket = self._bucket(b)
        variant = SamplingVariant(random=rows.sampling.any_random, filtered=rows.sampling.any_filter,
                                  logprobs=rows.logprobs, ends=0 if rows.ends is None else rows.ends.shape[1])
        self._replay((bucket, variant), lambda: self._sampled_step(bucket, variant))
        rows.inputs, rows.sampling.steps, rows.budget = self._tokens[:b], self._steps[:b], self._budget[:b]
        rows.min_budget -= 1
        rows.total_len += b
        self._bound = (rows, rows.inputs)
        return self._logits[(bucket, variant)][:b]

    def feed(self, rows, inputs: Tensor) -> None:
        """Replace the bound rows' next inputs (rows feeding appended tokens take those, not what they sampled)."""
        self._tokens[:len(rows.seqs)].copy_(inputs)

    # ---- capture and replay ------------------------------------------------------------------------------------
    def _bucket(self, b: int) -> int:
        return next(size for size in self.buckets if size >= b)

    def _ends_table(self, width: int) -> Tensor:
        if width not in self._ends:
            self._ends[width] = torch.full((self._tokens.shape[0], width), -1, dtype=torch.long,
                                           device=self._tokens.device)
        return self._ends[width]

    def _step(self, bucket: int) -> Tensor:
        pad = self.cache.pad_slot
        self.cache.lengths[pad:pad + 1].zero_()  # padding rows advance it every replay
        return self.model.step(self._tokens[:bucket], self.cache, self._slots[:bucket])

    def _sampled_step(self, bucket: int, variant: SamplingVariant) -> Tensor:
        logits = self._step(bucket)
        batch = SamplingBatch(temperature=self._temperature[:bucket], top_k=self._top_k[:bucket],
                              top_p=self._top_p[:bucket], min_p=self._min_p[:bucket], seeds=self._seeds[:bucket],
                              sample_index=self._sample_index[:bucket], steps=self._steps[:bucket],
                              any_random=variant.random, any_filter=variant.filtered)
        tokens, logprobs = sample(logits, batch, with_logprobs=variant.logprobs)
        budget = self._budget[:bucket]
        codes = (budget <= 1).long() * 2  # 2: reached its length
        if variant.ends:
            codes = torch.where((tokens[:, None] == self._ends[variant.ends][:bucket]).any(-1), 1, codes)
        at = self._ring_index
        self.ring_tokens[:, :bucket].index_copy_(0, at, tokens[None])
        self.ring_codes[:, :bucket].index_copy_(0, at, codes[None])
        if logprobs is not None:
            self.ring_logprobs[:, :bucket].index_copy_(0, at, logprobs[None])
        at.add_(1)
        self._tokens[:bucket].copy_(tokens)
        self._steps[:bucket].add_(1)
        budget.sub_(1)
        return logits

    def _replay(self, key, program) -> None:
        if not self.capture:
            self._logits[key] = program()
            return
        if key not in self._graphs:
            self._capture(key, program)
        self._graphs[key].replay()

    @torch.no_grad()
    def _capture(self, key, program) -> None:
        # Warm-up and capture run the program for real on the buffers, so keep what they hold, and point every row
        # at the pad slot: they must touch no live sequence.
        saved = [t.clone() for t in (self._tokens, self._slots, self._steps, self._budget, self._ring_index)]
        self._slots.fill_(self.cache.pad_slot)
        self.cache.zero_new_slots()  # outside the graph: recorded in it, every replay would zero those slots
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):  # compile Triton kernels, settle the allocator
                self._ring_index.zero_()
                program()
        torch.cuda.current_stream().wait_stream(side)
        self._ring_index.zero_()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            self._logits[key] = program()
        self._pool = graph.pool()
        self._graphs[key] = graph
        for buffer, value in zip((self._tokens, self._slots, self._steps, self._budget, self._ring_index), saved):
            buffer.copy_(value)
