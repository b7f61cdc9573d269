"""Host-to-device copies that never make the host wait for the device.

A plain ``cpu_tensor.to("cuda")`` copies from pageable memory, and torch then synchronises the stream: the host
waits for every kernel queued before the copy, which with decode steps launched ahead (``Engine(overlap=...)``)
means waiting for the steps in flight. A copy from pinned memory, non-blocking, is queued behind them instead;
torch's pinned-memory allocator keeps the source alive until the copy has run.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["to_device"]


def to_device(values: Tensor, device: torch.device | str) -> Tensor:
    """``values`` (a CPU tensor the caller does not change afterwards) on ``device``, without waiting for the device.

    >>> to_device(torch.tensor([1, 2]), "cpu").tolist()
    [1, 2]
    """
    device = torch.device(device)
    if device.type != "cuda":
        return values.to(device)
    return values.pin_memory().to(device, non_blocking=True)
