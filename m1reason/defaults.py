"""The model m1reason runs when none is named: the argument, else $M1REASON_MODEL, else the embedded default.

The embedded default is a tiny M1 (a 6-layer Mamba/attention hybrid, ~5M parameters) trained by
``python -m m1reason.train all`` on synthetic tutor problems and shipped as package data in ``m1reason/embedded``
(docs/training.md): it runs offline on any CPU and answers a grade-school curriculum, and its ``scope`` says
which problems are outside it. Where that folder is missing (a stripped install), a tiny *random* model with a
byte tokenizer stands in, so every path still runs end to end, and says loudly that its answers are meaningless.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from m1reason.confidence_map import ConfidenceMap
from m1reason.generator import M1Generator
from m1reason.model import ModelConfig, load_model, write_random_checkpoint
from m1reason.scope import EMBEDDED_SCOPE
from m1reason.vote_curve import VoteCurve

__all__ = ["EMBEDDED_MODEL", "EMBEDDED_STRATEGY_DEFAULTS", "MODEL_ENV", "ByteTokenizer", "default_generator",
           "strategy_defaults_for", "trained_by_recipe"]

log = logging.getLogger(__name__)

MODEL_ENV = "M1REASON_MODEL"
EMBEDDED_MODEL = Path(__file__).resolve().parent / "embedded"
EMBEDDED_NOTE = ("no model named: running the embedded tiny M1 (grade-school arithmetic, negative numbers, order of "
                 "operations, fractions, decimals, percent, ratios, units, linear equations, area and word problems; "
                 "it says when a problem is outside them). "
                 "Name a real one with --model togethercomputer/M1-3B (hub id or folder) or $M1REASON_MODEL")
# BudgetAware gives every sample ``needed_tokens``: about the 90th percentile of the embedded model's worked
# solutions' lengths, so most chains finish and the longest are forced to answer; ``max_new_tokens`` is the
# recipe's reply limit. A forced answer needs only a few tokens, and BudgetAware keeps ``force_tokens`` steps
# before the deadline for it. A generator carries these as its ``strategy_defaults`` (the Generator protocol).
# ``repair_steps``: its samples' false arithmetic is corrected and continued (BENCHMARKS.md "step_repair").
EMBEDDED_STRATEGY_DEFAULTS = {"max_new_tokens": 320, "needed_tokens": 145, "force_tokens": 8, "repair_steps": 2}
SHORT_ENGINE = {"max_slots": 32, "max_len": 512}  # engine options for the embedded and other recipe-trained models
_embedded_noted = False
RANDOM_MODEL_NOTE = ("no model named and %s is missing: running a tiny RANDOM model, so its answers "
                     "are meaningless. Name a real one with --model togethercomputer/M1-3B (hub id or folder) or "
                     "the M1REASON_MODEL variable")


class ByteTokenizer:
    """Token i < 256 is byte i (UTF-8); 256, 257, 258 are BOS, EOS and pad. No chat template.

    >>> tok = ByteTokenizer()
    >>> ids = tok("π = 3")["input_ids"]; len(ids), tok.decode(ids)
    (6, 'π = 3')
    """

    bos_token, bos_token_id, eos_token_id, pad_token_id = None, 256, 257, 258
    chat_template = None
    vocab_size = 259

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict:
        return {"input_ids": list(text.encode("utf-8"))}

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")

    def __len__(self) -> int:
        return self.vocab_size


def default_generator(model: str | None = None, *, device: str | None = None, **engine_options):
    """An M1Generator for ``model`` (hub id or folder), $M1REASON_MODEL, or the embedded default. A folder made by
    ``python -m m1reason.train`` is loaded as the embedded model is: a short-context engine and the short
    strategy defaults (EMBEDDED_STRATEGY_DEFAULTS), since its solutions are as short.

    >>> gen = default_generator(max_slots=2, max_len=64)  # no model named: the embedded tiny M1
    >>> gen.source["model_id"]
    'm1reason/embedded'
    """
    name = model or os.environ.get(MODEL_ENV)
    if not name:
        return _embedded(device=device, **engine_options)
    if trained_by_recipe(Path(name)):
        return _trained_here(Path(name), device=device, **engine_options)
    gen = M1Generator.from_pretrained(name, device=device, **engine_options)
    if Path(name).is_dir():  # a folder may keep a confidence map fit for its weights (a hub id has none here)
        gen.confidence_map = ConfidenceMap.for_model(name)
    return gen


def trained_by_recipe(folder: Path) -> bool:
    """Whether ``folder`` holds a model trained by ``python -m m1reason.train``: a stage folder keeps its
    ``settings.json``, a shipped one (m1reason/embedded) its ``training.json``. Nothing in config.json says so.

    >>> trained_by_recipe(EMBEDDED_MODEL), trained_by_recipe(Path("/no/such/folder"))
    (True, False)
    """
    return (folder / "training.json").exists() or (folder / "settings.json").exists()


def _trained_here(folder: Path, *, device: str | None = None, **engine_options):
    """A tiny model of the recipe: its engine sized for short solutions (a 32768-token max_len would also skew the
    throughput calibration, which fits step time over contexts up to max_len), the short strategy defaults, and the
    scope of the recipe's curriculum (``m1reason.scope.EMBEDDED_SCOPE``: outside it, the model answers anyway and
    is wrong)."""
    gen = M1Generator.from_pretrained(str(folder), device=device, **{**SHORT_ENGINE, **engine_options})
    # Three members the Generator protocol declares (GeneratorBase's defaults: None), set for this model:
    # short answer lengths for strategies made by name, and the most samples worth voting over, if measured
    gen.strategy_defaults = strategy_defaults_for(folder)
    gen.scope = EMBEDDED_SCOPE  # the recipe's curriculum: the strategies refuse problems outside it
    gen.confidence_map = ConfidenceMap.for_model(folder)  # vote share -> chance of a right answer, if fit
    return gen


def strategy_defaults_for(folder: Path) -> dict:
    """The strategy defaults of a model trained by the recipe: EMBEDDED_STRATEGY_DEFAULTS, and ``useful_samples``
    from the folder's vote curve (``m1reason.vote_curve``) where it has one measured on its weights at the
    temperature the strategies sample at (a curve of another temperature describes other samples): BudgetAware
    then draws no more samples than raised accuracy on the model's development set.

    >>> strategy_defaults_for(EMBEDDED_MODEL)["useful_samples"] == VoteCurve.for_model(EMBEDDED_MODEL).useful_samples
    True
    >>> strategy_defaults_for(Path("/no/such/folder")) == EMBEDDED_STRATEGY_DEFAULTS
    True
    """
    from strategies import BudgetAware

    defaults = dict(EMBEDDED_STRATEGY_DEFAULTS)
    curve = VoteCurve.for_model(folder)
    if curve is None:
        return defaults
    sampled_at = defaults.get("temperature", BudgetAware.model_fields["temperature"].default)
    if curve.temperature is not None and curve.temperature != sampled_at:
        log.warning("%s's vote curve was measured at temperature %g, the strategies sample at %g: not used",
                    folder, curve.temperature, sampled_at)
        return defaults
    return {**defaults, "useful_samples": curve.useful_samples}


def _embedded(*, device: str | None = None, **engine_options):
    if not (EMBEDDED_MODEL / "config.json").exists():
        return _random_stand_in(device=device, **{**SHORT_ENGINE, **engine_options})
    global _embedded_noted
    if not _embedded_noted:  # once per process: a user must learn the model's scope, but not in every log line
        log.warning(EMBEDDED_NOTE)
        _embedded_noted = True
    gen = _trained_here(EMBEDDED_MODEL, device=device, **engine_options)
    gen.source = {**gen.source, "model_id": "m1reason/embedded"}  # the same name on every machine
    return gen


def _random_stand_in(*, device: str | None = None, **options):
    import torch

    log.warning(RANDOM_MODEL_NOTE, EMBEDDED_MODEL)
    tokenizer = ByteTokenizer()
    config = ModelConfig.tiny(num_layers=6, attn_layers=(2, 5), vocab_size=512)
    config = config.model_copy(update={"eos_token_ids": (tokenizer.eos_token_id,)})
    with tempfile.TemporaryDirectory() as folder:
        write_random_checkpoint(folder, config, dtype=torch.float32, seed=0)
        lm = load_model(folder, device=device)
    lm.source = {"model_id": "tiny-random (meaningless answers)", "revision": None}
    return M1Generator(lm, tokenizer, **options)
