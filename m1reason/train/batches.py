"""Training micro-batches, made ahead of the loop in worker processes.

On a GPU a tiny model's optimizer step takes a few milliseconds, while drawing 128 problems, rendering their
prompts and tokenizing them takes tens of milliseconds of Python: made inline, the data is most of a stage's
time. ``StepBatches`` makes micro-batch ``i`` in a pool of worker processes while the loop trains on ``i - 1``.
A micro-batch is a pure function of (seed, index, rank), so the batches, and the trained weights, are the same
with any number of workers, and a resumed stage simply starts the pool at its step.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from m1reason.train.examples import collate, encode, step_problems

__all__ = ["StepBatches", "default_workers", "step_batch"]


def step_batch(tokenizer, *, seed: int, index: int, batch_size: int, max_len: int,
               rank: int = 0) -> tuple[Tensor, Tensor]:
    """Padded token ids and assistant mask of micro-batch ``index`` (``step * grad_accum + micro``).

    >>> from m1reason.tokenizer import load_tokenizer
    >>> tok = load_tokenizer("m1reason/embedded")
    >>> ids, mask = step_batch(tok, seed=0, index=3, batch_size=2, max_len=480)
    >>> ids.shape[0], bool(mask.sum() > 0), torch.equal(ids, step_batch(tok, seed=0, index=3, batch_size=2,
    ...                                                                  max_len=480)[0])
    (2, True, True)
    """
    problems = step_problems(seed, index, batch_size, rank=rank)
    return collate([encode(p, tokenizer, max_len=max_len) for p in problems], tokenizer.pad_token_id)


def default_workers(device: str) -> int:
    """Worker processes for ``device``: none on CPU (the cores train), up to 4 beside a GPU.

    >>> default_workers("cpu")
    0
    """
    if not device.startswith("cuda"):
        return 0
    return max(1, min(4, (os.cpu_count() or 2) - 2))


class _FromIndex(Dataset):
    """Micro-batches ``start, start + 1, ...`` as a map-style dataset, so the loader keeps their order."""

    def __init__(self, tokenizer, start: int, stop: int, spec: dict):
        self.tokenizer, self.start, self.stop, self.spec = tokenizer, start, stop, spec

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return step_batch(self.tokenizer, index=self.start + i, **self.spec)


class StepBatches:
    """Micro-batches of the training mix by index, made ``ahead`` per worker in ``workers`` processes (0: inline).

    ``take(i)`` returns micro-batch ``i``; asked for the indices in order it never waits once the pool is warm,
    asked out of order (a resumed or restarted loop) it restarts the pool at ``i``. Use as a context manager, or
    call ``close``, so the workers end with the stage.

    >>> from m1reason.tokenizer import load_tokenizer
    >>> tok = load_tokenizer("m1reason/embedded")
    >>> with StepBatches(tok, seed=0, batch_size=2, max_len=480, stop=10) as batches:
    ...     ids, mask = batches.take(3)
    >>> torch.equal(ids, step_batch(tok, seed=0, index=3, batch_size=2, max_len=480)[0])
    True
    """

    def __init__(self, tokenizer, *, seed: int, batch_size: int, max_len: int, stop: int, rank: int = 0,
                 workers: int = 0, ahead: int = 4):
        if workers < 0 or ahead < 1:
            raise ValueError(f"workers must be >= 0 and ahead >= 1, got workers={workers}, ahead={ahead}")
        self.tokenizer, self.stop, self.workers, self.ahead = tokenizer, stop, workers, ahead
        self.spec = {"seed": seed, "batch_size": batch_size, "max_len": max_len, "rank": rank}
        self._pending = None
        self._next = -1

    def take(self, index: int) -> tuple[Tensor, Tensor]:
        """Micro-batch ``index`` (CPU tensors)."""
        if not 0 <= index < self.stop:
            raise IndexError(f"micro-batch {index} is outside 0..{self.stop - 1}")
        if self.workers == 0:
            return step_batch(self.tokenizer, index=index, **self.spec)
        if self._pending is None or index != self._next:
            self._start(index)
        self._next = index + 1
        return next(self._pending)

    def _start(self, index: int) -> None:
        self.close()
        # spawn, not fork: the parent holds a CUDA context and the tokenizer's thread pool, neither fork-safe
        loader = DataLoader(_FromIndex(self.tokenizer, index, self.stop, self.spec), batch_size=None,
                            num_workers=self.workers, prefetch_factor=self.ahead, multiprocessing_context="spawn",
                            pin_memory=torch.cuda.is_available())
        self._pending = iter(loader)

    def close(self) -> None:
        """End the worker processes (the next ``take`` starts them again)."""
        if self._pending is not None:
            shutdown = getattr(self._pending, "_shutdown_workers", None)
            if shutdown is not None:
                shutdown()
            self._pending = None

    def __enter__(self) -> StepBatches:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
