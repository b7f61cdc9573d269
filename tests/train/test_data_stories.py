"""Word stories read back at scale: over 20,000 draws of the ``word`` kind every boxed answer is the value its own
text gives (``word_reader``), every multi-step family is read and its claims hold, money answers are exact
amounts, and ``written.worked``, the one way both bare calculations and stories work ``a op b``, ends on the
result and stays mental for small numbers."""

from __future__ import annotations

import random
import re

import pytest

from m1reason.train.data import make_problem
from m1reason.train.data.multistep import MULTI_STEP
from m1reason.train.data.phrasing import pick_names
from m1reason.train.data.written import worked
from tests.train.exact import claims, evaluate, number
from tests.train.test_data_answers import _word
from tests.train.word_reader import read_story

WORD_DRAWS = 20_000  # enough that every family meets most of its wordings, settings and number shapes


def test_the_reader_agrees_with_every_word_story():
    rng = random.Random("word-reader")
    for _ in range(WORD_DRAWS):
        p = make_problem(rng, "word")
        assert number(p.answer) == _word(p.problem), p
        assert re.fullmatch(r"\d+|\d+\.\d\d", p.answer), p  # whole, or money to the cent


def _true_claims(steps: list[str]) -> int:
    count = 0
    for step in steps:
        found, problems = claims(step)
        assert not problems, problems
        for expr, rhs in found:
            assert evaluate(expr) == number(rhs), step
        count += len(found)
    return count


@pytest.mark.parametrize("family", list(MULTI_STEP), ids=lambda f: f.__name__)
def test_each_multi_step_family_is_read_back_and_its_claims_hold(family):
    rng = random.Random(f"family-{family.__name__}")
    for _ in range(500):
        text, steps, answer = family(rng, pick_names(rng, 1)[0])
        assert number(str(answer)) == read_story(text), (text, answer)
        assert _true_claims(steps) >= 1, text  # a worked solution, not only words
        assert not re.search(r"[$£€]", " ".join(steps)), steps  # steps work in plain numbers


def test_worked_ends_on_the_result_and_works_small_numbers_mentally():
    rng = random.Random(0)
    for _ in range(3000):
        op = rng.choice("+-*/")
        a, b = rng.randint(1, rng.choice((20, 99, 9999))), rng.randint(1, rng.choice((12, 99, 999)))
        if op == "-":
            a, b = max(a, b), min(a, b)
        if op == "/":
            a *= b
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]
        lines = worked(a, op, b, random.Random(rng.random()))
        _true_claims(lines)
        assert number(claims(lines[-1])[0][-1][1]) == value, (a, op, b, lines)
        small = (op in "+-" and max(a, b) < 100) or (op == "*" and a <= 12 and b <= 12) or (
            op == "/" and b <= 12 and value <= 12)
        if small:  # no column, row or long-division line
            assert not any(re.match(r"ones:|\d+ \* \d+:|\d+:|\d+ < ", line) for line in lines), lines
