"""The trained tokenizer: round trips, digits split, and the chat template works with build_prompt."""

from __future__ import annotations

import random

from m1reason.tokenizer import build_prompt, load_tokenizer
from m1reason.train.data import make_problem, render_solution
from m1reason.train.examples import collate, encode


def test_round_trip_and_digits(tokenizer_dir):
    tok = load_tokenizer(tokenizer_dir)
    rng = random.Random(0)
    for _ in range(50):
        p = make_problem(rng)
        for text in (p.problem, render_solution(p)):
            assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text
    assert tok.convert_ids_to_tokens(tok("2025", add_special_tokens=False)["input_ids"]) == ["2", "0", "2", "5"]
    assert len(tok("<think></think>", add_special_tokens=False)["input_ids"]) == 2


def test_chat_template_is_llama3_style(tokenizer_dir):
    tok = load_tokenizer(tokenizer_dir)
    prompt = build_prompt("What is 2 + 2?", tok)
    assert prompt.startswith("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2 + 2?")
    assert prompt.endswith("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    assert tok.eos_token == "<|eot_id|>" and tok.pad_token == "<|finetune_right_pad_id|>"
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    assert ids[0] == tok.bos_token_id and ids.count(tok.bos_token_id) == 1


def test_encode_masks_exactly_the_reply(tokenizer_dir):
    tok = load_tokenizer(tokenizer_dir)
    p = make_problem(random.Random(2), "word")
    ex = encode(p, tok)
    reply = ex.ids[ex.prompt_len:]
    assert reply[-1] == tok.eos_token_id and all(ex.mask[ex.prompt_len:]) and not any(ex.mask[:ex.prompt_len])
    assert tok.decode(reply[:-1]) == render_solution(p)
    ids, mask = collate([ex, encode(make_problem(random.Random(3), "arithmetic"), tok)], tok.pad_token_id)
    assert ids.shape == mask.shape and mask.sum() < mask.numel()
