"""Unicode spellings of signs, digits and fractions are the answers they spell, and nothing more."""

import pytest

from m1reason.answers import answer_key, group_equivalent, is_equivalent

EQUIVALENT = [
    # the minus sign, fullwidth hyphen-minus and fullwidth digits
    ("\u22125", "-5"), ("\uff0d5", "-5"), ("\uff0d\uff15", "-5"), ("\uff13\uff0e\uff15", "3.5"),
    ("\\frac{\u22121}{2}", "-0.5"), ("\uff08\uff11\uff0c\uff0d\uff12\uff09", "(1,-2)"), ("\u22122\u03c0", r"-2\pi"),
    # vulgar fractions, alone, mixed and in expressions
    ("\u00bd", "1/2"), ("\u00bd", "0.5"), ("\u00be", r"\frac34"), ("\u2153", r"\frac{1}{3}"), ("\u215e", "0.875"),
    ("\u2154", r"\frac{2}{3}"), ("\u2152", "0.1"), ("1\u00bd", "3/2"), ("1 \u00bd", "1.5"), ("2\u00bc", "9/4"),
    ("\u22121\u00bd", "-1.5"), ("\uff0d\u00be", "-0.75"), ("\u00bd\u03c0", r"\frac{\pi}{2}"), ("2^\u00bd", r"\sqrt2"),
    # the fraction slash binds the digits beside it: 2 1/2 written with it is the mixed number
    ("1\u20442", "0.5"), ("2 1\u20442", "5/2"),
]

NOT_EQUIVALENT = [
    ("\u22125", "5"), ("\uff0d5", "5"), ("\uff0d\uff15", "-6"), ("\u00bd", "1/3"), ("\u00bd", "2"),
    ("1\u00bd", "1/2"), ("1\u00bd", "12"), ("1\u00bd", "11/2"), ("1\u00bd", "3"), ("\u22121\u00bd", "-1/2"),
    ("\u22121\u00bd", "3/2"), ("\u00be", "0.74"), ("\u2154", "0.6"), ("2 1\u20442", "21/2"), ("2 1\u20442", "1"),
]


@pytest.mark.parametrize(("candidate", "gold"), EQUIVALENT)
def test_unicode_spellings_are_their_answers(candidate, gold):
    assert is_equivalent(candidate, gold) and is_equivalent(gold, candidate)


@pytest.mark.parametrize(("candidate", "gold"), NOT_EQUIVALENT)
def test_unicode_near_misses_are_still_wrong(candidate, gold):
    assert not is_equivalent(candidate, gold) and not is_equivalent(gold, candidate)


def test_signs_and_fullwidth_characters_share_the_fast_path_key():
    assert answer_key("\u22125") == answer_key("\uff0d5") == answer_key("\uff0d\uff15") == answer_key("-5")
    assert answer_key("\u00bd") == answer_key(r"\frac12") and answer_key("1\u00bd") == answer_key(r"1\frac{1}{2}")


def test_unicode_answers_vote_together():
    answers = ["\u00bd", "1/2", "\u22125", "0.5", "\uff0d\uff15", "-5", "1\u00bd", "1"]
    assert group_equivalent(answers) == [[0, 1, 3], [2, 4, 5], [6], [7]]
