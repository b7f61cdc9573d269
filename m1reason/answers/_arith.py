"""Tokens and exact values of the number-only expressions a reasoning text writes down, for the step checker.

It owns reading one line into tokens (numbers with thousands separators, decimals and percents; the operator
spellings of plain text, Unicode and LaTeX; words, commands and separators) and evaluating a short run of
arithmetic tokens with a hand-written recursive-descent parser over Fractions. Which runs are claims is
``_steps.py``'s business. Every size is bounded (digits, tokens, bits, exponents), so no text can make it run away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

MAX_DIGITS = 60  # a longer number is not judged: no step of a solution needs one
MAX_TOKENS = 40  # an expression longer than this is not judged (and the parser's recursion stays shallow)
MAX_BITS = 10_000  # a value whose numerator or denominator grows past this is not judged

ARITH = frozenset({"num", "op", "lp", "rp", "frac"})
OPERAND_START = frozenset({"num", "lp", "frac"})

# Fullwidth digits and operators, and the typographic minus signs, read as ASCII (one character for one, so
# offsets into the line stay valid). The en dash is a minus in typeset text.
_ASCII = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, "\uff0b": "+", "\uff0d": "-",
                        "\uff1d": "=", "\uff0a": "*", "\uff0f": "/", "\uff08": "(", "\uff09": ")",
                        "\u2212": "-", "\u2013": "-"})

_SEP_MARKS = ",;:.?`#\u2713\u2714\u2717\u2718\u2705\u274c\u2192\u21d2\u27f9\u2190\u2022\u2014\u2234\u2235"
_NUMBER = r"(?:[1-9]\d{0,2}(?:(?:,|\{,\}|\\,)\d{3})+(?!\d|(?:,|\{,\}|\\,)\d)|\d+)(?:\.\d+)?(?![.,]?\d)"
_LEX = re.compile(rf"""(?P<space>\s*)(?:
  (?P<gap>\s+|\\[,;:!>\ ]|\\q?quad(?![a-zA-Z])|&|~)
 |(?P<word>(?![Mm]od(?:ulo)?(?![a-zA-Z]))[^\W\d_]+)
 |(?P<num>{_NUMBER})(?P<pct>\\?%)?
 |(?P<junk>\d[\d.,]*)
 |(?P<eq>=(?!=*>)=?)
 |(?P<op>[+/\u00d7\u00b7\u22c5\u2219\u00f7]|-(?!-*>)|\*(?!\*)|\^(?!\s*\{{?\s*\\circ(?![a-zA-Z]))
     |\\(?:times|cdot|ast|div)(?![a-zA-Z]))
 |(?P<lp>[({{]) |(?P<rp>[)}}])
 |(?P<skip>\\(?:left|right|[bB]igg?[lr]?)(?![a-zA-Z])\.?|\\(?:boxed|displaystyle|textstyle)(?![a-zA-Z])
     |\\\$|\^\s*\{{?\s*\\circ(?![a-zA-Z])\s*\}}?|\u00b0)
 |(?P<ellipsis>\.{{2,}}|\u2026|\\[lc]?dots[bcmio]?(?![a-zA-Z]))
 |(?P<text>\\(?:text|textbf|textit|textrm|mbox)\s*\{{[^{{}}]{{0,200}}\}})
 |(?P<mod>\u2261|\\equiv(?![a-zA-Z])|\\[pb]?mod(?![a-zA-Z])|[Mm]od(?:ulo)?(?![a-zA-Z]))
 |(?P<frac>\\[dtc]?frac(?![a-zA-Z])(?:\s*(?P<fa>\d)\s*(?P<fb>\d))?)
 |(?P<stars>\*\*)
 |(?P<arrow>-+>|=+>|<-+|\\(?:implies|Rightarrow|Longrightarrow|rightarrow|to|therefore|because|iff)(?![a-zA-Z])
     |\\[\[\]()\\]|\$\$|\\begin\{{[^{{}}]{{0,40}}\}}|\\end\{{[^{{}}]{{0,40}}\}})
 |(?P<rel><=|>=|[<>\u2264\u2265\u2260]|\\(?:le|ge|leq|geq|neq|ne|lt|gt|leqslant|geqslant)(?![a-zA-Z]))
 |(?P<approx>\u2248|\u2243|\\(?:approx|simeq|sim)(?![a-zA-Z]))
 |(?P<dollar>\$)
 |(?P<sep>[{re.escape(_SEP_MARKS)}])
 |(?P<cmd>\\[a-zA-Z]+)
 |(?P<other>\\.|.)
)""", re.VERBOSE | re.DOTALL)
_OPS = {"\\times": "*", "\\cdot": "*", "\\ast": "*", "\\div": "/", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*",
        "\u2219": "*", "\u00f7": "/"}
_OBELUS = frozenset({"\u00f7", "\\div"})  # the division signs beside which a slash is a fraction bar
_SEPARATOR = re.compile(r"\{,\}|\\,|,")
_BULLET = re.compile(r"\s*[-*+\u2022]\s")


class NotArithmetic(Exception):
    """The tokens are not an expression this module judges: a shape it does not know, or a size past the bounds."""


@dataclass(slots=True)
class Token:
    """One lexeme of a line: ``kind`` (see ``lex``), its text and its span in the line; numbers carry their value."""

    kind: str
    text: str
    start: int
    end: int
    written: str = ""  # a number's digits and point, without separators; an operator's spelling ("÷", "\div")
    percent: bool = False  # written with "%": its value is already divided by 100
    percent_of: bool = False  # "15% of 200": the percent scales what follows
    decimal: bool = False  # written with a decimal point
    gap_before: bool = False  # whitespace (or LaTeX spacing) before it
    gap_after: bool = False

    @property
    def value(self) -> Fraction:
        """A number's exact value (made when asked: most numbers of a line are never evaluated)."""
        value = Fraction(int(self.written)) if self.written.isdigit() else Fraction(self.written)
        return value / 100 if self.percent else value


def lex(line: str) -> list[Token]:
    """The tokens of one line. Kinds: num, op (one of + - * / ^), lp, rp, frac, eq, sep (punctuation, math
    delimiters, arrows, a line's bullet), rel, approx, mod, word (letters, or a ``\\text{}``'s content), cmd (any
    other LaTeX command), ellipsis, other (anything else, numbers too long or ambiguous such as ``3,5``).

    >>> [(t.kind, t.text) for t in lex(r"so 1,234 \\times 9 = x, 15% of 20")]  # doctest: +NORMALIZE_WHITESPACE
    [('word', 'so'), ('num', '1,234'), ('op', '*'), ('num', '9'), ('eq', '='), ('word', 'x'), ('sep', ','),
     ('num', '15%'), ('op', '*'), ('num', '20')]
    """
    line = line.translate(_ASCII)
    tokens: list[Token] = []
    bullet = _BULLET.match(line)
    gap = False
    if bullet:  # "- 12 * 9 = 108" is a list item, not minus 108
        tokens.append(Token("sep", bullet.group().strip(), 0, bullet.end()))
        gap = True
    trail = False  # the previous token ends in its own space (a \\text{ ... } that ends in one)
    skipped_from = None  # where the zero-width commands glued to the next token (\\left, \\boxed) begin
    for match in _LEX.finditer(line, bullet.end() if bullet else 0):
        kind = {"fa": "frac", "fb": "frac", "pct": "num"}.get(match.lastgroup, match.lastgroup)
        start = match.end("space")  # a match is the spaces before a token, then the token
        if kind == "gap" or start > match.start():
            gap, skipped_from = True, None
            if kind == "gap":
                continue
        if kind == "skip":
            skipped_from = start if skipped_from is None else skipped_from
            continue
        token = _token(match, kind, start)
        if skipped_from is not None:  # a claim's text starts at "\\left(", not at "("
            token.start, skipped_from = skipped_from, None
        token.gap_before = gap or (kind == "text" and token.text[:1].isspace())
        if tokens:
            tokens[-1].gap_after = token.gap_before or trail
        trail = kind == "text" and token.text[-1:].isspace()
        token.text = token.text.strip()
        tokens.append(token)
        if kind == "frac" and match.group("fa"):  # \\frac12 is one half
            tokens.extend(Token("num", match.group(name), match.start(name), match.end(name),
                                written=match.group(name)) for name in ("fa", "fb"))
        gap = False
    if tokens:
        tokens[-1].gap_after = True
    return _resolve(tokens, line)


def _token(match: re.Match, kind: str, start: int) -> Token:
    end = match.end()
    text = match.string[start:end]
    if kind == "num":
        written = match.group("num")
        if not written.isdigit():
            written = _SEPARATOR.sub("", written)
        if len(written) - ("." in written) > MAX_DIGITS:
            return Token("other", text, start, end)
        return Token("num", text, start, end, written=written, percent=match.group("pct") is not None,
                     decimal="." in written)
    if kind == "frac":
        return Token("frac", "\\frac", start, match.start("fa") if match.group("fa") else end)
    if kind == "text":  # its content, spaces kept for now: they say whether it is glued to its neighbours
        return Token("word", text[text.index("{") + 1:-1], start, end)
    if kind == "op":
        return Token("op", _OPS.get(text, text), start, end, written=text)
    if kind == "junk":
        return Token("other", text, start, end)
    if kind == "arrow":
        return Token("sep", text, start, end)
    return Token(kind, text, start, end)


def _operand_end(token: Token | None) -> bool:
    return token is not None and token.kind in ("num", "rp")


def _operand_start(token: Token | None) -> bool:
    return token is not None and token.kind in OPERAND_START


def _resolve(tokens: list[Token], line: str) -> list[Token]:
    """Decide the tokens whose kind depends on their neighbours: currency signs, "x" and "**" between numbers,
    "of" after a percent, and ":" glued between digits (a time or a ratio, never a separator)."""
    out: list[Token] = []
    for i, token in enumerate(tokens):
        before = out[-1] if out else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.kind == "dollar":
            if after is not None and after.kind == "num" and not token.gap_after and (
                    before is not None and before.kind in ("op", "eq", "lp")):
                after.gap_before = token.gap_before  # "$5 + $3 = $8": a currency sign, not a math delimiter
                continue
            token.kind = "sep"
        elif token.kind == "stars":
            token.kind, token.text = ("op", "^") if _operand_end(before) and _operand_start(after) else ("sep", "**")
        elif token.kind == "word" and token.text in ("x", "X") and _operand_end(before) and _operand_start(after):
            token.kind, token.text = "op", "*"
        elif (token.kind == "word" and token.text.strip() == "of" and before is not None and before.kind == "num"
              and before.percent and _operand_start(after)):
            token.kind, token.text, before.percent_of = "op", "*", True
        elif (token.kind == "sep" and token.text in ":," and token.start > 0 and token.end < len(line)
              and line[token.start - 1].isdigit() and line[token.end].isdigit()):
            token.kind = "other"
        out.append(token)
    return out


def evaluate(tokens: list[Token]) -> Fraction:
    """The exact value of arithmetic tokens; ``ZeroDivisionError`` when the expression divides by zero.

    >>> from m1reason.answers._arith import lex
    >>> evaluate(lex(r"\\frac{3}{4} + 2 \\times (1 - 0.5)^2"))
    Fraction(5, 4)
    """
    if not tokens or len(tokens) > MAX_TOKENS or any(t.kind not in ARITH for t in tokens):
        raise NotArithmetic("not a short number-only expression")
    parser = _Parser(tokens)
    value = parser.expr()
    if parser.at < len(tokens):
        raise NotArithmetic(f"unexpected {tokens[parser.at].text!r}")
    return value


class _Parser:
    """expr := term (+|- term)*; term := unary ((*|/) unary | implicit "(")*; unary := (-|+) unary | power;
    power := primary (^ unary)?; primary := number | ( expr ) | frac primary primary."""

    def __init__(self, tokens: list[Token]):
        self.tokens, self.at = tokens, 0

    def peek(self, kind: str, texts: str = "") -> bool:
        if self.at >= len(self.tokens):
            return False
        token = self.tokens[self.at]
        return token.kind == kind and (not texts or token.text in texts)

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expr(self) -> Fraction:
        value = self.term()
        while self.peek("op", "+-"):
            sign = self.take().text
            value = _bounded(value + self.term() if sign == "+" else value - self.term())
        return value

    def term(self) -> Fraction:
        value = self.unary()
        while True:
            if self.peek("op", "*/"):
                op = self.take()
                right = self.written_fraction(op) if op.text == "/" else None
                right = self.unary() if right is None else right
                value = _bounded(value * right if op.text == "*" else value / right)
            elif self.peek("lp"):  # 2(3 + 4); never a number or \frac after a number (3 1/2, 2\frac12: mixed)
                value = _bounded(value * self.power())
            else:
                return value

    def written_fraction(self, division: Token) -> Fraction | None:
        """The divisor after ``division`` when it is a fraction written with a slash and no spaces: after "÷"
        it is one operand, as anyone reading it takes it ("1/2 ÷ 2/3" is 3/4, "6 ÷ 2/3" is 9, not 1/12 and 1);
        after a spaced slash ("3/4 / 1/2": 3/2 or 3/8?) and raised to a power ("÷ 2/3^2") it reads two ways and is
        not judged. None where no such fraction follows (the divisor is read as usual)."""
        ahead = self.tokens[self.at:self.at + 4]
        if len(ahead) < 3 or [t.kind for t in ahead[:3]] != ["num", "op", "num"] or ahead[1].written != "/":
            return None
        if ahead[1].gap_before or ahead[1].gap_after:
            return None  # "6 ÷ 2 / 3": spaced as two divisions
        if division.written not in _OBELUS:
            if division.gap_before or division.gap_after:
                raise NotArithmetic("a spaced slash before a fraction: read two ways")
            return None  # "1/2/3": slashes alone, left to right
        if len(ahead) == 4 and ahead[3].kind == "op" and ahead[3].text == "^":
            raise NotArithmetic("a power of a fraction after a division sign: read two ways")
        self.at += 3
        return _bounded(ahead[0].value / ahead[2].value)

    def unary(self) -> Fraction:
        if self.peek("op", "+-"):
            return -self.unary() if self.take().text == "-" else self.unary()
        return self.power()

    def power(self) -> Fraction:
        base = self.primary()
        if not self.peek("op", "^"):
            return base
        self.take()
        return _power(base, self.unary())

    def primary(self) -> Fraction:
        if self.at >= len(self.tokens):
            raise NotArithmetic("the expression ends early")
        token = self.take()
        if token.kind == "num":
            return token.value
        if token.kind == "lp":
            value = self.expr()
            if not self.peek("rp"):
                raise NotArithmetic("unbalanced parentheses")
            self.take()
            return value
        if token.kind == "frac":
            numerator = self.primary()
            return _bounded(numerator / self.primary())
        raise NotArithmetic(f"unexpected {token.text!r}")


def _bounded(value: Fraction) -> Fraction:
    if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
        raise NotArithmetic("the value grows past the bound")
    return value


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1:
        raise NotArithmetic("a fractional power")
    if base == 0 and exponent == 0:
        raise NotArithmetic("0^0")
    size = max(base.numerator.bit_length(), base.denominator.bit_length(), 1)
    if size * abs(exponent.numerator) > MAX_BITS:  # checked before computing: 2^(10^9) is never built
        raise NotArithmetic("the power grows past the bound")
    return base ** exponent.numerator
