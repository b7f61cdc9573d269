"""Shape and data kinds: ``geometry`` (area and perimeter of rectangles, squares and triangles, and a missing
side) and ``average`` (the mean of a list, a missing value from the mean, a total from the mean).

Formulas appear in words (``area is length * width``) and only numbers go into claims. Valid paths differ per
problem: a perimeter as ``2 * (l + w)``, ``2 * l + 2 * w`` or four sides added; a triangle halved before or
after multiplying; a sum added left to right or in pairs.
"""

from __future__ import annotations

import random
from fractions import Fraction

from m1reason.train.data.phrasing import join_list, pick_names
from m1reason.train.data.problem import Problem, decimal_text, solution_paths
from m1reason.train.data.written import operation_steps

__all__ = ["average", "geometry"]

_AREA_UNITS = {"cm": ("square centimetres", "cm²", "cm^2"), "m": ("square metres", "m²", "m^2"),
               "mm": ("square millimetres", "mm²")}
_RECTANGLES = ("A rectangle has length {l} {u} and width {w} {u}.", "A rectangle is {l} {u} long and {w} {u} wide.",
               "A garden is {l} {u} long and {w} {u} wide.", "A rectangular poster measures {l} {u} by {w} {u}.",
               "A room is {l} {u} by {w} {u}.", "A rectangular field is {w} {u} wide and {l} {u} long.")


def _perimeter_steps(length: int, width: int, paths: random.Random) -> list[str]:
    total = 2 * (length + width)
    choice = paths.random()
    if choice < 0.4:
        return [f"perimeter is 2 * (length + width): {length} + {width} = {length + width}",
                f"2 * {length + width} = {total}"]
    if choice < 0.7:
        return [f"2 * {length} = {2 * length}", f"2 * {width} = {2 * width}", f"{2 * length} + {2 * width} = {total}"]
    return [f"add the four sides: {length} + {width} + {length} + {width} = {total}"]


def _rectangle(rng: random.Random, unit: str) -> Problem:
    length, width = sorted(rng.sample(range(2, 31), 2), reverse=True)
    fact = rng.choice(_RECTANGLES).format(l=length, w=width, u=unit)
    what = rng.choices(("area", "perimeter", "width from area", "width from perimeter"), weights=(35, 35, 15, 15))[0]
    area_name = rng.choice(_AREA_UNITS[unit])
    if what == "area":
        text = fact + rng.choice((f" What is its area in {area_name}?", " What is its area?", f" Find its area in "
                                  f"{area_name}.", " How much space does it cover, in " + area_name + "?"))
        steps = ["area is length * width", *operation_steps(length, "*", width, solution_paths(text))]
        return Problem(kind="geometry", problem=text, steps=tuple(steps), answer=str(length * width))
    if what == "perimeter":
        text = fact + rng.choice((f" What is its perimeter in {unit}?", " What is its perimeter?", " How long is a "
                                  "fence all the way around it?", f" Find the distance around it in {unit}."))
        return Problem(kind="geometry", problem=text, steps=tuple(_perimeter_steps(length, width,
                                                                                  solution_paths(text))),
                       answer=str(2 * (length + width)))
    if what == "width from area":
        text = (f"A rectangle has an area of {length * width} {area_name} and a length of {length} {unit}. What is its "
                "width?")
        return Problem(kind="geometry", problem=text, steps=("width is area / length",
                                                             f"{length * width} / {length} = {width}"),
                       answer=str(width))
    total = 2 * (length + width)
    text = f"A rectangle has a perimeter of {total} {unit} and a length of {length} {unit}. What is its width?"
    return Problem(kind="geometry", problem=text, steps=(f"length + width is half the perimeter: {total} / 2 = "
                                                         f"{total // 2}", f"{total // 2} - {length} = {width}"),
                   answer=str(width))


def _square(rng: random.Random, unit: str) -> Problem:
    side = rng.randint(2, 25)
    area_name = rng.choice(_AREA_UNITS[unit])
    what = rng.choice(("area", "perimeter", "area from perimeter"))
    if what == "area":
        text = rng.choice((f"A square has sides of {side} {unit}. What is its area in {area_name}?",
                           f"What is the area of a square with side {side} {unit}?"))
        return Problem(kind="geometry", problem=text, steps=("area is side * side", f"{side} * {side} = {side * side}"),
                       answer=str(side * side))
    if what == "perimeter":
        text = rng.choice((f"A square has sides of {side} {unit}. What is its perimeter?",
                           f"What is the perimeter of a square tile with side {side} {unit}?"))
        return Problem(kind="geometry", problem=text, steps=("a square has 4 equal sides", f"4 * {side} = {4 * side}"),
                       answer=str(4 * side))
    text = f"A square has a perimeter of {4 * side} {unit}. What is its area in {area_name}?"
    return Problem(kind="geometry", problem=text, steps=(f"each side is {4 * side} / 4 = {side}",
                                                         f"area: {side} * {side} = {side * side}"),
                   answer=str(side * side))


