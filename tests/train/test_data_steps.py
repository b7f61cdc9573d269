"""Every step is checkable: each ``expr = number`` claim in it is exactly true, every other ``=`` stands next to
a variable (``so 3x = 15``), and no claim runs on into an expression; the written methods work one digit at a
time."""

from __future__ import annotations

import random
import re

import pytest

from m1reason.train.data import KINDS, make_problem
from m1reason.train.data.written import (
    column_addition,
    column_subtraction,
    long_division,
    long_multiplication,
    restated_addition,
    restated_subtraction,
)
from tests.train.exact import claims, evaluate, number

PROBLEMS_PER_KIND = 300


def test_the_claim_reader_finds_claims_and_flags_the_rest():
    assert claims("tens: 4 + 6 + 1 = 11, write 1 carry 1") == ([("4 + 6 + 1", "11")], [])
    assert claims("check: 3 * (-2) + 5 = -1") == ([("3 * (-2) + 5", "-1")], [])
    assert claims("20 - 5 = 15, so 3x = 15") == ([("20 - 5", "15")], [])
    assert claims("so 3x + 5 = 20") == ([], [])
    assert claims("3/4 = 9/12 + 2/12")[1] and claims("12 = = 3")[1]


@pytest.mark.parametrize("kind", KINDS)
def test_every_claim_in_every_step_is_true(kind):
    rng = random.Random(f"steps-{kind}")
    checked = 0
    for _ in range(PROBLEMS_PER_KIND):
        p = make_problem(rng, kind)
        assert p.steps, p
        for step in p.steps:
            assert "\n" not in step, p
            found, problems = claims(step)
            assert not problems, (problems, p.problem)
            for expr, rhs in found:
                assert evaluate(expr) == number(rhs), (step, p.problem)
            checked += len(found)
    assert checked >= PROBLEMS_PER_KIND  # every kind makes claims, not only words


@pytest.mark.parametrize("kind", ["arithmetic", "addition", "subtraction", "multiplication", "division", "order",
                                  "fraction", "mixed_number", "decimal", "percent", "equation", "system", "average"])
def test_steps_write_times_and_divide_as_star_and_slash(kind):
    rng = random.Random(f"signs-{kind}")
    for _ in range(100):
        p = make_problem(rng, kind)
        for step in p.steps:
            assert not re.search(r"[×÷·$\\]|\d x \d", step), (step, p.problem)


def _one_digit_each(line: str) -> bool:
    """Every claim of a column line adds digits (and a carry) or subtracts from a two-digit number at most."""
    return all(max(int(n) for n in re.findall(r"\d+", expr)) < 20 for expr, _ in claims(line)[0])


def test_written_methods_work_one_digit_at_a_time():
    rng = random.Random(0)
    for _ in range(300):
        a, b = rng.randint(1, 99999), rng.randint(1, 99999)
        lines = column_addition([a, b])
        assert all(_one_digit_each(line) for line in lines)
        assert len(lines) == len(str(max(a, b)))
        big, small = max(a, b), min(a, b)
        lines = column_subtraction(big, small)
        assert all(_one_digit_each(line) for line in lines) and len(lines) == len(str(big))
        written = "".join(re.search(r"write (\d+)$", line)[1] for line in reversed(lines))
        assert int(written) == big - small
    for _ in range(300):
        a, b = rng.randint(10, 999), rng.randint(2, 99)
        lines = long_multiplication(a, b)
        assert lines[-1].endswith(f"{a} * {b} = {a * b}")
        rows = [line for line in lines if not line.startswith(("add ", "so "))]
        assert len(rows) == sum(digit != "0" for digit in str(b))
        for line in rows:  # digit products with a carry, then the row's own result
            sizes = [max(int(n) for n in re.findall(r"\d+", expr)) for expr, _ in claims(line)[0]]
            assert sum(size >= 10 for size in sizes) <= 1, line
        assert all(_one_digit_each(line) for line in lines if line.startswith("add "))
        n, d = rng.randint(10, 9999), rng.randint(2, 9)
        lines, q, r = long_division(n, d)
        assert (q, r) == divmod(n, d)
        assert all(int(re.search(r"(\d+) - \d+ = ", line)[1]) < 10 * d for line in lines)  # one quotient digit each


def test_restated_methods_keep_each_columns_digits_on_its_own_line():
    """Each line starts with what is left of the numbers, whose last digits are the ones its claims use; the
    written digits make the result and every claim is true."""
    rng = random.Random(1)
    for _ in range(300):
        a, b = rng.randint(1, 99999), rng.randint(1, 99999)
        big, small = max(a, b), min(a, b)
        for lines, numbers, op, result in ((restated_addition([a, b]), [a, b], "+", a + b),
                                          (restated_subtraction(big, small), [big, small], "-", big - small)):
            assert len(lines) == len(str(big)) and all(_one_digit_each(line) for line in lines)
            for place, line in enumerate(lines):
                head, work = line.split(": ", 1)
                left = [str(n)[:len(str(n)) - place] for n in numbers if len(str(n)) > place]
                assert head == f" {op} ".join(left), line
                first_claim = claims(work)[0]
                if first_claim and "borrow: 10 - 1" not in work and not work.startswith(f"{left[0][-1]} - 1 ="):
                    assert re.findall(r"\d+", first_claim[0][0])[0][-1] == left[0][-1], line
                for expr, rhs in claims(line)[0]:
                    assert evaluate(expr) == number(rhs), line
            written = "".join(re.search(r"write (\d+)(?: carry \d)?$", line)[1] for line in reversed(lines))
            assert int(written) == result
