"""The batch being decoded: DecodeBatch (each row's device tensors, and the finish codes of the tokens it draws)
and Group (decode steps launched on the device, not read back yet, and how their tokens are applied to the
sequences once they are). No model calls here: ``ModelRunner`` runs the steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from m1reason.engine.sampling import SamplingBatch
from m1reason.engine.sequence import Sequence, Status
from m1reason.engine.transfer import to_device

__all__ = ["DecodeBatch", "Group"]


@dataclass(eq=False)
class DecodeBatch:
    """The batch being decoded: its per-row device tensors (how to sample each sequence, which tokens end it, how
    many it may still add before it ends by length) and the one place where finish codes are computed. Built from
    the sequences with a few host-to-device copies; a batch that stays the same from one step to the next is moved
    on by ``advance`` on the device instead, and the tokens it sampled are the next step's inputs, so a steady
    decode step builds nothing from Python.

    >>> from m1reason.engine.sequence import Sequence
    >>> from m1reason.types import SamplingParams
    >>> seqs = [Sequence(f"r/{i}", "r", i, 0, SamplingParams(max_new_tokens=2), [1, 2], 2, slot=i) for i in (0, 1)]
    >>> batch = DecodeBatch.build(seqs, vocab=8, eos_token_ids=frozenset({7}), max_len=16, device="cpu")
    >>> batch.finish_codes(torch.tensor([7, 3])).tolist()   # row 0 drew EOS; row 1 goes on
    [1, 0]
    >>> batch.advance(torch.tensor([7, 3])); batch.finish_codes(torch.tensor([5, 5])).tolist()  # both at length
    [2, 2]
    """

    seqs: list[Sequence]
    slots: Tensor  # [b]
    inputs: Tensor  # [b] each row's first uncached token (its last, unless it is feeding): what a step feeds
    sampling: SamplingBatch
    ends: Tensor | None  # [b, k] token ids that end each row (-1 pads); None when no row ends on a token
    budget: Tensor  # [b] tokens each row may still add; it ends by length on the one that brings this to 0
    min_budget: int  # the smallest budget, on the host: how many steps every row can still take
    logprobs: bool  # some row reports log-probabilities
    confidence: bool  # some row tracks confidence
    total_len: int  # sum of the rows' token counts (mean context, for the throughput model)
    feeding: bool  # some row is feeding appended tokens: its inputs are those tokens, not what it sampled

    @classmethod
    def build(cls, seqs: list[Sequence], vocab: int, eos_token_ids: frozenset[int], max_len: int,
              device: torch.device) -> DecodeBatch:
        # A feeding row's first p - 1 steps take appended tokens in and keep no sample (p: its pending tokens); its
        # sample count and budget start p - 1 lower and higher, so that its first kept sample is drawn and counted
        # as after a prefill of the appended tokens.
        skip = [s.num_pending - 1 if s.feeding else 0 for s in seqs]
        sampling = SamplingBatch.build([(s.params, s.seed, s.stream_index, s.num_generated - k)
                                        for s, k in zip(seqs, skip)], vocab, eos_token_ids, device)
        budgets = [min(s.params.max_new_tokens - s.num_generated, max_len - len(s.tokens)) + k
                   for s, k in zip(seqs, skip)]
        # a row's input is its first token the model has not seen: its last, or its next appended one if feeding
        inputs = [s.tokens[min(s.num_cached, len(s.tokens) - 1)] for s in seqs]
        ints = to_device(torch.tensor([[s.slot for s in seqs], inputs, budgets], dtype=torch.long), device)
        ends = [(*(() if s.params.ignore_eos else eos_token_ids), *s.params.stop_token_ids) for s in seqs]
        width = max(map(len, ends))
        ends = to_device(torch.tensor([[*e, *(-1,) * (width - len(e))] for e in ends]), device) if width else None
        return cls(seqs, ints[0], ints[1], sampling, ends, ints[2], min(budgets), any(s.params.logprobs for s in seqs),
                   any(s.params.confidence for s in seqs), sum(len(s.tokens) for s in seqs),
                   any(s.feeding for s in seqs))

    @property
    def reusable(self) -> bool:
        """Whether ``advance`` can carry it to the next step (banned tokens depend on the step, a feeding row's
        input on the host: rebuild those)."""
        return self.sampling.banned is None and not self.feeding

    def finish_codes(self, tokens: Tensor) -> Tensor:
        """[b] per row after appending ``tokens``: 0 goes on, 1 ended on a stop token, 2 reached its length."""
        length = (self.budget <= 1).long() * 2
        if self.ends is None:
            return length
        return torch.where((tokens[:, None] == self.ends).any(-1), 1, length)

    def advance(self, sampled: Tensor) -> None:
        """The same rows one token later: ``sampled`` is their new last token."""
        self.sampling.advance()
        self.budget = self.budget - 1
        self.min_budget -= 1
        self.inputs = sampled
        self.total_len += len(self.seqs)


@dataclass(eq=False)
class Group:
    """Decode steps launched on the device and not read back yet (``ModelRunner.launch``): what reading them
    back needs (``apply``). No doctest here: one is made by launching decode steps (tests/engine)."""

    rows: DecodeBatch
    steps: int
    first: list[int] | None  # per feeding row: the step of its first kept token (None: no row feeds)
    contexts: list[float]  # mean context at each step (for the throughput model)
    host: Tensor  # [steps + 2, b] on the CPU: each step's tokens, then each row's kept count and finish code
    logprobs: Tensor | None  # [steps, b] on the CPU
    confidences: Tensor | None  # [steps, b] on the device
    done: object  # a CUDA event recorded after the copies to the host (None on a CPU)
    launched: float  # perf_counter at launch
    expected: list[tuple[int, int, int]]  # per row at collection: (admission number, tokens, cached tokens)
    dropped: set[int] = field(default_factory=set)  # rows changed since launch: keep none of their tokens

    def apply(self, *, ran_on: bool) -> tuple[list[list[int]], list[tuple[int, int]], bool]:
        """Wait for the copies to the host, then append each row's kept tokens (and log-probabilities) to its
        sequence: up to the first that ends it, the rest never appended. A row changed since the launch (ended,
        cancelled, preempted, appended to) keeps none; if it still holds its slot, its state took them and is
        recomputed should the sample go on. ``ran_on``: a later group of the same rows is on the device already (a
        row that ends here has run on in it too). Returns each row's kept tokens, (row, finish code) of the rows that
        ended, and whether any row was changed since the launch."""
        if self.done is not None:
            self.done.synchronize()
        steps, first, batch = self.steps, self.first, self.rows.seqs
        *by_step, ends, reasons = self.host.tolist()
        by_row = [list(row) for row in zip(*by_step)]  # each row's tokens, in order
        stale = [i for i, (seq, (admitted, length, cached)) in enumerate(zip(batch, self.expected))
                 if seq.status is not Status.RUNNING or i in self.dropped or seq.admitted != admitted
                 or len(seq.tokens) != length or seq.num_cached != cached]
        for i in stale:
            by_row[i], reasons[i] = [], 0
            if batch[i].admitted == self.expected[i][0] and batch[i].slot is not None:
                batch[i].state_overrun = True  # it still holds the state these steps ran on
        finished = [i for i, code in enumerate(reasons) if code]
        for i in finished:
            by_row[i] = by_row[i][:ends[i]]
            batch[i].state_overrun = ends[i] < steps or ran_on  # its state took tokens it does not keep
        if first is not None:  # a feeding row keeps no token before its first kept step
            by_row = [row[start:] for row, start in zip(by_row, first)]
        for seq, row in zip(batch, by_row):
            seq.tokens.extend(row)
            seq.num_cached += len(row)
        if first is not None:
            for i, (seq, skipped) in enumerate(zip(batch, first)):
                if i not in stale:
                    seq.num_cached += skipped  # the appended tokens it took in before its first kept token
                    seq.feeding = seq.feeding and seq.num_pending > 1
        if self.logprobs is not None:
            for i, (seq, row, values) in enumerate(zip(batch, by_row, self.logprobs.T.tolist())):
                if seq.params.logprobs:
                    start = first[i] if first is not None else 0
                    seq.logprobs.extend(values[start:start + len(row)])
        return by_row, [(i, reasons[i]) for i in finished], bool(stale)
