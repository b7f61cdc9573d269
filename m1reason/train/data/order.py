"""The ``order`` kind: order of operations on small integers, with brackets, powers and negative numbers
(``3 + 50 * 2``, ``(7 - 12) * 3``, ``-4 + 9``, ``2 * [10 - (3 + 4)]``, ``\\frac{12}{3} + 5``, ``4 × (9 − 3)²``,
``5 + 3 × 2 − 8 ÷ 4``).

An expression is a random tree of one to five operations; it is written with only the brackets its meaning needs
(a product with a bracket sometimes as ``2(3 + 4)``, as people write it). The solution first restates it in the
steps' plain notation, then works one operation at a time, inner operations first, each labelled with the rule
that puts it there (brackets first, powers first, multiply or divide first, left to right), and after each writes
what is left of the expression (``now 10 * 6 - 4``): the small model never has to hold a half-worked expression
in its head, only copy it with one part replaced. Negative numbers go by the sign rules (``signed_steps``).
Division is always exact.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from m1reason.train.data.phrasing import Notation, ask
from m1reason.train.data.problem import Problem, solution_paths
from m1reason.train.data.signed import signed_steps

__all__ = ["order"]

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}
Tree = int | tuple  # a leaf, or (op, left, right); a power's right is its exponent, 2 or 3
Path = tuple[int, ...]  # where a node sits in a tree: 1 = the left child, 2 = the right one


def _value(tree: Tree) -> int:
    if isinstance(tree, int):
        return tree
    op, left, right = tree
    a, b = _value(left), _value(right)
    if op == "/":
        return a // b if b else 0
    if op == "^":
        return a ** b
    return {"+": a + b, "-": a - b, "*": a * b}[op]


def _leaf(rng: random.Random, negative: float, largest: int) -> int:
    n = rng.randint(1, rng.choice((12, 30, 30, largest)))  # mostly small, some up to 99 (3 + 50 * 2)
    return -n if rng.random() < negative else n


def _largest(tree: Tree) -> int:
    """The largest size of a value ``tree`` works with (its numbers and every operation's result)."""
    if isinstance(tree, int):
        return abs(tree)
    return max(abs(_value(tree)), _largest(tree[1]), _largest(tree[2]))


def _tree(rng: random.Random, ops: int, negative: float = 0.0, largest: int = 99) -> Tree:
    """A random expression of ``ops`` operations; each leaf negative with probability ``negative``, at most
    ``largest``."""
    if ops == 0:
        return _leaf(rng, negative, largest)
    op = rng.choices("+-*/^", weights=(3, 3, 3, 1.5, 1))[0]
    if op == "^":  # a small base: a leaf, or a bracket whose value is small ((6 + 4)^2)
        base = _tree(rng, ops - 1, negative, largest)
        if abs(_value(base)) > 12 or _value(base) in (0, 1):
            base = rng.randint(2, 12) * (-1 if rng.random() < negative else 1)
        return ("^", base, 3 if abs(_value(base)) <= 5 and rng.random() < 0.3 else 2)
    left_ops = rng.randint(0, ops - 1)
    left = _tree(rng, left_ops, negative, largest)
    right = _tree(rng, ops - 1 - left_ops, negative, largest)
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


def _as_read(tree: Tree) -> Tree:
    """The tree a reader sees in ``tree``'s text: ``98 + (16 - 69)`` is written ``98 + 16 - 69`` (the bracket
    is not needed for its value), which is worked left to right, as ``(98 + 16) - 69``. Same value.

    >>> _as_read(("+", 98, ("-", 16, 69)))
    ('-', ('+', 98, 16), 69)
    """
    tokens = re.findall(r"\d+|[-+*/^()]", _write(tree, None))
    at = 0

    def peek() -> str | None:
        return tokens[at] if at < len(tokens) else None

    def take() -> str:
        nonlocal at
        at += 1
        return tokens[at - 1]

    def atom() -> Tree:
        token = take()
        if token == "-":  # a negative number: leading, or in its own bracket
            return -int(take())
        if token != "(":
            return int(token)
        inner = level(1)
        take()  # ")"
        return inner

    def level(precedence: int) -> Tree:
        if precedence == 3:
            base = atom()
            return ("^", base, int(take())) if peek() == "^" and take() else base
        left = level(precedence + 1)
        while peek() is not None and _PRECEDENCE.get(peek()) == precedence:
            op = take()
            left = (op, left, level(precedence + 1))
        return left

    read = level(1)
    assert _value(read) == _value(tree), (tree, read)
    return read


@dataclass(frozen=True)
class _Style:
    """How one problem writes its expression beyond its ``Notation``: ``implicit`` a product whose right factor is
    bracketed without its sign (``2(3 + 4)``), ``square`` a bracket that holds another as ``[...]``, ``fracs`` a
    division of two numbers as ``\\frac{12}{3}`` in LaTeX, ``bare`` a negative after ``*`` or ``/`` without
    brackets (``-48 ÷ -6``), ``power`` how exponents look: ``^2``, ``²`` (plain only) or ``^{2}`` (LaTeX only)."""

    implicit: bool = False
    square: bool = False
    fracs: bool = False
    bare: bool = False
    power: str = "^"

    def exponent(self, e: int) -> str:
        return {"^": f"^{e}", "super": "²³"[e - 2], "brace": f"^{{{e}}}"}[self.power]


_STEPS = _Style()  # the steps' own: brackets only, ^2


def _is_frac(tree: Tree, notation: Notation | None, style: _Style) -> bool:
    """Whether ``tree`` is written as ``\\frac{a}{b}``: a division of two non-negative numbers, in LaTeX, when the
    problem writes its divisions that way."""
    return (style.fracs and notation is not None and notation.latex and not isinstance(tree, int)
            and tree[0] == "/" and isinstance(tree[1], int) and isinstance(tree[2], int) and tree[1] >= 0)


def _write(tree: Tree, notation: Notation | None, style: _Style = _STEPS, leading: bool = True,
           bare: bool = False) -> str:
    """The expression with only the brackets it needs (``notation`` None: the steps' own ``*`` and ``/``).

    >>> _write(("*", 2, ("+", 3, 4)), None), _write(("*", 2, ("+", 3, 4)), None, _Style(implicit=True))
    ('2 * (3 + 4)', '2(3 + 4)')
    >>> _write(("*", 2, ("-", 10, ("+", 3, 4))), None, _Style(square=True))
    '2 * [10 - (3 + 4)]'
    >>> _write(("-", ("^", -3, 2), ("*", 4, 5)), None), _write(("^", ("+", 6, 4), 2), None, _Style(power="super"))
    ('(-3)^2 - 4 * 5', '(6 + 4)²')
    """
    if isinstance(tree, int):
        return str(tree) if tree >= 0 or leading or bare else f"({tree})"
    op, left, right = tree
    if _is_frac(tree, notation, style):
        return f"\\frac{{{left}}}{{{right}}}"

    def wrap(inner: str) -> str:
        return f"[{inner}]" if style.square and "(" in inner else f"({inner})"

    if op == "^":
        base = _write(left, notation, style)
        if not isinstance(left, int) or left < 0:
            base = wrap(base) if not isinstance(left, int) else f"({left})"
        return base + style.exponent(right)
    left_text = _write(left, notation, style, leading)
    right_text = _write(right, notation, style, False, bare=style.bare and op in "*/")
    if (not isinstance(left, int) and _PRECEDENCE[left[0]] < _PRECEDENCE[op]
            and not _is_frac(left, notation, style)):
        left_text = wrap(_write(left, notation, style))
    bracketed = not isinstance(right, int) and not _is_frac(right, notation, style) and (
        _PRECEDENCE[right[0]] < _PRECEDENCE[op] or (_PRECEDENCE[right[0]] == _PRECEDENCE[op] and op in "-/"))
    if bracketed:
        right_text = wrap(_write(right, notation, style))
    if style.implicit and op == "*" and bracketed:
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
    if isinstance(tree, int) or parent is None or parent == "^":
        return False
    return (_PRECEDENCE[tree[0]] < _PRECEDENCE[parent] or
            (right_side and _PRECEDENCE[tree[0]] == _PRECEDENCE[parent] and parent in "-/"))


def _worked_order(tree: Tree, parent: str | None = None, right_side: bool = False,
                  at: Path = ()) -> list[tuple[Path, str]]:
    """Each operation's place in ``tree`` in the order it is worked (inner first, left before right), with the
    rule that puts it there ("" where none needs saying)."""
    if isinstance(tree, int):
        return []
    op, left, right = tree
    order = _worked_order(left, op, False, (*at, 1)) + _worked_order(right, op, True, (*at, 2))
    if _bracketed(tree, parent, right_side):
        rule = "brackets first: "
    elif op == "^" and parent is not None:
        rule = "powers first: "
    elif op in "*/" and parent in ("+", "-"):
        rule = ("multiply" if op == "*" else "divide") + " first: "
    elif parent and not right_side and _PRECEDENCE[op] == _PRECEDENCE[parent]:  # 12 / 3 * 5: the / comes first
        rule = "left to right: "
    else:
        rule = ""
    return [*order, (at, rule)]


def _replace(tree: Tree, at: Path, value: int) -> Tree:
    if not at:
        return value
    op, left, right = tree
    return (op, _replace(left, at[1:], value), right) if at[0] == 1 else (op, left, _replace(right, at[1:], value))


def _node(tree: Tree, at: Path) -> Tree:
    for side in at:
        tree = tree[side]
    return tree


def _power_steps(base: int, exponent: int, paths: random.Random) -> list[str]:
    """``base^exponent`` as a product of ``base`` with itself, worked by the sign rules."""
    shown = f"({base})" if base < 0 else str(base)
    factor = f"({base})" if base < 0 else str(base)
    lines = [f"{shown}^{exponent} is {' * '.join([factor] * exponent)}", *signed_steps(base, "*", base, paths)]
    if exponent == 3:
        lines += signed_steps(base * base, "*", base, paths)
    return lines


def _steps(tree: Tree, paths: random.Random) -> list[str]:
    """The worked solution: the expression restated, then each operation in order with what is left after it,
    then the whole claim."""
    if _size(tree) == 1:
        op, a, b = tree
        return _power_steps(a, b, paths) if op == "^" else signed_steps(a, op, b, paths)
    lines, current = [_write(tree, None)], tree
    for at, rule in _worked_order(tree):
        op, a, b = _node(current, at)
        own = _power_steps(a, b, paths) if op == "^" else signed_steps(a, op, b, paths)
        lines += [rule + own[0], *own[1:]]
        current = _replace(current, at, _value((op, a, b)))
        if not isinstance(current, int):
            lines.append("now " + _write(current, None))
    return [*lines, f"so {_write(tree, None)} = {_value(tree)}"]


_WORDINGS = ("Evaluate {} using the order of operations.", "Simplify {}.", "What is the value of the expression {}?",
             "Work out {}. Remember the order of operations.", "Use BODMAS to work out {}.",
             "Using PEMDAS, what is {}?", "What is {} equal to?", "Solve {}.", "Simplify: {}", "Evaluate: {}",
             "Calculate {}, following the order of operations.", "Work out the value of {}.",
             "Find the value of {} using BIDMAS.", "Compute {}.")


_LONGEST_SOLUTION = 370  # characters of steps: up to about 260 of the recipe's tokens (its replies' budget: 300)


def _written_length(tree: Tree) -> int:
    """Characters of ``tree``'s worked solution, on one fixed choice of solution paths (they move it little)."""
    return sum(len(line) + 1 for line in _steps(tree, solution_paths("")))


def _drawn(rng: random.Random, ops: int) -> Tree:
    """A random expression of ``ops`` operations as a reader works it (``_as_read``). Long ones keep to mental
    arithmetic (numbers up to 20, every value up to 100), and no solution runs past ``_LONGEST_SOLUTION``; a lone
    ``9 / 3`` is drawn again (mental arithmetic, not a question of order)."""
    negative = rng.choice((0.0, 0.0, 0.0, 0.25))  # a quarter of the problems have negatives anywhere
    largest, limit = (99, 1000) if ops <= 2 else (30, 200) if ops == 3 else (20, 100)
    while True:
        tree = _tree(rng, ops, negative, largest)
        if (ops == 1 or rng.random() < 0.2) and _exact(_negate_first(tree)):
            tree = _negate_first(tree)
        tree = _as_read(tree)
        if _size(tree) == ops and _largest(tree) <= limit and _written_length(tree) <= _LONGEST_SOLUTION:
            return tree


_SAID_POWERS = {2: ("{} squared", "the square of {}"), 3: ("{} cubed", "the cube of {}")}


def order(rng: random.Random) -> Problem:
    """An expression of one to five operations, brackets (nested ones too), powers and negatives included,
    evaluated in order.

    >>> p = order(random.Random(7)); p.problem
    'Compute 9 - 2 * 4.'
    >>> for line in p.steps: print(line)
    9 - 2 * 4
    multiply first: 2 * 4 = 8
    now 9 - 8
    9 - 8 = 1
    so 9 - 2 * 4 = 1
    >>> order(random.Random(13)).steps[-2:]
    ('one negative makes it negative: -21 * 6 = -126', 'so -21 * (1 + 5) = -126')
    """
    ops = rng.choices((1, 2, 3, 4, 5), weights=(10, 35, 30, 17, 8))[0]
    tree = _nested(rng) if ops == 3 and rng.random() < 0.25 else _drawn(rng, ops)
    notation = Notation.draw(rng)
    power = rng.choice(("^", "brace") if notation.latex else ("^", "^", "super"))
    # How this problem writes brackets in brackets and divisions: as most books do, or with [ ] and \frac.
    style = _Style(implicit=rng.random() < 0.3, square=rng.random() < 0.5, fracs=rng.random() < 0.6,
                   bare=rng.random() < 0.3, power=power)
    shown = notation.math(_write(tree, notation, style))
    wordings = [ask(rng, shown)] * 4 + [w.format(shown) for w in _WORDINGS]
    if _size(tree) == 1 and tree[0] == "^":  # "What is 7 squared?"
        base = f"({tree[1]})" if tree[1] < 0 else str(tree[1])
        wordings += [f"What is {said.format(base)}?" for said in _SAID_POWERS[tree[2]]] * 2
    text = rng.choice(wordings)
    return Problem(kind="order", problem=text, steps=tuple(_steps(tree, solution_paths(text))),
                   answer=str(_value(tree)))
