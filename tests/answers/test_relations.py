"""Relations typed in ASCII (<=, >=, !=) are the LaTeX ones, and a linear inequality in one variable is the
interval it describes (-x > -1 is x < 1); the direction and the endpoints still count."""

import pytest

from m1reason.answers import answer_key, is_equivalent

EQUIVALENT = [
    ("x<=1", r"x \le 1"), ("x>=5", r"x \geq 5"), ("x != 3", r"x \neq 3"), ("x \u2260 3", r"x \ne 3"),
    ("x<=1", r"(-\infty,1]"), ("3 >= x", "x<=3"), ("-1 <= x < 2", "[-1,2)"), ("a>=b", r"a \geq b"),
    ("-x > -1", "x < 1"), (r"2x + 1 \le 7", r"x \leq 3"), ("10 - 2x > 0", "x < 5"), ("3x >= 2", r"[\frac23,\infty)"),
    (r"\frac{x}{2} < -1", "x < -2"), ("5 < 1 - 2y", "y < -2"),
]

NOT_EQUIVALENT = [
    ("x<1", r"x \le 1"), ("x>=5", "x > 5"), ("x != 3", r"x \neq -3"), ("x != 3", "x = 3"), ("x>=5", "x <= 5"),
    ("x<=1", r"(-\infty,1)"), ("-1 <= x < 2", "[-1,2]"), ("-x > -1", "x > 1"), ("-x > -1", "x < -1"),
    (r"2x + 1 \le 7", r"x \le 4"), ("10 - 2x > 0", "x > 5"), (r"x^2 > 1", "x > 1"), ("|x| < 1", "x < 1"),
    ("x + y > 1", "x > 1 - y"),
]


@pytest.mark.parametrize(("candidate", "gold"), EQUIVALENT)
def test_relations_in_any_spelling(candidate, gold):
    assert is_equivalent(candidate, gold) and is_equivalent(gold, candidate)


@pytest.mark.parametrize(("candidate", "gold"), NOT_EQUIVALENT)
def test_other_relations_are_wrong(candidate, gold):
    assert not is_equivalent(candidate, gold) and not is_equivalent(gold, candidate)


def test_ascii_relations_share_the_fast_path_key():
    assert answer_key("x<=1") == answer_key(r"x \le 1") == answer_key(r"x\leqslant 1")
    assert answer_key("x!=3") == answer_key(r"x \ne 3") != answer_key("x=3")
