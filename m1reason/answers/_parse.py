"""A small, safe parser from answer LaTeX to an expression tree (nested tuples).

Covers what answers are made of: numbers (decimals, e-notation), + - * / ^, \\frac, \\sqrt, \\pi, e, i,
implicit products, mixed numbers, elementary functions, variables, |x|, n! and one relation. It never
calls eval/sympify; nesting and length are bounded, so hostile input fails fast with ``ParseError``.
Anything it does not know also raises ``ParseError`` and is left to the sympy worker.
"""

from __future__ import annotations

import re
from fractions import Fraction

MAX_DEPTH = 50
MAX_TOKENS = 400

_TOKEN_RE = re.compile(
    r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<cmd>\\[A-Za-z]+)|(?P<sym>\\[{}|]|[-+*/^_!()\[\]{}|=<>'])"
    r"|(?P<letter>[A-Za-z])|(?P<space>\s+)"
)
FUNCTIONS = frozenset(
    ["sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "ln", "log", "exp"]
)
GREEK = frozenset(
    [
        "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "kappa",
        "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
        "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega",
    ]
)
RELATIONS = {"=": "=", "<": "<", ">": ">", "\\leq": "<=", "\\geq": ">=", "\\lt": "<", "\\gt": ">", "\\neq": "!="}
_MUL_CMDS = {"\\cdot", "\\times", "\\ast"}
_ATOM_CMDS = {"\\frac", "\\binom", "\\sqrt", "\\pi", "\\infty", "\\text", "\\lvert", "\\vert", "\\exp"}


class ParseError(ValueError):
    """The text is not an expression this parser understands."""


def tokenize(s: str) -> list[tuple[str, str]]:
    """(kind, text) tokens of ``s``; kinds are num, cmd, sym, letter.

    >>> tokenize(r"2\\pi x")
    [('num', '2'), ('cmd', '\\\\pi'), ('letter', 'x')]
    """
    tokens = []
    pos = 0
    while pos < len(s):
        m = _TOKEN_RE.match(s, pos)
        if not m:
            raise ParseError(f"unexpected character {s[pos]!r}")
        pos = m.end()
        if m.lastgroup != "space":
            tokens.append((m.lastgroup, m.group(0)))
        if len(tokens) > MAX_TOKENS:
            raise ParseError("too many tokens")
    return tokens


def parse(s: str):
    """The expression tree of ``s``: ("num", Fraction, literal), ("add", [..]), ("rel", ops, exprs), ...

    >>> parse(r"3\\frac{1}{2}")
    ('add', [('num', Fraction(3, 1), '3'), ('div', ('num', Fraction(1, 1), '1'), ('num', Fraction(2, 1), '2'))])
    >>> parse("x^2 = 4")[0:2]
    ('rel', ['='])
    """
    return _Parser(tokenize(s)).parse_all()


def number(literal: str) -> Fraction:
    """The exact value of a decimal literal such as ``8.7e8`` (a Fraction; never a float)."""
    mantissa, _, exp = literal.lower().partition("e")
    value = Fraction(mantissa if mantissa[-1] != "." else mantissa[:-1])
    if exp:
        e = int(exp)
        if abs(e) > 400:
            raise ParseError("exponent out of range")
        value *= Fraction(10) ** e
    return value


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.toks = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.pos] if self.pos < len(self.toks) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "end" or (text is not None and tok[1] != text):
            raise ParseError(f"expected {text!r}, got {tok[1]!r}")
        self.pos += 1
        return tok

    def parse_all(self):
        exprs, ops = [self.expr()], []
        while self.peek()[1] in RELATIONS:
            ops.append(RELATIONS[self.take()[1]])
            exprs.append(self.expr())
        if self.peek()[0] != "end":
            raise ParseError(f"unexpected {self.peek()[1]!r}")
        return ("rel", ops, exprs) if ops else exprs[0]

    def expr(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError("nested too deeply")
        terms = [self.term()]
        while self.peek()[1] in ("+", "-"):
            sign = self.take()[1]
            t = self.term()
            terms.append(("neg", t) if sign == "-" else t)
        self.depth -= 1
        return terms[0] if len(terms) == 1 else ("add", terms)

    def term(self):
        first = self.unary()
        factors = [first]
        while True:
            kind, text = self.peek()
            if text in ("*", "/") or text in _MUL_CMDS or text == "\\div":
                self.take()
                f = self.unary()
                factors.append(("div", ("num", Fraction(1), "1"), f) if text in ("/", "\\div") else f)
            elif self._starts_atom(kind, text):
                f = self.unary()
                if len(factors) == 1 and _is_mixed(first, f):
                    whole = first[1] if first[0] == "neg" else first
                    mixed = ("add", [whole, f])
                    factors[0] = ("neg", mixed) if first[0] == "neg" else mixed
                else:
                    factors.append(f)
            else:
                break
        return factors[0] if len(factors) == 1 else ("mul", factors)

    @staticmethod
    def _starts_atom(kind: str, text: str) -> bool:
        if kind == "letter":
            return True
        if kind == "cmd":
            name = text[1:]
            return text in _ATOM_CMDS or name in FUNCTIONS or name in GREEK
        return text in ("(", "{")

    def unary(self):
        if self.peek()[1] in ("-", "+"):
            sign = self.take()[1]
            operand = self.unary()
            return ("neg", operand) if sign == "-" else operand
        return self.power()

    def power(self):
        base = self.postfix(self.primary())
        if self.peek()[1] == "^":
            self.take()
            # "10^{10}!" is (10^{10})!, as sympy reads it: refusing it would send it to the worker.
            base = self.postfix(("pow", base, self.exponent()))
        return base

    def exponent(self):
        if self.peek()[1] == "{":
            return self.group()
        if self.peek()[1] in ("-", "+"):
            sign = self.take()[1]
            e = self.postfix(self.primary())
            return ("neg", e) if sign == "-" else e
        return self.postfix(self.primary())

    def postfix(self, node):
        while self.peek()[1] == "!":
            self.take()
            node = ("fact", node)
            if self.peek()[1] == "!":
                raise ParseError("double factorial")
        return node

    def group(self, close: str = "}"):
        self.take()
        node = self.expr()
        self.take(close)
        return node

    def primary(self):
        kind, text = self.peek()
        if kind == "num":
            self.take()
            if self.peek()[1] == "_":
                raise ParseError("number with a base subscript")
            return ("num", number(text), text)
        if kind == "letter":
            self.take()
            return self._variable(text)
        if text == "(":
            return self.group(")")
        if text == "{":
            return self.group("}")
        if text in ("|", "\\lvert", "\\vert"):
            self.take()
            inner = self.expr()
            self.take({"|": "|", "\\lvert": "\\rvert", "\\vert": "\\vert"}[text])
            return ("abs", inner)
        if kind == "cmd":
            return self._command(text)
        raise ParseError(f"unexpected {text!r}")

    def _variable(self, name: str):
        if name in ("e", "i") and self.peek()[1] != "_":
            return ("const", name)
        if self.peek()[1] == "_":
            self.take()
            kind, text = self.peek()
            if text == "{":
                start = self.pos
                self.group()
                sub = "".join(t for _, t in self.toks[start : self.pos])
            elif kind in ("num", "letter"):
                sub = self.take()[1]
            else:
                raise ParseError("bad subscript")
            name = f"{name}_{sub.strip('{}')}"
        while self.peek()[1] == "'":
            self.take()
            name += "'"
        return ("var", name)

    def _command(self, text: str):
        self.take()
        name = text[1:]
        if name == "frac":
            return ("div", self._arg(), self._arg())
        if name == "binom":
            return ("binom", self._arg(), self._arg())
        if name == "sqrt":
            index = None
            if self.peek()[1] == "[":
                index = self.group("]")
            return ("root", self._arg(), index)
        if name == "pi":
            return ("const", "pi")
        if name == "infty":
            return ("const", "inf")
        if name in GREEK:
            return ("var", name)
        if name in FUNCTIONS:
            return self._function(name)
        if name == "text":
            return self._text()
        raise ParseError(f"unsupported command {text}")

    def _arg(self):
        if self.peek()[1] != "{":
            raise ParseError("expected a braced argument")
        return self.group()

    def _function(self, name: str):
        power = None
        base = None
        if name == "log" and self.peek()[1] == "_":
            self.take()
            base = self.exponent()
        if self.peek()[1] == "^":
            self.take()
            power = self.exponent()
        arg = self.group(")") if self.peek()[1] == "(" else self.power()
        node = ("log", arg, base) if name == "log" else ("fn", name, arg)
        return ("pow", node, power) if power is not None else node

    def _text(self):
        self.take("{")
        words = []
        while self.peek()[1] != "}":
            words.append(self.take()[1])
        self.take("}")
        word = "".join(words)
        if word in ("i", "e"):
            return ("const", word)
        raise ParseError(f"text {word!r} in an expression")


def _is_mixed(first, nxt) -> bool:
    """``3\\frac{1}{2}``: an integer literal directly followed by a fraction of integer literals."""
    whole = first[1] if first[0] == "neg" else first
    return (
        whole[0] == "num" and whole[1].denominator == 1 and "." not in whole[2]
        and nxt[0] == "div" and nxt[1][0] == "num" and nxt[2][0] == "num"
        and "." not in nxt[1][2] + nxt[2][2] and "e" not in (nxt[1][2] + nxt[2][2]).lower()
    )
