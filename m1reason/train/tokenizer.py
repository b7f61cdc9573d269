"""A small BPE tokenizer for the synthetic math data, saved as tokenizer.json with a Llama-3-style chat template.

Digits are split one per token (arithmetic is learnable digit by digit), everything else is byte-level BPE
trained with the ``tokenizers`` library. The special tokens and the template follow Llama-3 (``<|eot_id|>`` ends
a turn), so ``m1reason.build_prompt`` and ``M1Generator`` treat it like a real M1 tokenizer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

__all__ = ["CHAT_TEMPLATE", "SPECIAL_TOKENS", "train_tokenizer"]

SPECIAL_TOKENS = ("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                  "<|eot_id|>", "<|finetune_right_pad_id|>")
# Llama-3's template without the system header (its dates would cost ~20 tokens per prompt and teach nothing);
# build_prompt's date_string is accepted and unused.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


def train_tokenizer(texts: Iterable[str], folder: str | Path, *, vocab_size: int = 1024):
    """Train byte-level BPE (single-digit tokens) on ``texts``; save tokenizer.json and tokenizer_config.json
    (+ the chat template) into ``folder``; return the transformers fast tokenizer. The template's role names are
    added to ``texts`` so that they become single tokens. ``vocab_size`` is an upper bound: BPE stops earlier
    when the texts have no more merges to offer.

    >>> import tempfile
    >>> tok = train_tokenizer(["What is 12 + 30?"] * 20, tempfile.mkdtemp(), vocab_size=300)
    >>> tok.decode(tok("What is 407?")["input_ids"]), tok.convert_ids_to_tokens(tok("407")["input_ids"])
    ('What is 407?', ['4', '0', '7'])
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(itertools.chain(texts, ["user assistant system"] * 1000), trainer=trainer)
    tokenizer.add_tokens(["<think>", "</think>"])  # one token each, as in R1-style models; never skipped
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<|begin_of_text|>",
                                   eos_token="<|eot_id|>", pad_token="<|finetune_right_pad_id|>",
                                   chat_template=CHAT_TEMPLATE, clean_up_tokenization_spaces=False)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(folder))
    return fast
