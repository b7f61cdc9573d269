"""The recipe's stages, each a function from input checkpoint folder(s) to an output folder.

tokenizer -> teacher (a tiny Llama trained from scratch) -> init (MambaInLlama) -> distill (reverse KL) -> sft
(assistant-only CE) -> grpo (rollouts through M1Generator). Every output folder is a complete M1 checkpoint with
its tokenizer and an ``eval.json`` of greedy held-out accuracy, so any stage can be loaded, scored or resumed.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict, Field

from m1reason.model import HybridLM, load_model, save_model
from m1reason.tokenizer import PROMPT_SUFFIX, load_tokenizer
from m1reason.train.batches import StepBatches, default_workers
from m1reason.train.data import heldout_problems, render_solution, training_problems
from m1reason.train.init import init_hybrid, teacher_config
from m1reason.train.limits import SEQUENCE_TOKENS
from m1reason.train.loop import TrainSettings, copy_tokenizer, forward_logits, train_loop
from m1reason.train.losses import masked_cross_entropy, reverse_kl
from m1reason.train.tokenizer import train_tokenizer

__all__ = ["DistillSettings", "SFTSettings", "TeacherShape", "build_tokenizer", "distill", "init", "quick_eval",
           "sft", "teacher"]

log = logging.getLogger(__name__)


class SFTSettings(TrainSettings):
    """Teacher pre-training and SFT: cross-entropy on the assistant tokens.

    >>> SFTSettings(steps=3).batch_size
    32
    """


class DistillSettings(TrainSettings):
    """Distillation: reverse KL(student || teacher), plus ``ce_weight`` x cross-entropy on the data.

    >>> DistillSettings(steps=3, ce_weight=0.5).ce_weight
    0.5
    """

    ce_weight: float = Field(default=0.0, ge=0, le=1)


class TeacherShape(BaseModel):
    """The teacher's shape (the hybrid inherits it; d_inner = hidden, d_xb = kv dim). The defaults are the
    embedded model's: ~5M parameters, ~10 MB in bf16. (Hidden 128 learned the format but not two-digit
    arithmetic on CPU budgets; 256 is the smallest width we found worth shipping.)

    >>> TeacherShape().hidden_size
    256
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    hidden_size: int = 256
    num_layers: int = 6
    num_heads: int = 8
    num_kv_heads: int = 4
    intermediate_size: int = 768


def build_tokenizer(out: str | Path, *, vocab_size: int = 1024, texts: int = 20000, seed: int = 0) -> Path:
    """Train the BPE tokenizer on ``texts`` seeded training problems (prompts and solutions) into ``out``.

    >>> import tempfile
    >>> folder = build_tokenizer(tempfile.mkdtemp(), texts=200, vocab_size=400)
    >>> (folder / "tokenizer.json").exists()
    True
    """
    out = Path(out)
    if (out / "tokenizer.json").exists():
        return out
    problems = list(itertools.islice(training_problems(seed, exclude=200), texts))
    corpus = [p.problem + PROMPT_SUFFIX for p in problems] + [render_solution(p) for p in problems]
    train_tokenizer(corpus, out, vocab_size=vocab_size)
    return out


