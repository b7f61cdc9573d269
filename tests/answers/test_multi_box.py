"""Answers split over several boxes: a run of boxes joined by commas, "and" or spacing is one answer (a list),
a sentence between boxes ends the run, and a vote clusters such answers by value."""

import pytest

from m1reason.answers import extract_answer, group_equivalent, is_equivalent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\boxed{-2} \quad\text{and}\quad \boxed{1}", "-2, 1"),
        (r"\boxed{1},\boxed{2},\boxed{3}", "1, 2, 3"),
        (r"\boxed{1}\boxed{2}", "1, 2"),
        (r"The roots are $x = \boxed{2}$ and $x = \boxed{-3}$.", "2, -3"),
        ("\\[\\boxed{1}\\]\n\\[\\boxed{2}\\]", "1, 2"),
        (r"$\boxed{3}$ or $\boxed{-3}$", "3, -3"),
        (r"\boxed{}\boxed{4}", "4"),
        ("**Final Answer**\n\\boxed{7}\n\n**Final Answer**\n\\boxed{7}", "7"),  # a sentence between: the last
        (r"\boxed{7}, \boxed{7}", "7"),  # the same answer boxed twice is one answer
        (r"First I guessed \boxed{2}. Checking again, it is \boxed{3}.", "3"),
        (r"\boxed{2} is wrong, so \boxed{3}", "3"),
        ("<think>\\boxed{1} and \\boxed{2}</think> so \\boxed{5}", "5"),
    ],
)
def test_a_run_of_boxes_is_one_answer(text, expected):
    assert extract_answer(text) == expected


def test_a_box_cut_off_after_a_run_is_no_answer():
    assert extract_answer(r"\boxed{1}, \boxed{2") is None
    assert not is_equivalent(r"\boxed{1}, \boxed{2", "1")


EQUIVALENT = [
    (r"\boxed{-2} \quad\text{and}\quad \boxed{1}", "-2, 1"),
    (r"\boxed{-2} \quad\text{and}\quad \boxed{1}", "1, -2"),
    (r"\boxed{1},\boxed{2},\boxed{3}", r"\{1,2,3\}"),
    (r"\boxed{1,2}", r"\boxed{1}\boxed{2}"),
    (r"So $x=\boxed{2}$, $y=\boxed{3}$.", "(2,3)"),
    (r"$\boxed{3}$ or $\boxed{-3}$", r"\pm 3"),
    (r"\boxed{(1,2)}, \boxed{(3,4)}", "(3,4),(1,2)"),
]

NOT_EQUIVALENT = [
    (r"\boxed{-2} \quad\text{and}\quad \boxed{1}", "-2"),
    (r"\boxed{-2} \quad\text{and}\quad \boxed{1}", "1"),
    (r"\boxed{1},\boxed{2},\boxed{3}", r"\{1,2\}"),
    (r"\boxed{1,3}", r"\boxed{1}\boxed{2}"),
    (r"So $x=\boxed{2}$, $y=\boxed{3}$.", "(3,2)"),
    (r"$\boxed{3}$ or $\boxed{-3}$", "3"),
    (r"\boxed{(1,2)}, \boxed{(3,4)}", "(1,2)"),
    (r"First I guessed \boxed{2}. Checking again, it is \boxed{3}.", "2, 3"),
]


@pytest.mark.parametrize(("candidate", "gold"), EQUIVALENT)
def test_several_boxes_match_the_whole_answer(candidate, gold):
    assert is_equivalent(candidate, gold)


@pytest.mark.parametrize(("candidate", "gold"), NOT_EQUIVALENT)
def test_part_of_the_boxes_is_not_the_answer(candidate, gold):
    assert not is_equivalent(candidate, gold)


def test_a_vote_clusters_multi_box_answers_by_value():
    outputs = [r"\boxed{-2} and \boxed{1}", r"\boxed{1}, \boxed{-2}", r"\boxed{-2, 1}", r"\boxed{1}", r"\boxed{-2}"]
    answers = [extract_answer(o) for o in outputs]
    assert answers == ["-2, 1", "1, -2", "-2, 1", "1", "-2"]
    assert group_equivalent(answers) == [[0, 1, 2], [3], [4]]
