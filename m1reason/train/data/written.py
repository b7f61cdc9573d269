"""Whole-number written methods as step lines: column addition and subtraction, long multiplication, long
division, and the mental split of small sums and products (``operation_steps``).

Each method writes one digit's work per claim (``tens: 4 + 6 + 1 = 11, write 1 carry 1``), so a tiny model never
has to do more than one digit's arithmetic in one token span. Every ``=`` here is a true arithmetic claim; the
words around them are not claims. ``worked`` picks among them the way a person would for one ``a op b``, for the
bare calculations and the word problems alike. Nothing here draws numbers or words a question.
"""

from __future__ import annotations

import random

__all__ = ["PLACES", "SPLIT_PROBABILITY", "column_addition", "column_sum", "column_subtraction", "long_division",
           "long_multiplication", "multiply_by_digit", "operation_steps", "restated_addition",
           "restated_subtraction", "worked"]

PLACES = ("ones", "tens", "hundreds", "thousands", "ten thousands", "hundred thousands")
SPLIT_PROBABILITY = 0.5  # how often a step that can be split is written split


def operation_steps(a: int, op: str, b: int, paths: random.Random) -> list[str]:
    """The worked lines of ``a op b``: the direct line, or (with probability SPLIT_PROBABILITY, when ``b`` has
    tens and units, or ``a`` is a teen for ``*``) the same operation split at the tens.

    >>> operation_steps(57, "+", 68, random.Random(1))
    ['57 + 60 = 117', '117 + 8 = 125']
    >>> operation_steps(17, "*", 8, random.Random(1)), operation_steps(17, "*", 8, random.Random(0))
    (['10 * 8 = 80', '7 * 8 = 56', '80 + 56 = 136'], ['17 * 8 = 136'])
    """
    value = {"+": a + b, "-": a - b, "*": a * b}[op]
    direct = [f"{a} {op} {b} = {value}"]
    if paths.random() >= SPLIT_PROBABILITY:
        return direct
    if op == "*" and 10 < a < 20:
        return [f"10 * {b} = {10 * b}", f"{a - 10} * {b} = {(a - 10) * b}", f"{10 * b} + {(a - 10) * b} = {value}"]
    tens, units = b - b % 10, b % 10
    if op in "+-" and tens and units:
        middle = a + tens if op == "+" else a - tens
        return [f"{a} {op} {tens} = {middle}", f"{middle} {op} {units} = {value}"]
    return direct


def _digit(n: int, place: int) -> int | None:
    """The digit of ``n`` at ``place`` (0 = ones), None past its leading digit."""
    return n // 10**place % 10 if n >= 10**place or place == 0 else None


def column_addition(numbers: list[int], places: tuple[str, ...] = PLACES) -> list[str]:
    """One line per column, ones first, each carry written out; the last column writes its whole total.

    >>> for line in column_addition([1247, 3468]): print(line)
    ones: 7 + 8 = 15, write 5 carry 1
    tens: 4 + 6 + 1 = 11, write 1 carry 1
    hundreds: 2 + 4 + 1 = 7, write 7
    thousands: 1 + 3 = 4, write 4
    >>> column_addition([95, 7])
    ['ones: 5 + 7 = 12, write 2 carry 1', 'tens: 9 + 1 = 10, write 10']
    """
    columns = max(len(str(n)) for n in numbers)
    lines, carry = [], 0
    for place in range(columns):
        digits = [d for d in (_digit(n, place) for n in numbers) if d is not None]
        terms = [str(d) for d in digits] + ([str(carry)] if carry else [])
        total = sum(digits) + carry
        last = place == columns - 1
        if len(terms) == 1:
            lines.append(f"{places[place]}: write {total}")
        elif last or total < 10:
            lines.append(f"{places[place]}: {' + '.join(terms)} = {total}, write {total}")
        else:
            lines.append(f"{places[place]}: {' + '.join(terms)} = {total}, write {total % 10} carry {total // 10}")
        carry = total // 10
    return lines


