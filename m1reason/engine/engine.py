"""Engine: one decode loop over a pool of slots. Each ``step()`` expires deadlines, admits waiting work
(prefill once per prompt, fork into n slots), runs forced-token chunks, then one batched decode step,
and samples every sequence's next token on the device.

It works in token ids and Sequences; text, stop strings, requests and events belong to the generator.

The host work of a steady decode step does not grow with Python objects rebuilt per sequence: while the batch
stays the same, its device-side rows (slots, sampling settings, finish checks) are kept and advanced on the
device, the tokens sampled at one step are fed to the next without leaving the device, and the only
device-to-host copy is the sampled tokens with their finish codes, taken as late as possible.

With ``decode_steps=K`` a steady batch runs up to K decode steps back to back on the device and copies their tokens
to the host once; with ``overlap`` the next K are on the device before those are read back, so the device does not
wait for the host's bookkeeping between groups (see ``Engine``).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor

from m1reason.engine.cache import PagedCache
from m1reason.engine.confidence import ConfidenceTracker, token_confidence
from m1reason.engine.graphs import DecodeGraphs
from m1reason.engine.sampling import SamplingBatch, sample
from m1reason.engine.scheduler import Scheduler
from m1reason.engine.sequence import Sequence, Status
from m1reason.engine.transfer import to_device
from m1reason.errors import CapacityError, PromptTooLong
from m1reason.model.hybrid import HybridLM

__all__ = ["Engine", "StepOutput"]

log = logging.getLogger(__name__)


@dataclass
class StepOutput:
    """What one step produced: the tokens appended, as (sequence, token), and the sequences that ended. With
    ``decode_steps`` > 1 a sequence may get several tokens in one step: they come one after another, in order."""

    tokens: list[tuple[Sequence, int]] = field(default_factory=list)
    finished: list[Sequence] = field(default_factory=list)
    decoded: int = 0  # sequences in this step's decode batch (0: the step only prefilled, or had nothing to do)


@dataclass
class StepTimings:
    """Recent measured costs, for the throughput model: (batch, mean context, seconds) and (tokens, seconds)."""

    decode: deque = field(default_factory=lambda: deque(maxlen=4096))
    prefill: deque = field(default_factory=lambda: deque(maxlen=4096))


@dataclass(eq=False)
class _Rows:
    """One batch's per-row device tensors: how to sample each sequence, which tokens end it, and how many it may
    still add before it ends by length. Built from the sequences with a few host-to-device copies; a decode
    batch that stays the same from one step to the next is moved on by ``advance`` on the device instead, and
    the tokens it sampled are the next step's inputs, so a steady decode step builds nothing from Python."""

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
              device: torch.device) -> _Rows:
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
class _ChunkConfidence:
    """The token confidences of a multi-step decode, held until it is known how many tokens each row keeps (up to
    its end, or up to a stop string the generator finds: ``Engine.take_back``); then added to the tracker."""

    seqs: list[Sequence]
    slots: Tensor  # [b]
    values: Tensor  # [steps, b]
    kept: list[int]  # per row: how many of the steps' tokens it keeps
    first: list[int]  # per row: the step of its first kept token (later than 0 for a row feeding an append)


@dataclass(eq=False)
class _Group:
    """Decode steps launched on the device and not read back yet: what ``_collect`` needs to apply them."""

    rows: _Rows
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


PADDING_SLACK = 1.25  # a packed prefill call may hold up to this many times its real tokens


def pack_prefills(groups: list[list[Sequence]], max_tokens: int) -> Iterator[list[list[Sequence]]]:
    """Consecutive runs of ``groups`` (sorted by pending length) for one prefill call each: padded to the longest,
    a run holds at most ``max_tokens`` tokens (at least one group) and at most PADDING_SLACK x its real ones.

    >>> class Seq:
    ...     def __init__(self, n): self.num_pending = n
    >>> runs = pack_prefills([[Seq(n)] for n in (10, 11, 12, 30, 31, 200)], max_tokens=64)
    >>> [[g[0].num_pending for g in run] for run in runs]
    [[10, 11, 12], [30, 31], [200]]
    """
    run: list[list[Sequence]] = []
    real = 0
    for group in groups:
        length = group[0].num_pending
        width = max(length, run[-1][0].num_pending if run else 0)
        if run and ((len(run) + 1) * width > max_tokens or (len(run) + 1) * width > PADDING_SLACK * (real + length)):
            yield run
            run, real = [], 0
        run.append(group)
        real += length
    if run:
        yield run


