"""Scheduler: who runs this step. Owns the waiting queue, the running set and the parked samples (finished, still
holding their slots for a step so that an append can resume them); admits work when slots and KV blocks allow,
preempts the youngest samples (never the whole batch) when blocks run out, and moves samples between those sets
when they finish, resume or fork.

A waiting *group* is either the n samples of a new request (one prefill, then a fork into n slots) or a
single preempted or re-queued sample (recomputed from its tokens). Nothing here touches the model.
"""

from __future__ import annotations

import itertools
import time
from collections import deque

from m1reason.engine.cache import OutOfBlocks, PagedCache
from m1reason.engine.sequence import Sequence, Status

__all__ = ["Scheduler"]


class Scheduler:
    """The waiting groups, running and parked sequences over one ``PagedCache``; ``on_preempt(seq)`` is called
    before a preempted sample's slot is freed (the engine drops its confidences).

    >>> from m1reason.model import ModelConfig
    >>> scheduler = Scheduler(PagedCache(ModelConfig.tiny(), slots=4, max_len=64, kv_tokens=256))
    >>> scheduler.enqueue([Sequence("a/0", "a", 0, 0, None, [1, 2, 3], 3)])
    >>> [s.request_id for group in scheduler.admit() for s in group], scheduler.has_work()
    (['a'], True)
    >>> [s.sample_id for s in scheduler.to_prefill(skip=set())]  # its prompt's 3 tokens go through a prefill call
    ['a/0']
    """

    def __init__(self, cache: PagedCache, *, on_preempt=None):
        self.cache = cache
        self.on_preempt = on_preempt  # called before a preempted sample's slot is freed
        self.max_running = cache.num_slots  # lowered after an out-of-memory step
        self.waiting: deque[list[Sequence]] = deque()
        self.running: list[Sequence] = []
        self.parked: list[Sequence] = []  # finished, still holding their slots until the next step
        self._admissions = itertools.count()

    def has_work(self) -> bool:
        return bool(self.running or self.waiting)

    # ---- what runs this step -----------------------------------------------------------------------------------
    # len(tokens) - num_cached is num_pending inlined: these passes touch every running sequence, every step
    def to_prefill(self, skip: set[Sequence]) -> list[Sequence]:
        """Running sequences with more than one pending token (an append, a preempted sample's recompute) that
        go through a prefill call, not the decode batch."""
        return [s for s in self.running if len(s.tokens) - s.num_cached > 1 and not s.feeding and s not in skip]

    def to_decode(self, skip: set[Sequence]) -> list[Sequence]:
        """Running sequences that take a decode step: one pending token, or an append fed through decode steps."""
        return [s for s in self.running if (len(s.tokens) - s.num_cached == 1 or s.feeding) and s not in skip]

    def expired(self) -> list[Sequence]:
        """Running and waiting sequences whose deadline has passed."""
        now = time.monotonic()
        live = [*self.running, *(s for g in self.waiting for s in g)]
        return [seq for seq in live if seq.deadline_at is not None and now >= seq.deadline_at]

    def waiting_tokens(self, pending: list[Sequence]) -> int:
        """Tokens that a prefill would take now: ``pending``'s and every waiting group's prompt."""
        return sum(s.num_pending for s in pending) + sum(len(g[0].tokens) for g in self.waiting)

    def enqueue(self, group: list[Sequence], *, front: bool = False) -> None:
        for seq in group:
            seq.status = Status.WAITING
        (self.waiting.appendleft if front else self.waiting.append)(group)

    def admit(self) -> list[list[Sequence]]:
        """Take waiting groups, oldest first, while their slots and prompt blocks fit. Each admitted group's
        first sequence owns a slot reserved for its pending tokens; the rest get slots when it is forked, after
        the prefill of this step, so the slots and blocks those forks will take are held back from the groups
        admitted after it. (Checking each group against the free slots alone let two groups of 31 pass with 32
        free: the second fork then found too few and ended the engine's thread.)

        >>> from m1reason.model import ModelConfig
        >>> cache = PagedCache(ModelConfig.tiny(), slots=6, max_len=64, kv_tokens=256)
        >>> scheduler, parked = Scheduler(cache), cache.allocate_slot()  # a sample that ended keeps its slot a step
        >>> for r in "ab":
        ...     scheduler.enqueue([Sequence(f"{r}/{i}", r, i, 0, None, [1, 2], 2) for i in range(3)])
        >>> [[s.request_id for s in group] for group in scheduler.admit()]  # b waits: a's fork takes 2 of 4 free
        [['a', 'a', 'a']]
        """
        admitted = []
        promised = 0  # blocks the groups admitted so far will take when they fork after their prefill
        promised_slots = 0  # slots the same forks will take
        with self.cache.batched_block_writes():  # the new prompts' block-table rows: one write
            while self.waiting:
                group = self.waiting[0]
                first = group[0]
                if (self.cache.free_slots < len(group) + promised_slots
                        or len(self.running) + len(group) > self.max_running):
                    break
                slot = self.cache.allocate_slot()
                blocks_for_fork = len(group) - 1  # each child copies the partially filled last block
                try:
                    needed = self.cache.blocks_needed(slot, len(first.tokens)) + blocks_for_fork + promised
                    if needed > self.cache.free_blocks:
                        raise OutOfBlocks("not enough KV blocks to admit")
                    self.cache.reserve(slot, len(first.tokens))
                except OutOfBlocks:
                    self.cache.free_slot(slot)
                    break
                promised += blocks_for_fork
                promised_slots += len(group) - 1
                self.waiting.popleft()
                first.slot, first.num_cached = slot, 0
                for seq in group:
                    seq.status, seq.admitted = Status.RUNNING, next(self._admissions)
                self.running.extend(group)
                admitted.append(group)
        return admitted

    def reserve_for_step(self, seqs: list[Sequence]) -> list[Sequence]:
        """Make room for each sequence's pending tokens, preempting the youngest running samples as needed.
        Returns the sequences that still run this step (preempted ones are re-queued at the front).

        Only sequences that cross into a new KV block are touched (about 1 in block_size per decode step):
        reserving for the others is a no-op, so skipping them changes nothing, including who is preempted."""
        needy = self._needing_blocks(seqs)
        if needy:
            with self.cache.batched_block_writes():
                for seq in sorted(needy, key=lambda s: s.admitted):
                    while seq.status is Status.RUNNING:
                        try:
                            self.cache.reserve(seq.slot, len(seq.tokens))
                            break
                        except OutOfBlocks:
                            self.preempt(self.youngest())
            if any(s.status is not Status.RUNNING for s in seqs):
                return [s for s in seqs if s.status is Status.RUNNING]
        return seqs

    def reserve_ahead(self, seqs: list[Sequence], extra: int) -> int:
        """Make room for ``extra`` more tokens after each sequence's pending one, for decode steps that run back
        to back without the host. It never preempts: it takes free blocks only, and where the pool runs out it
        gives fewer steps instead. Returns how many decode steps every sequence's room now covers: 1 + extra when
        all fit, never less than 1 (``reserve_for_step`` has made room for the pending token).

        >>> from m1reason.model import ModelConfig
        >>> cache = PagedCache(ModelConfig.tiny(), slots=2, max_len=64, kv_tokens=32, block_size=4)
        >>> scheduler, seq = Scheduler(cache), Sequence("r/0", "r", 0, 0, None, [1] * 6, 6)
        >>> seq.slot = cache.allocate_slot(); cache.reserve(seq.slot, 6)
        >>> scheduler.reserve_ahead([seq], 3), cache.room(seq.slot)
        (4, 12)
        >>> scheduler.reserve_ahead([seq], 40)   # 46 tokens need 12 blocks of the pool's 8: the 12 held give 7
        7
        """
        room = self.cache.room
        short = [s for s in seqs if len(s.tokens) + extra > room(s.slot)]
        if short:
            with self.cache.batched_block_writes():
                for seq in short:
                    try:
                        self.cache.reserve(seq.slot, len(seq.tokens) + extra)
                    except OutOfBlocks:
                        break
            extra = min(extra, *(room(s.slot) - len(s.tokens) for s in short))
        return 1 + max(0, extra)

    def _needing_blocks(self, seqs: list[Sequence]) -> list[Sequence]:
        """The sequences whose tokens do not fit what their slot holds (reserve raises for one that is too long)."""
        room = self.cache.room
        return [s for s in seqs if len(s.tokens) > room(s.slot)]

    def limit_after_out_of_memory(self) -> int:
        """Halve the sequences admitted to run at once (at most those running now); returns the new limit."""
        self.max_running = max(1, min(self.max_running, len(self.running)) // 2)
        return self.max_running

    # ---- finishing, resuming, forking ----------------------------------------------------------------------------
    def finish(self, seq: Sequence) -> None:
        """Take a live sequence out of the queue or the running set; a running one is parked with its slot."""
        if seq.status is Status.WAITING:
            self.remove_waiting(seq)
        elif seq in self.running:
            self.running.remove(seq)
            self.parked.append(seq)
            seq.released = False
        seq.status = Status.FINISHED

    def release_parked(self) -> None:
        """Free the slots of the samples that finished by the last step and were not resumed (together: one
        block-table write and one length write for all of them)."""
        self.release_many(self.parked)
        self.parked = []

    def free(self, *seqs: Sequence) -> None:
        """Free finished, parked samples' slots now rather than at the next step (together: one write each)."""
        freed = [seq for seq in seqs if seq.status is Status.FINISHED and seq in self.parked]
        for seq in freed:
            self.parked.remove(seq)
        self.release_many(freed)

    def resume(self, seq: Sequence) -> None:
        """A finished sample goes on: from its slot's state if it still holds it, else queued to recompute it."""
        if not seq.released:
            self.parked.remove(seq)
            seq.status = Status.RUNNING
            self.running.append(seq)
        else:
            seq.num_cached, seq.state_overrun = 0, False
            self.enqueue([seq])

    def add_forks(self, children: list[Sequence]) -> None:
        """Running forks that already hold their slots (copied from their parent's), admitted now."""
        for child in children:
            child.admitted = next(self._admissions)
        self.running.extend(children)

    def youngest(self) -> Sequence:
        return max((s for s in self.running if s.slot is not None), key=lambda s: s.admitted)

    def preempt(self, seq: Sequence) -> None:
        """Free the sample's memory and queue it for recompute from its tokens (its samples stay the same:
        randomness is keyed by position, not by history)."""
        if self.on_preempt is not None:
            self.on_preempt(seq)
        self.release(seq)
        seq.num_cached = 0
        self.enqueue([seq], front=True)

    def release(self, seq: Sequence) -> None:
        self.release_many([seq])

    def release_many(self, seqs: list[Sequence]) -> None:
        """Give back the samples' slots (in one call: ``PagedCache.free_many``) and take them off the running list."""
        self.cache.free_many([seq.slot for seq in seqs if seq.slot is not None])
        for seq in seqs:
            seq.slot = None
            if seq in self.running:
                self.running.remove(seq)
            seq.released = True

    def remove_waiting(self, seq: Sequence) -> None:
        for group in list(self.waiting):
            if seq in group:
                group.remove(seq)
                if not group:
                    self.waiting.remove(group)
                return