def _padded_vocab(tokenizer) -> int:
    return -(-len(tokenizer) // 64) * 64  # a multiple of 64 keeps the embedding GEMM aligned


def _threads(settings: TrainSettings) -> None:
    if settings.device == "cpu" and os.environ.get("M1REASON_TRAIN_THREADS"):
        torch.set_num_threads(int(os.environ["M1REASON_TRAIN_THREADS"]))


def _rank() -> int:
    return torch.distributed.get_rank() if torch.distributed.is_initialized() else 0


def _batches(tokenizer, settings: TrainSettings) -> StepBatches:
    """The stage's micro-batches, made ahead in worker processes where the device leaves the CPU free."""
    workers = default_workers(settings.device) if settings.data_workers is None else settings.data_workers
    return StepBatches(tokenizer, seed=settings.seed, batch_size=settings.batch_size, max_len=settings.max_len,
                       stop=settings.steps * settings.grad_accum, rank=_rank(), workers=workers)


def _train_on_batches(out: Path, model: HybridLM, tokenizer, settings: TrainSettings, batch_loss, *,
                      name: str) -> HybridLM:
    """Train with ``batch_loss(wrapped, ids, mask) -> (loss, metrics)`` on the stage's micro-batches."""
    with _batches(tokenizer, settings) as batches:
        def loss_fn(wrapped, step, micro):
            ids, mask = batches.take(step * settings.grad_accum + micro)
            ids, mask = ids.to(settings.device, non_blocking=True), mask.to(settings.device, non_blocking=True)
            return batch_loss(wrapped, ids, mask)
        return train_loop(out, model, settings, loss_fn, name=name)


def _ce_loss(settings: TrainSettings):
    """Assistant-token cross-entropy (the teacher and SFT)."""
    def batch_loss(wrapped, ids, mask):
        loss = masked_cross_entropy(forward_logits(wrapped, ids, settings), ids, mask)
        return loss, {"loss": loss.item()}
    return batch_loss


def teacher(out: str | Path, *, tokenizer: str | Path, settings: SFTSettings,
            shape: TeacherShape | None = None) -> Path:
    """Train a Llama-shaped (all-attention) teacher from scratch on assistant-token CE.

    >>> teacher("runs/r/teacher", tokenizer="runs/r/tokenizer", settings=SFTSettings(steps=1200))  # doctest: +SKIP
    """
    out, shape = Path(out), shape or TeacherShape()
    _threads(settings)
    tok = load_tokenizer(tokenizer)
    config = teacher_config(vocab_size=_padded_vocab(tok), hidden_size=shape.hidden_size,
                            num_layers=shape.num_layers, num_heads=shape.num_heads, num_kv_heads=shape.num_kv_heads,
                            intermediate_size=shape.intermediate_size, eos_token_id=tok.eos_token_id,
                            bos_token_id=tok.bos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(settings.seed)
    model = HybridLM(config)
    _small_init(model)
    out.mkdir(parents=True, exist_ok=True)
    copy_tokenizer(tokenizer, out)
    model = _train_on_batches(out, model, tok, settings, _ce_loss(settings), name="teacher")
    return _finish(out, model, tok, settings)


@torch.no_grad()
def _small_init(model: HybridLM, std: float = 0.02) -> None:
    for name, p in model.named_parameters():
        if p.ndim >= 2:
            p.normal_(0.0, std / (2 * model.config.num_layers) ** 0.5 if name.endswith(("out_proj.weight",
                                                                                        "down_proj.weight")) else std)


def init(out: str | Path, *, teacher: str | Path, attn_layers: tuple[int, ...], seed: int = 0) -> Path:
    """MambaInLlama: the hybrid initialised from the teacher folder, saved (with its tokenizer) into ``out``.

    >>> import tempfile
    >>> from m1reason.train.init import teacher_config
    >>> source = save_model(HybridLM(teacher_config(vocab_size=64, num_layers=2)), tempfile.mkdtemp())
    >>> load_model(init(tempfile.mkdtemp(), teacher=source, attn_layers=(1,)), device="cpu").config.mamba_layers
    (0,)
    """
    out = Path(out)
    source = load_model(teacher, device="cpu", dtype=torch.float32)
    hybrid = init_hybrid(source, tuple(attn_layers), seed=seed)
    save_model(hybrid, out)
    copy_tokenizer(teacher, out)
    return out


def distill(out: str | Path, *, student: str | Path, teacher: str | Path, settings: DistillSettings) -> Path:
    """Reverse-KL distillation of the ``student`` folder towards the frozen ``teacher`` on assistant tokens.

    >>> distill("runs/r/distill", student="runs/r/init", teacher="runs/r/teacher",
    ...         settings=DistillSettings(steps=500, ce_weight=0.2))  # doctest: +SKIP
    """
    out = Path(out)
    _threads(settings)
    tok = load_tokenizer(student)
    model = load_model(student, device="cpu", dtype=torch.float32)
    frozen = load_model(teacher, device=settings.device, dtype=torch.float32).requires_grad_(False)
    copy_tokenizer(student, out)

    def batch_loss(wrapped, ids, mask):
        logits = forward_logits(wrapped, ids, settings)
        with torch.no_grad():
            target = forward_logits(frozen, ids, settings)
        kl = reverse_kl(logits[:, :-1], target[:, :-1], mask[:, 1:])
        ce = masked_cross_entropy(logits, ids, mask)
        loss = (1 - settings.ce_weight) * kl + settings.ce_weight * ce
        return loss, {"loss": loss.item(), "reverse_kl": kl.item(), "ce": ce.item()}

    model = _train_on_batches(out, model, tok, settings, batch_loss, name="distill")
    return _finish(out, model, tok, settings)


def sft(out: str | Path, *, source: str | Path, settings: SFTSettings) -> Path:
    """Supervised fine-tuning of the ``source`` folder on the worked solutions (assistant tokens only).

    >>> sft("runs/r/sft", source="runs/r/distill", settings=SFTSettings(steps=300, lr=5e-4))  # doctest: +SKIP
    """
    out = Path(out)
    _threads(settings)
    tok = load_tokenizer(source)
    model = load_model(source, device="cpu", dtype=torch.float32)
    copy_tokenizer(source, out)
    model = _train_on_batches(out, model, tok, settings, _ce_loss(settings), name="sft")
    return _finish(out, model, tok, settings)


def _finish(out: Path, model: HybridLM, tok, settings: TrainSettings) -> Path:
    if _rank() == 0 and not (out / "eval.json").exists():
        quick_eval(out, model=model, tokenizer=tok, device=settings.device)
    return out


def quick_eval(folder: str | Path, *, model: HybridLM | None = None, tokenizer=None, count: int = 100,
               device: str = "cpu") -> dict:
    """Greedy held-out accuracy on ``count`` mixed and ``count`` plain-arithmetic problems, into eval.json.

    >>> quick_eval("m1reason/embedded")  # doctest: +SKIP
    {'mixed': ..., 'arithmetic': ...}
    """
    from m1reason.generator import M1Generator
    from m1reason.train.evaluate import sample_answers, score

    folder = Path(folder)
    model = (model or load_model(folder, device=device, dtype=torch.float32)).eval()
    gen = M1Generator(model, tokenizer or load_tokenizer(folder), max_slots=64, max_len=SEQUENCE_TOKENS,
                      cuda_graphs=False)
    result = {}
    for name, problems in (("mixed", heldout_problems(count)), ("arithmetic", heldout_problems(count,
                                                                                                kind="arithmetic"))):
        result[name] = score(sample_answers(gen, problems, temperature=0.0))["pass@1"][0]
    (folder / "eval.json").write_text(json.dumps({"greedy": result, "count": count}) + "\n")
    log.info("%s: greedy held-out accuracy %s", folder.name, result)
    return result

