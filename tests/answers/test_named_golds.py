"""Golds written as named values or conditions: the names are dropped, the values compared (AB=4,CD=5 is 4, 5
in that order, or by name; |AB|=1 is 1), semicolons separate a list like commas, and 0<f(x)<1 is (0,1)."""

import pytest

from m1reason.answers import is_equivalent
from m1reason.answers._normalize import strip_var

EQUIVALENT = [
    ("4, 5", "AB=4,CD=5"), ("CD = 5, AB = 4", "AB=4, CD=5"), ("AB = 4, CD = 5", "4,5"), ("(4, 5)", "AB=4,CD=5"),
    (r"\frac{1}{\sqrt6}", r"\frac{NO}{BO}=\frac{1}{\sqrt6}"), (r"\frac{\sqrt6}{6}", r"\frac{NO}{BO}=\frac{1}{\sqrt6}"),
    ("1", "|AB|=1"), (r"\sqrt{3}", r"\left|\overline{AB}\right| = \sqrt{3}"), (r"\angle ABC = 30^\circ", "30"),
    (r"BC=2\sqrt{3}", r"\sqrt{12}"), ("AB/CD = 2", "2"),
    ("-12,-11,-10", "-12;-11;-10"), ("-10, -11, -12", "-12; -11; -10"), ("x=1; y=2", "(1,2)"), ("(1;2)", "(1,2)"),
    ("(0,1)", "0<f(x)<1"), ("(0,1]", r"0<f(x)\le 1"), (r"(2,\infty)", "g(t) > 2"),
]

NOT_EQUIVALENT = [
    ("4, 6", "AB=4,CD=5"), ("4", "AB=4,CD=5"), ("4, 5, 6", "AB=4,CD=5"),
    # each value has its name: swapping them is another answer
    ("5, 4", "AB=4,CD=5"), ("AB = 5, CD = 4", "AB=4,CD=5"), ("(5, 4)", "AB=4,CD=5"),
    (r"\frac{1}{\sqrt5}", r"\frac{NO}{BO}=\frac{1}{\sqrt6}"), (r"\sqrt6", r"\frac{NO}{BO}=\frac{1}{\sqrt6}"),
    ("2", "|AB|=1"), ("-1", "|AB|=1"), (r"\angle ABC = 60^\circ", "30"), (r"BC=\sqrt{13}", r"2\sqrt{3}"),
    ("-12,-11", "-12;-11;-10"), ("12,11,10", "-12;-11;-10"), ("x=1; y=2", "(2,1)"),
    ("[0,1)", "0<f(x)<1"), ("(0,1]", "0<f(x)<1"), ("(1,0)", "0<f(x)<1"), (r"(-\infty,2)", "g(t) > 2"),
]


@pytest.mark.parametrize(("candidate", "gold"), EQUIVALENT)
def test_named_values_are_their_values(candidate, gold):
    assert is_equivalent(candidate, gold) and is_equivalent(gold, candidate)


@pytest.mark.parametrize(("candidate", "gold"), NOT_EQUIVALENT)
def test_other_values_under_the_same_names_are_wrong(candidate, gold):
    assert not is_equivalent(candidate, gold) and not is_equivalent(gold, candidate)


@pytest.mark.parametrize(
    ("answer", "name"),
    [("AB=4", "AB"), ("|AB| = 1", "|AB|"), (r"\frac{NO}{BO}=2", r"\frac{NO}{BO}"), (r"m\angle A = 40", r"m\angle A"),
     ("x_{1} = 3", "x_1"), ("ABCDE = 5", None), ("2x = 4", None), ("x^2 = 4", None), ("AB = CD = 4", None)],
)
def test_what_counts_as_a_name(answer, name):
    assert strip_var(answer)[0] == name
