"""is_equivalent on hand-written pairs, checked in both directions: the forms models write, the exactness
policy of docs/answers.md, and the disputed cases it decides."""

import pytest

from m1reason.answers import answer_key, is_equivalent

EQUIVALENT = [
    # numbers: e-notation, separators, decimals, fractions, mixed numbers
    ("8.7e8", "870000000"), (r"8.7 \times 10^8", "870,000,000"), ("8.7E+08", "870000000"),
    (r"8.7\cdot 10^{8}", "8.7e8"), ("6.72e-5", ".0000672"), (r"6.72 \times 10^{-5}", "0.0000672"),
    ("10,080", "10080"), ("10{,}080", "10080"), (r"10,\!080", "10080"), (r"10\,080", "10080"),
    (r"11,\! 111,\! 111,\! 100", "11111111100"), ("025", "25"), ("-0", "0"), ("0.0", "0"),
    (r"\frac{1}{2}", "0.5"), ("1/2", r"\frac12"), (r"\tfrac{1}{2}", r"\dfrac{1}{2}"), (r"\frac{2}{4}", r"\frac12"),
    (r"-\frac{24}{25}", r"\frac{-24}{25}"), (r"-\frac{24}{25}", "-0.96"), ("1.50", r"\frac32"),
    (r"137\frac{1}{2}", r"137 \frac{1}{2}"), ("137.5", r"137 \frac{1}{2}"), (r"\frac{275}{2}", r"137\frac12"),
    (r"1\frac{4}{5}", r"\frac{9}{5}"), (r"0.\overline{3}", r"\frac13"), (r"0.1\overline{6}", r"\frac{1}{6}"),
    # rounding to the stated precision
    ("0.333", r"\frac{1}{3}"), ("1.41", r"\sqrt{2}"), ("1.4142", r"\sqrt 2"), ("3.14", r"\pi"), ("904.78", r"288\pi"),
    # constants and expressions
    (r"2\sqrt{2}", r"\sqrt{8}"), (r"2^{1/2}", r"\sqrt{2}"), (r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}"),
    (r"3\sqrt{13}", r"\sqrt{117}"), (r"4\sqrt3", r"4 \sqrt{3}"), (r"\sqrt[3]{-8}", "-2"), (r"288\pi", r"288 \pi"),
    ("6+9i", "9i+6"), ("-2+7i", "7i-2"), (r"\log_2 8", "3"), (r"\ln e^2", "2"), (r"\binom{5}{2}", "10"),
    ("5!", "120"), (r"\dbinom{6}{3}", "20"), (r"\sin^2 x + \cos^2 x", "1"), (r"e^{i\pi}", "-1"),
    ("15x-80", "15x - 80"), ("-80+15x", "15x - 80"), ("p-q", "p - q"), ("x^2+2x+1", "(x+1)^2"),
    (r"\frac{x+1}{2}", r"\frac{x}{2}+\frac12"),
    # equations and names
    ("x=3", "3"), ("y=-2x", "y = -2x"), ("-2x", "y=-2x"), ("2y=-4x", "y=-2x"), (r"x=\frac12", "0.5"),
    ("m+n = 25", "25"), ("P(3)=5", "5"), (r"\text{(C) } 144", "144"), (r"\textbf{(C)}\ 144", "144"),
    ("a=2, b=3", "(2,3)"), ("(a,b)=(2,3)", "(2,3)"), ("x = -2, 1", "-2,1"), (r"x=1 \text{ or } x=2", "1,2"),
    # units, money, percent, degrees
    (r"3 \text{ cm}^2", "3"), (r"3\,\text{cm}", "3"), (r"12 \mathrm{~m}", "12"), ("12 inches", "12"),
    (r"\$36", "36"), ("36 dollars", r"\$36"), ("36.00", r"\$36"), (r"\$32,\!348", "32348"),
    ("50%", "50"), (r"50\%", "0.5"), (r"30^\circ", "30"), ("30°", r"30^\circ"), ("30 degrees", r"30^{\circ}"),
    # words and choices
    (r"\text{Evelyn}", "Evelyn"), ("evelyn", r"\text{Evelyn}"), (r"\text{even}", "even"),
    (r"\text{(B)}", "B"), ("(B)", r"\text{(B)}"), (r"\textbf{(B)}", r"\text{(B)}"),
    # structures
    ("(6,31,-1)", "(6, 31, -1)"), (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})"),
    (r"\{1,2,3\}", "3,2,1"), (r"\{3,1,2\}", r"\{1,2,3\}"), ("n=1,2,3", "1,2,3"), ("15, -29", "(15,-29)"),
    (r"1 \pm \sqrt{19}", r"1+\sqrt{19}, 1-\sqrt{19}"), (r"3 \pm 2 \sqrt{2}", r"3-2\sqrt2, 3+2\sqrt{2}"),
    (r"(0,9) \cup (9,36)", r"(0,9)\cup(9,36)"), (r"(9,36)\cup(0,9)", r"(0,9) \cup (9,36)"),
    (r"(2,\infty)", r"(2, \infty)"), ("x>2", r"(2,\infty)"), (r"x \in [1, 2)", "[1,2)"), (r"x \ge 0", r"[0,\infty)"),
    (r"-2 < x \le 7", "(-2,7]"), (r"\infty", r"\infty"),
    (r"\begin{bmatrix}-1&0\\0&-1\end{bmatrix}", r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}"),
    (r"\begin{pmatrix} 0.2 \\ -3.6 \end{pmatrix}", r"\begin{pmatrix} 1/5 \\ -18/5 \end{pmatrix}"),
    (r"(1/5, -18/5)", r"\begin{pmatrix} 1/5 \\ -18/5 \end{pmatrix}"),
    ("42_8", "42_{8}"), ("42", "42_8"),
]

