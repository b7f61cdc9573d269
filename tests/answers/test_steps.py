"""check_steps: number-only claims are judged exactly, anything with a variable or a function is skipped, the
chains and the separators of real reasoning are read as meant, and hostile text ends fast without eval."""

from __future__ import annotations

import builtins
import time

import pytest

from m1reason.answers import StepClaim, StepReport, check_steps

HOSTILE_BOUND_S = 2.0  # 10^5 characters on a shared, busy core; about 0.4 s on an idle one


def judged(text: str) -> list[tuple[str, bool]]:
    return [(claim.text, claim.ok) for claim in check_steps(text).claims]


@pytest.mark.parametrize("text, claim, ok", [
    ("so 12 * 9 = 108", "12 * 9 = 108", True),
    ("so 12 * 9 = 128", "12 * 9 = 128", False),
    ("7 + 8 - 3 = 12", "7 + 8 - 3 = 12", True),
    ("100 / 8 = 12.5", "100 / 8 = 12.5", True),
    ("2(3 + 4) = 14", "2(3 + 4) = 14", True),
    ("(-2)^2 = 4", "(-2)^2 = 4", True),
    ("-2^2 = 4", "-2^2 = 4", False),
    ("12 x 9 = 108", "12 x 9 = 108", True),
    ("12 × 9 = 118", "12 × 9 = 118", False),
    ("84 ÷ 4 = 21", "84 ÷ 4 = 21", True),
    ("6 · 7 = 42", "6 · 7 = 42", True),
    ("2 − 5 = −3", "2 − 5 = −3", True),
    ("１２＋３＝１５", "１２＋３＝１５", True),
    ("1/4 = 0.25", "1/4 = 0.25", True),
    ("1/3 = 0.33", "1/3 = 0.33", False),
    ("0.1 + 0.2 = 0.3", "0.1 + 0.2 = 0.3", True),
    ("1/3 + 1/6 = 1/2", "1/3 + 1/6 = 1/2", True),
    ("15% of 200 = 30", "15% of 200 = 30", True),
    ("15% of 200 = 35", "15% of 200 = 35", False),
    ("30% + 25% = 55%", "30% + 25% = 55%", True),
    ("2^{10} = 1024", "2^{10} = 1024", True),
    ("2**10 = 1000", "2**10 = 1000", False),
    ("1/0 = 5", "1/0 = 5", False),
    ("108 = 12 * 9", "108 = 12 * 9", True),
])
def test_plain_claims_are_judged_exactly(text, claim, ok):
    assert judged(text) == [(claim, ok)]


@pytest.mark.parametrize("text, claim, ok", [
    (r"$12 \times 9 = 108$", r"12 \times 9 = 108", True),
    (r"\[ 12 \cdot 9 = 98 \]", r"12 \cdot 9 = 98", False),
    (r"\frac{3}{4} + \dfrac{1}{4} = 1", r"\frac{3}{4} + \dfrac{1}{4} = 1", True),
    (r"\frac12 + \frac14 = \frac34", r"\frac12 + \frac14 = \frac34", True),
    (r"\frac{2}{3} \div \frac{4}{9} = \frac{3}{2}", r"\frac{2}{3} \div \frac{4}{9} = \frac{3}{2}", True),
    (r"\frac{2}{3} \cdot \frac{3}{4} = \frac{1}{3}", r"\frac{2}{3} \cdot \frac{3}{4} = \frac{1}{3}", False),
    (r"\left( 3 + 4 \right) \times 2 = 14", r"\left( 3 + 4 \right) \times 2 = 14", True),
    (r"so the total is \boxed{12 \times 9 = 108}", r"12 \times 9 = 108", True),
    (r"1{,}200 + 300 = 1{,}500", r"1{,}200 + 300 = 1{,}500", True),
    (r"15\% \text{ of } 80 = 12", r"15\% \text{ of } 80 = 12", True),
    (r"180^\circ - 50^\circ - 60^\circ = 70^\circ", r"180^\circ - 50^\circ - 60^\circ = 70", True),
    (r"\$12 + \$8 = \$20", r"\$12 + \$8 = \$20", True),
    ("The meal costs $12 + $8 = $21.", "12 + $8 = $21", False),
])
def test_latex_and_money_forms(text, claim, ok):
    assert judged(text) == [(claim, ok)]


