"""Problems and replies stay short in the embedded tokenizer's tokens: tokens are the cost of every training and
inference step, and a 5M-parameter model's context is short."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import m1reason
from m1reason.train.data import KINDS, make_problem, render_solution

TOKENIZER = Path(m1reason.__file__).parent / "embedded" / "tokenizer.json"
pytestmark = pytest.mark.skipif(not TOKENIZER.exists(), reason="no embedded tokenizer to count with")


@pytest.fixture(scope="module")
def count():
    from m1reason.tokenizer import load_tokenizer

    tok = load_tokenizer(TOKENIZER.parent)
    return lambda text: len(tok(text, add_special_tokens=False)["input_ids"])


@pytest.mark.parametrize("kind", KINDS)
def test_replies_and_problems_fit_the_budget(kind, count):
    rng = random.Random(f"lengths-{kind}")
    problems = [make_problem(rng, kind) for _ in range(200)]
    replies = sorted(count(render_solution(p)) for p in problems)
    assert replies[int(0.95 * len(replies))] <= 230 and replies[-1] <= 300, (kind, replies[-10:])
    assert max(count(p.problem) for p in problems) <= 120, kind
