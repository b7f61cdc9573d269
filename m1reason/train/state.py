"""The resumable extras of a training run (step, optimizer state, torch's RNG state) in ``trainer_state.pt``.

Written with torch.save and read back with torch's weights-only unpickler, which rebuilds tensors and plain
containers only: a crafted file is refused instead of running code. The weights live beside it in safetensors
(m1reason.model.save_model); this module does not touch them.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from m1reason.errors import CheckpointError

__all__ = ["read_trainer_state", "write_trainer_state"]


def write_trainer_state(path: str | Path, *, step: int, optimizer: dict | None) -> None:
    """Write ``step``, an optimizer state dict (None once a stage is finished) and torch's CPU RNG state to
    ``path``, atomically: a reader sees the previous file or the whole new one.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "trainer_state.pt"
    >>> write_trainer_state(path, step=3, optimizer=None)
    >>> read_trainer_state(path)["step"]
    3
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"step": step, "optimizer": optimizer, "torch_rng": torch.get_rng_state()}, tmp)
    tmp.replace(path)


def read_trainer_state(path: str | Path) -> dict:
    """The dict ``write_trainer_state`` wrote: step (int), optimizer (state dict or None), torch_rng (uint8 tensor).

    Raises CheckpointError naming the file for anything else: objects beyond tensors and plain containers (never
    unpickled), a truncated or corrupt file, or a missing or mistyped key.

    >>> import tempfile, pathlib, pickle
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "trainer_state.pt"
    >>> _ = path.write_bytes(pickle.dumps({"step": 1, "call": print}))
    >>> read_trainer_state(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    m1reason.errors.CheckpointError: .../trainer_state.pt holds more than tensors and plain containers, so it ...
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(f"{path} holds more than tensors and plain containers, so it was not loaded "
                              f"(loading it could run code): {_reason(e)}") from None
    except Exception as e:  # noqa: BLE001 (whatever a damaged file makes torch.load raise, name the file)
        raise CheckpointError(f"{path} is not a readable trainer state (truncated or corrupt?): "
                              f"{type(e).__name__}: {_reason(e)}") from None
    _check(state, Path(path))
    return state


def _check(state, path: Path) -> None:
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} must hold a dict of step, optimizer and torch_rng, got {type(state).__name__}")
    step = state.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CheckpointError(f"{path}: 'step' must be an integer >= 0, got {repr(step)[:40]}")
    optimizer = state.get("optimizer")
    if optimizer is not None and not (isinstance(optimizer, dict) and {"state", "param_groups"} <= optimizer.keys()):
        raise CheckpointError(f"{path}: 'optimizer' must be None or an optimizer state dict")
    rng = state.get("torch_rng")
    if not (isinstance(rng, torch.Tensor) and rng.dtype == torch.uint8 and rng.ndim == 1):
        raise CheckpointError(f"{path}: 'torch_rng' must be a 1-D uint8 tensor (torch.get_rng_state())")


def _reason(e: Exception) -> str:
    """The specific line of torch's several-paragraph message (e.g. which global was refused)."""
    generic = ("Weights only load failed", "Please file an issue", "Check the documentation", "In PyTorch 2.6")
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    specific = [line for line in lines if not line.startswith(generic)]
    return " ".join(specific or lines[:1])[:300] or "(no message)"