class Engine:
    """Continuous batching over ``max_slots`` sequences of up to ``max_len`` tokens.

    ``kv_tokens`` sizes the attention KV pool (default: max_slots x min(max_len, 2048) tokens). On CUDA the
    decode step replays CUDA graphs (``cuda_graphs=False`` runs it eagerly: same tokens, slower). Newly
    admitted prompts are prefilled together, right-padded to the longest of a call (``pack_prefills``: similar
    lengths, at most ``prefill_tokens`` tokens per call): each slot ends exactly as if prefilled alone.

    ``decode_steps=K`` (default 1) lets a batch whose rows carry over from step to step run up to K decode steps
    per ``step()``, back to back on the device, with one device-to-host copy for all of them: fewer when a row
    would reach max_new_tokens or max_len sooner, or when the KV pool has no free blocks for the tokens ahead
    (it never preempts for them), or when a row's deadline would fall inside the K (estimated from the recent
    time per step). The tokens are those of K single steps: a sample that ends inside the K keeps the tokens up
    to its end and no others. The trade-off is latency between steps: cancels, admissions and the caller's stop
    strings are seen every K tokens instead of every token. A sample that
    ended inside the K has run its state past its end, so resuming it (``append``, ``fork``) recomputes its
    state from its tokens rather than continuing it.

    ``overlap`` (default: on where CUDA graphs run) pipelines those groups: each ``step()`` launches the batch's
    next group before reading the last one back, so the host's work on tokens (and the caller's, between steps)
    runs while the device computes. A sample that ends, is cancelled, appended to or forked while a group runs
    ahead keeps none of its tokens; its state took them, so it is recomputed if it goes on. The samples are the
    same as without it.

    A failure inside one batch's part of a step (a prefill call and its forks, or the decode) ends that batch's
    sequences with finish_reason "error" and the message in ``Sequence.error``, frees their slots, and the step
    goes on for the others (``_contained``); the engine keeps serving.

    >>> from m1reason.model import HybridLM, ModelConfig
    >>> from m1reason.generator.data import SamplingParams
    >>> engine = Engine(HybridLM(ModelConfig.tiny()), max_slots=4, max_len=32)
    >>> seq = Sequence("r/0", "r", 0, 0, SamplingParams(temperature=0, max_new_tokens=3, ignore_eos=True), [1, 2], 2)
    >>> engine.add([seq])
    >>> while engine.has_work():
    ...     _ = engine.step()
    >>> seq.num_generated, seq.finish_reason
    (3, 'length')
    """

    def __init__(self, model: HybridLM, *, max_slots: int = 64, max_len: int = 4096, kv_tokens: int | None = None,
                 block_size: int = 16, state_dtype: torch.dtype | None = None, confidence_window: int = 2048,
                 confidence_top_k: int = 20, cuda_graphs: bool = True, prefill_tokens: int = 65536,
                 decode_steps: int = 1, prefill_delay: float = 0.0, feed_appends: int = 0,
                 overlap: bool | None = None):
        if decode_steps < 1:
            raise ValueError(f"decode_steps must be >= 1, got {decode_steps}")
        if not prefill_delay >= 0:
            raise ValueError(f"prefill_delay must be >= 0, got {prefill_delay}")
        if feed_appends < 0:
            raise ValueError(f"feed_appends must be >= 0, got {feed_appends}")
        self.model = model.eval()
        self.device = model.device
        if self.device.type == "cuda":
            model.merge_gate_up()  # decode steps are small batches: one GEMM for gate and up reads faster than two
        self.max_len = max_len
        self.vocab_size = model.config.vocab_size
        self.cache = PagedCache(model.config, slots=max_slots, max_len=max_len,
                                kv_tokens=kv_tokens or max_slots * min(max_len, 2048), block_size=block_size,
                                dtype=state_dtype or model.dtype, device=self.device)
        self.scheduler = Scheduler(self.cache, on_preempt=self._on_preempt)
        self.confidence = ConfidenceTracker(max_slots, confidence_window, self.device)
        self.confidence_top_k = confidence_top_k
        self.eos_token_ids = frozenset(model.config.eos_token_ids)
        self.timings = StepTimings()
        self.prefill_tokens = prefill_tokens  # most prompt tokens prefilled in one batched call
        self.decode_steps = decode_steps  # most decode steps run on the device between two looks from the host
        self.prefill_delay = prefill_delay  # how long prefill work may wait for company, in recent prefill calls
        self.feed_appends = feed_appends  # appends of at most this many tokens to a decoding sample: decode steps
        self._prefill_pending_since: float | None = None  # when prefill work first waited behind running decodes
        self._prefill_call_s = 0.0  # recent seconds per prefill call (moving average)
        use_graphs = cuda_graphs and self.device.type == "cuda"
        # the next group of decode steps is launched before the last one is read back (see _decode); on a CPU the
        # "device" is the host itself, so there is nothing to overlap
        self.overlap = use_graphs if overlap is None else overlap
        self._ahead: _Group | None = None  # a group on the device, not read back yet
        self._last_collect = 0.0  # perf_counter when the last group was read back
        self.graphs = DecodeGraphs(self.model, self.cache, max_slots, max_steps=decode_steps) if use_graphs else None
        self._parked: list[Sequence] = []
        self._saved_confidence: dict[int, tuple] = {}
        self._fork_ids = itertools.count(1)
        self._decode_rows: _Rows | None = None  # the last decode batch, kept while it can run again as it is
        self._chunk_confidence: _ChunkConfidence | None = None  # a multi-step decode's, not yet in the tracker

    # ---- submission and control -------------------------------------------------------------------------------
    def check_fits(self, prompt_len: int, n: int) -> None:
        """Raise CapacityError if a prompt of this length with n samples can never run here."""
        if prompt_len >= self.max_len:
            raise PromptTooLong(f"prompt of {prompt_len} tokens does not fit max_len {self.max_len}")
        if n > self.cache.num_slots:
            raise CapacityError(f"n={n} samples exceed the engine's {self.cache.num_slots} slots")
        if self.cache.uses_blocks:
            blocks = -(-(prompt_len + 1) // self.cache.block_size) + n - 1
            if blocks > self.cache.num_blocks:
                raise CapacityError(f"prompt of {prompt_len} tokens x {n} samples needs {blocks} KV blocks; "
                                    f"the pool has {self.cache.num_blocks}")

    def add(self, group: list[Sequence]) -> None:
        """Queue the n samples of one prompt (they share one prefill), or one sample to recompute."""
        self.check_fits(len(group[0].tokens), len(group))
        self.scheduler.enqueue(group)

    def has_work(self) -> bool:
        return bool(self.scheduler.running or self.scheduler.waiting)

    def finish(self, seq: Sequence, reason: str, out: StepOutput | None = None) -> None:
        """End a sequence. It keeps its slot until the next step, so append() can still resume it."""
        if not seq.is_live:
            return
        if seq.status is Status.WAITING:
            self.scheduler.remove_waiting(seq)
        elif seq in self.scheduler.running:
            self.scheduler.running.remove(seq)
            self._parked.append(seq)
            seq.released = False
        seq.status, seq.finish_reason = Status.FINISHED, reason
        if out is not None:
            out.finished.append(seq)

    def cancel(self, seq: Sequence) -> None:
        """Cancel and free the slot at once (a cancelled sample is never resumed)."""
        self.finish(seq, "cancelled")
        self.scheduler.release(seq)

    def release(self, seq: Sequence) -> None:
        """Free a finished sequence's slot now (it will not be resumed), rather than at the next step."""
        if seq.status is Status.FINISHED and seq in self._parked:
            self._parked.remove(seq)
            self.scheduler.release(seq)

    def append(self, seq: Sequence, token_ids: list[int]) -> None:
        """Force tokens into a sample; it continues from its state (re-prefilled only if its slot was freed)."""
        if seq.num_cached == 0 and seq.status is Status.WAITING and len(seq.tokens) == seq.prompt_len:
            raise ValueError(f"{seq.sample_id} has not started yet; put the tokens in its prompt instead")
        if len(seq.tokens) + len(token_ids) >= self.max_len:
            raise CapacityError(f"appending {len(token_ids)} tokens to {seq.sample_id} exceeds max_len {self.max_len}")
        ran_ahead = self._drop_from_ahead(seq)  # its state has taken tokens it will not keep: recompute it
        decoding = seq.num_pending == 1 and not seq.feeding  # its state holds every token but the last
        seq.tokens.extend(token_ids)
        self._decode_rows = None  # its last token and budget are no longer what the kept rows hold
        if ran_ahead and seq.status is Status.RUNNING:
            self.scheduler.preempt(seq)  # queued to recompute its state from its tokens, the appended ones too
        if seq.status is Status.FINISHED:
            seq.finish_reason = None
            if seq.state_overrun and not seq.released:  # its state ran past its end: recompute it, as if preempted
                self._save_confidence(seq)
                self._parked.remove(seq)
                self.scheduler.release(seq)
            if not seq.released:
                self._parked.remove(seq)
                seq.status = Status.RUNNING
                self.scheduler.running.append(seq)
            else:
                seq.num_cached, seq.state_overrun = 0, False
                self.scheduler.enqueue([seq])
        # A short append to a sample that is decoding joins the decode batch instead of waiting for a prefill call:
        # a prefill holds up every other sequence for its whole duration (an eager call on a GPU: ~4.5 ms for the
        # embedded model on an H200, 2026-12-03), while a step in the graphed batch costs them nothing.
        seq.feeding = (decoding and 0 < len(token_ids) <= self.feed_appends and seq.status is Status.RUNNING
                       and seq.num_cached > 0)

    def fork(self, seq: Sequence, n: int, params=None) -> list[Sequence]:
        """Branch a sample that holds a slot into n new ones sharing its state and tokens."""
        if seq.slot is None:
            raise ValueError(f"{seq.sample_id} holds no state to fork (waiting, or finished and freed)")
        self._settle_confidence()
        if seq.state_overrun or self._in_ahead(seq) is not None:  # its state is not at its tokens' end
            return self._fork_by_recompute(seq, n, params)
        slots = self.cache.fork(seq.slot, n)
        self.confidence.copy(seq.slot, torch.tensor(slots, device=self.device))
        children = []
        for slot in slots:
            fork_id = next(self._fork_ids)
            child = Sequence(f"{seq.sample_id}.{fork_id}", seq.request_id, seq.stream_index * 1_000_003 + fork_id,
                             seq.seed, params or seq.params, list(seq.tokens), seq.prompt_len, seq.deadline_at,
                             status=Status.RUNNING, slot=slot, num_cached=seq.num_cached, released=False)
            child.admitted = next(self.scheduler._admissions)
            children.append(child)
        self.scheduler.running.extend(children)
        return children

    def _in_ahead(self, seq: Sequence) -> int | None:
        """The sample's row in the group on the device that is not read back yet (None if it has none)."""
        if self._ahead is not None:
            for i, other in enumerate(self._ahead.rows.seqs):
                if other is seq and i not in self._ahead.dropped:
                    return i
        return None

    def _drop_from_ahead(self, seq: Sequence) -> bool:
        """Keep none of the tokens the group on the device draws for this sample (the caller changes it now);
        its state takes them all the same, so it is marked to be recomputed if it goes on. Whether it had a row."""
        row = self._in_ahead(seq)
        if row is None:
            return False
        self._ahead.dropped.add(row)
        seq.state_overrun = True
        return True

    def _fork_by_recompute(self, seq: Sequence, n: int, params) -> list[Sequence]:
        """Fork a sample whose state ran past its end (it ended inside a multi-step decode): the new samples
        recompute their state from its tokens, each queued as a preempted sample is, with its confidence."""
        children = []
        for _ in range(n):
            fork_id = next(self._fork_ids)
            child = Sequence(f"{seq.sample_id}.{fork_id}", seq.request_id, seq.stream_index * 1_000_003 + fork_id,
                             seq.seed, params or seq.params, list(seq.tokens), seq.prompt_len, seq.deadline_at)
            if child.params.confidence and seq.params.confidence:
                self._saved_confidence[id(child)] = self.confidence.snapshot(seq.slot)
            self.scheduler.enqueue([child])
            children.append(child)
        return children

    def take_back(self, seq: Sequence, n: int) -> None:
        """Drop the last ``n`` tokens the last step appended to a finished sample, with their log-probabilities
        and confidence: the caller found a stop string in the middle of a multi-step decode, and the sample ends
        where one step at a time would have ended it. Its state ran past its end, so resuming it recomputes it.

        >>> from m1reason.model import HybridLM, ModelConfig
        >>> from m1reason.generator.data import SamplingParams
        >>> engine = Engine(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32, decode_steps=4)
        >>> seq = Sequence("r/0", "r", 0, 0, SamplingParams(temperature=0, max_new_tokens=9, ignore_eos=True),
        ...                [1, 2], 2)
        >>> engine.add([seq]); _ = engine.step(); out = engine.step()   # the prompt's token, then 4 at once
        >>> len(out.tokens), seq.num_generated
        (4, 5)
        >>> engine.finish(seq, "stop"); engine.take_back(seq, 2); seq.num_generated, seq.state_overrun
        (3, True)
        """
        if seq.is_live:
            raise ValueError(f"{seq.sample_id} is still running; finish it before taking tokens back")
        if n <= 0:
            return
        if seq.params.logprobs and seq.logprobs:
            del seq.logprobs[-n:]
        del seq.tokens[-n:]
        seq.num_cached = min(seq.num_cached, len(seq.tokens) - 1)
        seq.state_overrun = True
        chunk = self._chunk_confidence
        if chunk is not None and seq in chunk.seqs:
            row = chunk.seqs.index(seq)
            chunk.kept[row] = max(0, chunk.kept[row] - n)

    # ---- the step ---------------------------------------------------------------------------------------------
    @torch.no_grad()
    def step(self) -> StepOutput:
        out = StepOutput()
        self._settle_confidence()
        self._release_parked()
        self._expire_deadlines(out)
        done: set[Sequence] = set()
        if self._prefill_due():
            started = time.perf_counter()
            admitted = self.scheduler.admit()
            self._prefill_groups(admitted, out)
            done.update(seq for group in admitted for seq in group)
            # len(tokens) - num_cached is num_pending inlined: these two passes touch every running sequence
            chunks = [s for s in self.scheduler.running
                      if len(s.tokens) - s.num_cached > 1 and not s.feeding and s not in done]
            chunks = self.scheduler.reserve_for_step(chunks)
            self._prefill_groups([[seq] for seq in chunks], out)
            done.update(chunks)
            if done and self.prefill_delay:
                seconds, last = time.perf_counter() - started, self._prefill_call_s
                self._prefill_call_s = 0.75 * last + 0.25 * seconds if last else seconds
                self._prefill_pending_since = None
        batch = [s for s in self.scheduler.running
                 if (len(s.tokens) - s.num_cached == 1 or s.feeding) and s not in done]
        batch = self.scheduler.reserve_for_step(batch)
        if batch:
            out.decoded = len(batch)
            ahead = self._ahead.rows.seqs if self._ahead is not None else []  # their states move with the batch
            self._contained([*batch, *ahead], out, lambda: self._decode(batch, out))
        else:
            if self._ahead is not None:  # none of its rows decodes now: read it back for whatever it holds
                ahead, self._ahead = self._ahead, None
                self._contained(ahead.rows.seqs, out, lambda: self._collect(ahead, out))
            self._decode_rows = None  # kept rows are valid only from one decode step to the very next
        return out

    def _prefill_due(self) -> bool:
        """Whether this step prefills what waits (new prompts, appended continuations). A prefill call costs about
        the same for one short prompt as for several (at small sizes it is launch- or loop-bound), and while it
        runs every decoding sequence waits; so when decodes are running, prefill work may wait up to
        ``prefill_delay`` recent prefill calls' time for more to share its call. With nothing decoding, or with a
        full call's worth of tokens waiting, it runs at once. (On 2 CPU cores, 32 problems of the embedded model at
        once: 52 of 68 engine steps held a prefill, mostly of one or two rows, and prefills took 70% of the time.)"""
        if self.prefill_delay == 0:  # the default: the decode step pays nothing for the option
            return True
        scheduler = self.scheduler
        pending = [s for s in scheduler.running if len(s.tokens) - s.num_cached > 1 and not s.feeding]
        if not scheduler.waiting and not pending:
            return False
        if len(pending) == len(scheduler.running):  # nothing decoding would wait for it
            return True
        now = time.monotonic()
        if self._prefill_pending_since is None:
            self._prefill_pending_since = now
        waiting_tokens = sum(s.num_pending for s in pending) + sum(len(g[0].tokens) for g in scheduler.waiting)
        return (now - self._prefill_pending_since >= self.prefill_delay * self._prefill_call_s
                or waiting_tokens >= self.prefill_tokens // 2)

    def _release_parked(self) -> None:
        for seq in self._parked:
            self.scheduler.release(seq)
        self._parked = []

    def _expire_deadlines(self, out: StepOutput) -> None:
        now = time.monotonic()
        live = [*self.scheduler.running, *(s for g in self.scheduler.waiting for s in g)]
        for seq in live:
            if seq.deadline_at is not None and now >= seq.deadline_at:
                self.finish(seq, "deadline", out)

    def _prefill_groups(self, groups: list[list[Sequence]], out: StepOutput) -> None:
        """Prefill groups of pending tokens, several per call: sorted by length and packed so that a call holds at
        most ``prefill_tokens`` tokens with padding and wastes at most a quarter of them on padding (the model
        keeps each Mamba state at its own last real token). Fresh prompts, sequences restarting from their tokens
        after preemption and sequences continuing after an append all go together: each row starts from its
        slot's state and length, so each ends as if prefilled alone. (One by one, the answers a strategy forces
        out of 32 samples at its deadline cost 32 model calls in one engine step.)"""
        for batch in pack_prefills(sorted(groups, key=lambda g: g[0].num_pending), self.prefill_tokens):
            self._contained([seq for group in batch for seq in group], out,
                            lambda batch=batch: self._run_batched_prefill(batch, out))

    def _contained(self, seqs: list[Sequence], out: StepOutput, work) -> None:
        """Run one batch's part of a step (a prefill call with its forks, or the decode). If it raises, that
        batch's sequences end with "error" (the message in ``Sequence.error``) and free their slots; the step and
        the engine go on with everyone else. Their states may be half written, so none of them is kept."""
        try:
            work()
        except Exception as err:  # noqa: BLE001 - whatever it is, it belongs to these sequences' requests
            log.exception("an engine step failed for %d sequences; ending them with the error", len(seqs))
            self._fail(seqs, f"{type(err).__name__}: {err}", out)

    def _fail(self, seqs: list[Sequence], message: str, out: StepOutput) -> None:
        self._decode_rows = None
        failed = set(seqs)
        if self._ahead is not None and any(seq in failed for seq in self._ahead.rows.seqs):
            self._ahead = None  # it is never read back: every row it holds is failed (a decode's batch and ahead)
        for seq in seqs:
            if seq.is_live:
                seq.error = message
                self.finish(seq, "error", out)
                self.release(seq)

    def _run_batched_prefill(self, groups: list[list[Sequence]], out: StepOutput) -> None:
        if len(groups) == 1:
            return self._run_chunk(groups[0], out)
        firsts = [g[0] for g in groups]
        slots = torch.tensor([s.slot for s in firsts], device=self.device)
        pending = [s.pending for s in firsts]
        width = max(map(len, pending))
        ids = torch.tensor([p + [0] * (width - len(p)) for p in pending], device=self.device)  # padding: any id
        lengths = None
        if any(len(p) != width for p in pending):
            lengths = torch.tensor([len(p) for p in pending], device=self.device)
        started = time.perf_counter()
        fresh = all(s.num_cached == 0 for s in firsts)  # known here; the model would sync the device to find out
        logits = self._guarded([s for g in groups for s in g],
                               lambda: self.model.prefill(ids, self.cache, slots, lengths=lengths, fresh=fresh))
        if logits is None:
            return
        self.timings.prefill.append((sum(map(len, pending)), self._seconds_since(started)))
        self._start_confidence(firsts)
        rows, seqs = [], []
        for i, group in enumerate(groups):
            group[0].num_cached = len(group[0].tokens)
            self._fork_group(group)
            rows += [i] * len(group)
            seqs += group
        self._sample_and_append(self._rows(seqs), logits[torch.tensor(rows, device=self.device)], out)

    def _seconds_since(self, started: float) -> float:
        """Seconds since ``started`` (a perf_counter value) with the device's queued work done: a GPU call returns
        once launched, so a prefill timed without this measures little more than its launches (on an H200 the
        throughput benchmark's 512 x 256 prefill summed to 1.75 s that way; profiled with a sync, with one token
        sampled per prompt, it took 2.34 s; 2026-12-02)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter() - started

    def _start_confidence(self, seqs: list[Sequence]) -> None:
        """Before prefilled sequences' first sample: new prompts start fresh confidence windows (one reset for all),
        ones restarting after preemption get their saved windows back, ones continuing after an append keep theirs."""
        fresh = []
        for seq in seqs:
            if seq.num_cached == 0:
                saved = self._saved_confidence.pop(id(seq), None)
                if saved is None:
                    fresh.append(seq.slot)
                else:
                    self.confidence.restore(seq.slot, saved)
        if fresh:
            self.confidence.reset(torch.tensor(fresh, device=self.device))

    def _fork_group(self, group: list[Sequence]) -> None:
        """Give the rest of a group the first sequence's freshly prefilled state."""
        first = group[0]
        if len(group) > 1:
            for seq, child_slot in zip(group[1:], self.cache.fork(first.slot, len(group) - 1)):
                seq.slot, seq.num_cached, seq.released = child_slot, first.num_cached, False
            self.confidence.copy(first.slot, torch.tensor([s.slot for s in group[1:]], device=self.device))

    def _run_chunk(self, group: list[Sequence], out: StepOutput) -> None:
        """Prefill the first sequence's pending tokens (continuing its state), fork the others from it, sample all."""
        first = group[0]
        slot = torch.tensor([first.slot], device=self.device)
        started = time.perf_counter()
        logits = self._guarded(group, lambda: self.model.prefill(
            torch.tensor([first.pending], device=self.device), self.cache, slot, fresh=first.num_cached == 0))
        if logits is None:
            return
        self.timings.prefill.append((len(first.pending), self._seconds_since(started)))
        self._start_confidence([first])
        first.num_cached = len(first.tokens)
        self._fork_group(group)
        self._sample_and_append(self._rows(group), logits.expand(len(group), -1), out)

    def _decode(self, batch: list[Sequence], out: StepOutput) -> None:
        """Decode ``batch``. With ``overlap``, a steady batch's groups of decode steps are pipelined: each step
        launches the next group, then reads back the one the step before launched, so the host's work on tokens
        (here and in the caller, until the next step) runs while the device computes."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead.rows.seqs != batch:  # the batch changed while a group ran ahead
            self._collect(ahead, out)
            ahead = None
            # some may have ended in it; the others are longer now than the KV room step() reserved for them
            batch = self.scheduler.reserve_for_step([s for s in batch if s.status is Status.RUNNING])
            if not batch:
                return
        if ahead is not None:  # the same rows, moved on by the group on the device (the host is behind them)
            self._decode_rows = None
            self._ahead = self._launch_next(ahead.rows, ahead.steps)
            self._collect(ahead, out, ran_on=self._ahead is not None)
            return
        rows = self._decode_rows
        if rows is None or rows.seqs != batch:  # someone joined or left (list == compares by identity here)
            rows = self._rows(batch)
        self._decode_rows = None  # until this step has sampled
        steps = self._steps_ahead(rows)
        if steps == 1 and not (rows.reusable and (self.graphs is not None or self.overlap)):
            return self._decode_one(rows, out)
        group = self._launch(rows, steps)  # where graphed, even one step samples inside the graph
        if group is None:
            return
        if self.overlap and rows.reusable:
            self._ahead = group  # read back by the next step, after it has launched the group after this one
            self._decode_rows = rows
        else:
            self._collect(group, out)

    def _decode_one(self, rows: _Rows, out: StepOutput) -> None:
        """One decode step, sampled outside any graph: rows with banned tokens (their mask changes per step) or
        feeding appended tokens one step at a time, and every step on a CPU with ``decode_steps=1``."""
        batch = rows.seqs
        started = time.perf_counter()
        step = self.graphs.run if self.graphs is not None else lambda t, s: self.model.step(t, self.cache, s)
        logits = self._guarded(batch, lambda: step(rows.inputs, rows.slots))
        if logits is None:
            return
        context = rows.total_len / len(batch)
        for seq in batch:
            seq.num_cached += 1
        sampled = self._sample_and_append(rows, logits, out)
        self.timings.decode.append((len(batch), context, time.perf_counter() - started))
        if rows.reusable:
            rows.advance(sampled)
            self._decode_rows = rows

    def _steps_ahead(self, rows: _Rows) -> int:
        """How many decode steps this batch takes now: ``decode_steps``, fewer where a row reaches its length limit
        sooner (none may run past max_new_tokens or max_len), where a row's deadline comes sooner (at the recent
        time per step of this batch size, so a deadline is seen within about a step of it, not up to
        ``decode_steps`` late) or the KV pool lacks free blocks for the tokens ahead, and 1 when the rows change
        from step to step (tokens banned until min_new_tokens)."""
        steps = min(self.decode_steps, rows.min_budget)
        if steps <= 1 or rows.sampling.banned is not None:
            return 1
        steps = min(steps, self._steps_before_deadline(rows.seqs))
        if steps <= 1:
            return 1
        return self.scheduler.reserve_ahead(rows.seqs, steps - 1)

    def _steps_before_deadline(self, seqs: list[Sequence], in_flight: int = 0) -> int:
        """How many decode steps fit before the nearest deadline of ``seqs`` after ``in_flight`` steps already on
        the device (at least 1 when none are), from the last measured time per step of this batch size;
        ``decode_steps`` without deadlines or a measurement."""
        deadlines = [s.deadline_at for s in seqs if s.deadline_at is not None]
        if not deadlines:
            return self.decode_steps
        per_step = next((seconds for batch, _, seconds in reversed(self.timings.decode) if batch == len(seqs)), None)
        if not per_step:
            return self.decode_steps
        fit = int((min(deadlines) - time.monotonic()) / per_step) - in_flight
        return fit if in_flight else max(1, fit)

    def _launch_next(self, rows: _Rows, in_flight: int) -> _Group | None:
        """Launch the rows' next group of decode steps while the last one (``in_flight`` steps, not read back yet)
        still runs: as many steps as every row's length budget, the nearest deadline and free KV blocks allow beyond
        those, or none. A row that ends in the group in flight runs on in this one for nothing: its tokens are
        never kept, and its state, which took them, is recomputed if the sample is resumed."""
        steps = min(self.decode_steps, rows.min_budget)  # min_budget already counts the steps in flight
        if steps < 1 or not rows.reusable:
            return None
        steps = min(steps, self._steps_before_deadline(rows.seqs, in_flight))
        if steps < 1:
            return None
        steps = self.scheduler.reserve_ahead(rows.seqs, in_flight + steps - 1) - in_flight
        return self._launch(rows, steps, in_flight=in_flight) if steps >= 1 else None

    def _launch(self, rows: _Rows, steps: int, in_flight: int = 0) -> _Group | None:
        """Put ``steps`` decode steps of ``rows`` on the device, each fed the tokens the last one sampled, and
        start copying what they give to the host; nothing waits for the device here. ``in_flight``: steps of an
        earlier group of these rows not read back yet (this group's tokens come after theirs)."""
        batch = rows.seqs
        contexts = [(rows.total_len + i * len(batch)) / len(batch) for i in range(steps)]
        # a feeding row's first kept token comes from step p - 1 (p: its pending tokens, fed one per step)
        first = [min(s.num_pending - 1, steps) if s.feeding else 0 for s in batch] if rows.feeding else None
        launched = time.perf_counter()
        ran = self._guarded(batch, lambda: self._run_steps(rows, steps))
        if ran is None:
            return None
        tokens, codes, logprobs, confidences = ran
        ended = codes != 0  # [steps, b]; never on a step whose sample is not kept (see _run_steps)
        last = torch.where(ended.any(0), ended.long().argmax(0), steps - 1)  # each row's last kept step
        reason = codes.gather(0, last[None])[0]  # 0 where the row goes on
        packed = torch.cat([tokens, (last + 1)[None], reason[None]])
        # non_blocking to the CPU: a pinned copy, queued behind these steps, that the host waits for only when it
        # reads it (a .tolist() here would also wait for every group launched after this one)
        host = packed.to("cpu", non_blocking=True)
        host_logprobs = None if logprobs is None else logprobs.to("cpu", non_blocking=True)
        done = None
        if packed.is_cuda:
            done = torch.cuda.Event()
            done.record()
        expected = [(s.admitted, len(s.tokens) + in_flight, s.num_cached + in_flight) for s in batch]
        return _Group(rows, steps, first, contexts, host, host_logprobs, confidences, done, launched, expected)

    def _collect(self, group: _Group, out: StepOutput, *, ran_on: bool = False) -> None:
        """Read back a launched group and apply it: each row keeps its tokens up to the first that ends it (the
        rest are never appended, reported or counted) and the rows that ended are finished. A row that changed
        since the launch (ended, cancelled, preempted, appended to) keeps none; if it still holds its slot, its
        state took them, and is recomputed should the sample be resumed. ``ran_on``: a later group of the same
        rows is on the device already (a row that ends here has run on in it too)."""
        if group.done is not None:
            group.done.synchronize()
        rows, steps, first = group.rows, group.steps, group.first
        batch = rows.seqs
        *by_step, ends, reasons = group.host.tolist()
        by_row = [list(row) for row in zip(*by_step)]  # each row's tokens, in order
        stale = [i for i, (seq, (admitted, length, cached)) in enumerate(zip(batch, group.expected))
                 if seq.status is not Status.RUNNING or i in group.dropped or seq.admitted != admitted
                 or len(seq.tokens) != length or seq.num_cached != cached]
        for i in stale:
            by_row[i], reasons[i] = [], 0
            if batch[i].admitted == group.expected[i][0] and batch[i].slot is not None:
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
        if group.logprobs is not None:
            for i, (seq, row, values) in enumerate(zip(batch, by_row, group.logprobs.T.tolist())):
                if seq.params.logprobs:
                    start = first[i] if first is not None else 0
                    seq.logprobs.extend(values[start:start + len(row)])
        out.tokens.extend([(seq, token) for seq, row in zip(batch, by_row) for token in row])
        if group.confidences is not None:
            self._settle_confidence()  # an earlier group's, collected in this same step
            self._chunk_confidence = _ChunkConfidence(batch, rows.slots, group.confidences,
                                                      [len(r) for r in by_row], first or [0] * len(batch))
        for i in finished:
            self.finish(batch[i], "stop" if reasons[i] == 1 else "length", out)
        now = time.perf_counter()
        # with groups overlapped, a group's time is what it adds after the one before it was read back
        seconds = (now - max(group.launched, self._last_collect)) / steps
        self._last_collect = now
        self.timings.decode.extend((len(batch), context, seconds) for context in group.contexts)
        if rows.reusable and not stale:
            self._decode_rows = rows  # advanced ``steps`` times: ready for the next step

    def _run_steps(self, rows: _Rows, steps: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        """The device work of ``steps`` decode steps, nothing copied to the host: each step's tokens [steps, b],
        finish codes [steps, b], log-probabilities [steps, b] (if asked) and token confidences (if tracked)."""
        # [steps + 1, b]: a feeding row's input at each step, -1 where it takes what it sampled; a sample whose next
        # input is an appended token is not kept, so it ends nothing
        fed = self._fed_inputs(rows.seqs, steps + 1) if rows.feeding else None
        if self.graphs is not None and self.graphs.can_sample(rows):
            return self._run_graphed_steps(rows, steps, fed)
        step = self.graphs.run if self.graphs is not None else lambda t, s: self.model.step(t, self.cache, s)
        tokens, codes, logprobs, confidences = [], [], [], []
        for i in range(steps):
            logits = step(rows.inputs, rows.slots)  # a graph's output buffer: used up before the next replay
            sampled, logprob = sample(logits, rows.sampling, with_logprobs=rows.logprobs)
            if rows.confidence:
                confidences.append(token_confidence(logits.float().log_softmax(-1), self.confidence_top_k))
            tokens.append(sampled)
            code, next_inputs = rows.finish_codes(sampled), sampled
            if fed is not None:
                feeds = fed[i + 1] >= 0
                code, next_inputs = torch.where(feeds, 0, code), torch.where(feeds, fed[i + 1], sampled)
            codes.append(code)
            if logprob is not None:
                logprobs.append(logprob)
            rows.advance(next_inputs)
        stack = lambda ts: torch.stack(ts) if ts else None  # noqa: E731
        return torch.stack(tokens), torch.stack(codes), stack(logprobs), stack(confidences)

    def _run_graphed_steps(self, rows: _Rows, steps: int, fed: Tensor | None
                           ) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        """``_run_steps`` with sampling, finish checks and the move to the next step inside the graph: a steady
        step launches the graph and nothing else (a feeding row's next input and a tracked confidence excepted)."""
        graphs, b = self.graphs, len(rows.seqs)
        graphs.reset_ring()
        confidences = []
        for i in range(steps):
            logits = graphs.step_and_sample(rows)  # valid until the next replay
            if rows.confidence:
                confidences.append(token_confidence(logits.float().log_softmax(-1), self.confidence_top_k))
            if fed is not None:
                graphs.feed(rows, torch.where(fed[i + 1] >= 0, fed[i + 1], graphs.ring_tokens[i, :b]))
        # copies: the next group overwrites the ring before this one is read back
        tokens, codes = graphs.ring_tokens[:steps, :b].clone(), graphs.ring_codes[:steps, :b]
        codes = torch.where(fed[1:steps + 1] >= 0, 0, codes) if fed is not None else codes.clone()
        logprobs = graphs.ring_logprobs[:steps, :b].clone() if rows.logprobs else None
        return tokens, codes, logprobs, torch.stack(confidences) if confidences else None

    def _fed_inputs(self, seqs: list[Sequence], steps: int) -> Tensor:
        """[steps, b]: the pending token each feeding row takes in at each step (its last sampled token, then the
        appended ones), -1 where a row takes the token it sampled."""
        inputs = [[-1] * len(seqs) for _ in range(steps)]
        for i, seq in enumerate(seqs):
            if seq.feeding:
                for j, token in enumerate(seq.tokens[seq.num_cached:seq.num_cached + steps]):
                    inputs[j][i] = token
        return to_device(torch.tensor(inputs, dtype=torch.long), self.device)

    def _settle_confidence(self) -> None:
        """Add the last multi-step decode's token confidences to the tracker, each row's up to the tokens it kept
        (a sample that ended, or was freed, counts none after that)."""
        chunk, self._chunk_confidence = self._chunk_confidence, None
        if chunk is None:
            return
        kept = torch.tensor([n if seq.slot is not None else 0 for seq, n in zip(chunk.seqs, chunk.kept)])
        first = torch.tensor(chunk.first)
        first, end = to_device(first, self.device), to_device(first + kept, self.device)
        for step, values in enumerate(chunk.values):
            self.confidence.update(chunk.slots, values, live=(first <= step) & (step < end))

    def _guarded(self, seqs: list[Sequence], run):
        """Run a model call; on out-of-memory, requeue these sequences for recompute (their states may be half
        updated) and halve the batch the scheduler admits from now on."""
        try:
            return run()
        except torch.OutOfMemoryError:
            self.scheduler.max_running = max(1, min(self.scheduler.max_running, len(self.scheduler.running)) // 2)
            log.warning("out of memory with %d sequences running; limiting to %d and recomputing %d",
                        len(self.scheduler.running), self.scheduler.max_running, len(seqs))
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            for seq in seqs:
                self.scheduler.preempt(seq)
            self._decode_rows = None
            return None

    def _rows(self, seqs: list[Sequence]) -> _Rows:
        return _Rows.build(seqs, self.vocab_size, self.eos_token_ids, self.max_len, self.device)

    def _sample_and_append(self, rows: _Rows, logits: Tensor, out: StepOutput) -> Tensor:
        """Sample every row, append the tokens and end the sequences that stop here; returns the sampled tokens
        (still on the device). The one device-to-host copy of the step is the tokens with their finish codes."""
        seqs = rows.seqs
        tokens, logprobs = sample(logits, rows.sampling, with_logprobs=rows.logprobs)
        # a row feeding appended tokens keeps no sample while any of them is still to go in
        discard = [seq.num_pending > 0 for seq in seqs] if rows.feeding else None
        live = None if discard is None else torch.tensor([not d for d in discard], device=self.device)
        if rows.confidence:
            self.confidence.update(rows.slots, token_confidence(logits.float().log_softmax(-1), self.confidence_top_k),
                                   live=live)
        host_tokens, codes = torch.stack([tokens, rows.finish_codes(tokens)]).tolist()
        if discard is not None:
            for seq in seqs:
                seq.feeding = seq.feeding and seq.num_pending > 1  # its last pending token is an ordinary input
            keep = [i for i, d in enumerate(discard) if not d]
            seqs, host_tokens, codes = [seqs[i] for i in keep], [host_tokens[i] for i in keep], [codes[i] for i in keep]
            logprobs = None if logprobs is None else logprobs[torch.tensor(keep, device=self.device, dtype=torch.long)]
        for seq, token in zip(seqs, host_tokens):
            seq.tokens.append(token)
        if rows.logprobs:
            for seq, logprob in zip(seqs, logprobs.tolist()):
                if seq.params.logprobs:
                    seq.logprobs.append(logprob)
        out.tokens.extend(zip(seqs, host_tokens))
        for i in [i for i, code in enumerate(codes) if code]:
            self.finish(seqs[i], "stop" if codes[i] == 1 else "length", out)
        return tokens

    def _on_preempt(self, seq: Sequence) -> None:
        self._decode_rows = None  # the preempted sample leaves the batch and may come back on another slot
        seq.feeding = False  # it is recomputed from its tokens, appended ones included, in one prefill
        self._save_confidence(seq)

    def _save_confidence(self, seq: Sequence) -> None:
        self._settle_confidence()
        if seq.params.confidence and seq.slot is not None:
            self._saved_confidence[id(seq)] = self.confidence.snapshot(seq.slot)

    def read_confidence(self, seq: Sequence):
        """The sample's confidence scalars (None unless it asked for them, or before its first token)."""
        if not seq.params.confidence or seq.slot is None:
            return None
        self._settle_confidence()
        return self.confidence.read(seq.slot)
