""""Final answer" phrases: the answer a sentence states (not the sentence), and a later phrase overrules an
earlier box when it states something mathematical."""

import pytest

from m1reason.answers import extract_answer, is_equivalent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Final Answer: The largest $n$ is 34.", "34"),
        ("**Final answer:** The minimum value equals $-\\frac{1}{2}$.", "-\\frac{1}{2}"),
        ("Final answer: there are 6 ways.", "6 ways"),
        ("Final Answer: The sum of the roots is $\\frac{5}{2}$", "\\frac{5}{2}"),
        ("Final Answer: The final answer is $42$. I hope it is correct.", "42"),
        ("**Answer:** $x = 3$", "x = 3"),
        ("The answer is: $x$ is $\\$42$.", "\\$42"),
        # a later phrase overrules a box; an earlier one, or one that says nothing mathematical, does not
        ("\\boxed{3}\n\nWait, I made an error above. Final answer: 5", "5"),
        ("So the answer is \\boxed{12}. Rechecking: the final answer is $14$.", "14"),
        ("\\boxed{A}\n\nOn reflection, the answer is (C).", "(C)"),
        ("The final answer is $\\boxed{8}$.", "8"),
        ("The answer is \\boxed{5}. I checked that the answer is correct.", "5"),
        ("\\boxed{5}. Therefore the answer is 5 since 2+3 is 5.", "5"),
        ("\\boxed{5}\n\nThe answer is 6 because that is what the question wants.", "5"),
    ],
)
def test_the_stated_answer_is_extracted(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    ("candidate", "gold", "expected"),
    [
        ("Final Answer: The largest $n$ is 34.", "34", True),
        ("Final Answer: The largest $n$ is 34.", "43", False),
        ("Final answer: there are 6 ways.", "6", True),
        ("Final answer: there are 6 ways.", "7", False),
        ("The answer is: the perimeter is 24 cm.", "24", True),
        ("The answer is: the perimeter is 24 cm.", "12", False),
        ("\\boxed{3}\n\nWait, I made an error above. Final answer: 5", "5", True),
        ("\\boxed{3}\n\nWait, I made an error above. Final answer: 5", "3", False),
        ("\\boxed{A}\n\nOn reflection, the answer is (C).", "\\text{(C)}", True),
        ("\\boxed{A}\n\nOn reflection, the answer is (C).", "\\text{(A)}", False),
    ],
)
def test_stated_answers_are_compared_by_value(candidate, gold, expected):
    assert is_equivalent(candidate, gold) is expected
