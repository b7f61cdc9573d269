"""Bare forms: roots as fractional powers (the real root of a negative number), arrays in brackets as
matrices, a stray trailing backslash, mixed numbers written "1 1/2", and clock times where the gold is one."""

import pytest

from m1reason.answers import answer_key, is_equivalent
from m1reason.answers._clock import seconds_of_day

EQUIVALENT = [
    (r"\sqrt[3]{x}^2", "x^{2/3}"), (r"\sqrt[3]{x}", "x^{1/3}"), (r"\sqrt[5]{x^3}", r"x^{\frac{3}{5}}"),
    (r"\sqrt[3]{-8}", "(-8)^{1/3}"), ("(-8)^{2/3}", "4"), (r"\sqrt{x}", "x^{1/2}"),
    (r"\left[\begin{array}{cc}1&2\\3&4\end{array}\right]", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"),
    (r"\left(\begin{array}{c}1\\2\end{array}\right)", "(1,2)"),
    ("185\\", "185"), ("185\\\\", "185"), (r"\frac{1}{2}\ ", "0.5"),
    ("1 1/2", r"1\frac12"), ("1 1/2", "3/2"), ("-2 3/4", "-11/4"), ("1 1/2", "1.5"), ("2 1 / 3", r"\frac{7}{3}"),
    ("20:34", "20:34"), ("8:34 PM", "20:34"), ("8:34 p.m.", "20:34"), ("20:34:00", "20:34"), ("07:05", "7:05"),
    (r"\text{12:00 AM}", "0:00"),
]

NOT_EQUIVALENT = [
    (r"\sqrt[3]{x}^2", "x^{3/2}"), (r"\sqrt[3]{x}", "x^{1/2}"), (r"\sqrt[3]{x}", "-x^{1/3}"), ("(-8)^{1/3}", "2"),
    (r"\left[\begin{array}{cc}1&3\\2&4\end{array}\right]", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"),
    (r"\left(\begin{array}{c}2\\1\end{array}\right)", "(1,2)"),
    ("185\\", "186"), ("185\\", "1850"),
    ("1 1/2", "11/2"), ("1 1/2", "1/2"), ("1 1/2", "2"), ("-2 3/4", "-5/4"), ("1 1/2", "1, 1/2"),
    ("8:34", "20:34"), ("20:43", "20:34"), ("2034", "20:34"), ("8:34 AM", "20:34"), ("20.34", "20:34"),
]


@pytest.mark.parametrize(("candidate", "gold"), EQUIVALENT)
def test_bare_forms_are_their_values(candidate, gold):
    assert is_equivalent(candidate, gold) and is_equivalent(gold, candidate)


@pytest.mark.parametrize(("candidate", "gold"), NOT_EQUIVALENT)
def test_bare_near_misses_are_wrong(candidate, gold):
    assert not is_equivalent(candidate, gold) and not is_equivalent(gold, candidate)


def test_mixed_numbers_keep_their_own_key():
    # The fast path must not read "1 1/2" as "11/2" once spaces are gone.
    assert answer_key("1 1/2") != answer_key("11/2")
    assert answer_key("1 1/2") == answer_key(r"1\frac{1}{2}")


def test_an_improper_or_undefined_fraction_is_not_a_mixed_number():
    assert not is_equivalent("4 0/0", "4") and not is_equivalent("11 7/6", r"\frac{73}{6}")


@pytest.mark.parametrize(("text", "seconds"), [("20:34", 74040), ("12:05 am", 300), ("24:00", 0), ("0:00:59", 59)])
def test_clock_times(text, seconds):
    assert seconds_of_day(text) == seconds


@pytest.mark.parametrize("text", ["3:4", "25:00", "13:00 pm", "9:60", "1:2:3", "20 : 345"])
def test_colons_that_are_no_time(text):
    assert seconds_of_day(text) is None


def test_a_ratio_gold_is_not_read_as_a_time():
    assert is_equivalent("3:4", "3:4") and not is_equivalent("3:5", "3:4")
