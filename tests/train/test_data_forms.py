"""The wordings and forms that make the curriculum read like textbooks, worksheets and questions typed into a
tutoring app: each one is drawn (so that the answer and step tests of test_data_answers.py and
test_data_steps.py really read it), the forms whose answers those readers do not pin down are recomputed here
from the problem's own text, and every one stays inside the embedded model's scope."""

from __future__ import annotations

import random
import re
from fractions import Fraction
from functools import cache
from math import gcd

import pytest

from m1reason.scope import EMBEDDED_SCOPE
from m1reason.train.data import Problem, make_problem
from tests.train.exact import equations, evaluate, plain

PER_KIND = 400

# (kind, form, a pattern only that form's problem texts match).
FORMS = (
    ("system", "letters other than x and y", r"\b(?:a|b|m|n|p|q|s|t) = -?\d+\b"),
    ("system", "the pair (x, y)", r"\([a-z], [a-z]\)"),
    ("system", "x + y asked for", r"[a-z] \+ [a-z][?.]$"),
    ("system", "one unknown given", r"(?:and|,) \$?[a-z] = -?\d+\$?(?:,| and|\.| for)"),
    ("system", "sum and difference in words", r"(?:sum of two numbers is|have a sum of|add up to) \d+"),
    ("system", "k times the other", r"\d+ times (?:the other|another)"),
    ("system", "two baskets", r"\d+ \w+ and \d+ \w+ cost"),
    ("equation", "a lone x", r"(?<![\d/])\b[a-z] [-+] \d+ = |\d+ \+ [a-z] = "),
    ("equation", "x on both sides", r"\d[a-z] [-+] \d+ = \d*[a-z] [-+] \d+"),
    ("equation", "number puzzles", r"Twice a number|\d+ times a number|When a number|a number and the result|"
                                   r"A number divided|A number multiplied"),
    ("ratio", "a number divided in a ratio", r"^(?:Divide|Split) \d+|^\d+ is divided"),
    ("ratio", "a ratio simplified", r"simplest form|lowest terms|Simplify"),
    ("ratio", "money shared", r"How much (?:money )?(?:does|goes)"),
    ("ratio", "for every", r"For every \d+"),
    ("ratio", "the difference known", r"There are \d+ more"),
    ("ratio", "a recipe or mix", r"for every \d+|go with every"),
    ("ratio", "a recipe for some people", r"people needs|to serve \d+"),
    ("ratio", "a map scale", r"1 cm (?:stands for|to|for every)"),
    ("unit", "days and hours", r"\bdays?\b"),
    ("unit", "weeks", r"\bweeks?\b"),
    ("unit", "the factor stated first", r"^There are \d+"),
    ("unit", "no question mark", r"in [a-z]+$"),
    ("unit", "two units joined by and", r"\d+ [a-z]+ and \d+ [a-z]+"),
    ("percent", "per cent", r"per cent"),
    ("percent", "tax", r"\btax\b"),
    ("percent", "a total with a tip or tax", r"in total|total cost|total price"),
    ("percent", "the whole from a part", r"of a number is|of what number|This is \d+%"),
    ("percent", "the price before a discount", r"original price|before the sale"),
    ("geometry", "bare numbers", r"^(?!.*\d (?:mm|cm|m)\b)(?!.*square (?:milli|centi)?metres).*\d"),
    ("geometry", "a square's side from its area", r"square has an area"),
    ("geometry", "a square's side from its perimeter", r"How long is each side|length of one side"),
    ("geometry", "a triangle's height", r"How tall|its height\?"),
    ("geometry", "a right triangle's legs", r"legs of"),
    ("geometry", "an equilateral triangle", r"equilateral"),
    ("average", "said as the average", r"average|Average"),
    ("average", "the score needed next", r"next test"),
    ("order", "square brackets", r"\["),
    ("order", "a \\frac", r"\\frac"),
    ("order", "brackets in brackets", r"[(\[][^()\[\]]*\("),
    ("order", "a power", r"\^|²|³"),
    ("order", "four or more operations", r"(?:\d[^\d]+){4}\d"),
    ("order", "a negative inside", r"[-−+*/×÷] \(-\d"),
    ("order", "the minus sign −", "−"),
    ("integers", "a story", r"°C|sea level|bank"),
    ("integers", "a negative divisor, bare", r"(?:÷|/|\\div) -\d"),
    ("division", "as a decimal", r"decimal"),
    ("division", "a two-digit divisor", r"(?:÷|/|\\div|by) \$?(?:1\d|2[0-5])\b"),
    ("division", "how many 8s", r"How many \d+s are in"),
)


@cache
def _drawn(kind: str) -> tuple[Problem, ...]:
    rng = random.Random(f"forms-{kind}")
    return tuple(make_problem(rng, kind) for _ in range(PER_KIND))


