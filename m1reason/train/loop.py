"""The training loop every stage shares: settings, optimizer, schedule, accumulation, autocast, checkpointing,
torchrun (DDP or FSDP2), progress, resumable state and curves.

A stage hands ``train_loop`` a model and a ``loss_fn(model, step, micro) -> (loss, metrics)``; the loop owns
everything else. The output folder is always a loadable M1 checkpoint (config + safetensors + tokenizer) plus
``trainer_state.pt`` (optimizer, step, RNG) and ``history.jsonl``, so a killed run resumes where it saved.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from m1reason.model import HybridLM, load_model, save_model
from m1reason.train.limits import SEQUENCE_TOKENS
from m1reason.train.state import read_trainer_state, write_trainer_state

__all__ = ["STATE_FILE", "TrainSettings", "copy_tokenizer", "forward_logits", "load_history", "plot_curves",
           "train_loop"]

log = logging.getLogger(__name__)
STATE_FILE = "trainer_state.pt"
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")


class TrainSettings(BaseModel):
    """What every stage's loop needs; stages add their own fields.

    >>> TrainSettings(steps=10).model_dump()["lr"]
    0.001
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: int = Field(gt=0)
    batch_size: int = Field(default=32, gt=0, description="sequences per micro-batch per process")
    grad_accum: int = Field(default=1, gt=0)
    lr: float = Field(default=1e-3, gt=0)
    warmup: int = Field(default=20, ge=0)
    min_lr_ratio: float = Field(default=0.1, ge=0, le=1)
    weight_decay: float = Field(default=0.0, ge=0)
    grad_clip: float = Field(default=1.0, gt=0)
    seed: int = 0
    device: str = "cpu"
    bf16: bool = False
    grad_checkpointing: bool = False
    fsdp: bool = Field(default=False, description="under torchrun: FSDP instead of DDP")
    save_every: int = Field(default=100, gt=0)
    max_len: int = Field(default=SEQUENCE_TOKENS, gt=8)
    deterministic: bool = Field(default=False, description="true: the same weights from the same seed on the same "
                                "hardware and software (torch's deterministic kernels)")
    data_workers: int | None = Field(default=None, ge=0, description="processes making batches ahead of the loop "
                                     "(None: m1reason.train.batches.default_workers for the device)")


@contextmanager
def deterministic_kernels(enabled: bool = True):
    """Within: torch's deterministic kernels, so that one seed gives the same weights run after run on the same
    hardware and software. On a GPU the default kernels are not: atomic adds in backward passes (embedding,
    gather) and cuBLAS's workspace change the rounding from run to run, and over thousands of steps runs drift
    apart (two GPU runs of the recipe from seed 0 differed by 8 points after distillation: docs/training.md).
    Ops without a deterministic kernel warn instead of failing. That leniency would let attention's backward run
    non-deterministically (with ``warn_only`` torch's flash, memory-efficient and cuDNN attention keep their
    fast, atomic backward passes; a GPU run warned about cuDNN's), so attention runs on torch's math backend
    here, deterministic both ways (and slower: fine for the tiny recipe, a cost to weigh at scale). cuBLAS reads
    ``CUBLAS_WORKSPACE_CONFIG`` when the process makes its first cuBLAS call, so it is set here if unset; a
    process that already ran GPU matmuls before entering keeps its workspace, and torch then warns. The previous
    settings are restored on exit.

    >>> with deterministic_kernels():
    ...     torch.are_deterministic_algorithms_enabled(), torch.backends.cuda.flash_sdp_enabled()
    (True, False)
    >>> torch.are_deterministic_algorithms_enabled(), torch.backends.cuda.flash_sdp_enabled()
    (False, True)
    """
    if not enabled:
        yield
        return
    from torch.nn.attention import SDPBackend, sdpa_kernel

    was = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=was_warn_only)


