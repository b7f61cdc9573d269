"""Engine: one decode loop over a pool of slots. Each ``step()`` expires deadlines, admits waiting work (prefill
once per prompt, fork into n slots), runs forced-token chunks, then one batched decode step, and samples every
sequence's next token on the device.

It works in token ids and Sequences; text, stop strings, requests and events belong to the generator. The roles
are split: the Scheduler decides who runs (waiting, running, parked), the ModelRunner runs the model and samples,
a DecodeBatch holds the rows being decoded and computes their finish codes, a ConfidenceBook keeps confidence;
the Engine sequences them and owns the decode pipeline (groups of steps launched ahead, read back later).

The host work of a steady decode step does not grow with Python objects rebuilt per sequence: while the batch
stays the same, its device-side rows are kept and advanced on the device, the tokens sampled at one step are fed
to the next without leaving the device, and the only device-to-host copy is the sampled tokens with their finish
codes, taken as late as possible.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor

from m1reason.engine.batch import DecodeBatch, Group
from m1reason.engine.cache import PagedCache
from m1reason.engine.confidence import ConfidenceBook, ConfidenceTracker
from m1reason.engine.config import EngineConfig
from m1reason.engine.graphs import DecodeGraphs
from m1reason.engine.prefill_graphs import PrefillGraphs
from m1reason.engine.runner import ModelRunner, pack_prefills
from m1reason.engine.sampling import sample
from m1reason.engine.scheduler import Scheduler
from m1reason.engine.sequence import Sequence, Status
from m1reason.engine.transfer import to_device
from m1reason.errors import CapacityError, PromptTooLong
from m1reason.model.hybrid import HybridLM
from m1reason.records import MarkedLog

__all__ = ["Engine", "StepOutput"]

log = logging.getLogger(__name__)


@dataclass
class StepOutput:
    """What one step produced: the tokens appended, as (sequence, token), and the sequences that ended. With
    ``decode_steps`` > 1 a sequence may get several tokens in one step: they come one after another, in order.

    >>> StepOutput().decoded
    0
    """

    tokens: list[tuple[Sequence, int]] = field(default_factory=list)
    finished: list[Sequence] = field(default_factory=list)
    decoded: int = 0  # sequences in this step's decode batch (0: the step only prefilled, or had nothing to do)


@dataclass
class StepTimings:
    """Recent measured costs, for the throughput model and for whoever marks a window of them (a benchmark):
    decode steps as (batch, mean context, seconds), prefill calls as (tokens, seconds). A prefill's seconds are
    its own work on the device (``DeviceSpan``), not the wait for a decode group queued before it.

    >>> StepTimings().decode.maxlen
    4096
    """

    decode: MarkedLog[tuple[int, float, float]] = field(default_factory=MarkedLog)
    prefill: MarkedLog[tuple[int, float]] = field(default_factory=MarkedLog)


class Engine:
    """Continuous batching over ``max_slots`` sequences of up to ``max_len`` tokens; options in ``EngineConfig``
    (a ``config``, and/or its fields by keyword). ``eos_token_ids``: the tokens that end a sample unless it
    ignores EOS (default: the model config's).

    Newly admitted prompts are prefilled together, right-padded to the longest of a call (``pack_prefills``:
    similar lengths, at most ``prefill_tokens`` tokens per call): each slot ends exactly as if prefilled alone.

    With ``decode_steps=K`` a batch whose rows carry over from step to step runs up to K decode steps per
    ``step()``, back to back on the device, with one device-to-host copy for all of them: fewer when a row would
    reach max_new_tokens or max_len sooner, when the KV pool has no free blocks for the tokens ahead (it never
    preempts for them), or when a row's deadline would fall inside the K (estimated from the recent time per step).
    The tokens are those of K single steps: a sample that ends inside the K keeps the tokens up to its end and no
    others; its state ran past its end, so resuming it (``append``, ``fork``) recomputes its state from its tokens.

    With ``overlap`` each ``step()`` launches the batch's next group before reading the last one back, so the host's
    work on tokens (and the caller's, between steps) runs while the device computes. A sample that ends, is
    cancelled, appended to or forked while a group runs ahead keeps none of its tokens; its state took them, so it
    is recomputed if it goes on. The samples are the same as without it.

    A failure inside one batch's part of a step (a prefill call and its forks, or the decode) ends that batch's
    sequences with finish_reason "error" and the message in ``Sequence.error``, frees their slots, and the step
    goes on for the others (``_contained``); the engine keeps serving.

    >>> from m1reason.model import HybridLM, ModelConfig
    >>> from m1reason.types import SamplingParams
    >>> engine = Engine(HybridLM(ModelConfig.tiny()), max_slots=4, max_len=32)
    >>> seq = Sequence("r/0", "r", 0, 0, SamplingParams(temperature=0, max_new_tokens=3, ignore_eos=True), [1, 2], 2)
    >>> engine.add([seq])
    >>> while engine.has_work():
    ...     _ = engine.step()
    >>> seq.num_generated, seq.finish_reason
    (3, 'length')
    """

    def __init__(self, model: HybridLM, config: EngineConfig | None = None, *, eos_token_ids=None, **options):
        self.config = config = EngineConfig.of(config, **options).resolve(model.device)
        model = model.eval()
        self.device = model.device
        if self.device.type == "cuda":
            model.merge_gate_up()  # decode steps are small batches: one GEMM for gate and up reads faster than two
        self.vocab_size = model.config.vocab_size
        self.eos_token_ids = frozenset(model.config.eos_token_ids if eos_token_ids is None else eos_token_ids)
        self.cache = PagedCache(model.config, slots=config.max_slots, max_len=config.max_len,
                                kv_tokens=config.kv_tokens, block_size=config.block_size,
                                dtype=config.state_dtype or model.dtype, device=self.device)
        self.scheduler = Scheduler(self.cache, on_preempt=self._on_preempt)
        self.confidence = ConfidenceBook(ConfidenceTracker(config.max_slots, config.confidence_window, self.device),
                                         self.device)
        graphs = (DecodeGraphs(model, self.cache, config.max_slots, max_steps=config.decode_steps)
                  if config.cuda_graphs else None)
        prefill_graphs = (PrefillGraphs(model, self.cache, config.prefill_graph_tokens, capture=config.cuda_graphs)
                          if config.prefill_graph_tokens else None)
        self.runner = ModelRunner(model, self.cache, graphs=graphs, prefill_graphs=prefill_graphs,
                                  confidence_top_k=config.confidence_top_k)
        self.timings = StepTimings()
        self._fork_ids = itertools.count(1)
        self._prefill_pending_since: float | None = None  # when prefill work first waited behind running decodes
        self._prefill_call_s = 0.0  # recent seconds per prefill call (moving average)
        self._decode_rows: DecodeBatch | None = None  # the last decode batch, kept while it can run again as it is
        self._ahead: Group | None = None  # a group of decode steps on the device, not read back yet
        self._last_collect = 0.0  # perf_counter when the last group was read back

    # the runner's model and graphs, settable (tests swap in a faulty model or eager graph programs)
    model = property(lambda self: self.runner.model, lambda self, model: setattr(self.runner, "model", model))
    graphs = property(lambda self: self.runner.graphs, lambda self, graphs: setattr(self.runner, "graphs", graphs))
    max_len = property(lambda self: self.config.max_len)
    decode_steps = property(lambda self: self.config.decode_steps)
    feed_appends = property(lambda self: self.config.feed_appends)
    overlap = property(lambda self: self.config.overlap)
    prefill_delay = property(lambda self: self.config.prefill_delay)

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
        return self.scheduler.has_work()

    def finish(self, seq: Sequence, reason: str, out: StepOutput | None = None) -> None:
        """End a sequence. It keeps its slot until the next step, so append() can still resume it."""
        if not seq.is_live:
            return
        self.scheduler.finish(seq)
        seq.finish_reason = reason
        if out is not None:
            out.finished.append(seq)

    def cancel(self, seq: Sequence) -> None:
        """Cancel and free the slot at once (a cancelled sample is never resumed)."""
        self.finish(seq, "cancelled")
        self.scheduler.release(seq)

    def release(self, *seqs: Sequence) -> None:
        """Free finished sequences' slots now (they will not be resumed), rather than at the next step; several
        at once (a request's samples) share one block-table write and one length write."""
        self.scheduler.free(*seqs)

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
                self.confidence.save(seq)
                self.scheduler.free(seq)
            self.scheduler.resume(seq)
        # A short append to a sample that is decoding joins the decode batch instead of waiting for a prefill call:
        # a prefill holds up every other sequence for its whole duration, while a step in the graphed batch costs
        # them nothing.
        seq.feeding = (decoding and 0 < len(token_ids) <= self.feed_appends and seq.status is Status.RUNNING
                       and seq.num_cached > 0)

    def fork(self, seq: Sequence, n: int, params=None) -> list[Sequence]:
        """Branch a sample that holds a slot into n new ones sharing its state and tokens."""
        if seq.slot is None:
            raise ValueError(f"{seq.sample_id} holds no state to fork (waiting, or finished and freed)")
        self.confidence.settle()
        if seq.state_overrun or self._in_ahead(seq) is not None:  # its state is not at its tokens' end
            return self._fork_by_recompute(seq, n, params)
        slots = self.cache.fork(seq.slot, n, length=seq.num_cached)
        self.confidence.copy(seq.slot, slots)
        children = [self._child(seq, params, status=Status.RUNNING, slot=slot, num_cached=seq.num_cached,
                                released=False) for slot in slots]
        self.scheduler.add_forks(children)
        return children

    def _child(self, seq: Sequence, params, **state) -> Sequence:
        fork_id = next(self._fork_ids)
        return Sequence(f"{seq.sample_id}.{fork_id}", seq.request_id, seq.stream_index * 1_000_003 + fork_id,
                        seq.seed, params or seq.params, list(seq.tokens), seq.prompt_len, seq.deadline_at, **state)

    def _fork_by_recompute(self, seq: Sequence, n: int, params) -> list[Sequence]:
        """Fork a sample whose state ran past its end (it ended inside a multi-step decode): the new samples
        recompute their state from its tokens, each queued as a preempted sample is, with its confidence."""
        children = []
        for _ in range(n):
            child = self._child(seq, params)
            self.confidence.save_for(child, seq)
            self.scheduler.enqueue([child])
            children.append(child)
        return children

    def take_back(self, seq: Sequence, n: int) -> None:
        """Drop the last ``n`` tokens the last step appended to a finished sample, with their log-probabilities
        and confidence: the caller found a stop string in the middle of a multi-step decode, and the sample ends
        where one step at a time would have ended it. Its state ran past its end, so resuming it recomputes it.

        >>> from m1reason.model import HybridLM, ModelConfig
        >>> from m1reason.types import SamplingParams
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
        self.confidence.take_back(seq, n)

    def read_confidence(self, seq: Sequence):
        """The sample's confidence scalars (None unless it asked for them, or before its first token)."""
        return self.confidence.read(seq)

    # ---- the step ---------------------------------------------------------------------------------------------
    @torch.no_grad()
    def step(self) -> StepOutput:
        out = StepOutput()
        self.confidence.settle()
        self.scheduler.release_parked()
        self._expire_deadlines(out)
        prefilled = self._prefill(out) if self._prefill_due() else set()
        if prefilled:  # a prefill can take long under load: who passed their deadline meanwhile ends now, undecoded
            self._expire_deadlines(out)
        batch = self.scheduler.reserve_for_step(self.scheduler.to_decode(skip=prefilled))
        if batch:
            out.decoded = len(batch)
            ahead = self._ahead.rows.seqs if self._ahead is not None else []  # their states move with the batch
            self._contained([*batch, *ahead], out, lambda: self._decode(batch, out))
        else:
            self._drain(out)
        return out

    def _expire_deadlines(self, out: StepOutput) -> None:
        for seq in self.scheduler.expired():
            self.finish(seq, "deadline", out)

    def _prefill(self, out: StepOutput) -> set[Sequence]:
        """Admit waiting groups and prefill them, then the running sequences' pending chunks (appends, recomputes);
        returns the sequences prefilled (they sampled their next token: they take no decode step now)."""
        started = time.perf_counter()
        admitted = self.scheduler.admit()
        self._prefill_groups(admitted, out)
        done = {seq for group in admitted for seq in group}
        chunks = self.scheduler.reserve_for_step(self.scheduler.to_prefill(skip=done))
        self._prefill_groups([[seq] for seq in chunks], out)
        done.update(chunks)
        if done and self.config.prefill_delay:
            seconds, last = time.perf_counter() - started, self._prefill_call_s
            self._prefill_call_s = 0.75 * last + 0.25 * seconds if last else seconds
            self._prefill_pending_since = None
        return done

    def settle(self) -> StepOutput:
        """Read back the group of decode steps still on the device (``overlap``), as a step would, and return its
        tokens and the samples it ended, to be delivered like a step's output. Afterwards every running sample's
        state is at its tokens' end, so a ``fork`` shares it instead of recomputing it from every token.

        >>> from m1reason.model import HybridLM, ModelConfig
        >>> engine = Engine(HybridLM(ModelConfig.tiny()), max_slots=2, max_len=32)
        >>> engine.settle().tokens
        []
        """
        out = StepOutput()
        self._drain(out)
        return out

    def in_flight(self, seq: Sequence) -> bool:
        """Whether a group of decode steps on the device, not read back yet, is computing tokens for ``seq``."""
        return self._in_ahead(seq) is not None

    def _drain(self, out: StepOutput) -> None:
        """No decode this step: read back the group still on the device for whatever it holds."""
        if self._ahead is not None:
            ahead, self._ahead = self._ahead, None
            self._contained(ahead.rows.seqs, out, lambda: self._collect(ahead, out))
        self._decode_rows = None  # kept rows are valid only from one decode step to the very next

    def _prefill_due(self) -> bool:
        """Whether this step prefills what waits (new prompts, appended continuations). A prefill call costs about
        the same for one short prompt as for several (at small sizes it is launch- or loop-bound), and while it
        runs every decoding sequence waits; so when decodes are running, prefill work may wait up to
        ``prefill_delay`` recent prefill calls' time for more to share its call. With nothing decoding, or with a
        full call's worth of tokens waiting, it runs at once."""
        if self.config.prefill_delay == 0:  # the default: the decode step pays nothing for the option
            return True
        scheduler = self.scheduler
        pending = scheduler.to_prefill(skip=set())
        if not scheduler.waiting and not pending:
            return False
        if len(pending) == len(scheduler.running):  # nothing decoding would wait for it
            return True
        now = time.monotonic()
        if self._prefill_pending_since is None:
            self._prefill_pending_since = now
        return (now - self._prefill_pending_since >= self.config.prefill_delay * self._prefill_call_s
                or scheduler.waiting_tokens(pending) >= self.config.prefill_tokens // 2)

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

    def _guarded(self, seqs: list[Sequence], run):
        """Run a model call; on out-of-memory, requeue these sequences for recompute (their states may be half
        updated) and halve the batch the scheduler admits from now on."""
        try:
            return run()
        except torch.OutOfMemoryError:
            limit = self.scheduler.limit_after_out_of_memory()
            log.warning("out of memory with %d sequences running; limiting to %d and recomputing %d",
                        len(self.scheduler.running), limit, len(seqs))
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            for seq in seqs:
                self.scheduler.preempt(seq)
            self._decode_rows = None
            return None

    def _on_preempt(self, seq: Sequence) -> None:
        self._decode_rows = None  # the preempted sample leaves the batch and may come back on another slot
        seq.feeding = False  # it is recomputed from its tokens, appended ones included, in one prefill
        self.confidence.save(seq)

    # ---- prefill ----------------------------------------------------------------------------------------------
    def _prefill_groups(self, groups: list[list[Sequence]], out: StepOutput) -> None:
        """Prefill groups of pending tokens, several per call: sorted by length and packed so that a call holds at
        most ``prefill_tokens`` tokens with padding and wastes at most a quarter of them on padding (the model
        keeps each Mamba state at its own last real token). Fresh prompts, sequences restarting from their tokens
        after preemption and sequences continuing after an append all go together: each row starts from its
        slot's state and length, so each ends as if prefilled alone, and one call replaces many."""
        for batch in pack_prefills(sorted(groups, key=lambda g: g[0].num_pending), self.config.prefill_tokens):
            self._contained([seq for group in batch for seq in group], out,
                            lambda batch=batch: self._run_prefill(batch, out))

    def _run_prefill(self, groups: list[list[Sequence]], out: StepOutput) -> None:
        """One prefill call over the first sequence of each group (right-padded to the longest), then each group's
        others forked from its first, then every sequence sampled."""
        firsts = [g[0] for g in groups]
        pending = [s.pending for s in firsts]
        span = self.runner.span()
        fresh = all(s.num_cached == 0 for s in firsts)  # known here; the model would sync the device to find out
        logits = self._guarded([s for g in groups for s in g],
                               lambda: self.runner.prefill(pending, [s.slot for s in firsts], fresh=fresh))
        if logits is None:
            return
        span.stop()  # read after sampling, which waits for the device anyway
        self.confidence.start(firsts)
        for group in groups:
            group[0].num_cached = len(group[0].tokens)
            self._fork_group(group)
        seqs = [seq for group in groups for seq in group]
        if len(groups) == 1:  # every row samples from the one prompt's logits
            logits = logits.expand(len(seqs), -1)
        else:
            logits = logits[to_device(torch.tensor([i for i, g in enumerate(groups) for _ in g]), self.device)]
        self._sample_and_append(self._rows(seqs), logits, out)
        self.timings.prefill.append((sum(map(len, pending)), span.seconds()))

    def _fork_group(self, group: list[Sequence]) -> None:
        """Give the rest of a group the first sequence's freshly prefilled state."""
        first = group[0]
        if len(group) > 1:
            children = self.cache.fork(first.slot, len(group) - 1, length=first.num_cached)
            for seq, child_slot in zip(group[1:], children):
                seq.slot, seq.num_cached, seq.released = child_slot, first.num_cached, False
            self.confidence.copy(first.slot, [s.slot for s in group[1:]])

    # ---- decode -----------------------------------------------------------------------------------------------
    def _rows(self, seqs: list[Sequence]) -> DecodeBatch:
        return DecodeBatch.build(seqs, self.vocab_size, self.eos_token_ids, self.config.max_len, self.device)

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
        if steps == 1 and not (rows.reusable and (self.runner.graphs is not None or self.config.overlap)):
            return self._decode_one(rows, out)
        group = self._launch(rows, steps)  # where graphed, even one step samples inside the graph
        if group is None:
            return
        if self.config.overlap and rows.reusable:
            self._ahead = group  # read back by the next step, after it has launched the group after this one
            self._decode_rows = rows
        else:
            self._collect(group, out)

    def _decode_one(self, rows: DecodeBatch, out: StepOutput) -> None:
        """One decode step, sampled outside any graph: rows with banned tokens (their mask changes per step) or
        feeding appended tokens one step at a time, and every step on a CPU with ``decode_steps=1``."""
        batch = rows.seqs
        started = time.perf_counter()
        logits = self._guarded(batch, lambda: self.runner.decode(rows.inputs, rows.slots))
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

    def _launch(self, rows: DecodeBatch, steps: int, in_flight: int = 0) -> Group | None:
        """``steps`` decode steps of ``rows`` put on the device (``ModelRunner.launch``); None if they ran out of
        memory (the rows are requeued)."""
        return self._guarded(rows.seqs, lambda: self.runner.launch(rows, steps, in_flight))

    def _launch_next(self, rows: DecodeBatch, in_flight: int) -> Group | None:
        """Launch the rows' next group of decode steps while the last one (``in_flight`` steps, not read back yet)
        still runs: as many steps as every row's length budget, the nearest deadline and free KV blocks allow beyond
        those, or none. A row that ends in the group in flight runs on in this one for nothing: its tokens are
        never kept, and its state, which took them, is recomputed if the sample is resumed."""
        steps = min(self.config.decode_steps, rows.min_budget)  # min_budget already counts the steps in flight
        if steps < 1 or not rows.reusable:
            return None
        steps = min(steps, self._steps_before_deadline(rows.seqs, in_flight))
        if steps < 1:
            return None
        steps = self.scheduler.reserve_ahead(rows.seqs, in_flight + steps - 1) - in_flight
        return self._launch(rows, steps, in_flight=in_flight) if steps >= 1 else None

    def _collect(self, group: Group, out: StepOutput, *, ran_on: bool = False) -> None:
        """Read back a launched group and apply it (``Group.apply``): each row keeps its tokens up to the first that
        ends it, and the rows that ended are finished. ``ran_on``: a later group of the same rows is on the device
        already."""
        by_row, finished, stale = group.apply(ran_on=ran_on)
        rows, batch = group.rows, group.rows.seqs
        out.tokens.extend([(seq, token) for seq, row in zip(batch, by_row) for token in row])
        if group.confidences is not None:
            self.confidence.hold(batch, rows.slots, group.confidences, [len(r) for r in by_row],
                                 group.first or [0] * len(batch))
        for i, code in finished:
            self.finish(batch[i], "stop" if code == 1 else "length", out)
        now = time.perf_counter()
        # with groups overlapped, a group's time is what it adds after the one before it was read back
        seconds = (now - max(group.launched, self._last_collect)) / group.steps
        self._last_collect = now
        self.timings.decode.extend((len(batch), context, seconds) for context in group.contexts)
        if rows.reusable and not stale:
            self._decode_rows = rows  # advanced ``steps`` times: ready for the next step

    def _sample_and_append(self, rows: DecodeBatch, logits: Tensor, out: StepOutput) -> Tensor:
        """Sample every row, append the tokens and end the sequences that stop here; returns the sampled tokens
        (still on the device). The one device-to-host copy of the step is the tokens with their finish codes."""
        seqs = rows.seqs
        tokens, logprobs = sample(logits, rows.sampling, with_logprobs=rows.logprobs)
        # a row feeding appended tokens keeps no sample while any of them is still to go in
        discard = [seq.num_pending > 0 for seq in seqs] if rows.feeding else None
        live = None if discard is None else to_device(torch.tensor([not d for d in discard]), self.device)
        if rows.confidence:
            self.confidence.update(rows.slots, self.runner.token_confidence(logits), live=live)
        host_tokens, codes = torch.stack([tokens, rows.finish_codes(tokens)]).tolist()
        if discard is not None:
            for seq in seqs:
                seq.feeding = seq.feeding and seq.num_pending > 1  # its last pending token is an ordinary input
            keep = [i for i, d in enumerate(discard) if not d]
            seqs, host_tokens, codes = [seqs[i] for i in keep], [host_tokens[i] for i in keep], [codes[i] for i in keep]
            if logprobs is not None:
                logprobs = logprobs[to_device(torch.tensor(keep, dtype=torch.long), self.device)]
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

    def _steps_ahead(self, rows: DecodeBatch) -> int:
        """How many decode steps this batch takes now: ``decode_steps``, fewer where a row reaches its length limit
        sooner (none may run past max_new_tokens or max_len), where a row's deadline comes sooner (at the recent
        time per step of this batch size, so a deadline is seen within about a step of it, not up to
        ``decode_steps`` late) or the KV pool lacks free blocks for the tokens ahead, and 1 when the rows change
        from step to step (tokens banned until min_new_tokens)."""
        steps = min(self.config.decode_steps, rows.min_budget)
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
            return self.config.decode_steps
        latest = self.timings.decode.latest(lambda record: record[0] == len(seqs))
        per_step = None if latest is None else latest[2]
        if not per_step:
            return self.config.decode_steps
        fit = int((min(deadlines) - time.monotonic()) / per_step) - in_flight
        return fit if in_flight else max(1, fit)