def _triangle(rng: random.Random, unit: str) -> Problem:
    if rng.random() < 0.3:
        sides = [rng.randint(3, 30) for _ in range(3)]
        while max(sides) * 2 >= sum(sides):
            sides[sides.index(max(sides))] -= 1
        listed = join_list([str(s) for s in sides])
        text = rng.choice((f"A triangle has sides of {sides[0]} {unit}, {sides[1]} {unit} and {sides[2]} {unit}. What "
                           "is its perimeter?", f"Find the perimeter of a triangle with sides {listed} {unit}."))
        return Problem(kind="geometry", problem=text, steps=(f"{sides[0]} + {sides[1]} = {sides[0] + sides[1]}",
                                                             f"{sides[0] + sides[1]} + {sides[2]} = {sum(sides)}"),
                       answer=str(sum(sides)))
    base, height = rng.randint(2, 30), rng.randint(2, 20)
    if base * height % 2:
        base += 1
    area_name = rng.choice(_AREA_UNITS[unit])
    text = rng.choice((f"A triangle has a base of {base} {unit} and a height of {height} {unit}. What is its area?",
                       f"What is the area of a triangle with base {base} {unit} and height {height} {unit}, in "
                       f"{area_name}?", f"Find the area of a triangle whose height is {height} {unit} and whose base "
                       f"is {base} {unit}."))
    half = base * height // 2
    if base % 2 == 0 and solution_paths(text).random() < 0.5:
        steps = ("area is base * height / 2", f"{base} / 2 = {base // 2}", f"{base // 2} * {height} = {half}")
    else:
        steps = ("area is base * height / 2", f"{base} * {height} = {base * height}", f"{base * height} / 2 = {half}")
    return Problem(kind="geometry", problem=text, steps=steps, answer=str(half))


def geometry(rng: random.Random) -> Problem:
    """Area or perimeter of a rectangle, square or triangle, or a rectangle's missing side.

    >>> p = geometry(random.Random(4)); p.problem, p.answer
    ('A rectangular poster measures 25 cm by 14 cm. What is its area in square centimetres?', '350')
    """
    shape = rng.choices((_rectangle, _square, _triangle), weights=(50, 20, 30))[0]
    return shape(rng, rng.choice(("cm", "cm", "m", "m", "mm")))


_LISTS = ("Find the mean of {v}.", "What is the average of {v}?", "Calculate the mean of these numbers: {v}.",
          "What is the arithmetic mean of {v}?", "{name}'s test scores are {v}. What is {name}'s mean score?",
          "The temperatures on {n} days were {v} degrees. What was the mean temperature?",
          "A team scored {v} goals in its last {n} games. What is the mean number of goals per game?",
          "{name} read {v} pages on {n} days. On average, how many pages did {name} read per day?")


def _sum_steps(values: list[int], paths: random.Random) -> list[str]:
    if len(values) >= 4 and paths.random() < 0.3:  # in pairs
        pairs = [values[i:i + 2] for i in range(0, len(values), 2)]
        sums = [sum(p) for p in pairs]
        lines = [f"{p[0]} + {p[1]} = {sum(p)}" for p in pairs if len(p) == 2]
        return lines + _sum_steps(sums, paths) if len(sums) > 1 else lines
    lines, running = [], values[0]
    for v in values[1:]:
        lines.append(f"{running} + {v} = {running + v}")
        running += v
    return lines


def average(rng: random.Random) -> Problem:
    """The mean of three to six numbers (a whole number or a short decimal), a missing value given the mean, or
    a total from the mean.

    >>> p = average(random.Random(3)); p.problem, p.answer
    ('Find the mean of 48, 78, 61 and 81.', '67')
    """
    count = rng.randint(3, 6)
    name = pick_names(rng, 1)[0]
    what = rng.choices(("mean", "missing", "total"), weights=(65, 25, 10))[0]
    values = [rng.randint(1, 99) for _ in range(count)]
    if what == "total":
        mean = rng.randint(2, 60)
        text = rng.choice((f"The mean of {count} numbers is {mean}. What is their sum?",
                           f"{name}'s mean score over {count} games is {mean}. What is {name}'s total score?"))
        return Problem(kind="average", problem=text, steps=(f"sum is mean * count: {count} * {mean} = "
                                                            f"{count * mean}",), answer=str(count * mean))
    if what == "missing":
        mean = rng.randint(10, 60)
        known = [rng.randint(1, 2 * mean - 1) for _ in range(count - 1)]
        while count * mean - sum(known) < 1:
            known[known.index(max(known))] //= 2
        shown = join_list(list(map(str, known)))
        text = rng.choice((f"The mean of {count} numbers is {mean}. {count - 1} of them are {shown}. What is the "
                           "other number?", f"{name} has a mean score of {mean} over {count} tests. The first "
                           f"{count - 1} scores are {shown}. What is the last score?"))
        paths = solution_paths(text)
        total = count * mean
        steps = [f"the total is {count} * {mean} = {total}", *_sum_steps(known, paths),
                 f"{total} - {sum(known)} = {total - sum(known)}"]
        return Problem(kind="average", problem=text, steps=tuple(steps), answer=str(total - sum(known)))
    if count in (3, 6) or rng.random() < 0.6:  # a whole-number mean
        values[-1] += (-sum(values)) % count
    mean = Fraction(sum(values), count)
    shown = join_list(list(map(str, values)))
    text = rng.choice(_LISTS).format(v=shown, n=count, name=name)
    steps = [*_sum_steps(values, solution_paths(text)),
             f"there are {count} numbers: {sum(values)} / {count} = {decimal_text(mean)}"]
    return Problem(kind="average", problem=text, steps=tuple(steps), answer=decimal_text(mean))