def test_chains_are_one_claim_and_running_totals_are_split():
    assert judged("12 * 9 = 100 + 8 = 108") == [("12 * 9 = 100 + 8 = 108", True)]
    assert judged("12 * 9 = 100 + 8 = 118") == [("12 * 9 = 100 + 8 = 118", False)]
    assert judged("a = 2 + 3 = 5 = b") == [("2 + 3 = 5", True)]
    # a running total written with one "=" too many is two claims, not one false one
    assert judged("3 + 4 = 7 + 2 = 9") == [("3 + 4 = 7", True), ("7 + 2 = 9", True)]
    assert judged("3 + 4 = 7 + 2 = 10") == [("3 + 4 = 7", True), ("7 + 2 = 10", False)]
    [claim] = check_steps("12 * 9 = 100 + 8 = 118").claims
    assert claim.expected == "108"
    assert claim.describe() == "line 1: 12 * 9 = 100 + 8 = 118 is false (12 * 9 = 108)"


def test_carries_and_the_column_method():
    work = "\n".join([
        "  478",
        "+ 356",
        "-----",
        "ones: 8 + 6 = 14, write 4 carry 1",
        "tens: 7 + 5 + 1 = 13, write 3 carry 1",
        "hundreds: 4 + 3 + 1 = 8",
        "so 478 + 356 = 834",
        "check: 834 - 356 = 478 ✓",
        "ones: 7 + 8 + 1 = 15, write 6 carry 1",
    ])
    report = check_steps(work)
    assert [(c.line, c.text, c.ok) for c in report.claims] == [
        (4, "8 + 6 = 14", True), (5, "7 + 5 + 1 = 13", True), (6, "4 + 3 + 1 = 8", True),
        (7, "478 + 356 = 834", True), (8, "834 - 356 = 478", True), (9, "7 + 8 + 1 = 15", False)]
    assert report.describe() == "line 9: 7 + 8 + 1 = 15 is false (7 + 8 + 1 = 16)"


def test_thousands_separators_against_comma_separated_lists():
    assert judged("the numbers 3, 4, 5 sum to 3 + 4 + 5 = 12") == [("3 + 4 + 5 = 12", True)]
    assert judged("the numbers 3, 4, 5 sum to 3 + 4 + 5 = 13") == [("3 + 4 + 5 = 13", False)]
    assert judged("1,234 + 766 = 2,000") == [("1,234 + 766 = 2,000", True)]
    assert judged("so 1,000,000 / 1,000 = 1,000, and 2 + 2 = 4") == [("1,000,000 / 1,000 = 1,000", True),
                                                                   ("2 + 2 = 4", True)]
    assert judged("a = 3, b = 4 + 1 = 5") == [("4 + 1 = 5", True)]
    # European decimal commas and other ambiguous digit runs are not read at all, never as lists or thousands
    assert judged("3,5 + 1,5 = 5") == []
    assert judged("x = 1,234,5 + 1 = 2") == []
    assert judged("3+4=7,8+1=9") == []


@pytest.mark.parametrize("text, expected", [
    ("1/2 ÷ 2/3 = 3/4", [("1/2 ÷ 2/3 = 3/4", True)]),  # after ÷ a written fraction is one operand
    ("1/2 ÷ 2/3 = 1/12", [("1/2 ÷ 2/3 = 1/12", False)]),
    ("6 ÷ 2/3 = 9", [("6 ÷ 2/3 = 9", True)]),
    (r"3/4 \div 1/2 = 3/2", [(r"3/4 \div 1/2 = 3/2", True)]),
    ("1/2 ÷ 2/3 = 1/2 × 3/2 = 3/4", [("1/2 ÷ 2/3 = 1/2 × 3/2 = 3/4", True)]),
    ("6 ÷ 2 / 3 = 1", [("6 ÷ 2 / 3 = 1", True)]),  # spaced: two divisions, left to right
    ("12/4/3 = 1", [("12/4/3 = 1", True)]),  # slashes alone: left to right
    ("3/4 / 1/2 = 3/8", []),  # 3/8 or 3/2: readers differ, not judged
    ("1 ÷ 2/3^2 = 9/4", []),  # (2/3)^2 or 2/9?
])
def test_a_fraction_after_a_division_sign_is_one_operand(text, expected):
    assert judged(text) == expected