NOT_EQUIVALENT = [
    # the disputed cases (docs/answers.md)
    ("[1,2)", "[1,2]"), ("(1,2)", "[1,2]"), (r"(-\infty, 0)", r"(-\infty, 0]"), (r"x \ge 2", r"(2,\infty)"),
    (r"\pm 2021", "2021"), (r"1+\sqrt{19}", r"1 \pm \sqrt{19}"),
    (r"\frac{1}{2^{99}}", r"\frac{1}{2^{98}}"), ("10^{-30}", "0"), (r"\frac{1}{2^{200}}", "0"),
    ("n=2,3,4", "n=1,2,3"), ("P(3)=5", "6"), (r"\text{(C) } 144", "145"), (r"0.\overline{3}", "0.34"),
    # near misses
    (r"\frac{1}{2}", r"\frac{1}{3}"), ("8.7e8", "8.7e7"), ("8.8e8", "8.7e8"), ("870,000,001", "870,000,000"),
    ("0.668", r"\frac{2}{3}"), ("1.42", r"\sqrt{2}"), ("1.49", r"\frac32"),
    ("0.51", r"\frac12"), ("1.0000001", "1"), ("3", "3.4"), ("-2021", "2021"), ("-\\infty", "\\infty"),
    (r"e^{\pi\sqrt{163}}", "262537412640768744"), (r"2^{1000}+1", r"2^{1000}"),
    ("(2,1)", "(1,2)"), (r"\{1,2\}", r"\{1,2,3\}"), ("1,2", "12"), ("1,2", "1,2,3"),
    ("x^2+1", "x^2-1"), ("x+1", "y+1"), ("q-p", "p - q"), ("y=-2x", "x=-2y"),
    (r"\frac{\pi}{2}", "90"), (r"\frac{\pi}{6}", r"30^\circ"),
    (r"\begin{pmatrix}1\\2\end{pmatrix}", r"\begin{pmatrix}2\\1\end{pmatrix}"),
    (r"\begin{pmatrix}1&2\end{pmatrix}", r"\begin{pmatrix}1\\2\\3\end{pmatrix}"),
    ("42_8", "52_8"), ("42_8", "42_9"), (r"\text{(C)}", r"\text{(D)}"), ("B", r"\text{(C)}"),
    (r"\text{odd}", r"\text{even}"), (r"\text{west}", r"\text{Evelyn}"), ("6+9i", "6-9i"), ("6+9i", "6"),
    (r"\sqrt{2}", r"\sqrt{3}"), (r"2\sqrt{2}", r"2\sqrt{3}"), (r"\frac{\sqrt{3}}{2}", r"\frac{\sqrt{2}}{2}"),
]


@pytest.mark.parametrize(("candidate", "gold"), EQUIVALENT)
def test_equivalent_both_ways(candidate, gold):
    assert is_equivalent(candidate, gold)
    assert is_equivalent(gold, candidate)


@pytest.mark.parametrize(("candidate", "gold"), NOT_EQUIVALENT)
def test_not_equivalent_both_ways(candidate, gold):
    assert not is_equivalent(candidate, gold)
    assert not is_equivalent(gold, candidate)


@pytest.mark.parametrize(
    ("candidate", "gold", "expected"),
    [
        # A decimal gold is read to its stated precision: 1.25 accepts 1.250 and 1.254, not 1.26.
        ("1.250", "1.25", True), ("1.254", "1.25", True), ("1.26", "1.25", False), ("1.2", "1.25", False),
        # A finite-decimal exact gold wants the exact value; others a rounded/truncated decimal of >= 3 digits.
        ("0.5", r"\frac{1}{2}", True), ("0.3", r"\frac{1}{3}", False), ("0.3333333", r"\frac13", True),
        ("0.6666", r"\frac23", True), ("0.6667", r"\frac23", True), ("0.6665", r"\frac23", False),
        ("0.33", r"\frac{1}{3}", False), ("3.1", r"\pi", False),
        # ... and the other way round the decimal is the gold, read to its precision: 1/3 rounds to 0.33.
        (r"\frac{1}{3}", "0.33", True), (r"\pi", "3.1", True), (r"\pi", "3.2", False),
    ],
)
def test_decimal_policy(candidate, gold, expected):
    assert is_equivalent(candidate, gold) is expected


@pytest.mark.parametrize(
    "text",
    [
        r"So the answer is $\boxed{\dfrac{1}{2}}$.",
        "<think>\nIt might be 3.\n</think>\nThe final answer is $0.5$.",
        r"**Final Answer**\n\[\boxed{0.5}\]",
    ],
)
def test_raw_model_output_as_candidate(text):
    assert is_equivalent(text, r"\frac{1}{2}")
    assert not is_equivalent(text, r"\frac{1}{3}")


def test_output_without_an_answer_matches_nothing():
    assert not is_equivalent(r"<think>long reasoning cut off at \boxed{\frac{1}{", r"\frac{1}{2}")
    assert not is_equivalent(r"<think>\boxed{5}</think>", "5")


@pytest.mark.parametrize("junk", [None, "", "   ", 5, b"5", ["5"], float("nan")])
def test_junk_is_never_equivalent(junk):
    assert is_equivalent(junk, "5") is False
    assert is_equivalent("5", junk) is False


def test_answer_key_is_the_fast_path():
    assert answer_key(r"\$10,\!080") == answer_key("10080") == answer_key(r"x = 10{,}080")
    assert answer_key(r"\left(1, 2\right)") == answer_key("(1,2)")
    assert answer_key("[1,2)") != answer_key("[1,2]")
    assert answer_key(r"\frac12") != answer_key(r"\frac13")
