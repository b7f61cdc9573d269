"""group_equivalent: clusters for majority voting, largest first, unreadable answers on their own."""

import random

from m1reason.answers import group_equivalent, is_equivalent


def test_clusters_by_value_largest_first():
    answers = ["3", r"\frac{1}{2}", "0.5", r"\boxed{3}", "1/2", "x = 3", r"\dfrac{2}{4}", "7"]
    assert group_equivalent(answers) == [[1, 2, 4, 6], [0, 3, 5], [7]]


def test_none_and_junk_are_loners_after_the_rest():
    answers = [None, "5", "\x00\xff", "5.0", "", 17]
    assert group_equivalent(answers) == [[1, 3], [0], [2], [4], [5]]


def test_disputed_cases_stay_apart():
    answers = ["[1,2)", "[1,2]", r"\pm 2021", "2021", r"\frac{1}{2^{99}}", r"\frac{1}{2^{98}}"]
    assert group_equivalent(answers) == [[0], [1], [2], [3], [4], [5]]


def test_ties_keep_first_appearance_order():
    assert group_equivalent(["b", "a", "a", "b"]) == [[0, 3], [1, 2]]


def test_empty():
    assert group_equivalent([]) == []


def test_clusters_agree_with_pairwise_checks():
    pool = ["8.7e8", "870,000,000", r"8.7\times 10^{8}", "870000001", r"\sqrt{8}", r"2\sqrt2", "2.83",
            "(1,2)", "[1,2]", r"\{2,1\}", "1,2", r"\text{(B)}", "B", "b"]
    answers = random.Random(3).choices(pool, k=40)
    clusters = group_equivalent(answers)
    assert sorted(i for c in clusters for i in c) == list(range(len(answers)))
    for members in clusters:
        rep = answers[members[0]]
        for i in members[1:]:
            assert is_equivalent(answers[i], rep) or is_equivalent(rep, answers[i])
    reps = [answers[c[0]] for c in clusters]
    for i, a in enumerate(reps):
        for b in reps[i + 1 :]:
            assert not (is_equivalent(a, b) and is_equivalent(b, a)), (a, b)
