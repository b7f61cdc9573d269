"""The whole recipe from one seed: tokenizer -> teacher -> init -> distill -> sft -> grpo, each stage in its own
subfolder of ``out`` (finished stages are skipped, a killed stage resumes), then the result copied for shipping.

The defaults are the embedded model's recipe, sized for a few CPU cores; on a GPU pass ``device="cuda"``.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from m1reason.train.limits import REPLY_TOKENS
from m1reason.train.stages import (
    DistillSettings,
    SFTSettings,
    TeacherShape,
    build_tokenizer,
    distill,
    init,
    sft,
    teacher,
)

__all__ = ["ATTN_LAYERS", "STAGES", "best_stage", "recipe_settings", "run_all", "ship"]

log = logging.getLogger(__name__)
STAGES = ("teacher", "init", "distill", "sft", "grpo")
ATTN_LAYERS = (2, 5)  # 2 attention + 4 Mamba layers, M1's one-in-three-ish ratio at 6 layers
SHIP_FILES = ("config.json", "mamba_config.json", "model-00001-of-00001.safetensors", "model.safetensors.index.json",
              "tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def recipe_settings(*, device: str = "cpu", seed: int = 0, scale: float = 1.0, batch_scale: int | None = None,
                    deterministic: bool = False, steps: dict[str, int] | None = None) -> dict:
    """Per-stage settings of the recipe; ``scale`` multiplies every stage's step count, ``batch_scale`` every
    batch (default 4 on CUDA, where a tiny model is launch-bound and a 4x batch costs about the same time, else 1);
    ``deterministic``: deterministic kernels in every stage (``m1reason.train.loop.deterministic_kernels``);
    ``steps``: a stage's step count instead of the recipe's (not scaled), e.g. ``{"distill": 3000}``.

    >>> s = recipe_settings(scale=0.01); s["teacher"].steps, s["grpo"].k
    (40, 8)
    >>> recipe_settings(steps={"distill": 3000})["distill"].steps
    3000
    """
    from m1reason.train.grpo import GRPOSettings

    chosen = steps or {}
    unknown = sorted(set(chosen) - {"teacher", "distill", "sft", "grpo"})
    if unknown:
        raise ValueError(f"steps given for {', '.join(unknown)}: only teacher, distill, sft and grpo train")
    bad = {stage: n for stage, n in chosen.items() if not isinstance(n, int) or n < 1}
    if bad:
        raise ValueError(f"a stage's steps must be a positive whole number, got {bad}")
    steps = lambda n, stage: chosen.get(stage, max(2, int(n * scale)))  # noqa: E731
    b = batch_scale or (4 if device.startswith("cuda") else 1)
    common = {"device": device, "bf16": device.startswith("cuda"), "deterministic": deterministic}
    return {
        # The curriculum's 17 kinds and digit-by-digit solutions need more steps than the first five kinds did;
        # distillation most of all (1,500 steps left the student 40 points below its teacher: docs/training.md)
        "teacher": SFTSettings(steps=steps(4000, "teacher"), batch_size=32 * b, lr=3e-3, warmup=50, seed=seed,
                               **common),
        "distill": DistillSettings(steps=steps(2200, "distill"), batch_size=32 * b, lr=1e-3, warmup=20, seed=seed + 1,
                                   ce_weight=0.2, **common),
        "sft": SFTSettings(steps=steps(800, "sft"), batch_size=32 * b, lr=5e-4, warmup=10, seed=seed + 2, **common),
        # GRPO rolls out 4x the prompts it trains on and keeps the groups whose rewards differ (after SFT most
        # agree). Its prompts come from the whole training mix: aimed at the kinds SFT leaves weakest it learnt
        # those at best and lost the others, while the mix raised plain-arithmetic pass@1 with every seed tried.
        # Rollouts may run to the longest worked solution.
        # Its 16 * b prompts train in b slices of 128 rollouts: the differentiable scan's memory grows with the
        # rows of a pass, and a whole GPU batch of long rollouts ran out of it.
        "grpo": GRPOSettings(steps=steps(80, "grpo"), prompts=16 * b, grad_accum=b, k=8, oversample=4, temperature=1.0,
                             lr=1e-4, warmup=5, seed=seed + 3, save_every=10, max_new_tokens=REPLY_TOKENS,
                             heldout_count=64, **common),
    }


def run_all(out: str | Path, *, device: str = "cpu", seed: int = 0, scale: float = 1.0, batch_scale: int | None = None,
            attn_layers: tuple[int, ...] = ATTN_LAYERS, shape: TeacherShape | None = None,
            stages: tuple[str, ...] = STAGES, deterministic: bool = False, steps: dict[str, int] | None = None
            ) -> Path:
    """Run (or resume) the recipe into ``out``; returns the folder of the last stage run. ``steps`` overrides
    stages' step counts (``recipe_settings``).

    >>> run_all("runs/gpu", device="cuda")  # doctest: +SKIP
    PosixPath('runs/gpu/grpo')
    """
    from m1reason.train.grpo import grpo

    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    out = Path(out)
    settings = recipe_settings(device=device, seed=seed, scale=scale, batch_scale=batch_scale,
                               deterministic=deterministic, steps=steps)
    tok = build_tokenizer(out / "tokenizer", seed=seed)
    last = None
    if "teacher" in stages:
        last = teacher(out / "teacher", tokenizer=tok, settings=settings["teacher"], shape=shape)
    if "init" in stages:
        last = out / "init"
        if not (last / "config.json").exists():
            init(last, teacher=out / "teacher", attn_layers=attn_layers, seed=seed)
    if "distill" in stages:
        last = distill(out / "distill", student=out / "init", teacher=out / "teacher", settings=settings["distill"])
    if "sft" in stages:
        last = sft(out / "sft", source=out / "distill", settings=settings["sft"])
    if "grpo" in stages:
        last = grpo(out / "grpo", source=out / "sft", settings=settings["grpo"])
    return last


def best_stage(run: str | Path, candidates: tuple[str, ...] = ("distill", "sft", "grpo")) -> Path:
    """The hybrid stage folder of ``run`` with the best greedy held-out accuracy (eval.json, mean over its sets);
    a later stage wins ties. The recipe ships this rather than the last stage: the first GPU run's GRPO stage
    scored ~7 points below its SFT stage, and shipping the last one shipped the worse model.

    >>> import json, tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> for stage, acc in (("sft", 0.76), ("grpo", 0.69)):
    ...     (run / stage).mkdir(); _ = (run / stage / "eval.json").write_text(json.dumps({"greedy": {"a": acc}}))
    >>> best_stage(run).name
    'sft'
    """
    run = Path(run)
    scored = []
    for order, stage in enumerate(candidates):
        path = run / stage / "eval.json"
        if path.exists():
            greedy = json.loads(path.read_text())["greedy"]
            scored.append((sum(greedy.values()) / len(greedy), order, run / stage))
    if not scored:
        raise FileNotFoundError(f"no evaluated stage ({', '.join(candidates)}) under {run}")
    return max(scored)[2]


def ship(source: str | Path, target: str | Path) -> Path:
    """Copy a stage folder's model and tokenizer files (only those) into ``target``, e.g. m1reason/embedded,
    with ``training.json`` (each stage's settings and greedy held-out accuracy, read from the run folder) and
    ``vocabulary.json`` (the words of the curriculum it was trained on, for its scope: ``write_vocabulary``).

    >>> import tempfile, pathlib
    >>> sorted(p.name for p in ship(tempfile.mkdtemp(), pathlib.Path(tempfile.mkdtemp()) / "e").iterdir())
    ['training.json', 'vocabulary.json']
    """
    source, target = Path(source), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for name in SHIP_FILES:
        if (source / name).exists():
            shutil.copy(source / name, target / name)
    record = {}
    for stage in STAGES:
        folder = source.parent / stage
        if folder.exists():
            record[stage] = {f.stem: json.loads(f.read_text()) for f in (folder / "settings.json",
                                                                          folder / "eval.json") if f.exists()}
    (target / "training.json").write_text(json.dumps({"source": source.name, "stages": record}, indent=1) + "\n")
    write_vocabulary(target)
    log.info("shipped %s -> %s", source, target)
    return target


def write_vocabulary(target: str | Path) -> Path:
    """Write ``vocabulary.json`` (``m1reason.train.data.vocabulary``: the curriculum's words) into ``target``.

    >>> import tempfile, json
    >>> path = write_vocabulary(tempfile.mkdtemp()); "words" in json.loads(path.read_text())
    True
    """
    from m1reason.train.data import VOCABULARY_DRAWS, vocabulary

    path = Path(target) / "vocabulary.json"
    record = {"draws": VOCABULARY_DRAWS, "seed": 0, "words": vocabulary(VOCABULARY_DRAWS, 0)}
    path.write_text(json.dumps(record, indent=0) + "\n")
    return path