def test_sentences_split_on_words_and_punctuation():
    text = "We get 3 + 4 = 7 and 7 * 2 = 15; then 15 - 1 = 14. So 14 / 2 = 7 (since 2 * 7 = 14)"
    assert judged(text) == [("3 + 4 = 7", True), ("7 * 2 = 15", False), ("15 - 1 = 14", True),
                            ("14 / 2 = 7", True), ("2 * 7 = 14", True)]


@pytest.mark.parametrize("text", [
    "3x + 5 = 20", "x = 5", "f(2) = 7", "P(3) = 5", "x - 3 = 5", "2x + 3x = 5x", "a_1 = 3", "S_{10} = 55",
    "x_2 + 3 = 5", "AB + 3 = 8", r"\frac{x}{2} = 3", r"\sqrt{16} = 5", "√16 = 5", "log 100 = 3", "sin 30 = 1",
    "square root of 16 = 5", "e^{2} = 7", "5! = 100", "3² = 6", r"2\pi = 6", "3 + 4 = 7x", "3 * 4 = 12 (x + 1)",
    "g(x) + 2 = 5", "(x + 1) 2 + 3 = 7", "1 + 2 + ... + 10 = 56", r"1 + 2 + \cdots + 10 = 56", "2 ± 1 = 4",
    "Day 3 = 12 apples", "1 1/2 + 1 = 3", r"2\frac{1}{2} = 1", "3:4 = 6:10", "2 + 3 = 1 + 5",
    "10 = 3 (mod 7)", r"2^{10} \equiv 4 \pmod{10}", "15 = 2 mod 13", "1.2 million = 1.3", "2 km = 2000 m",
    "17 / 5 = 3 remainder 2", "17 ÷ 5 = 3, remainder 2", "17 / 5 = 3 R 2", "4 people × 3 = 12", "3 out of 4 = 0.5",
    r"\frac{5!}{3!} = 20", "(2 + 3)² = 10", "(1, 2) + (3, 4) = (4, 6)", r"0.\overline{3} = 1/3",
])
def test_claims_with_anything_but_numbers_are_skipped(text):
    assert check_steps(text).claims == []


@pytest.mark.parametrize("text", [
    "1/3 ≈ 0.33", r"\frac{1}{3} \approx 0.33", "1/3 = 0.333...", r"22/7 = 3.14\ldots", "1/3 = 0.333…",
    "50 + 20% = 60",  # 50 raised by 20%, not 50.2
])
def test_approximations_and_percent_changes_are_skipped(text):
    assert check_steps(text).claims == []


def test_bullets_and_markdown_are_not_signs_or_powers():
    assert judged("- 12 x 9 = 108") == [("12 x 9 = 108", True)]
    assert judged("* 3 + 4 = 7") == [("3 + 4 = 7", True)]
    assert judged("**Step 1:** 3 + 4 = 8") == [("3 + 4 = 8", False)]
    assert judged("**3 + 4 = 7**") == [("3 + 4 = 7", True)]
    assert judged("so -3 + 5 = 2") == [("-3 + 5 = 2", True)]
    assert judged("1) 3 + 4 = 8") == [("3 + 4 = 8", False)]


def test_the_report():
    report = check_steps("Let x = 3.\nThen 2 + 2 = 5,\nand 6 / 3 = 2, but 1/0 = 5")
    assert report.checked == 3 and not report.ok
    assert [claim.line for claim in report.claims] == [2, 3, 3]
    assert [claim.expected for claim in report.claims] == ["4", "2", "undefined"]
    assert [claim.text for claim in report.false_claims] == ["2 + 2 = 5", "1/0 = 5"]
    assert report.describe() == ("line 2: 2 + 2 = 5 is false (2 + 2 = 4); "
                                 "line 3: 1/0 = 5 is false (it divides by zero)")
    assert check_steps("1/3 = 0.33").claims[0].describe() == "line 1: 1/3 = 0.33 is false (1/3 = 1/3 ≈ 0.333333)"
    assert check_steps("3 + 4 = 7").describe() == "1 arithmetic step checked, none false"
    empty = check_steps("no arithmetic here")
    assert empty.ok and empty.checked == 0 and empty.describe() == "no arithmetic steps"
    assert StepReport.model_validate_json(report.model_dump_json()) == report
    with pytest.raises(Exception, match="frozen"):
        report.claims[0].ok = True
    with pytest.raises(TypeError, match="needs a str"):
        check_steps(None)


