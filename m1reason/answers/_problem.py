"""The exact value of a problem that only asks for one number-only expression's value ("What is 3 + 4 × 5?",
"Subtract 289 from 512.").

Such a problem states its own check: whatever a sample reasons, its answer is right exactly when it equals the
expression's value. ``expression_value`` reads the problem conservatively: the words around the expression must
all be ones that only ask for it ("what is", "evaluate", "using PEMDAS", "equal to"), or the whole question one of
a few forms that name one operation in words (``_ASKED``: "the sum of", "Subtract ... from ...", "15% of 200");
anything else (a percent of nothing, "as a decimal", "to the nearest tenth", "in base 8", a unit, a second
expression, a variable) means the question asks for more than the value, and nothing is returned; so does a form
whose readers would differ ("the difference between 3 and 8": 5 or -5?). Tokens and
exact values come from ``_arith.py``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction

from m1reason.answers._arith import ARITH, NotArithmetic, evaluate, lex
from m1reason.answers._check import is_equivalent
from m1reason.answers._steps import format_value

__all__ = ["ExpressionValue", "expression_value"]

# Words that ask for an expression's value and say nothing else about the answer.
_ASKING = frozenset({
    "what", "is", "the", "value", "of", "compute", "calculate", "evaluate", "find", "work", "out", "simplify",
    "how", "much", "does", "do", "equal", "equals", "to", "give", "using", "use", "pemdas", "bodmas", "bidmas",
    "order", "operations", "following", "follow", "remember", "expression", "please", "result", "get", "you",
    "solve", "answer", "exact", "exactly",
})
_PUNCTUATION = frozenset({"?", ".", "!", ":", ",", "$"})
_IGNORED = frozenset({"gap", "skip", "dollar"})
_CONTRACTION = re.compile(r"(?i)\b(what|how)['\u2019]s\b")
# An operation said in words between two numbers or fractions ("36 times 25", "3/8 divided by 9/16"), each side
# read whole: the words join what they stand between, not the digits next to them.
_OPERAND = r"(-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|\(\d+/\d+\))"
_SAID = re.compile(rf"(?i)(?<![\d.,/]){_OPERAND}\s+(plus|minus|times|multiplied by|divided by|take away)\s+"
                   rf"{_OPERAND}(?![\d/]|[.,]\d)")  # a full stop or comma after the number ends it
_SIGNS = {"plus": "+", "minus": "-", "times": "*", "multiplied by": "*", "divided by": "/", "take away": "-"}


@dataclass(frozen=True)
class ExpressionValue:
    """A problem's expression as it is written and its exact value; for an equation in one unknown
    (``equation_solution``), the equation and the unknown's one solution.

    >>> found = expression_value("What is 3 + 4 × 5?")
    >>> found.expression, found.value, found.shown
    ('3 + 4 × 5', Fraction(23, 1), '23')
    """

    expression: str
    value: Fraction
    unknown: str | None = None  # set when the expression is an equation and the value its unknown's solution

    @property
    def shown(self) -> str:
        """The value as an answer writes it: an integer, a terminating decimal, else a fraction ``a/b``."""
        return format_value(self.value, "decimal")

    @property
    def stated(self) -> str:
        """What the value is, in words: ``the exact value of 3 + 4 × 5`` or ``the one solution of 3x + 7 = 22``."""
        if self.unknown is not None:
            return f"the one solution of {self.expression}"
        return f"the exact value of {self.expression}"

    @property
    def worked(self) -> str:
        """The check itself: ``3 + 4 × 5 = 23`` or ``3x + 7 = 22 holds for x = 5``."""
        if self.unknown is not None:
            verb = "hold" if " and " in self.expression else "holds"  # two equations (``system_value``)
            return f"{self.expression} {verb} for {self.unknown} = {self.shown}"
        return f"{self.expression} = {self.shown}"

    def holds_for(self, answer: str) -> bool:
        """Whether ``answer`` is this value (by ``is_equivalent``, the graders' rule: ``0.5`` for ``1/2``).

        >>> expression_value("Compute 1/2 + 1/4.").holds_for("0.75"), expression_value("What is 9 - 12?").holds_for("3")
        (True, False)
        """
        return is_equivalent(answer, self.shown)

    def describe_false(self, answer: str) -> str:
        """One line for a person: why ``answer`` is wrong.

        >>> expression_value("What is 3 + 50 * 2?").describe_false("13")
        'the answer 13 is false (3 + 50 * 2 = 103)'
        """
        return f"the answer {answer} is false ({self.worked})"


_NUMBER = r"(?:-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|\(\d+/\d+\))"  # "(7/2)": a mixed number, as _improper writes it
_LIST = rf"{_NUMBER}(?:, {_NUMBER})*,? and {_NUMBER}"
_SERIES = rf"{_NUMBER}(?:, {_NUMBER})+|{_LIST}"  # "14, 29, 8" as well as "14, 29 and 8"
_OPENING = r"(?:(?:what is|find|compute|calculate|work out|give) )?"
_MORE = r"(?:more|greater|larger|bigger|higher)"
_LESS = r"(?:less|smaller|lower|fewer)"
_PERCENT = r"(\d+(?:\.\d+)?)%"


def _in_order(sign: str):
    """The expression of a form whose two numbers stand in the order they are worked: "Divide 1,728 by 12"."""
    return lambda m: f"{_whole(m[1])} {sign} {_whole(m[2])}"


def _reversed(sign: str):
    """The expression of a form that names its numbers the other way round: "Subtract 289 from 512"."""
    return lambda m: f"{_whole(m[2])} {sign} {_whole(m[1])}"


# Questions that name their operation in words ("Subtract 289 from 512."), as the expression each asks for, or
# None where the words leave the value open ("the difference between 3 and 8": 5 or -5?).
_ASKED = (
    (rf"{_OPENING}the sum of ({_LIST})", lambda m: " + ".join(_numbers(m[1]))),
    (rf"add (?:up )?({_LIST})", lambda m: " + ".join(_numbers(m[1]))),
    (rf"(?:add up|{_OPENING}the total(?: of)?:?) ({_NUMBER}(?: \+ {_NUMBER})+)", lambda m: m[1]),
    (rf"add ({_NUMBER}) to ({_NUMBER})", _reversed("+")),
    (rf"increase ({_NUMBER}) by ({_NUMBER})", _in_order("+")),
    (rf"(?:what number is |{_OPENING})({_NUMBER}) {_MORE} than ({_NUMBER})", _reversed("+")),
    (rf"{_OPENING}the product of ({_LIST})", lambda m: " * ".join(_numbers(m[1]))),
    (rf"multiply ({_NUMBER}) (?:by|and) ({_NUMBER})", _in_order("*")),
    (rf"(double|triple) ({_NUMBER})", lambda m: f"{2 if m[1] == 'double' else 3} * {_whole(m[2])}"),
    (rf"{_OPENING}the (square|cube) of (\d[\d,]*(?:\.\d+)?)", lambda m: f"{m[2]}^{2 if m[1] == 'square' else 3}"),
    (rf"{_OPENING}(\d[\d,]*(?:\.\d+)?) (squared|cubed)", lambda m: f"{m[1]}^{2 if m[2] == 'squared' else 3}"),
    (rf"subtract ({_NUMBER}) from ({_NUMBER})", _reversed("-")),
    (rf"take ({_NUMBER}) away from ({_NUMBER})", _reversed("-")),
    (rf"decrease ({_NUMBER}) by ({_NUMBER})", _in_order("-")),
    (rf"(?:what number is |{_OPENING})({_NUMBER}) {_LESS} than ({_NUMBER})", _reversed("-")),
    (rf"what (?:number )?must be added to ({_NUMBER}) to (?:make|get|give) ({_NUMBER})", _reversed("-")),
    (rf"{_OPENING}the difference (?:between|of) ({_NUMBER}) and ({_NUMBER})", lambda m: _down(m[1], m[2])),
    (rf"how much {_MORE} is ({_NUMBER}) than ({_NUMBER})", lambda m: _down(m[1], m[2])),
    (rf"how much {_LESS} is ({_NUMBER}) than ({_NUMBER})", lambda m: _down(m[2], m[1])),
    (rf"divide ({_NUMBER}) by ({_NUMBER})", _in_order("/")),
    (rf"{_OPENING}the quotient of ({_NUMBER}) and ({_NUMBER})", _in_order("/")),
    (r"how many times does (\d[\d,]*) go into (\d[\d,]*)", lambda m: _whole_times(m[2], m[1])),
    (rf"{_OPENING}the (?:mean|average|arithmetic mean) of ({_SERIES})",
     lambda m: f"({' + '.join(_numbers(m[1]))}) / {len(_numbers(m[1]))}"),
    (rf"{_OPENING}the range of ({_SERIES})", lambda m: _range(_numbers(m[1]))),
    (rf"{_OPENING}{_PERCENT} of ({_NUMBER})", lambda m: f"{m[1]}/100 * {_whole(m[2])}"),
    (rf"{_OPENING}(\d+/\d+) of ({_NUMBER})", lambda m: f"({m[1]}) * {_whole(m[2])}"),
    (rf"increase ({_NUMBER}) by {_PERCENT}", lambda m: f"{_whole(m[1])} + {m[2]}/100 * {_whole(m[1])}"),
    (rf"decrease ({_NUMBER}) by {_PERCENT}", lambda m: f"{_whole(m[1])} - {m[2]}/100 * {_whole(m[1])}"),
    (rf"what percent(?:age)? of ({_NUMBER}) is ({_NUMBER})", lambda m: f"{_whole(m[2])} / {_whole(m[1])} * 100"),
    (rf"(?:({_NUMBER}) is what percent(?:age)? of|what percent(?:age)? is ({_NUMBER}) (?:of|out of)) ({_NUMBER})",
     lambda m: f"{_whole(m[1] or m[2])} / {_whole(m[3])} * 100"),
    (rf"({_NUMBER}) is {_PERCENT} of what(?: number)?", lambda m: f"{_whole(m[1])} / ({m[2]}/100)"),
)
_ASKED_FORMS = tuple((re.compile(form), expression) for form, expression in _ASKED)
# A question may frame its operation as what you get: "What do you get if you add 99 and 87?", "If you add 99 and
# 87, what do you get?"
_FRAMED = re.compile(r"(?:what do you get (?:if|when) you |if you )?(.*?)(?:,? what do you get)?", re.DOTALL)


def _numbers(listed: str) -> list[str]:
    return [_whole(n) for n in re.split(r",? and |, ", listed)]


def _exact(operand: str) -> Fraction:
    return Fraction(operand.strip("()").replace(",", ""))


def _down(larger: str, smaller: str) -> str | None:
    """``larger - smaller`` when it is not negative: read either way round, such a difference is the same."""
    return f"{_whole(larger)} - {_whole(smaller)}" if _exact(larger) >= _exact(smaller) else None


def _whole_times(whole: str, part: str) -> str | None:
    """``whole / part`` when ``part`` goes into ``whole`` exactly (else the question may want the whole times)."""
    return f"{whole} / {part}" if _exact(part) and _exact(whole) % _exact(part) == 0 else None


def _range(numbers: list[str]) -> str:
    ordered = sorted(numbers, key=_exact)
    return f"{ordered[-1]} - {ordered[0]}"


def _asked_in_words(text: str) -> str | None:
    """The expression a question that names its operation in words asks for (the whole question must be one of
    ``_ASKED``'s forms), else None.

    >>> _asked_in_words("Subtract 289 from 512."), _asked_in_words("Add 0.35, 1.2 and 4.05.")
    ('512 - 289', '0.35 + 1.2 + 4.05')
    >>> _asked_in_words("Add them up.") is None
    True
    """
    asked = _FRAMED.fullmatch(text.replace("$", "").strip().rstrip(".?!").strip().lower())[1]  # "Divide $7$ by 3"
    for form, expression in _ASKED_FORMS:
        found = form.fullmatch(asked)
        if found:
            try:
                return expression(found)
            except (ValueError, ZeroDivisionError):  # "1,,2" or "1/0" is no number to compare
                return None
    return None


def _implicit_product(run: list) -> bool:
    """Whether two operands stand side by side with no operator between them (``2(3 + 4)``, ``(1 + 2)(3 + 4)``);
    LaTeX's braces group (``\\frac{4}{9}``), they never multiply."""
    return any(a.kind in ("num", "rp") and a.text != "}" and b.text == "(" or a.text == ")" and b.kind == "num"
               for a, b in zip(run, run[1:]))


def _whole(operand: str) -> str:
    """An operand read whole: a fraction or a negative number in brackets."""
    if operand.startswith("("):
        return operand
    return f"({operand})" if "/" in operand or operand.startswith("-") else operand


# A mixed number: a whole number, then a proper fraction after a space ("2 3/4") or a LaTeX one ("2\frac{3}{4}"),
# as the answer checker reads one (``_normalize.py``). Not after a decimal point, a slash or a comma ("2.5 1/2",
# "3/4 1/2", "1, 2/3"), and not where another digit or slash goes on ("2 3/45/6").
_MIXED = re.compile(r"(?<![\d.,/])(\d+)(?:[ \t]+(\d+)/(\d+)|\s*\\[dtc]?frac\{(\d+)\}\{(\d+)\})(?![\d/]|\.\d)")


def _improper(text: str) -> str:
    """``text`` with each mixed number written as its improper fraction in brackets: ``2 1/2 + 1 3/4`` ->
    ``(5/2) + (7/4)``, so an operation binds to the whole number (``8 ÷ 2 1/2`` is 16/5). A fraction that is not
    proper (``2 5/4``) leaves the text as it is.

    >>> _improper(r"What is 2 1/2 + 1 3/4?"), _improper(r"$3\\frac{1}{3} - 1\\frac{5}{6}$"), _improper("6 - 2 5/4")
    ('What is (5/2) + (7/4)?', '$(10/3) - (11/6)$', '6 - 2 5/4')
    """
    def improper(m: re.Match) -> str:
        whole, numerator, denominator = int(m[1]), int(m[2] or m[4]), int(m[3] or m[5])
        if not 0 < numerator < denominator:
            return m[0]
        return f"({whole * denominator + numerator}/{denominator})"
    return _MIXED.sub(improper, text)


def expression_value(problem: str) -> ExpressionValue | None:
    """The problem's expression and its exact value when the problem only asks for the value of one number-only
    expression (``+ - * /``, ``×``, ``÷``, ``−``, ``^``, brackets, ``\\frac``, thousands separators, "plus",
    "minus", "times", "divided by"), or names one operation in words ("the sum of 12 and 7", "Subtract 289 from
    512", "How much greater is 9,050 than 6,785?", "the mean of 4, 8 and 15", "Increase 250 by 8%", "What percent
    of 50 is 18?"; ``_ASKED``); None for any other problem, for a form whose readers would differ, and for one
    that divides by zero or runs past the checker's bounds.

    >>> expression_value(r"Evaluate $(8 + 2) \\times 6 - 4$.").value
    Fraction(56, 1)
    >>> expression_value("Simplify: 2 × [3 + (10 − 4) × 2]").value, expression_value("What's 72 minus 48?").value
    (Fraction(30, 1), Fraction(24, 1))
    >>> found = expression_value("What is 3/8 divided by 9/16?"); found.expression, found.value
    ('(3/8) / (9/16)', Fraction(2, 3))
    >>> expression_value("Find the sum of 12,345 and 6,789.").value, expression_value("What is 15% of 200?").value
    (Fraction(19134, 1), Fraction(30, 1))
    >>> expression_value("How much greater is 9,050 than 6,785?").expression
    '9,050 - 6,785'
    >>> expression_value("Find the difference between 3 and 8.") is None  # 5 or -5: readers differ
    True
    >>> [expression_value(p) for p in ("What is 50 + 20%?", "What is 7/8 as a decimal?", "Solve 3x + 5 = 20.",
    ...                                 "What is 12?", "What is 5 / (3 - 3)?")]
    [None, None, None, None, None]
    """
    if not isinstance(problem, str):
        raise TypeError(f"expression_value needs a str, got {type(problem).__name__}")
    return _read(problem)


@functools.lru_cache(maxsize=256)  # a strategy's planner and its sampling loop both read the same problem
def _read(problem: str) -> ExpressionValue | None:
    text = _improper(_CONTRACTION.sub(r"\1 is", problem).replace("[", "(").replace("]", ")"))
    text = _asked_in_words(text) or text
    text = _SAID.sub(lambda m: f"{_whole(m[1])} {_SIGNS[m[2].lower()]} {_whole(m[3])}", text)
    tokens = [t for t in lex(text) if t.kind not in _IGNORED]
    runs: list[list] = [[]]
    for i, token in enumerate(tokens):
        if token.kind in ARITH:
            runs[-1].append(token)
            continue
        if runs[-1]:
            runs.append([])
        if token.kind == "word" and token.text.lower() in _ASKING:
            continue
        if token.kind == "sep" and token.text in _PUNCTUATION:
            continue
        if token.kind == "eq" and all(t.kind == "sep" and t.text in "?.$" for t in tokens[i + 1:]):
            continue  # "10 + 2 * 3 = ?"
        return None
    runs = [run for run in runs if run]
    if len(runs) != 1:
        return None
    [run] = runs
    if any(t.percent for t in run) or not any(t.kind in ("op", "frac") for t in run):
        return None
    if run[0].kind == "op" and run[0].text != "-":
        return None
    if _implicit_product(run) and any(t.kind == "op" and t.text == "/" for t in run):
        return None  # "6 ÷ 2(1 + 2)": readers disagree on whether the product binds first
    try:
        value = evaluate(run)
    except (NotArithmetic, ZeroDivisionError):
        return None
    return ExpressionValue(expression=text[run[0].start:run[-1].end], value=value)
