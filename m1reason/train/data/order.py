"""The ``order`` kind: order of operations on small integers, with brackets and negative numbers
(``3 + 50 * 2``, ``(7 - 12) * 3``, ``-4 + 9``).

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


def _write(tree: Tree, notation: Notation | None, leading: bool = True, implicit: bool = False) -> str:
    """The expression with only the brackets it needs (``notation`` None: the steps' own ``*`` and ``/``);
    ``implicit`` writes a product whose right factor is bracketed without its sign (``2(3 + 4)``).

    >>> _write(("*", 2, ("+", 3, 4)), None), _write(("*", 2, ("+", 3, 4)), None, implicit=True)
    ('2 * (3 + 4)', '2(3 + 4)')
    """
    if isinstance(tree, int):
        return str(tree) if tree >= 0 or leading else f"({tree})"
    op, left, right = tree
    left_text = _write(left, notation, leading, implicit)
    right_text = _write(right, notation, False, implicit)
    if not isinstance(left, int) and _PRECEDENCE[left[0]] < _PRECEDENCE[op]:
        left_text = f"({_write(left, notation, True, implicit)})"
    bracketed = not isinstance(right, int) and (_PRECEDENCE[right[0]] < _PRECEDENCE[op] or
                                                (_PRECEDENCE[right[0]] == _PRECEDENCE[op] and op in "-/"))
    if bracketed:
        right_text = f"({_write(right, notation, True, implicit)})"
    if implicit and op == "*" and bracketed:
        return f"{left_text}{right_text}"
    sign = notation.op(op) if notation else f" {op} "
    return f"{left_text}{sign}{right_text}"


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


def order(rng: random.Random) -> Problem:
    """An expression of one to three operations, brackets and negatives included, evaluated in order.

    >>> p = order(random.Random(3)); p.problem
    'What is 10 ÷ 5 - 7 equal to?'
    >>> p.steps
    ('divide first: 10 / 5 = 2', '2 - 7 = -5', 'so 10 / 5 - 7 = -5')
    >>> order(random.Random(11)).steps[0]
    'left to right: 26 - 81 = -55'
    """
    ops = rng.choices((1, 2, 3), weights=(15, 50, 35))[0]
    tree = _tree(rng, ops)
    while _size(tree) < ops:  # a lone "9 / 3" is mental arithmetic, not a question of order
        tree = _tree(rng, ops)
    if (ops == 1 or rng.random() < 0.2) and _exact(_negate_first(tree)):
        tree = _negate_first(tree)
    notation = Notation.draw(rng)
    shown = notation.math(_write(tree, notation, implicit=rng.random() < 0.3))
    text = rng.choice([ask(rng, shown)] * 4 + [
        f"Evaluate {shown} using the order of operations.", f"Simplify {shown}.",
        f"What is the value of the expression {shown}?", f"Work out {shown}. Remember the order of operations.",
        f"Use BODMAS to work out {shown}.", f"Using PEMDAS, what is {shown}?", f"What is {shown} equal to?"])
    steps = _steps(tree, solution_paths(text))
    if ops > 1:
        steps.append(f"so {_write(tree, None)} = {_value(tree)}")
    return Problem(kind="order", problem=text, steps=tuple(steps), answer=str(_value(tree)))
