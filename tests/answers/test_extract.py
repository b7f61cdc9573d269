"""extract_answer: the last box after </think>, the phrase fallback, and None for cut-off output."""

import pytest

from m1reason.answers import extract_answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"so $\boxed{42}$.", "42"),
        (r"\boxed{\frac{1}{2}} and later \boxed{\frac{\sqrt{3}}{2}}", r"\frac{\sqrt{3}}{2}"),
        (r"\boxed{\begin{pmatrix} 1 \\ 2 \end{pmatrix}}", r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}"),
        (r"\boxed{\{1, 2\}}", r"\{1, 2\}"),
        (r"The answer is \boxed 5.", "5"),
        (r"$\boxed 7$", "7"),
        (r"\fbox{12}", "12"),
        (r"\framebox[3cm][c]{12}", "12"),
        (r"\boxed{  9 }", "9"),
        (r"\boxed{}\boxed{4}", "4"),
        ("<think>I think \\boxed{3}.</think>\n\n**Final Answer**\n\\[\n\\boxed{5}\n\\]", "5"),
        ("Final Answer: The final answer is $42$. I hope it is correct.", "42"),
        ("The final answer is 10.5.", "10.5"),
        ("**Answer:** $x = 3$", "x = 3"),
        ("Therefore, the answer is \\(\\frac{3}{4}\\).", r"\frac{3}{4}"),
        ("</think> Answer: 17", "17"),
    ],
)
def test_finds_the_answer(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Let me think about this problem step by step. First we",
        r"... so the value is \boxed{\frac{1}{",  # cut off by the length limit inside the box
        r"<think>\boxed{3} is wrong</think>",  # nothing after </think>
        None,
        12,
    ],
)
def test_no_answer(text):
    assert extract_answer(text) is None


def test_only_what_follows_think_counts():
    assert extract_answer(r"<think>\boxed{1}</think> The answer is \boxed{2}") == "2"
    assert extract_answer(r"<think>\boxed{1}</think> no box here, sorry") is None


def test_strict_needs_think():
    assert extract_answer(r"\boxed{4}", strict=True) is None
    assert extract_answer(r"<think>hmm</think>\boxed{4}", strict=True) == "4"
    assert extract_answer("<think>hmm</think> The answer is 4.", strict=True) == "4"


def test_escaped_braces_do_not_close_the_box():
    assert extract_answer(r"\boxed{\{1,2\} \cup \{3\}}") == r"\{1,2\} \cup \{3\}"


def test_deep_nesting_is_linear_and_safe():
    text = r"\boxed{" + "{" * 100_000 + "1" + "}" * 100_000 + "}"
    assert extract_answer(text) == "{" * 100_000 + "1" + "}" * 100_000
    assert extract_answer(r"\boxed{" * 50_000) is None
