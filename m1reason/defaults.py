"""The model m1reason runs when none is named: the argument, else $M1REASON_MODEL, else the embedded default.

The trained embedded model does not exist yet; until it does, ``default_generator`` builds a tiny *random*
model in the M1 layout with a byte-level tokenizer, so every path (solve, the REPL, eval) runs end to end, and
says loudly that its answers are meaningless. Dropping the embedded model in changes only ``_embedded``.
"""

from __future__ import annotations

import logging
import os
import tempfile

__all__ = ["MODEL_ENV", "ByteTokenizer", "default_generator"]

log = logging.getLogger(__name__)

MODEL_ENV = "M1REASON_MODEL"
RANDOM_MODEL_NOTE = ("no model named: running a tiny RANDOM model, so its answers are meaningless. Name a real one "
                     "with --model togethercomputer/M1-3B (hub id or folder) or the M1REASON_MODEL variable")


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
    """An M1Generator for ``model`` (hub id or folder), $M1REASON_MODEL, or the embedded default.

    >>> gen = default_generator(max_slots=2, max_len=64)  # no model named: the tiny random stand-in
    >>> gen.source["model_id"]
    'tiny-random (meaningless answers)'
    """
    from m1reason.generator import M1Generator

    name = model or os.environ.get(MODEL_ENV)
    if name:
        return M1Generator.from_pretrained(name, device=device, **engine_options)
    return _embedded(device=device, **engine_options)


def _embedded(*, device: str | None = None, **engine_options):
    import torch

    from m1reason.generator import M1Generator
    from m1reason.model import ModelConfig, load_model, write_random_checkpoint

    log.warning(RANDOM_MODEL_NOTE)
    tokenizer = ByteTokenizer()
    config = ModelConfig.tiny(num_layers=6, attn_layers=(2, 5), vocab_size=512)
    config = config.model_copy(update={"eos_token_ids": (tokenizer.eos_token_id,)})
    with tempfile.TemporaryDirectory() as folder:
        write_random_checkpoint(folder, config, dtype=torch.float32, seed=0)
        lm = load_model(folder, device=device)
    lm.source = {"model_id": "tiny-random (meaningless answers)", "revision": None}
    options = {"max_slots": 16, "max_len": 2048, **engine_options}
    return M1Generator(lm, tokenizer, **options)
