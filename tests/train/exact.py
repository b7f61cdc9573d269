"""Exact reading of the generated problems for the data tests, never eval: a small parser of ``+ - * / ^ ( )``
over Fractions (with single-letter variables and implicit products for equations), the ``expr = number``
claims a step makes, and the problems' notation (LaTeX, ×, ÷, thousands separators) turned back into plain maths.
"""

from __future__ import annotations

import re
from fractions import Fraction

NUMBER = r"\d+(?:\.\d+)?"
_TOKEN = re.compile(rf"\s*(?:(?P<num>{NUMBER})|(?P<var>[a-z])|(?P<op>[-+*/()^]))")
# A claim: numbers, + - * / and brackets, then "= number" (an integer, a decimal or a fraction a/b).
_CLAIM = re.compile(rf"\(*-?\d[\d./()+\-*^ ]*?\s*=\s*(?P<rhs>-?{NUMBER}(?:/\d+)?)(?![\d.])")


class _Parser:
    def __init__(self, text: str, variables: dict[str, Fraction]):
        self.tokens, self.at, self.variables = [], 0, variables
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if not match:
                raise ValueError(f"cannot read {text[position:]!r} in {text!r}")
            self.tokens.append(match.group(match.lastgroup))
            position = match.end()

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        self.at += 1
        return self.tokens[self.at - 1]

    def expression(self) -> Fraction:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> Fraction:
        value = self.unary()
        while True:
            nxt = self.peek()
            if nxt in ("*", "/"):
                self.take()
                value = value * self.unary() if nxt == "*" else value / self.unary()
            elif nxt == "(" or (nxt is not None and nxt.isalpha()):  # 5x, 3(x + 2)
                value = value * self.atom()
            else:
                return value

    def unary(self) -> Fraction:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        return self.power()

    def power(self) -> Fraction:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            return base ** int(self.atom())
        return base

    def atom(self) -> Fraction:
        token = self.take()
        if token == "(":
            value = self.expression()
            if self.take() != ")":
                raise ValueError("unbalanced brackets")
            return value
        if token.isalpha():
            return self.variables[token]
        return Fraction(token)


def evaluate(text: str, variables: dict[str, Fraction] | None = None) -> Fraction:
    """The exact value of ``text`` (numbers, + - * /, brackets; variables from ``variables``)."""
    parser = _Parser(text, variables or {})
    value = parser.expression()
    if parser.peek() is not None:
        raise ValueError(f"unread {parser.tokens[parser.at:]} in {text!r}")
    return value


def number(text: str) -> Fraction:
    """An answer or claim number: integer, decimal, ``a/b``, or a mixed number ``w a/b``."""
    whole, _, part = text.strip().partition(" ")
    if part:
        return Fraction(whole) + Fraction(part)
    return Fraction(text.strip())


def _math_side(text: str, start: int, step: int) -> str:
    """The maths next to position ``start`` going left (-1) or right (+1): digits, operators, brackets, spaces
    and single letters (variables), stopping at a word of two letters or at punctuation."""
    i = start
    while 0 <= i < len(text):
        c = text[i]
        if c.isalpha():
            if (i - 1 >= 0 and text[i - 1].isalpha()) or (i + 1 < len(text) and text[i + 1].isalpha()):
                break
        elif c not in "0123456789+-*/()^. ":
            break
        i += step
    return text[i + 1:start + 1] if step < 0 else text[start:i]


def equations(text: str) -> list[tuple[str, str]]:
    """Every ``left = right`` in ``text`` (plain maths), each side cut where the maths ends."""
    out = []
    for match in re.finditer("=", text):
        left = _math_side(text, match.start() - 1, -1).strip()
        right = _math_side(text, match.end(), 1).strip().rstrip(".").strip()
        out.append((left, right))
    return out