def column_sum(numbers: list[int]) -> str:
    """The column addition of ``numbers`` on one line, columns ones first (a carry shows as ``+ 1`` in the next
    column; a column with one digit and no carry is copied and not written): how long multiplication adds its
    rows. The total follows on the caller's next line.

    >>> column_sum([2070, 6900])
    'add 2070 + 6900: 0 + 0 = 0, 7 + 0 = 7, 0 + 9 = 9, 2 + 6 = 8'
    >>> column_sum([96, 480])
    'add 96 + 480: 6 + 0 = 6, 9 + 8 = 17, 4 + 1 = 5'
    """
    terms_of_columns, carry = [], 0
    for place in range(len(str(sum(numbers)))):
        digits = [d for d in (_digit(n, place) for n in numbers) if d is not None]
        terms = [str(d) for d in digits] + ([str(carry)] if carry else [])
        total = sum(digits) + carry
        if len(terms) > 1:
            terms_of_columns.append(f"{' + '.join(terms)} = {total}")
        carry = total // 10
    return f"add {' + '.join(str(n) for n in numbers)}: {', '.join(terms_of_columns)}"


def column_subtraction(a: int, b: int, places: tuple[str, ...] = PLACES) -> list[str]:
    """One line per column of ``a - b`` (``a >= b``), ones first: a borrow is taken as ``borrow: 13 - 8 = 5`` and
    paid in the next column as ``4 - 1 = 3``; a 0 that must pay one borrows in turn (``borrow: 10 - 1 = 9``).

    >>> for line in column_subtraction(5203, 1678): print(line)
    ones: borrow: 13 - 8 = 5, write 5
    tens: borrow: 10 - 1 = 9, 9 - 7 = 2, write 2
    hundreds: 2 - 1 = 1, borrow: 11 - 6 = 5, write 5
    thousands: 5 - 1 = 4, 4 - 1 = 3, write 3
    """
    if a < b:
        raise ValueError(f"column subtraction needs a >= b, got {a} - {b}")
    lines, borrow = [], 0
    for place in range(len(str(a))):
        top, bottom = _digit(a, place), _digit(b, place)
        parts, next_borrow = [], 0
        if borrow and top == 0:
            parts.append("borrow: 10 - 1 = 9")
            top, next_borrow = 9, 1
        elif borrow:
            parts.append(f"{top} - 1 = {top - 1}")
            top -= 1
        if bottom is not None and top < bottom:
            parts.append(f"borrow: {top + 10} - {bottom} = {top + 10 - bottom}")
            top, next_borrow = top + 10, 1
        elif bottom is not None:
            parts.append(f"{top} - {bottom} = {top - bottom}")
        parts.append(f"write {top - (bottom or 0)}")
        lines.append(f"{places[place]}: {', '.join(parts)}")
        borrow = next_borrow
    return lines


def restated_addition(numbers: list[int]) -> list[str]:
    """``column_addition`` with each line headed by what is left of every number (its digits not yet added), so
    the digits of a column are the last ones written just before it: a lookup at a fixed short distance instead of
    a digit counted from the right of a number far back in the prompt. A number with no digits left drops out.

    >>> for line in restated_addition([9876, 1234]): print(line)
    9876 + 1234: 6 + 4 = 10, write 0 carry 1
    987 + 123: 7 + 3 + 1 = 11, write 1 carry 1
    98 + 12: 8 + 2 + 1 = 11, write 1 carry 1
    9 + 1: 9 + 1 + 1 = 11, write 11
    >>> restated_addition([95, 7])
    ['95 + 7: 5 + 7 = 12, write 2 carry 1', '9: 9 + 1 = 10, write 10']
    """
    return _restated(numbers, "+", column_addition(numbers))