def lr_at(settings: TrainSettings, step: int) -> float:
    """Linear warmup, then cosine decay to ``min_lr_ratio * lr``.

    >>> s = TrainSettings(steps=100, lr=1.0, warmup=10, min_lr_ratio=0.0)
    >>> lr_at(s, 0), lr_at(s, 9), round(lr_at(s, 99), 4)
    (0.1, 1.0, 0.0003)
    """
    if step < settings.warmup:
        return settings.lr * (step + 1) / settings.warmup
    t = (step - settings.warmup) / max(1, settings.steps - settings.warmup)
    return settings.lr * (settings.min_lr_ratio + (1 - settings.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def forward_logits(model: nn.Module, ids: torch.Tensor, settings: TrainSettings) -> torch.Tensor:
    """logits [b, T, V] under bf16 autocast when asked (loss math then upcasts to fp32).

    >>> from m1reason.model import ModelConfig
    >>> forward_logits(HybridLM(ModelConfig.tiny()), torch.tensor([[1, 2]]), TrainSettings(steps=1)).shape
    torch.Size([1, 2, 256])
    """
    device_type = ids.device.type
    ctx = torch.autocast(device_type, dtype=torch.bfloat16) if settings.bf16 else nullcontext()
    with ctx:
        return model(ids)


def _distributed() -> tuple[int, int]:
    """(rank, world size); starts the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return (torch.distributed.get_rank() if world > 1 else 0), world


def _device(settings: TrainSettings) -> torch.device:
    device = torch.device(settings.device)
    if device.type == "cuda" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return device


def _wrap(model: HybridLM, settings: TrainSettings, world: int, device: torch.device) -> nn.Module:
    if settings.grad_checkpointing:
        from torch.utils.checkpoint import checkpoint

        for layer in model.model.layers:
            # an instance attribute shadows the class forward, so state_dict names are unchanged
            layer.forward = (lambda lyr: lambda *a: checkpoint(type(lyr).forward, lyr, *a, use_reentrant=False))(layer)
    if world == 1:
        return model
    if settings.fsdp:
        from torch.distributed.fsdp import fully_shard

        # FSDP2: each decoder layer is a unit (its parameters gathered for its forward and backward only), the
        # embedding, final norm and head belong to the root. The model is sharded in place and stays a HybridLM.
        for layer in model.model.layers:
            fully_shard(layer)
        return fully_shard(model)
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def _sharded(wrapped: nn.Module) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return isinstance(wrapped, FSDPModule)


def _full_options():
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, cpu_offload=True)  # gathered, on rank 0's CPU only


def _full_state(wrapped: nn.Module, inner: HybridLM) -> dict | None:
    """The whole model's state dict on rank 0 (None on other ranks of a sharded model)."""
    if _sharded(wrapped):
        from torch.distributed.checkpoint.state_dict import get_model_state_dict

        state = get_model_state_dict(wrapped, options=_full_options())
        return state if torch.distributed.get_rank() == 0 else None
    return inner.state_dict()


def _optimizer_state(wrapped: nn.Module, opt) -> dict | None:
    """The optimizer's whole state (rank 0 only, for a sharded model)."""
    if _sharded(wrapped):
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

        return get_optimizer_state_dict(wrapped, opt, options=_full_options())
    return opt.state_dict()


def _load_optimizer_state(wrapped: nn.Module, opt, state: dict) -> None:
    """Every rank reads the same saved file: a sharded model keeps its own shard of each state tensor."""
    if _sharded(wrapped):
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

        set_optimizer_state_dict(wrapped, opt, state, options=StateDictOptions(full_state_dict=True))
    else:
        opt.load_state_dict(state)


@contextmanager
def _gradient_sync(wrapped: nn.Module, sync: bool):
    """Reduce gradients across ranks in this backward only when ``sync`` (the last micro-batch of a step)."""
    if sync:
        yield
    elif _sharded(wrapped):
        wrapped.set_requires_gradient_sync(False)
        try:
            yield
        finally:
            wrapped.set_requires_gradient_sync(True)
    else:
        with wrapped.no_sync():
            yield


def copy_tokenizer(source: str | Path, out: str | Path) -> None:
    """Copy the tokenizer files of checkpoint ``source`` into ``out`` (missing ones are skipped).

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "o"; copy_tokenizer("/no/such/folder", out); list(out.iterdir())
    []
    """
    Path(out).mkdir(parents=True, exist_ok=True)
    for name in _TOKENIZER_FILES:
        if (Path(source) / name).exists() and Path(source).resolve() != Path(out).resolve():
            shutil.copy(Path(source) / name, Path(out) / name)


class _Progress:
    """tqdm when installed, else one line rewritten on stderr."""

    def __init__(self, total: int, start: int, desc: str, enabled: bool):
        self.enabled, self.total, self.n, self.desc, self.t0 = enabled, total, start, desc, time.monotonic()
        self.bar = None
        if enabled and importlib.util.find_spec("tqdm") is not None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=start, desc=desc, dynamic_ncols=True)
        elif enabled:
            log.info("tqdm is not installed: plain progress line")

    def update(self, metrics: dict) -> None:
        self.n += 1
        text = " ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, float))
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        elif self.enabled:
            rate = (time.monotonic() - self.t0) / max(1, self.n)
            print(f"\r{self.desc} {self.n}/{self.total} {rate:.2f}s/it {text}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)


def load_history(out: str | Path) -> list[dict]:
    """The per-step metrics written so far (one JSON object per line).

    >>> import tempfile
    >>> load_history(tempfile.mkdtemp())
    []
    """
    path = Path(out) / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def plot_curves(history: list[dict], path: str | Path, title: str = "") -> Path | None:
    """Every numeric metric against step, one panel each, as a PNG; None (logged) without matplotlib.

    >>> import tempfile, pathlib
    >>> plot_curves([], pathlib.Path(tempfile.mkdtemp()) / "c.png") is None
    True
    """
    keys = sorted({k for row in history for k, v in row.items() if k != "step" and isinstance(v, (int, float))})
    if not keys:
        return None
    if importlib.util.find_spec("matplotlib") is None:
        log.info("matplotlib is not installed: no curves written to %s", path)
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        points = [(row["step"], row[key]) for row in history if key in row]
        ax.plot([p[0] for p in points], [p[1] for p in points], lw=1)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def _save(out: Path, wrapped: nn.Module, model: HybridLM, opt, step: int, rank: int, *, final: bool) -> None:
    """Write the weights, then the step marker. A finished stage keeps no optimizer state and is written in bf16
    (the dtype it ships in and the next stage starts from): ~1/6 of the bytes, which is what lets a whole run
    travel between machines."""
    sharded = _sharded(wrapped)
    state = _full_state(wrapped, model)
    optim = None if final else _optimizer_state(wrapped, opt)
    if rank != 0:
        return
    target = model
    if sharded or final:  # a sharded model's own parameters are shards: rebuild the whole model on CPU to write it
        target = HybridLM(model.config)
        target.load_state_dict(state)
        if final:
            target = target.to(torch.bfloat16)
    save_model(target, out)
    # the step marker moves only once the weights it describes are on disk
    write_trainer_state(out / STATE_FILE, step=step, optimizer=optim)


def train_loop(out: str | Path, model: HybridLM, settings: TrainSettings,
               loss_fn: Callable[[nn.Module, int, int], tuple[torch.Tensor, dict]], *, name: str,
               after_step: Callable[[HybridLM, int], None] | None = None) -> HybridLM:
    """Train ``model`` for ``settings.steps`` optimizer steps, resuming from ``out`` when it holds a state.

    ``loss_fn(model, step, micro)`` returns a scalar loss and float metrics for micro-batch ``micro`` of ``step``
    (a pure function of them, so resumed data equals uninterrupted data); each metric is logged as its mean over
    the micro-batches that reported it. ``after_step`` runs after each update
    (GRPO syncs its generator there). Returns the trained model (rank 0 also saved it in ``out``).

    >>> import tempfile
    >>> from m1reason.model import ModelConfig
    >>> loss = lambda m, step, micro: (m(torch.tensor([[1, 2, 3]])).pow(2).mean(), {"loss": 0.0})
    >>> out = tempfile.mkdtemp()
    >>> model = train_loop(out, HybridLM(ModelConfig.tiny()), TrainSettings(steps=2, warmup=0), loss, name="demo")
    >>> [row["step"] for row in load_history(out)], model.training
    ([1, 2], False)
    """
    with deterministic_kernels(settings.deterministic):
        return _train(Path(out), model, settings, loss_fn, name=name, after_step=after_step)


def _train(out: Path, model: HybridLM, settings: TrainSettings, loss_fn, *, name: str, after_step) -> HybridLM:
    out.mkdir(parents=True, exist_ok=True)
    rank, world = _distributed()
    device = _device(settings)
    start = 0
    if (out / STATE_FILE).exists():
        saved = read_trainer_state(out / STATE_FILE)
        start = saved["step"]
        model.load_state_dict(load_model(out, device="cpu", dtype=torch.float32).state_dict())
        log.info("%s: resuming from step %d of %d in %s", name, start, settings.steps, out)
        if rank == 0:
            kept = [row for row in load_history(out) if row["step"] <= start]  # drop steps the restart redoes
            (out / "history.jsonl").write_text("".join(json.dumps(row) + "\n" for row in kept))
    else:
        saved = None
        torch.manual_seed(settings.seed)
    if start >= settings.steps:
        return model.to(device).eval()
    model = model.to(device).train()
    wrapped = _wrap(model, settings, world, device)
    decay = [p for n, p in wrapped.named_parameters() if p.ndim >= 2]
    rest = [p for n, p in wrapped.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": settings.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=settings.lr, betas=(0.9, 0.95))
    if saved is not None and saved["optimizer"] is None:
        log.warning("%s: extending a finished stage (%d -> %d steps) with a fresh optimizer", name, start,
                    settings.steps)
    elif saved is not None:
        _load_optimizer_state(wrapped, opt, saved["optimizer"])
    if saved is not None:
        torch.set_rng_state(saved["torch_rng"])
    (out / "settings.json").write_text(settings.model_dump_json(indent=2) + "\n")
    progress = _Progress(settings.steps, start, name, enabled=rank == 0)
    with (out / "history.jsonl").open("a") as history:
        for step in range(start, settings.steps):
            began = time.perf_counter()
            for group in opt.param_groups:
                group["lr"] = lr_at(settings, step)
            reported: dict[str, list[float]] = {}
            for micro in range(settings.grad_accum):
                with _gradient_sync(wrapped, micro == settings.grad_accum - 1 or world == 1):
                    loss, metrics = loss_fn(wrapped, step, micro)
                    (loss / settings.grad_accum).backward()
                for k, v in metrics.items():
                    reported.setdefault(k, []).append(float(v))
            # the mean over the micro-batches that reported each metric: one measured once a step (GRPO's
            # held-out accuracy) is not divided by the micro-batches that did not measure it
            totals = {k: sum(values) / len(values) for k, values in reported.items()}
            norm = torch.nn.utils.clip_grad_norm_(wrapped.parameters(), settings.grad_clip)
            norm = norm.full_tensor() if hasattr(norm, "full_tensor") else norm  # a DTensor when sharded
            opt.step()
            opt.zero_grad(set_to_none=True)
            if after_step is not None:
                after_step(model, step)
            row = {"step": step + 1, **totals, "grad_norm": float(norm), "lr": lr_at(settings, step),
                   "step_s": round(time.perf_counter() - began, 5)}
            if rank == 0:
                history.write(json.dumps(row) + "\n")
                history.flush()
            progress.update(totals)
            if (step + 1) % settings.save_every == 0 or step + 1 == settings.steps:
                _save(out, wrapped, model, opt, step + 1, rank, final=step + 1 == settings.steps)
    progress.close()
    if rank == 0:
        plot_curves(load_history(out), out / "curves.png", title=name)
    if _sharded(wrapped):  # rank 0 gets back an ordinary whole model (it evaluates it); other ranks their shards
        state = _full_state(wrapped, model)
        if rank == 0:
            model = HybridLM(model.config)
            model.load_state_dict(state)
            model = model.to(device)
    return model.eval()