def claims(line: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The ``expr = number`` claims of a step line, and the problems found: an ``=`` that is neither a claim nor
    next to a variable, or a claim whose right side goes on as an expression (``= 9/12 + 2/12``)."""
    found, problems, covered = [], [], set()
    for match in _CLAIM.finditer(line):
        start = match.start()
        before = line[:start].rstrip()
        if (start and (line[start - 1].isalnum() or line[start - 1] == ".")) or (before and before[-1] in "+-*/(="):
            continue
        expr = line[start:line.index("=", start)].strip()
        if expr.count("(") != expr.count(")"):
            continue
        rest = line[match.end():].lstrip()
        if rest[:1] in ("+", "-", "*", "/", "="):
            problems.append(f"claim goes on after its number: {line!r}")
        found.append((expr, match.group("rhs")))
        covered.add(line.index("=", start))
    for match in re.finditer("=", line):
        if match.start() in covered:
            continue
        left = _math_side(line, match.start() - 1, -1)
        right = _math_side(line, match.end(), 1)
        if not re.search("[a-z]", left + right):
            problems.append(f"an '=' that is no checkable claim: {line!r}")
    return found, problems


def plain(text: str, *, times_x: bool = True) -> str:
    """A problem's maths in plain notation: no ``$``, ``\\frac{a}{b}`` and a tight ``a/b`` as ``(a/b)``, a LaTeX
    mixed number as ``(w + a/b)``, ×, ·, x, \\times, \\cdot as ``*``, ÷ and \\div as ``/``, no thousands commas."""
    t = text.replace("$", "")
    t = re.sub(r"(\d+)\\frac\{(\d+)\}\{(\d+)\}", r"(\1 + \2/\3)", t)
    t = re.sub(r"\\frac\{([^{}]+)\}\{([^{}]+)\}", r"((\1)/(\2))", t)
    for sign in ("\\times", "\\cdot", "×", "·"):
        t = t.replace(sign, " * ")
    t = t.replace("\\div", "/").replace("÷", "/").replace("\\%", "%").replace("−", "-")
    t = t.replace("²", "^2").replace("³", "^3").replace("^{2}", "^2").replace("^{3}", "^3")
    t = re.sub(r"(?<=\d)(?:,|\{,\}|\\,)(?=\d{3}(?!\d))", "", t)
    if times_x:
        t = re.sub(r"(?<=[\d)])\s+x\s+(?=[-(\d])", " * ", t)
    t = re.sub(r"(?<![\d./])(\d+)/(\d+)(?!\d|\.\d)", r"(\1/\2)", t)
    return re.sub(r"\s+", " ", t)


_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_UNIT = "(?:" + "|".join(sorted(_UNITS, key=len, reverse=True)) + ")"
_BELOW_100 = rf"(?:(?:{'|'.join(_TENS)})(?:-{_UNIT})?|{_UNIT})"
_BELOW_1000 = rf"(?:{_UNIT} hundred(?:(?: and)? {_BELOW_100})?|{_BELOW_100})"
_SPOKEN = re.compile(rf"\b(?:{_BELOW_1000} thousand(?:(?: and)? {_BELOW_1000})?|{_BELOW_1000})\b", re.IGNORECASE)


def _spoken_value(words: str) -> int:
    total = current = 0
    for word in re.split(r"[ -]", words.lower()):
        if word in _UNITS:
            current += _UNITS.index(word)
        elif word in _TENS:
            current += 20 + 10 * _TENS.index(word)
        elif word == "hundred":
            current *= 100
        elif word == "thousand":
            total, current = total + current * 1000, 0
    return total + current


def digits(text: str) -> str:
    """``text`` with every number written in words (``eight hundred and twelve``, ``twenty-four``) as digits."""
    return _SPOKEN.sub(lambda m: str(_spoken_value(m[0])), text)


def math_span(text: str) -> str:
    """The longest run of plain maths in ``text`` (the expression a bare question asks about)."""
    spans = re.findall(r"[-(]*\d[\d\s+\-*/().^]*", text)
    span = max(spans, key=lambda s: len(s.strip())).strip()
    while span.endswith(".") or (span.endswith(")") and span.count(")") > span.count("(")):
        span = span[:-1].rstrip()
    return span