@pytest.mark.parametrize(("kind", "form", "pattern"), FORMS, ids=[f"{k}: {f}" for k, f, _ in FORMS])
def test_each_form_is_drawn(kind, form, pattern):
    hits = [p.problem for p in _drawn(kind) if re.search(pattern, p.problem)]
    assert 3 <= len(hits) <= 0.5 * PER_KIND, (kind, form, len(hits))  # there, and no single wording dominates


@pytest.mark.parametrize("kind", sorted({kind for kind, _, _ in FORMS}))
def test_every_form_stays_in_the_embedded_scope(kind):
    refused = [(p.problem, EMBEDDED_SCOPE.check(p.problem).reason) for p in _drawn(kind)
               if not EMBEDDED_SCOPE.check(p.problem).in_scope]
    assert refused == []


def _letters(equation_texts: list[tuple[str, str]]) -> list[str]:
    return sorted(set(re.findall(r"(?<![a-z])[a-z](?![a-z])", " ".join(a + " " + b for a, b in equation_texts))))


def test_a_system_answer_solves_its_own_equations_in_its_own_letters():
    """A bare system's answer ("a = 1, b = -5" or the pair "(1, -5)") names the unknowns its equations use, in
    order, and those values make both equations true."""
    checked = 0
    for p in _drawn("system"):
        both = re.fullmatch(r"([a-z]) = (-?\d+), ([a-z]) = (-?\d+)", p.answer)
        pair = re.fullmatch(r"\((-?\d+), (-?\d+)\)", p.answer)
        if not (both or pair):
            continue
        found = [(a, b) for a, b in equations(plain(p.problem, times_x=False)) if a and b]
        letters = _letters(found)
        if both:
            assert [both[1], both[3]] == letters, p
            values = {both[1]: Fraction(both[2]), both[3]: Fraction(both[4])}
        else:
            assert re.search(rf"\({letters[0]}, {letters[1]}\)", p.problem), p  # a pair only when one is asked for
            values = dict(zip(letters, (Fraction(pair[1]), Fraction(pair[2]))))
        assert len(found) == 2 and all(evaluate(a, values) == evaluate(b, values) for a, b in found), p
        checked += 1
    assert checked >= 50


def test_equations_write_a_lone_unknown_without_a_one():
    for kind in ("equation", "system"):
        for p in _drawn(kind):
            for text in (p.problem, *p.steps):
                assert not re.search(r"(?<![\d./])1[a-z]\b", text), (text, p.problem)


def test_an_uneven_division_is_a_terminating_decimal_worked_past_the_point():
    decimals = [p for p in _drawn("division") if "." in p.answer]
    assert len(decimals) >= 20
    for p in decimals:
        n, d = (int(v) for v in re.findall(r"\d+", plain(p.problem).replace("\\frac", "")))
        assert Fraction(p.answer) == Fraction(n, d) and n % d and len(p.answer.partition(".")[2]) <= 3, p
        assert "remainder" not in p.problem and p.steps[-1] == f"so {n} / {d} = {p.answer}", p
        past = [s for s in p.steps if "bring down 0 to get" in s and "point" in s or s.startswith("bring down 0")]
        assert len(past) >= len(p.answer.partition(".")[2]), p  # one line for each decimal place
        for line in past:
            current, product, rest = (int(v) for v in re.search(r"get (\d+): \d+ \* \d = (\d+), \d+ - \d+ = (\d+)",
                                                                  line).groups())
            assert current - product == rest < d, line  # one digit of the quotient each


def test_a_simplified_ratio_is_in_lowest_terms_and_equal_to_the_asked_one():
    simplified = [p for p in _drawn("ratio") if ":" in p.answer]
    assert len(simplified) >= 20
    for p in simplified:
        a, b = (int(v) for v in p.answer.split(":"))
        big_a, big_b = (int(v) for v in re.findall(r"\d+", p.problem)[:2])
        assert gcd(a, b) == 1 and Fraction(a, b) == Fraction(big_a, big_b) and (a, b) != (big_a, big_b), p


def test_square_brackets_hold_round_ones_fracs_are_latex_and_powers_squares_or_cubes():
    for p in _drawn("order"):
        for inner in re.findall(r"\[([^\[\]]*)\]", p.problem):
            assert "(" in inner, p.problem  # [ ] only where a bracket holds another, as books write it
        if "\\frac" in p.problem:
            assert p.problem.count("$") == 2 and re.search(r"\$.*\\frac.*\$", p.problem), p.problem
        for exponent in re.findall(r"\^\{?(\d+)|([²³])", p.problem):  # squares and cubes only
            assert exponent in (("2", ""), ("3", ""), ("", "²"), ("", "³")), p.problem
