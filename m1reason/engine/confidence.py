"""Per-sample confidence kept on the device (DeepConf): token confidence = minus the mean log-probability of the
top-k candidates (high when the distribution is peaked); a sample reports its mean and the lowest sliding-window
mean (its weakest stretch).

Rows are slots; only scalars ever leave the device, never per-token lists.
"""

from __future__ import annotations

import torch
from torch import Tensor

from m1reason.generator.data import Confidence

__all__ = ["ConfidenceTracker", "token_confidence"]


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