def restated_subtraction(a: int, b: int) -> list[str]:
    """``column_subtraction`` of ``a - b`` (``a >= b``) with each line headed by what is left of both numbers (see
    ``restated_addition``).

    >>> for line in restated_subtraction(5203, 1678): print(line)
    5203 - 1678: borrow: 13 - 8 = 5, write 5
    520 - 167: borrow: 10 - 1 = 9, 9 - 7 = 2, write 2
    52 - 16: 2 - 1 = 1, borrow: 11 - 6 = 5, write 5
    5 - 1: 5 - 1 = 4, 4 - 1 = 3, write 3
    """
    return _restated([a, b], "-", column_subtraction(a, b))


def _restated(numbers: list[int], op: str, column_lines: list[str]) -> list[str]:
    """Column lines (one per place, ones first) with their place name replaced by the numbers' digits left."""
    digits = [str(n) for n in numbers]
    heads = [f" {op} ".join(d[:len(d) - place] for d in digits if len(d) > place) for place in range(len(column_lines))]
    return [f"{head}: {line.split(': ', 1)[1]}" for head, line in zip(heads, column_lines)]


def multiply_by_digit(a: int, digit: int) -> str:
    """Short multiplication of ``a`` by one digit on one line, ones first, each carry added in the next product.

    >>> multiply_by_digit(345, 6)
    '345 * 6: 5 * 6 = 30, 4 * 6 + 3 = 27, 3 * 6 + 2 = 20, so 345 * 6 = 2070'
    >>> multiply_by_digit(7, 8), multiply_by_digit(52, 1)
    ('7 * 8 = 56', '52 * 1 = 52')
    """
    if a < 10 or digit == 1:
        return f"{a} * {digit} = {a * digit}"
    terms, carry = [], 0
    for d in reversed(str(a)):
        product = int(d) * digit + carry
        terms.append(f"{d} * {digit} + {carry} = {product}" if carry else f"{d} * {digit} = {product}")
        carry = product // 10
    return f"{a} * {digit}: {', '.join(terms)}, so {a} * {digit} = {a * digit}"


def long_multiplication(a: int, b: int) -> list[str]:
    """``a * b`` as one row per non-zero digit of ``b`` (shifted by its place: ``so 345 * 20 = 6900``), then the
    rows added by column and the product.

    >>> for line in long_multiplication(345, 26): print(line)
    345 * 6: 5 * 6 = 30, 4 * 6 + 3 = 27, 3 * 6 + 2 = 20, so 345 * 6 = 2070
    345 * 2: 5 * 2 = 10, 4 * 2 + 1 = 9, 3 * 2 = 6, so 345 * 20 = 6900
    add 2070 + 6900: 0 + 0 = 0, 7 + 0 = 7, 0 + 9 = 9, 2 + 6 = 8
    so 345 * 26 = 8970
    """
    lines, rows = [], []
    for place, d in enumerate(int(c) for c in reversed(str(b))):
        if d == 0:
            continue
        line = multiply_by_digit(a, d)
        if place:  # the row's digits shifted: its last claim names the shifted multiplier
            head, _, _ = line.rpartition(f"{a} * {d} = ")
            line = f"{head}{a} * {d * 10**place} = {a * d * 10**place}"
        lines.append(line)
        rows.append(a * d * 10**place)
    if len(rows) > 1:
        lines.append(column_sum(rows))
    if len(rows) > 1 or b >= 10:
        lines.append(f"so {a} * {b} = {a * b}")
    return lines


def long_division(n: int, d: int) -> tuple[list[str], int, int]:
    """Long division of ``n`` by ``d``: one line per digit of the quotient (``d * q = p``, then ``- p``), bringing
    down one digit at a time. Returns (lines, quotient, remainder); no line claims ``n / d`` unless it is exact.

    >>> lines, q, r = long_division(1234, 7)
    >>> for line in lines: print(line)
    1 < 7, so start with 12: 7 * 1 = 7, 12 - 7 = 5
    bring down 3 to get 53: 7 * 7 = 49, 53 - 49 = 4
    bring down 4 to get 44: 7 * 6 = 42, 44 - 42 = 2
    >>> q, r
    (176, 2)
    """
    digits = str(n)
    take = 1
    while int(digits[:take]) < d and take < len(digits):
        take += 1
    current = int(digits[:take])
    lead = f"{digits[:take - 1]} < {d}, so start with {current}: " if take > 1 else f"{current}: "
    lines, quotient = [], 0
    for position in range(take, len(digits) + 1):
        if position > take:
            current = current * 10 + int(digits[position - 1])
            lead = f"bring down {digits[position - 1]} to get {current}: "
        q = current // d
        lines.append(f"{lead}{d} * {q} = {d * q}, {current} - {d * q} = {current - d * q}")
        quotient, current = quotient * 10 + q, current - d * q
    return lines, quotient, current


