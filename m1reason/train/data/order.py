"""The ``order`` kind: order of operations on small integers, with brackets and negative numbers
(``3 + 50 * 2``, ``(7 - 12) * 3``, ``-4 + 9``, ``2 * [10 - (3 + 4)]``, ``\\frac{12}{3} + 5``).

An expression is a random tree of two or three operations (one when a negative leads it); it is written with
only the brackets its meaning needs (a product with a bracket sometimes as ``2(3 + 4)``, as people write it), and
solved inner operations first, one claim per operation, each labelled with the rule that puts it there (brackets
first, multiply or divide first, left to right). Division is always exact.
"""

from __future__ import annotations

import random

from m1reason.train.data.phrasing import Notation, ask
from m1reason.train.data.problem import Problem, operand, solution_paths
from m1reason.train.data.written import operation_steps

__all__ = ["order"]

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
Tree = int | tuple  # a leaf, or (op, left, right)


def _value(tree: Tree) -> int:
    if isinstance(tree, int):
        return tree
    op, left, right = tree
    a, b = _value(left), _value(right)
    return {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b else 0}[op]


def _tree(rng: random.Random, ops: int) -> Tree:
    if ops == 0:  # mostly small, some up to 99 (3 + 50 * 2): the * cap below keeps products mental
        return rng.randint(1, rng.choice((12, 30, 30, 99)))
    op = rng.choices("+-*/", weights=(3, 3, 3, 1.5))[0]
    left_ops = rng.randint(0, ops - 1)
    left = _tree(rng, left_ops)
    right = _tree(rng, ops - 1 - left_ops)
    a, b = _value(left), _value(right)
    if op == "/":  # exact: the divisor is a small factor of the dividend
        factors = [d for d in range(2, 13) if a and a % d == 0]
        if factors:
            return ("/", left, rng.choice(factors))
        op = "*"
    if op == "*" and abs(a * b) > 300:
        op = rng.choice("+-")
    return (op, left, right)


def _size(tree: Tree) -> int:
    """How many operations ``tree`` has (a division can lose its right subtree to a factor of its left)."""
    return 0 if isinstance(tree, int) else 1 + _size(tree[1]) + _size(tree[2])


def _exact(tree: Tree) -> bool:
    """Whether every division in ``tree`` leaves no remainder."""
    if isinstance(tree, int):
        return True
    op, left, right = tree
    return _exact(left) and _exact(right) and (op != "/" or (_value(right) != 0 and
                                                             _value(left) % _value(right) == 0))


def _negate_first(tree: Tree) -> Tree:
    """The same tree with its leftmost leaf negated (``-4 + 9``); written without brackets when it leads."""
    if isinstance(tree, int):
        return -tree
    op, left, right = tree
    if op == "/" and isinstance(left, int):  # keep the division exact: -a / d is exact when a / d is
        return (op, -left, right)
    return (op, _negate_first(left), right)


def _is_frac(tree: Tree, notation: Notation | None, fracs: bool) -> bool:
    """Whether ``tree`` is written as ``\\frac{a}{b}``: a division of two non-negative numbers, in LaTeX, when the
    problem writes its divisions that way."""
    return (fracs and notation is not None and notation.latex and not isinstance(tree, int) and tree[0] == "/"
            and isinstance(tree[1], int) and isinstance(tree[2], int) and tree[1] >= 0)


def _write(tree: Tree, notation: Notation | None, leading: bool = True, implicit: bool = False,
           square: bool = False, fracs: bool = False) -> str:
    """The expression with only the brackets it needs (``notation`` None: the steps' own ``*`` and ``/``);
    ``implicit`` writes a product whose right factor is bracketed without its sign (``2(3 + 4)``), ``square``
    writes a bracket that holds another as ``[...]`` (``2 * [10 - (3 + 4)]``), ``fracs`` a division of two
    numbers as ``\\frac{12}{3}`` in LaTeX.

    >>> _write(("*", 2, ("+", 3, 4)), None), _write(("*", 2, ("+", 3, 4)), None, implicit=True)
    ('2 * (3 + 4)', '2(3 + 4)')
    >>> _write(("*", 2, ("-", 10, ("+", 3, 4))), None, square=True)
    '2 * [10 - (3 + 4)]'
    """
    if isinstance(tree, int):
        return str(tree) if tree >= 0 or leading else f"({tree})"
    op, left, right = tree
    if _is_frac(tree, notation, fracs):
        return f"\\frac{{{left}}}{{{right}}}"

    def wrap(inner: str) -> str:
        return f"[{inner}]" if square and "(" in inner else f"({inner})"

    left_text = _write(left, notation, leading, implicit, square, fracs)
    right_text = _write(right, notation, False, implicit, square, fracs)
    if (not isinstance(left, int) and _PRECEDENCE[left[0]] < _PRECEDENCE[op]
            and not _is_frac(left, notation, fracs)):
        left_text = wrap(_write(left, notation, True, implicit, square, fracs))
    bracketed = not isinstance(right, int) and not _is_frac(right, notation, fracs) and (
        _PRECEDENCE[right[0]] < _PRECEDENCE[op] or (_PRECEDENCE[right[0]] == _PRECEDENCE[op] and op in "-/"))
    if bracketed:
        right_text = wrap(_write(right, notation, True, implicit, square, fracs))
    if implicit and op == "*" and bracketed:
        return f"{left_text}{right_text}"
    sign = notation.op(op) if notation else f" {op} "
    return f"{left_text}{sign}{right_text}"


