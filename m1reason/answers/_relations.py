"""Inequalities read as the intervals they describe.

Owns ``a < x \\leq b``, ``x \\geq a``, ``0 < f(x) < 1`` (the middle is one quantity as ``strip_var`` names them) and
single linear inequalities in one variable (``-x > -1`` is ``x < 1``, solved exactly). Equations and other
relations are not here: ``_scalar`` compares them (lhs - rhs up to a constant factor).
"""

from __future__ import annotations

import re
from fractions import Fraction

from m1reason.answers import _numbers as N
from m1reason.answers._normalize import QUANTITY
from m1reason.answers._parse import ParseError, parse

# Relation operators an inequality answer is written with, after clean(): "<" and "\\leq" point one way.
_REL_RE = re.compile(r"<|>|\\leq(?![A-Za-z])|\\geq(?![A-Za-z])|\\lt(?![A-Za-z])|\\gt(?![A-Za-z])")
_LESS = {"<": "<", "\\lt": "<", "\\leq": "<=", ">": ">", "\\gt": ">", "\\geq": ">="}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
# One quantity, not |x| or x + y: |x| < 1 is no half-line.
_NAME_RE = re.compile(QUANTITY)
# Where a one-variable side is evaluated to see that it is linear: a, b from two points, checked at the others
# (negative ones too, so |x| is not taken for x).
_PROBES = (0, 1, -1, 2, -3, 5)


def inequality(s: str):
    r"""``a < x \leq b`` -> (a, b]; ``x \geq a`` and ``a \leq x`` -> [a, \infty); None for anything else.

    Found by splitting at the relation signs (no backtracking regex: answers may be hostile).

    >>> inequality(r"-2 < x \leq 7")
    ('brack', '(', ']', [('scalar', '-2'), ('scalar', '7')])
    >>> inequality("5 > x")
    ('brack', '(', ')', [('scalar', '-\\infty'), ('scalar', '5')])
    >>> inequality("-x > -1")[3], inequality("2x + 1 \\geq 4")[3]
    ([('scalar', '-\\infty'), ('scalar', '1')], [('scalar', '\\frac{3}{2}'), ('scalar', '\\infty')])
    """
    ops = [(m.start(), m.end(), _LESS[m.group(0)]) for m in _REL_RE.finditer(s)]
    if not ops or len(ops) > 2:
        return None
    cuts = [0, *[i for a, b, _ in ops for i in (a, b)], len(s)]
    sides = [s[cuts[k] : cuts[k + 1]].strip() for k in range(0, len(cuts), 2)]
    rels = [op for _, _, op in ops]
    if not all(sides):
        return None
    if len(ops) == 2:
        if not _NAME_RE.fullmatch(sides[1]) or rels[0][0] != rels[1][0]:
            return None
        lo, hi = (sides[0], sides[2]) if rels[0][0] == "<" else (sides[2], sides[0])
        lo_op, hi_op = (rels[0], rels[1]) if rels[0][0] == "<" else (rels[1], rels[0])
        return ("brack", "(" if len(lo_op) == 1 else "[", ")" if len(hi_op) == 1 else "]",
                [("scalar", lo), ("scalar", hi)])
    op = rels[0]
    if _NAME_RE.fullmatch(sides[0]):
        bound = sides[1]
    elif _NAME_RE.fullmatch(sides[1]):
        bound, op = sides[0], _FLIP[op]
    else:
        solved = _solve_linear(sides[0], sides[1])
        if solved is None:
            return None
        bound, op = solved[0], op if solved[1] else _FLIP[op]
    if op[0] == "<":
        return ("brack", "(", ")" if op == "<" else "]", [("scalar", "-\\infty"), ("scalar", bound)])
    return ("brack", "(" if op == ">" else "[", ")", [("scalar", bound), ("scalar", "\\infty")])


def _solve_linear(lhs: str, rhs: str) -> tuple[str, bool] | None:
    """(the root of lhs - rhs, whether its slope is positive) when that is linear in one variable with
    rational coefficients; None otherwise (the relation is then compared as written)."""
    try:
        left, right = parse(lhs), parse(rhs)
    except (ParseError, RecursionError, ValueError):
        return None
    if "rel" in (left[0], right[0]):
        return None
    node = ("add", [left, ("neg", right)])
    names = N.free_vars(node)
    if len(names) != 1:
        return None
    (name,) = names
    values = {}
    for k in _PROBES:
        try:
            re_part, im_part = N.exact(_substitute(node, name, Fraction(k)))
        except (N.NotExact, N.TooBig, ZeroDivisionError, OverflowError):
            return None
        if im_part != 0:
            return None
        values[k] = re_part
    slope, intercept = values[1] - values[0], values[0]
    if slope == 0 or any(v != slope * k + intercept for k, v in values.items()):
        return None
    root = -intercept / slope
    text = str(root.numerator) if root.denominator == 1 else (
        f"{'-' if root < 0 else ''}\\frac{{{abs(root.numerator)}}}{{{root.denominator}}}")
    return text, slope > 0


def _substitute(node, name: str, value: Fraction):
    """The tree with the variable ``name`` replaced by the number ``value`` (trees are at most 50 deep)."""
    if node[0] == "var":
        return ("num", value, str(value)) if node[1] == name else node
    if node[0] in ("add", "mul"):
        return (node[0], [_substitute(c, name, value) for c in node[1]])
    if node[0] == "fn":
        return ("fn", node[1], _substitute(node[2], name, value))
    if node[0] in ("num", "const"):
        return node
    return (node[0], *(None if c is None else _substitute(c, name, value) for c in node[1:]))
