"""``python -m m1reason.train init|teacher|distill|sft|grpo|all|ship|tokenizer ...``: the recipe's stages as commands.

Every settings field is an option (``--batch-size 64``, ``--bf16 true``); ``all`` runs the whole seeded recipe.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import BaseModel

from m1reason.train.grpo import GRPOSettings, grpo
from m1reason.train.recipe import ATTN_LAYERS, STAGES, best_stage, run_all, ship
from m1reason.train.stages import (
    DistillSettings,
    SFTSettings,
    TeacherShape,
    build_tokenizer,
    distill,
    init,
    quick_eval,
    sft,
    teacher,
)

__all__ = ["main"]

log = logging.getLogger(__name__)


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _add_fields(parser: argparse.ArgumentParser, model: type[BaseModel], skip: tuple[str, ...] = ()) -> None:
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        kind = field.annotation
        conv = _bool if kind is bool else int if kind in (int, int | None) else float if kind is float else str
        parser.add_argument("--" + name.replace("_", "-"), type=conv, default=None,
                            help=f"{field.description or ''} (default {field.default})")


def _settings(model: type[BaseModel], args: argparse.Namespace, **fixed):
    values = {n: getattr(args, n) for n in model.model_fields if getattr(args, n, None) is not None}
    return model(**{**values, **fixed})


def _layers(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def _stage_steps(text: str) -> dict[str, int]:
    """``distill=3000,sft=1000`` as a dict; a malformed pair is an argparse error that names it.

    >>> _stage_steps("distill=3000, sft=1000")
    {'distill': 3000, 'sft': 1000}
    """
    chosen = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        stage, _, count = pair.partition("=")
        if not count.strip().isdigit():
            raise argparse.ArgumentTypeError(f"{pair!r} is not STAGE=N with N a whole number of steps")
        chosen[stage.strip()] = int(count)
    return chosen


def build_parser() -> argparse.ArgumentParser:
    """The CLI's parser.

    >>> build_parser().parse_args(["init", "--teacher", "t", "--out", "o"]).attn_layers
    (2, 5)
    """
    parser = argparse.ArgumentParser(prog="python -m m1reason.train", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("tokenizer", help="train the BPE tokenizer")
    p.add_argument("--out", required=True)
    p.add_argument("--vocab-size", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("teacher", help="train the all-attention teacher from scratch")
    p.add_argument("--out", required=True)
    p.add_argument("--tokenizer", required=True)
    _add_fields(p, SFTSettings)
    _add_fields(p, TeacherShape)
    p = sub.add_parser("init", help="MambaInLlama: hybrid from the teacher")
    p.add_argument("--out", required=True)
    p.add_argument("--teacher", required=True)
    p.add_argument("--attn-layers", type=_layers, default=ATTN_LAYERS)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("distill", help="reverse-KL distillation")
    p.add_argument("--out", required=True)
    p.add_argument("--student", required=True)
    p.add_argument("--teacher", required=True)
    _add_fields(p, DistillSettings)
    p = sub.add_parser("sft", help="assistant-only cross-entropy")
    p.add_argument("--out", required=True)
    p.add_argument("--source", required=True)
    _add_fields(p, SFTSettings)
    p = sub.add_parser("grpo", help="GRPO through M1Generator")
    p.add_argument("--out", required=True)
    p.add_argument("--source", required=True)
    _add_fields(p, GRPOSettings)
    p = sub.add_parser("all", help="the whole seeded recipe (finished stages are skipped)")
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=float, default=1.0, help="multiplies every stage's step count")
    p.add_argument("--batch-scale", type=int, default=None, help="multiplies every batch (default: 4 on cuda, else 1)")
    p.add_argument("--attn-layers", type=_layers, default=ATTN_LAYERS)
    p.add_argument("--ship", default=None,
                   help="copy the best hybrid stage (greedy held-out accuracy) + tokenizer into this folder")
    p.add_argument("--stages", type=lambda t: tuple(t.split(",")), default=STAGES,
                   help="comma-separated subset to run now, in recipe order (default: all of " + ",".join(STAGES) + ")")
    p.add_argument("--deterministic", type=_bool, default=False,
                   help="true: deterministic kernels, the same weights from the same seed on the same hardware and "
                        "software (default false)")
    p.add_argument("--steps", type=_stage_steps, default=None, metavar="STAGE=N[,STAGE=N]",
                   help="a stage's step count instead of the recipe's, not scaled (e.g. distill=3000)")
    _add_fields(p, TeacherShape)  # the teacher's shape, which the hybrid inherits
    p = sub.add_parser("ship", help="copy a stage folder's model + tokenizer (only) into a folder")
    p.add_argument("source")
    p.add_argument("target")
    p = sub.add_parser("eval", help="greedy held-out accuracy of a folder (writes eval.json)")
    p.add_argument("folder")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--device", default="cpu")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status.

    >>> import tempfile
    >>> main(["tokenizer", "--out", tempfile.mkdtemp(), "--vocab-size", "300"])
    0
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    c = args.command
    if c == "tokenizer":
        build_tokenizer(args.out, vocab_size=args.vocab_size, seed=args.seed)
    elif c == "teacher":
        teacher(args.out, tokenizer=args.tokenizer, settings=_settings(SFTSettings, args),
                shape=_settings(TeacherShape, args))
    elif c == "init":
        init(args.out, teacher=args.teacher, attn_layers=args.attn_layers, seed=args.seed)
    elif c == "distill":
        distill(args.out, student=args.student, teacher=args.teacher, settings=_settings(DistillSettings, args))
    elif c == "sft":
        sft(args.out, source=args.source, settings=_settings(SFTSettings, args))
    elif c == "grpo":
        grpo(args.out, source=args.source, settings=_settings(GRPOSettings, args))
    elif c == "all":
        last = run_all(args.out, device=args.device, seed=args.seed, scale=args.scale, batch_scale=args.batch_scale,
                       attn_layers=args.attn_layers, stages=args.stages, deterministic=args.deterministic,
                       shape=_settings(TeacherShape, args), steps=args.steps)
        if args.ship and "grpo" in args.stages:  # ship once the whole recipe has run
            ship(best_stage(args.out), args.ship)
        elif args.ship:
            log.warning("--ship skipped: stage grpo was not part of this run (last ran: %s)", last)
    elif c == "ship":
        ship(args.source, args.target)
    elif c == "eval":
        print(quick_eval(args.folder, count=args.count, device=args.device))
    return 0


def _run(argv: list[str] | None = None) -> int:
    """``main`` as a process: under torchrun, the ranks meet once more after the command (rank 0 alone runs the
    held-out check at the end of a stage) and shut the process group down before the interpreter exits. Left to
    interpreter teardown, a rank that finished first sometimes aborted ("terminate called without an active
    exception", SIGABRT) while rank 0 was still evaluating."""
    import torch.distributed as dist

    distributed = lambda: dist.is_available() and dist.is_initialized()  # noqa: E731
    try:
        status = main(argv)
    except BaseException:
        if distributed():
            dist.destroy_process_group()  # no barrier: the other ranks may never get there
        raise
    if distributed():
        dist.barrier()
        dist.destroy_process_group()
    return status


if __name__ == "__main__":
    sys.exit(_run())