def worked(a: int, op: str, b: int, paths: random.Random) -> list[str]:
    """``a op b`` (``+ - * /``, a division exact) the way a person works it, ending with the result's claim:
    mentally when small, else by the written method. Mental: sums and differences under 100 (and a round start
    less a number under 100, ``1000 - 25``), products of the tables up to 12 and of a teen by a digit (both by
    ``operation_steps``, so some are split at the tens), a quotient up to 12 by a divisor up to 12 (a table fact,
    checked by the product it comes from). Written: column addition and subtraction, a round factor's digits then
    its zeros, short or long multiplication by the shorter factor, long division.

    >>> worked(57, "+", 68, random.Random(1)), worked(1000, "-", 25, random.Random(0))
    (['57 + 60 = 117', '117 + 8 = 125'], ['1000 - 25 = 975'])
    >>> worked(1245, "+", 378, random.Random(0))[-1], worked(756, "/", 7, random.Random(0))[-1]
    ('so 1245 + 378 = 1623', 'so 756 / 7 = 108')
    >>> worked(72, "/", 6, random.Random(0)), worked(6, "*", 14, random.Random(1))
    (['6 * 12 = 72, so 72 / 6 = 12'], ['10 * 6 = 60', '4 * 6 = 24', '60 + 24 = 84'])
    >>> worked(300, "*", 7, random.Random(0)), worked(45, "*", 100, random.Random(0))
    (['3 * 7 = 21', '21 * 100 = 2100'], ['45 * 100 = 4500'])
    >>> worked(345, "*", 6, random.Random(0))
    ['345 * 6: 5 * 6 = 30, 4 * 6 + 3 = 27, 3 * 6 + 2 = 20, so 345 * 6 = 2070']
    """
    if op == "/":
        q = a // b
        if q <= 12 and b <= 12:
            return [f"{b} * {q} = {a}, so {a} / {b} = {q}"]
        return [*long_division(a, b)[0], f"so {a} / {b} = {q}"]
    if op == "*":
        return _product(a, b, paths)
    if max(a, b) < 100 or (op == "-" and b < 100 and a % 50 == 0):
        return operation_steps(a, op, b, paths)
    if op == "+":
        return [*column_addition([a, b]), f"so {a} + {b} = {a + b}"]
    return [*column_subtraction(a, b), f"so {a} - {b} = {a - b}"]


def _product(a: int, b: int, paths: random.Random) -> list[str]:
    """``a * b`` for ``worked``: a table fact or a teen times a digit mentally, a round factor as its digits times
    the other and then its zeros (``300 * 7``: ``3 * 7 = 21``, ``21 * 100``), else short or long multiplication."""
    if a <= 12 and b <= 12:
        return operation_steps(a, "*", b, paths)
    big, small = max(a, b), min(a, b)
    if big < 20 and small < 10:  # the teen first: operation_steps splits a teen at its ten
        return operation_steps(big, "*", small, paths)
    for x, y in ((a, b), (b, a)):
        if x < 10:
            continue
        zeros = len(str(x)) - len(str(x).rstrip("0"))
        core = x // 10**zeros
        if zeros and core == 1:  # times 10, 100, ...: write the zeros on
            return [f"{a} * {b} = {a * b}"]
        if zeros:
            return [*worked(core, "*", y, paths), f"{core * y} * {10**zeros} = {a * b}"]
    if small < 10:
        return [multiply_by_digit(big, small)]
    return long_multiplication(big, small)
