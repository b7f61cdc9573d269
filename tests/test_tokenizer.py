"""load_tokenizer and build_prompt: the chat template with a pinned date, and M1's instruction."""

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from m1reason import build_prompt, load_tokenizer
from m1reason.tokenizer import PINNED_DATE, PROMPT_SUFFIX

# The part of Llama-3.2's template that matters here: today's date unless date_string is given.
TEMPLATE = (
    "{{- bos_token }}{%- if not date_string is defined %}{%- set date_string = strftime_now('%d %b %Y') %}{%- endif %}"
    "<|start_header_id|>system<|end_header_id|>\n\nToday Date: {{ date_string }}<|eot_id|>"
    "{%- for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>"
    "{%- endfor %}{%- if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


@pytest.fixture
def tokenizer_folder(tmp_path):
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    special = ["<unk>", "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"]
    tok.train_from_iterator(["What is 2 + 2? Let's think step by step."] * 10,
                            trainers.BpeTrainer(vocab_size=300, special_tokens=special))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>",
                                   unk_token="<unk>")
    fast.chat_template = TEMPLATE
    fast.save_pretrained(tmp_path)
    return tmp_path


def test_prompt_uses_template_pinned_date_and_instruction(tokenizer_folder):
    tok = load_tokenizer(tokenizer_folder)
    prompt = build_prompt("  What is 2 + 2?  ", tok)
    assert prompt.startswith("<|begin_of_text|><|start_header_id|>system")
    assert f"Today Date: {PINNED_DATE}" in prompt
    assert f"user<|end_header_id|>\n\nWhat is 2 + 2?{PROMPT_SUFFIX}<|eot_id|>" in prompt
    assert prompt.endswith("assistant<|end_header_id|>\n\n")
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    assert ids.count(tok.bos_token_id) == 1


def test_empty_problem_is_rejected(tokenizer_folder):
    with pytest.raises(ValueError, match="non-empty"):
        build_prompt("   ", load_tokenizer(tokenizer_folder))


def test_folder_without_tokenizer_is_reported(tmp_path):
    from m1reason.errors import CheckpointError

    with pytest.raises(CheckpointError, match="no tokenizer.json"):
        load_tokenizer(tmp_path)
