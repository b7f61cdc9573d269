"""Per-sample confidence kept on the device (DeepConf): token confidence = minus the mean log-probability of the
top-k candidates (high when the distribution is peaked); a sample reports its mean and the lowest sliding-window
mean (its weakest stretch).

Rows are slots; only scalars ever leave the device, never per-token lists. ``ConfidenceBook`` is the engine's
bookkeeping around the tracker: windows saved across preemption, and a multi-step decode's values held until it is
known how many tokens each row keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from m1reason.engine.sequence import Sequence
from m1reason.engine.transfer import to_device
from m1reason.types import Confidence

__all__ = ["ConfidenceBook", "ConfidenceTracker", "token_confidence"]


def token_confidence(logprobs: Tensor, k: int = 20) -> Tensor:
    """DeepConf's token confidence, -mean of the top-k log-probabilities per row: [b, V] -> [b]. Higher = more
    confident: a peaked distribution leaves its other top-k candidates very unlikely.

    >>> peaked, flat = torch.tensor([[0.98, 0.01, 0.01]]).log(), torch.tensor([[0.34, 0.33, 0.33]]).log()
    >>> bool(token_confidence(peaked, k=3) > token_confidence(flat, k=3))
    True
    """
    return -logprobs.topk(min(k, logprobs.shape[-1]), dim=-1).values.mean(-1)


class ConfidenceTracker:
    """Running sums and a ring buffer of the last ``window`` token confidences per slot.

    >>> t = ConfidenceTracker(slots=2, window=2)
    >>> for c in (-1.0, -3.0, -1.0):
    ...     t.update(torch.tensor([0]), torch.tensor([c]))
    >>> t.read(0)
    Confidence(mean=-1.6666666666666667, lowest_window=-2.0, window=2)
    """

    def __init__(self, slots: int, window: int = 2048, device: torch.device | str = "cpu"):
        self.window = window
        self.sum = torch.zeros(slots, device=device)
        self.count = torch.zeros(slots, dtype=torch.long, device=device)
        self.ring = torch.zeros(slots, window, device=device)
        self.window_sum = torch.zeros(slots, device=device)
        self.lowest = torch.full((slots,), float("inf"), device=device)

    def reset(self, slots: Tensor) -> None:
        self.sum[slots], self.count[slots], self.window_sum[slots] = 0.0, 0, 0.0
        self.ring[slots] = 0.0
        self.lowest[slots] = float("inf")

    def update(self, slots: Tensor, confidence: Tensor, live: Tensor | None = None) -> None:
        """Add one token's confidence to each slot; with ``live`` ([b] bool) only to the rows where it is True
        (a multi-step decode counts no token a sample sampled after its end).

        >>> t = ConfidenceTracker(slots=2, window=2)
        >>> t.update(torch.tensor([0, 1]), torch.tensor([-1.0, -5.0]), live=torch.tensor([True, False]))
        >>> t.read(0).mean, t.read(1)
        (-1.0, None)
        """
        if live is None:
            added, counted = confidence, 1
        else:
            added, counted = torch.where(live, confidence, 0.0), live.long()
        pos = self.count[slots] % self.window
        old = self.ring[slots, pos]
        kept = old if live is None else torch.where(live, old, 0.0)  # what leaves the window: nothing if not live
        self.ring[slots, pos] = confidence if live is None else torch.where(live, confidence, old)
        self.window_sum[slots] += added - kept
        self.sum[slots] += added
        self.count[slots] += counted
        full = self.count[slots] >= self.window
        if live is not None:
            full &= live
        windowed = torch.minimum(self.lowest[slots], self.window_sum[slots] / self.window)
        self.lowest[slots] = torch.where(full, windowed, self.lowest[slots])

    def copy(self, parent: int, children: Tensor) -> None:
        for t in (self.sum, self.count, self.ring, self.window_sum, self.lowest):
            t[children] = t[parent].clone()

    def snapshot(self, slot: int) -> tuple[Tensor, ...]:
        return tuple(t[slot].clone() for t in (self.sum, self.count, self.ring, self.window_sum, self.lowest))

    def restore(self, slot: int, saved: tuple[Tensor, ...]) -> None:
        for t, value in zip((self.sum, self.count, self.ring, self.window_sum, self.lowest), saved):
            t[slot] = value

    def read(self, slot: int) -> Confidence | None:
        count = int(self.count[slot])
        if count == 0:
            return None
        mean = float(self.sum[slot]) / count
        lowest = float(self.lowest[slot]) if count >= self.window else mean
        return Confidence(mean=mean, lowest_window=lowest, window=self.window)


@dataclass(eq=False)
class _HeldSteps:
    """The token confidences of a multi-step decode, held until it is known how many tokens each row keeps (up to
    its end, or up to a stop string the generator finds: ``Engine.take_back``); then added to the tracker."""

    seqs: list[Sequence]
    slots: Tensor  # [b]
    values: Tensor  # [steps, b]
    kept: list[int]  # per row: how many of the steps' tokens it keeps
    first: list[int]  # per row: the step of its first kept token (later than 0 for a row feeding an append)


class ConfidenceBook:
    """The engine's confidence bookkeeping over a ``ConfidenceTracker``: fresh windows for new prompts, windows
    saved when a sample gives up its slot to be recomputed and restored when it is, copies for forks, and a
    multi-step decode's values held (``hold``) until ``settle`` knows how many tokens each row kept.

    >>> from m1reason.types import SamplingParams
    >>> book = ConfidenceBook(ConfidenceTracker(slots=2, window=4), "cpu")
    >>> seq = Sequence("r/0", "r", 0, 0, SamplingParams(confidence=True), [1, 2], 2, slot=0)
    >>> book.start([seq]); book.update(torch.tensor([0]), torch.tensor([-2.0]))
    >>> book.read(seq).mean
    -2.0
    """

    def __init__(self, tracker: ConfidenceTracker, device: torch.device | str):
        self.tracker, self.device = tracker, device
        self._saved: dict[int, tuple] = {}  # id(sequence) -> its window, while it waits to be recomputed
        self._held: _HeldSteps | None = None  # a multi-step decode's, not yet in the tracker

    def start(self, seqs: list[Sequence]) -> None:
        """Before prefilled sequences' first sample: new prompts start fresh windows (one reset for all), ones
        restarting after preemption get their saved windows back, ones continuing after an append keep theirs."""
        fresh = []
        for seq in seqs:
            if seq.num_cached == 0:
                saved = self._saved.pop(id(seq), None)
                if saved is None:
                    fresh.append(seq.slot)
                else:
                    self.tracker.restore(seq.slot, saved)
        if fresh:
            self.tracker.reset(to_device(torch.tensor(fresh), self.device))

    def update(self, slots: Tensor, values: Tensor, live: Tensor | None = None) -> None:
        self.tracker.update(slots, values, live=live)

    def copy(self, parent: int, children: list[int]) -> None:
        """Forks start from their parent's window."""
        self.tracker.copy(parent, to_device(torch.tensor(children), self.device))

    def save(self, seq: Sequence) -> None:
        """Keep the window of a sample that gives up its slot to be recomputed (``start`` restores it)."""
        self.settle()
        if seq.params.confidence and seq.slot is not None:
            self._saved[id(seq)] = self.tracker.snapshot(seq.slot)

    def save_for(self, child: Sequence, parent: Sequence) -> None:
        """A fork that recomputes its state starts from its parent's window when both track confidence."""
        if child.params.confidence and parent.params.confidence:
            self._saved[id(child)] = self.tracker.snapshot(parent.slot)

    def hold(self, seqs: list[Sequence], slots: Tensor, values: Tensor, kept: list[int], first: list[int]) -> None:
        """A multi-step decode's token confidences [steps, b], added when settled (after an earlier group's)."""
        self.settle()
        self._held = _HeldSteps(seqs, slots, values, kept, first)

    def take_back(self, seq: Sequence, n: int) -> None:
        """The sample keeps ``n`` fewer of the held steps' tokens."""
        held = self._held
        if held is not None and seq in held.seqs:
            row = held.seqs.index(seq)
            held.kept[row] = max(0, held.kept[row] - n)

    def settle(self) -> None:
        """Add the held token confidences to the tracker, each row's up to the tokens it kept (a sample that
        ended, or was freed, counts none after that)."""
        held, self._held = self._held, None
        if held is None:
            return
        kept = torch.tensor([n if seq.slot is not None else 0 for seq, n in zip(held.seqs, held.kept)])
        first = torch.tensor(held.first)
        first, end = to_device(first, self.device), to_device(first + kept, self.device)
        for step, values in enumerate(held.values):
            self.tracker.update(held.slots, values, live=(first <= step) & (step < end))

    def read(self, seq: Sequence) -> Confidence | None:
        """The sample's confidence scalars (None unless it asked for them, or before its first token)."""
        if not seq.params.confidence or seq.slot is None:
            return None
        self.settle()
        return self.tracker.read(seq.slot)