def test_expected_values_follow_the_claims_notation():
    assert [c.expected for c in check_steps("1/2 + 1/4 = 2/3\n0.5 + 0.25 = 0.7\n30% + 20% = 40%").claims] == [
        "3/4", "0.75", "50%"]
    assert StepClaim(line=1, text="2 + 2 = 5", expected="4", ok=False).describe() == (
        "line 1: 2 + 2 = 5 is false (2 + 2 = 4)")


# Correct reasoning as models write it: not one claim in it may be judged false.
CORRECT = r"""<think>
Okay, so I need to find the total cost. Let me denote the price by $p$, so $p = 12$.
First, 3 notebooks cost $3 \times 12 = 36$ dollars, and 2 pens cost 2 * 4.50 = 9.00.
Total: 36 + 9 = 45. Hmm, wait, let me double-check: 45 - 9 = 36 ✓.
The tax is 8% of 45 = 3.6, so the total is 45 + 3.6 = 48.6.
Let me verify with fractions: \frac{45}{1} \cdot \frac{108}{100} = \frac{4860}{100} = 48.6.
Then $x^2 - 5x + 6 = 0$ gives $(x - 2)(x - 3) = 0$, so $x = 2$ or $x = 3$, and 2 + 3 = 5 = -(-5).
We have f(3) = 9 - 15 + 6 = 0 as expected. Also 2^{10} = 1024 and 10^3 = 1,000.
- The area is 12 × 9 = 108 square units
- The perimeter is 2(12 + 9) = 42 units
1. 180^\circ - 2 \cdot 35^\circ = 110^\circ
2) 1/3 ≈ 0.333, and 22/7 ≈ 3.14
The running total: 3 + 4 = 7 + 5 = 12, so the sum 3 + 4 + 5 = 12.
Numbers 1, 2, 3, ..., 10 sum to 55, since 10 \cdot 11 / 2 = 55.
Since 10 = 3 (mod 7), and \binom{5}{2} = 10, and 5! = 120.
Day 1 = 5 pages, Day 2 = 10 pages, so in all 5 + 10 = 15 pages.
**Step 3:** $\$1{,}250 + \$750 = \$2{,}000$
</think>
So the total is $48.60$, i.e. $\boxed{48.6}$."""


def test_correct_reasoning_has_no_false_claim():
    report = check_steps(CORRECT)
    assert report.ok, report.describe()
    assert report.checked >= 20, [claim.text for claim in report.claims]


@pytest.mark.parametrize("text", [
    "7" * 100_000 + " = 5",  # 10^5 digits
    ",".join(["123"] * 25_000) + " = 1",
    "(" * 1000 + "1" + ")" * 1000 + " = 1",  # nested 1000 deep
    "(" * 100_000 + " = 1",
    "1+" * 50_000 + "1 = 2",
    "1=1" * 30_000,
    r"\frac{" * 20_000 + "= 5",
    r"\text{" * 20_000 + "= 3",
    "=$" * 50_000,
    "2^2^2^2^2^2^2^2^2^2 = 4",
    "9^{9^{9^{9}}} = 1",
    "99999999999999999999999999999999999999999999999999999999999 ^ 99 = 1",
    "1/0 = 5",
    "1 + 1 = 2\n" * 20_000,
    "\x00\ufffd\u202e= 1 + \U0001f600",
])
def test_hostile_text_ends_fast_without_an_exception(text):
    started = time.perf_counter()
    report = check_steps(text)
    assert time.perf_counter() - started < HOSTILE_BOUND_S
    assert report.checked <= 1000


def test_a_value_past_the_bounds_is_skipped_not_judged():
    assert check_steps("1/0 = 5").claims[0].expected == "undefined"
    assert check_steps("2^{100000} = 1").claims == []
    assert check_steps("9" * 61 + " + 1 = 2").claims == []
    assert check_steps(" + ".join(["1"] * 30) + " = 30").claims == []  # 59 tokens: past the bound, never cut


def test_the_checker_never_calls_eval(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    report = check_steps(CORRECT + "\n__import__('os').system('true') = 0\n12 * 9 = 128")
    assert not report.ok and report.false_claims[-1].text == "12 * 9 = 128"
