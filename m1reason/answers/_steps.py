"""The arithmetic step checker: find the number-only claims a reasoning text makes ("12 * 9 = 108") and judge them.

It owns which spans of a line are claims and what is left alone (anything with a variable, a function, a command
it does not know, an approximation), and the report. Tokens and exact values come from ``_arith.py``. It knows
nothing of samples or votes: what a false step means for a vote is the strategies' business (docs/answers.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from pydantic import BaseModel, ConfigDict, Field

from m1reason.answers._arith import ARITH, MAX_TOKENS, NotArithmetic, Token, evaluate, lex

MAX_CLAIMS = 1000  # claims judged per text: a degenerate sample that repeats one line forever costs no more

# A number beside one of these words is something else: a function's argument ("log 100", "square root of 16"),
# a scale ("1.2 million"), a word operator ("3 times 4", "15 percent"). Such claims are skipped, not judged.
_BINDING_WORDS = frozenset({
    "of", "sqrt", "root", "roots", "log", "ln", "lg", "exp", "sin", "cos", "tan", "cot", "sec", "csc", "arcsin",
    "arccos", "arctan", "sinh", "cosh", "tanh", "pi", "squared", "cubed", "factorial", "times", "plus", "minus",
    "over", "divided", "multiplied", "by", "mod", "modulo", "percent", "percentage", "gcd", "lcm", "max", "min",
    "floor", "ceil", "ceiling", "abs", "choose", "power", "point", "hundred", "thousand", "million", "billion",
    "trillion", "dozen", "half", "halves", "third", "thirds", "quarter", "quarters", "twice", "double", "triple",
    "thrice", "th", "st", "nd", "rd",
})
# A line that speaks of congruences or remainders uses "=" for them: "10 = 3 (mod 7)", "17 / 5 = 3, remainder 2".
_NOT_ARITHMETIC_LINE = frozenset({"remainder", "remainders", "rem", "modulo", "mod", "congruent"})
# Prose after which a "-" starts a negative number ("so -3 + 5 = 2"); after other words it may be a subtraction
# whose left side we cannot see ("x - 3 = 5"), and the claim is skipped.
_SIGN_AFTER = frozenset({
    "is", "are", "was", "were", "be", "so", "then", "thus", "hence", "therefore", "get", "gets", "got", "gives",
    "give", "yields", "yield", "equals", "becomes", "and", "or", "have", "has", "compute", "calculate", "evaluate",
    "check", "now", "also", "which", "that", "we", "with",
})
_SEPARATING = frozenset({"sep", "rel", "approx", "eq"})
_PLAIN = re.compile(r"\(*[-+]?(?:n|n/n|fnn|f\(n\)\(n\))\)*")
_DIGIT = re.compile(r"[0-9\uff10-\uff19]")
_LEFT = re.compile(r"\s*&?\s*[=\uff1d]")


class StepClaim(BaseModel):
    """One arithmetic claim: its ``line`` (1-based), ``text`` as written, the exact value of its left side
    (``expected``: "108", "3/4", "0.25", "55%", or "undefined" when it divides by zero) and whether it holds.

    >>> claim = StepClaim(line=3, text="12 * 9 = 128", expected="108", ok=False)
    >>> claim.describe()
    'line 3: 12 * 9 = 128 is false (12 * 9 = 108)'
    """

    model_config = ConfigDict(frozen=True)

    line: int = Field(ge=1)
    text: str
    expected: str
    ok: bool

    def describe(self) -> str:
        """One line for a person: the claim, and what it should say when it is false."""
        if self.ok:
            return f"line {self.line}: {self.text} is true"
        if self.expected == "undefined":
            return f"line {self.line}: {self.text} is false (it divides by zero)"
        left = _LEFT.split(self.text, maxsplit=1)[0].strip()
        shown = self.expected
        if "/" in shown and "." in self.text:  # "1/3 = 0.33": the exact value, and enough digits to compare
            shown += f" \u2248 {float(Fraction(shown)):.6g}"
        return f"line {self.line}: {self.text} is false ({left} = {shown})"


class StepReport(BaseModel):
    """Every arithmetic claim ``check_steps`` found in a text, in order, each judged.

    >>> report = StepReport(claims=[StepClaim(line=1, text="7 + 8 = 15", expected="15", ok=True),
    ...                             StepClaim(line=3, text="12 * 9 = 128", expected="108", ok=False)])
    >>> report.checked, report.ok, report.describe()
    (2, False, 'line 3: 12 * 9 = 128 is false (12 * 9 = 108)')
    """

    model_config = ConfigDict(frozen=True)

    claims: list[StepClaim] = Field(default_factory=list)

    @property
    def false_claims(self) -> list[StepClaim]:
        """The claims that do not hold, in order."""
        return [claim for claim in self.claims if not claim.ok]

    @property
    def checked(self) -> int:
        """How many claims were judged."""
        return len(self.claims)

    @property
    def ok(self) -> bool:
        """No claim is false (also when there was none to judge)."""
        return all(claim.ok for claim in self.claims)

    def describe(self) -> str:
        """One line: the false claims, or how many were checked."""
        if self.ok:
            steps = "1 arithmetic step" if self.checked == 1 else f"{self.checked} arithmetic steps"
            return f"{steps} checked, none false" if self.claims else "no arithmetic steps"
        return "; ".join(claim.describe() for claim in self.false_claims)


def check_steps(text: str) -> StepReport:
    """Judge every number-only claim ``<expression> = <number>`` (chains ``a = b = c`` too) in ``text``, exactly.

    Claims with a variable, a function or anything but numbers, + - * / ^ and brackets are skipped, as are
    approximations (``≈``, a number that trails off in ``...``); see docs/answers.md, "Checking arithmetic steps".

    >>> report = check_steps("ones: 7 + 8 + 1 = 16, write 6 carry 1\\nso $12 \\\\times 9 = 128$ and 3x + 5 = 20")
    >>> report.checked, [claim.ok for claim in report.claims]
    (2, [True, False])
    >>> print(report.describe())
    line 2: 12 \\times 9 = 128 is false (12 \\times 9 = 108)
    """
    if not isinstance(text, str):
        raise TypeError(f"check_steps needs a str, got {type(text).__name__}")
    claims: list[StepClaim] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if ("=" in line or "\uff1d" in line) and _DIGIT.search(line):
            claims.extend(_line_claims(line, number))
            if len(claims) >= MAX_CLAIMS:
                del claims[MAX_CLAIMS:]
                break
    return StepReport(claims=claims)


@dataclass(frozen=True)
class _Piece:
    """One side of an "=": its span in the line and exact value (None: it divides by zero)."""

    start: int
    end: int
    value: Fraction | None
    plain: bool  # a number as written (7, -7, 3/4, \frac34, 0.25, 15%), not an expression
    bare: bool  # one number, nothing else
    lead: _Piece | None  # the number it starts with when an operator follows (a running total's last value)
    percents: int  # numbers written with % that scale nothing ("20%" in "50 + 20%", not in "20% of 50")
    numbers: int  # numbers written without %
    decimal: bool


def _line_claims(line: str, number: int) -> list[StepClaim]:
    tokens = lex(line)
    if any(t.kind == "mod" or (t.kind == "word" and t.text.lower() in _NOT_ARITHMETIC_LINE) for t in tokens):
        return []
    bounds = [-1, *(i for i, token in enumerate(tokens) if token.kind == "eq"), len(tokens)]
    parts = [(bounds[k] + 1, bounds[k + 1]) for k in range(len(bounds) - 1)]
    claims: list[StepClaim] = []
    run = _started(_tail(tokens, *parts[0]))
    for lo, hi in parts[1:]:
        whole = _whole(tokens, lo, hi)
        if whole is not None:  # between two "=" (or an "=" and the line's end): a link of the chain
            run.append(whole)
            continue
        head = _head(tokens, lo, hi)
        claims += _judge(run + _started(head), line, number)
        run = _started(_tail(tokens, lo, hi))
    return claims + _judge(run, line, number)


def _started(piece: _Piece | None) -> list[_Piece]:
    return [] if piece is None else [piece]


def _whole(tokens: list[Token], lo: int, hi: int) -> _Piece | None:
    span = tokens[lo:hi]
    if not span or len(span) > MAX_TOKENS or any(token.kind not in ARITH for token in span):
        return None
    return _piece(span)


def _tail(tokens: list[Token], lo: int, hi: int) -> _Piece | None:
    """The expression that ends just before an "=", when its left edge is clean (prose, punctuation, the
    line's start), never a variable, a function or a command whose argument it is."""
    start = hi
    while start > lo and tokens[start - 1].kind in ARITH:
        start -= 1
        if hi - start > MAX_TOKENS:
            return None  # never cut: the last 40 tokens of a longer sum are a different sum
    begin, open_at = start, []
    for i in range(start, hi):
        if tokens[i].kind == "lp":
            open_at.append(i)
        elif tokens[i].kind == "rp":
            if open_at:
                open_at.pop()
            elif i <= 3 and tokens[i].gap_after:  # a list label: "1) 3 + 4 = 7", "(a) 3 + 4 = 7"
                begin = i + 1
            else:  # "\frac{x}{2} = 3": the group closes something we do not see
                return None
    if open_at:  # "(so 3 + 4 = 7)", "2 \times (3 + 4 = 7)"
        begin = open_at[-1] + 1
    span, before = tokens[begin:hi], tokens[begin - 1] if begin > 0 else None
    if not span or not _clean_left(before):
        return None
    if span[0].kind == "op" and not (span[0].text == "-" and _sign_may_follow(before)):
        return None  # "3x + 5 = 20": the "+" joins something that is not a number
    piece = _piece(span)
    if piece is not None and piece.bare and before is not None and before.kind == "word":
        return None  # "Day 3 = 12", "Case 2 = ...": a label, not a claim that 3 is 12
    return piece


def _head(tokens: list[Token], lo: int, hi: int) -> _Piece | None:
    """The expression that starts just after an "=", when its right edge is clean (prose, punctuation, a
    remark in brackets, the line's end), never a variable, a unit-less scale word or a command."""
    end = lo
    while end < hi and tokens[end].kind in ARITH:
        end += 1
        if end - lo > MAX_TOKENS:
            return None
    stop, open_at = end, []
    for i in range(lo, end):
        if tokens[i].kind == "lp":
            open_at.append(i)
        elif tokens[i].kind == "rp":
            if not open_at:
                stop = i
                break
            open_at.pop()
    else:
        if open_at:
            stop = open_at[0]
    span = tokens[lo:stop]
    if not span or not _clean_right(tokens, stop):
        return None
    return _piece(span)


def _clean_left(before: Token | None) -> bool:
    if before is None or before.kind in _SEPARATING or before.kind in ("lp", "rp"):
        return True
    return before.kind == "word" and before.gap_after and _prose(_words(before)[-1])


def _clean_right(tokens: list[Token], stop: int) -> bool:
    after = tokens[stop] if stop < len(tokens) else None
    if after is None or after.kind in _SEPARATING or after.kind == "rp":
        return True
    if after.kind == "lp":  # "= 108 (since ...)" is a remark; "= 3 (n - 1)" goes on with a variable
        inside = tokens[stop + 1] if stop + 1 < len(tokens) else None
        return inside is not None and inside.kind == "word" and len(_words(inside)[0]) >= 3 and _prose(
            _words(inside)[0])
    return after.kind == "word" and after.gap_before and _prose(_words(after)[0])


def _sign_may_follow(before: Token | None) -> bool:
    if before is None or before.kind in _SEPARATING or before.kind in ("lp", "rp"):
        return True
    return before.kind == "word" and before.gap_after and _words(before)[-1].lower() in _SIGN_AFTER


def _words(token: Token) -> list[str]:
    return token.text.split() or [""]


def _prose(word: str) -> bool:
    """A word that can stand beside a number without changing it: not a variable (one letter) nor a binding word."""
    return len(word) >= 2 and word.lower() not in _BINDING_WORDS


def _piece(span: list[Token]) -> _Piece | None:
    try:
        value = evaluate(span)
    except NotArithmetic:
        return None
    except ZeroDivisionError:
        value = None
    numbers = [token for token in span if token.kind == "num"]
    shape = "".join("n" if t.kind == "num" else "f" if t.kind == "frac" else t.text if t.kind == "op" else
                    "(" if t.kind == "lp" else ")" for t in span)
    first = span[0]
    lead = None
    if len(span) > 2 and first.kind == "num" and span[1].kind == "op":
        lead = _Piece(first.start, first.end, first.value, plain=True, bare=True, lead=None,
                      percents=int(first.percent), numbers=int(not first.percent), decimal=first.decimal)
    return _Piece(first.start, span[-1].end, value, plain=_PLAIN.fullmatch(shape) is not None, bare=shape == "n",
                  lead=lead, percents=sum(t.percent and not t.percent_of for t in numbers),
                  numbers=sum(not t.percent for t in numbers), decimal=any(t.decimal for t in numbers))


def _judge(run: list[_Piece], line: str, number: int) -> list[StepClaim]:
    """The claims of one chain: it is split where a running total goes on ("3 + 4 = 7 + 2 = 9" is two claims,
    3 + 4 = 7 and 7 + 2 = 9: notation that is sloppy, not arithmetic that is false)."""
    chains, current = [], run[:1]
    for piece in run[1:]:
        last = current[-1]
        lead = piece.lead
        if lead is not None and last.value is not None and piece.value != last.value and lead.value == last.value:
            chains.append([*current, lead])
            current = [piece]
        else:
            current.append(piece)
    chains.append(current)
    return [claim for chain in chains if (claim := _claim(chain, line, number)) is not None]


def _claim(pieces: list[_Piece], line: str, number: int) -> StepClaim | None:
    if len(pieces) < 2 or not any(piece.plain for piece in pieces):
        return None  # no side is a number as written: "2 + 3 = 1 + 4" is no step's result
    percents, numbers = sum(p.percents for p in pieces), sum(p.numbers for p in pieces)
    if percents and numbers:
        return None  # "50 + 20% = 60" means 50 raised by 20%, not 50.2: not judged
    values = [piece.value for piece in pieces]
    ok = None not in values and all(value == values[0] for value in values)
    style = "percent" if percents else "decimal" if any(p.decimal for p in pieces) else "fraction"
    expected = "undefined" if None in values else format_value(values[0], style)
    return StepClaim(line=number, text=line[pieces[0].start:pieces[-1].end], expected=expected, ok=ok)


def format_value(value: Fraction, style: str) -> str:
    """``value`` as a claim (``style``: "percent", "decimal" or "fraction") writes numbers: a percent, a terminating
    decimal, else an integer or a fraction ``a/b``.

    >>> format_value(Fraction(-1, 8), "decimal"), format_value(Fraction(2, 3), "decimal")
    ('-0.125', '2/3')
    """
    if style == "percent":
        return format_value(value * 100, "decimal") + "%"
    if value.denominator == 1:
        return str(value.numerator)
    if style == "decimal":
        rest, places = value.denominator, 0
        for prime in (2, 5):
            count = 0
            while rest % prime == 0:
                rest, count = rest // prime, count + 1
            places = max(places, count)
        if rest == 1 and places <= 30:
            digits = str(abs(value.numerator) * 10**places // value.denominator).rjust(places + 1, "0")
            return ("-" if value < 0 else "") + digits[:-places] + "." + digits[-places:]
    return f"{value.numerator}/{value.denominator}"