def _nested(rng: random.Random) -> Tree:
    """Three operations with a bracket inside a bracket: ``a * (b - (c + d))``, ``(b - (c - d)) * a`` or
    ``a - (b - (c + d))``."""
    inner = (rng.choice("+-"), rng.randint(1, 20), rng.randint(1, 20))
    middle = ("-", rng.randint(1, 60), inner)
    if rng.random() < 0.4:
        return ("-", rng.randint(1, 99), middle)
    factor = rng.randint(2, 9)
    return ("*", factor, middle) if rng.random() < 0.6 else ("*", middle, factor)


def _bracketed(tree: Tree, parent: str | None, right_side: bool) -> bool:
    if isinstance(tree, int) or parent is None:
        return False
    return (_PRECEDENCE[tree[0]] < _PRECEDENCE[parent] or
            (right_side and _PRECEDENCE[tree[0]] == _PRECEDENCE[parent] and parent in "-/"))


def _steps(tree: Tree, paths: random.Random, parent: str | None = None, right_side: bool = False) -> list[str]:
    if isinstance(tree, int):
        return []
    op, left, right = tree
    lines = _steps(left, paths, op, False) + _steps(right, paths, op, True)
    a, b = _value(left), _value(right)
    if op != "/" and a >= 0 and b >= 0:
        own = operation_steps(a, op, b, paths)
    else:
        own = [f"{a} {op} {operand(b)} = {_value(tree)}"]
    if _bracketed(tree, parent, right_side):
        own[0] = "brackets first: " + own[0]
    elif op in "*/" and parent in ("+", "-"):
        own[0] = ("multiply" if op == "*" else "divide") + " first: " + own[0]
    elif parent and not right_side and _PRECEDENCE[op] == _PRECEDENCE[parent]:  # 12 / 3 * 5: the / comes first
        own[0] = "left to right: " + own[0]
    return lines + own


_WORDINGS = ("Evaluate {} using the order of operations.", "Simplify {}.", "What is the value of the expression {}?",
             "Work out {}. Remember the order of operations.", "Use BODMAS to work out {}.",
             "Using PEMDAS, what is {}?", "What is {} equal to?", "Solve {}.", "Simplify: {}", "Evaluate: {}",
             "Calculate {}, following the order of operations.", "Work out the value of {}.",
             "Find the value of {} using BIDMAS.", "Compute {}.")


def order(rng: random.Random) -> Problem:
    """An expression of one to three operations, brackets (nested ones too) and negatives included, evaluated in
    order.

    >>> p = order(random.Random(3)); p.problem
    'Simplify: 10 ÷ 5 - 7'
    >>> p.steps
    ('divide first: 10 / 5 = 2', '2 - 7 = -5', 'so 10 / 5 - 7 = -5')
    >>> p = order(random.Random(15)); p.problem
    'Simplify: $88 - [2 - (6 + 8)]$'
    >>> p.steps
    ('brackets first: 6 + 8 = 14', 'brackets first: 2 - 14 = -12', '88 - (-12) = 100', 'so 88 - (2 - (6 + 8)) = 100')
    >>> order(random.Random(11)).steps[0]
    'left to right: 26 - 81 = -55'
    """
    ops = rng.choices((1, 2, 3), weights=(15, 50, 35))[0]
    if ops == 3 and rng.random() < 0.25:
        tree = _nested(rng)
    else:
        tree = _tree(rng, ops)
        while _size(tree) < ops:  # a lone "9 / 3" is mental arithmetic, not a question of order
            tree = _tree(rng, ops)
        if (ops == 1 or rng.random() < 0.2) and _exact(_negate_first(tree)):
            tree = _negate_first(tree)
    notation = Notation.draw(rng)
    # How this problem writes brackets in brackets and divisions: as most books do, or with [ ] and \frac.
    square, fracs = rng.random() < 0.5, rng.random() < 0.6
    shown = notation.math(_write(tree, notation, implicit=rng.random() < 0.3, square=square, fracs=fracs))
    text = rng.choice([ask(rng, shown)] * 4 + [w.format(shown) for w in _WORDINGS])
    steps = _steps(tree, solution_paths(text))
    if ops > 1:
        steps.append(f"so {_write(tree, None)} = {_value(tree)}")
    return Problem(kind="order", problem=text, steps=tuple(steps), answer=str(_value(tree)))
