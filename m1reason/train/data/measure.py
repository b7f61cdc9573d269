"""Shape and data kinds: ``geometry`` (area and perimeter of rectangles, squares and triangles, a missing side
or height from the area or the perimeter, in units or bare numbers) and ``average`` (the mean of a list, a
missing value from the mean, the score needed next, a total from the mean; a list's median, mode and range).

Formulas appear in words (``area is length * width``) and only numbers go into claims. Valid paths differ per
problem: a perimeter as ``2 * (l + w)``, ``2 * l + 2 * w`` or four sides added; a triangle halved before or
after multiplying; a sum added left to right or in pairs.
"""

from __future__ import annotations

import random
from fractions import Fraction

from m1reason.train.data.phrasing import in_words, join_list, pick_names
from m1reason.train.data.problem import Problem, decimal_text, solution_paths
from m1reason.train.data.written import operation_steps

__all__ = ["average", "geometry"]

_AREA_UNITS = {"cm": ("square centimetres", "cm²", "cm^2"), "m": ("square metres", "m²", "m^2"),
               "mm": ("square millimetres", "mm²"), "": ("square units",)}
# A rectangle's facts: {l} and {w} are lengths with their unit (or bare numbers, on a worksheet without units).
_RECTANGLES = ("A rectangle has length {l} and width {w}.", "A rectangle is {l} long and {w} wide.",
               "A garden is {l} long and {w} wide.", "A rectangular poster measures {l} by {w}.",
               "A room is {l} by {w}.", "A rectangular field is {w} wide and {l} long.",
               "A garden measures {l} by {w}.", "A rectangle has sides {l} and {w}.",
               "A rectangular table top is {l} long and {w} wide.", "The length of a rectangle is {l} and its width "
               "is {w}.")
# Whole questions about a rectangle, area first then perimeter.
_RECTANGLE_AREA = ("Find the area of a rectangle {l} by {w}.", "What is the area of a rectangle with length {l} and "
                   "width {w}?", "What is the area of a {l} by {w} rectangle?", "Find the area of a rectangle whose "
                   "sides are {l} and {w}.")
_RECTANGLE_PERIMETER = ("What is the perimeter of a rectangle with sides {l} and {w}?", "Find the perimeter of a "
                        "rectangle that is {l} long and {w} wide.", "What is the perimeter of a {l} by {w} "
                        "rectangle?", "Find the perimeter of a rectangle with length {l} and width {w}.")


def _length(n: int, unit: str) -> str:
    """A length as a problem writes it: ``12 cm``, or ``12`` without a unit."""
    return f"{n} {unit}" if unit else str(n)


def _perimeter_steps(length: int, width: int, paths: random.Random) -> list[str]:
    total = 2 * (length + width)
    choice = paths.random()
    if choice < 0.4:
        return [f"perimeter is 2 * (length + width): {length} + {width} = {length + width}",
                f"2 * {length + width} = {total}"]
    if choice < 0.7:
        return [f"2 * {length} = {2 * length}", f"2 * {width} = {2 * width}", f"{2 * length} + {2 * width} = {total}"]
    return [f"add the four sides: {length} + {width} + {length} + {width} = {total}"]


def _rectangle_side(rng: random.Random, length: int, width: int, unit: str, area_name: str) -> Problem:
    """A rectangle's missing side from its area (area / side) or its perimeter (half of it, less the side)."""
    l_text, w_text = _length(length, unit), _length(width, unit)
    give_length = rng.random() < 0.7  # the question gives the length and asks the width, or the other way round
    given, want = (length, width) if give_length else (width, length)
    if rng.random() < 0.5:
        area = f"{length * width} {area_name}"
        text = rng.choice((f"A rectangle has an area of {area} and a length of {l_text}. What is its width?",
                           f"The area of a rectangle is {area}. Its length is {l_text}. How wide is it?") if give_length
                          else (f"A rectangular garden has an area of {area} and is {w_text} wide. How long is it?",
                                f"The area of a rectangle is {area} and its width is {w_text}. What is its length?"))
        steps = (f"the missing side is area / {'length' if give_length else 'width'}",
                 f"{length * width} / {given} = {want}")
        return Problem(kind="geometry", problem=text, steps=steps, answer=str(want))
    total = 2 * (length + width)
    perimeter = _length(total, unit)
    text = rng.choice((f"A rectangle has a perimeter of {perimeter} and a length of {l_text}. What is its width?",
                       f"The perimeter of a rectangle is {perimeter}. One side is {l_text}. How long is the other "
                       "side?") if give_length else
                      (f"A rectangular field is {w_text} wide and its perimeter is {perimeter}. How long is it?",))
    steps = (f"the two sides add up to half the perimeter: {total} / 2 = {total // 2}", f"{total // 2} - {given} = "
             f"{want}")
    return Problem(kind="geometry", problem=text, steps=steps, answer=str(want))


def _rectangle(rng: random.Random, unit: str) -> Problem:
    length, width = sorted(rng.sample(range(2, 31), 2), reverse=True)
    l_text, w_text = _length(length, unit), _length(width, unit)
    what = rng.choices(("area", "perimeter", "side"), weights=(38, 37, 25))[0]
    area_name = rng.choice(_AREA_UNITS[unit])
    if what == "side":
        return _rectangle_side(rng, length, width, unit, area_name)
    whole = rng.random() < 0.35  # one whole question, or a fact and then a question about "it"
    fact = rng.choice(_RECTANGLES).format(l=l_text, w=w_text)
    if what == "area":
        text = rng.choice(_RECTANGLE_AREA).format(l=l_text, w=w_text) if whole else fact + rng.choice((
            f" What is its area in {area_name}?", " What is its area?", f" Find its area in {area_name}.",
            f" How much space does it cover, in {area_name}?", " Find its area."))
        steps = ["area is length * width", *operation_steps(length, "*", width, solution_paths(text))]
        return Problem(kind="geometry", problem=text, steps=tuple(steps), answer=str(length * width))
    around = f" in {unit}" if unit else ""
    text = rng.choice(_RECTANGLE_PERIMETER).format(l=l_text, w=w_text) if whole else fact + rng.choice((
        f" What is its perimeter{around}?", " What is its perimeter?", " How long is a fence all the way around it?",
        f" Find the distance around it{around}.", " Find its perimeter."))
    return Problem(kind="geometry", problem=text, steps=tuple(_perimeter_steps(length, width, solution_paths(text))),
                   answer=str(2 * (length + width)))


_SQUARE_SIDE = ("A square has sides of {s}.", "The side of a square is {s}.", "A square has a side length of {s}.",
                "A square tile has sides of {s}.", "Each side of a square is {s}.")


def _square(rng: random.Random, unit: str) -> Problem:
    side = rng.randint(2, 25)
    s = _length(side, unit)
    area_name = rng.choice(_AREA_UNITS[unit])
    what = rng.choice(("area", "perimeter", "area from perimeter", "side from area", "side from perimeter"))
    if what in ("area", "perimeter"):
        area = what == "area"
        if rng.random() < 0.4:
            text = rng.choice((f"What is the area of a square with side {s}?", f"Find the area of a square of side "
                               f"{s}.") if area else (f"What is the perimeter of a square tile with side {s}?",
                                                      f"Find the perimeter of a square with sides of {s}."))
        else:
            fact = rng.choice(_SQUARE_SIDE).format(s=s)
            if rng.random() < 0.15:  # "The side of a square is 9 cm; find its area."
                text = fact[:-1] + ("; find its area." if area else "; find its perimeter.")
            else:
                text = fact + rng.choice((f" What is its area in {area_name}?", " Find its area.") if area else
                                         (" What is its perimeter?", " Find its perimeter."))
        steps = (("area is side * side", f"{side} * {side} = {side * side}") if area else
                 ("a square has 4 equal sides", f"4 * {side} = {4 * side}"))
        return Problem(kind="geometry", problem=text, steps=steps, answer=str(side * side if area else 4 * side))
    if what == "area from perimeter":
        text = f"A square has a perimeter of {_length(4 * side, unit)}. What is its area in {area_name}?"
        return Problem(kind="geometry", problem=text, steps=(f"each side is {4 * side} / 4 = {side}",
                                                             f"area: {side} * {side} = {side * side}"),
                       answer=str(side * side))
    if what == "side from perimeter":
        text = rng.choice((f"A square has a perimeter of {_length(4 * side, unit)}. How long is each side?",
                           f"The perimeter of a square is {_length(4 * side, unit)}. What is the length of one "
                           "side?"))
        return Problem(kind="geometry", problem=text, steps=("a square has 4 equal sides", f"{4 * side} / 4 = {side}"),
                       answer=str(side))
    perimeter = rng.random() < 0.35
    text = f"A square has an area of {side * side} {area_name}. " + (
        "What is its perimeter?" if perimeter else rng.choice(("How long is each side?",
                                                               "What is the length of one side?")))
    steps = ("area is side * side", f"{side} * {side} = {side * side}, so each side is {side}")
    if perimeter:
        steps += (f"4 * {side} = {4 * side}",)
    return Problem(kind="geometry", problem=text, steps=steps, answer=str(4 * side if perimeter else side))


def _triangle(rng: random.Random, unit: str) -> Problem:
    if rng.random() < 0.3:
        if rng.random() < 0.25:  # equilateral: three equal sides
            side = rng.randint(2, 30)
            text = rng.choice((f"An equilateral triangle has sides of {_length(side, unit)}. What is its perimeter?",
                               f"Find the perimeter of an equilateral triangle with side {_length(side, unit)}."))
            return Problem(kind="geometry", problem=text, steps=("its 3 sides are equal", f"3 * {side} = {3 * side}"),
                           answer=str(3 * side))
        sides = [rng.randint(3, 30) for _ in range(3)]
        while max(sides) * 2 >= sum(sides):
            sides[sides.index(max(sides))] -= 1
        listed = join_list([str(s) for s in sides])
        text = rng.choice((f"A triangle has sides of {', '.join(_length(s, unit) for s in sides[:2])} and "
                           f"{_length(sides[2], unit)}. What is its perimeter?", f"Find the perimeter of a triangle "
                           f"with sides {listed}{' ' + unit if unit else ''}."))
        return Problem(kind="geometry", problem=text, steps=(f"{sides[0]} + {sides[1]} = {sides[0] + sides[1]}",
                                                             f"{sides[0] + sides[1]} + {sides[2]} = {sum(sides)}"),
                       answer=str(sum(sides)))
    base, height = rng.randint(2, 30), rng.randint(2, 20)
    if base * height % 2:
        base += 1
    area_name = rng.choice(_AREA_UNITS[unit])
    b, h = _length(base, unit), _length(height, unit)
    half = base * height // 2
    if rng.random() < 0.2:  # the height from the area and the base
        text = rng.choice((f"A triangle has an area of {half} {area_name} and a base of {b}. What is its height?",
                           f"The area of a triangle is {half} {area_name}. Its base is {b}. How tall is it?"))
        steps = ("area is base * height / 2, so base * height is twice the area", f"{half} * 2 = {base * height}",
                 f"{base * height} / {base} = {height}")
        return Problem(kind="geometry", problem=text, steps=steps, answer=str(height))
    text = rng.choice((f"A triangle has a base of {b} and a height of {h}. What is its area?",
                       f"What is the area of a triangle with base {b} and height {h}, in {area_name}?",
                       f"Find the area of a triangle whose height is {h} and whose base is {b}.",
                       f"A right triangle has legs of {b} and {h}. What is its area?",
                       f"Find the area of a triangle with a base of {b} and a height of {h}."))
    first = "area is base * height / 2" if "legs" not in text else "the legs are a base and its height: area is " \
                                                                   "base * height / 2"
    if base % 2 == 0 and solution_paths(text).random() < 0.5:
        steps = (first, f"{base} / 2 = {base // 2}", f"{base // 2} * {height} = {half}")
    else:
        steps = (first, f"{base} * {height} = {base * height}", f"{base * height} / 2 = {half}")
    return Problem(kind="geometry", problem=text, steps=steps, answer=str(half))


def geometry(rng: random.Random) -> Problem:
    """Area or perimeter of a rectangle, square or triangle, or a missing side (or height) from the area or the
    perimeter; lengths in mm, cm or m, or bare numbers as on a worksheet.

    >>> p = geometry(random.Random(4)); p.problem, p.answer
    ('What is the perimeter of a 25 cm by 14 cm rectangle?', '78')
    """
    shape = rng.choices((_rectangle, _square, _triangle), weights=(48, 24, 28))[0]
    return shape(rng, rng.choice(("cm", "cm", "m", "m", "mm", "")))


_LISTS = ("Find the mean of {v}.", "What is the average of {v}?", "Calculate the mean of these numbers: {v}.",
          "What is the arithmetic mean of {v}?", "{name}'s test scores are {v}. What is {name}'s mean score?",
          "The temperatures on {n} days were {v} degrees. What was the mean temperature?",
          "A team scored {v} goals in its last {n} games. What is the mean number of goals per game?",
          "{name} read {v} pages on {n} days. On average, how many pages did {name} read per day?",
          "What is the mean of {v}?", "Work out the average of {v}.", "Find the average of the numbers {v}.",
          "Calculate the average (mean) of {v}.", "{name}'s {said} test scores are {v}. What is the average score?",
          "A student's marks are {v}. Find the mean mark.", "The heights of {n} plants are {v} cm. What is their "
          "mean height?", "{name} scored {v} in {n} games. What was the average score?", "Average of {v}?",
          "What is the mean of these {n} numbers: {v}?", "The ages of {n} people are {v}. What is their mean age?")
_TOTALS = ("The mean of {n} numbers is {m}. What is their sum?",
           "{name}'s mean score over {n} games is {m}. What is {name}'s total score?",
           "The average of {n} numbers is {m}. What is their total?",
           "{n} friends have an average age of {m}. What is the sum of their ages?",
           "The mean mass of {n} parcels is {m} kg. What is their total mass in kg?")
_MISSING = ("The mean of {n} numbers is {m}. {k} of them are {v}. What is the other number?",
            "{name} has a mean score of {m} over {n} tests. The first {k} scores are {v}. What is the last score?",
            "The average of {n} numbers is {m}. {k} of the numbers are {v}. What is the {nth} number?",
            "{name} scored {v} on {k} tests. What must {name} score on the next test to have a mean of {m}?",
            "The mean of {n} numbers is {m}. If {k} of them are {v}, what is the missing number?")
_NTH = {3: "third", 4: "fourth", 5: "fifth", 6: "sixth"}
# The other averages of a list, and its spread: {v} is the list as the problem writes it.
_MEDIAN = ("Find the median of {v}.", "What is the median of {v}?", "What is the median of these numbers: {v}?",
           "{name}'s scores were {v}. What is the median score?", "Work out the median of {v}.")
_MODE = ("What is the mode of {v}?", "Find the mode of {v}.", "Which number is the mode of {v}?",
         "The shoe sizes of a group of friends are {v}. What is the mode?", "Find the mode of these numbers: {v}.")
_RANGE = ("What is the range of {v}?", "Find the range of {v}.", "Work out the range of these numbers: {v}.",
          "The temperatures this week were {v} degrees. What is the range?",
          "{name}'s test scores are {v}. What is the range of the scores?")


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


def _spread(rng: random.Random, what: str, name: str) -> Problem:
    """The median (a list of 5 to 8, its middle one or the mean of the middle two), the mode (a list with one
    value repeated most) or the range of a list, worked from the list put in order."""
    count = rng.randint(5, 8)
    values = [rng.randint(1, 20 if what == "mode" else 60) for _ in range(count)]
    if what == "mode":  # one value more often than any other: others turn into it until it leads
        mode = rng.choice(values)
        while values.count(mode) <= max((values.count(v) for v in set(values) - {mode}), default=0):
            values[rng.choice([i for i, v in enumerate(values) if v != mode])] = mode
    shown = join_list(list(map(str, values)))
    text = rng.choice({"median": _MEDIAN, "mode": _MODE, "range": _RANGE}[what]).format(v=shown, name=name)
    ordered = sorted(values)
    steps = [f"in order: {', '.join(map(str, ordered))}"]
    if what == "range":
        steps += [f"largest {ordered[-1]}, smallest {ordered[0]}", f"{ordered[-1]} - {ordered[0]} = "
                                                                   f"{ordered[-1] - ordered[0]}"]
        return Problem(kind="average", problem=text, steps=tuple(steps), answer=str(ordered[-1] - ordered[0]))
    if what == "mode":
        times = {v: values.count(v) for v in ordered}
        steps += [", ".join(f"{v} appears {times[v]} times" if times[v] > 1 else f"{v} appears once" for v in times),
                  f"the most common is {mode}"]
        return Problem(kind="average", problem=text, steps=tuple(steps), answer=str(mode))
    middle = len(ordered) // 2
    if len(ordered) % 2:
        steps.append(f"{len(ordered)} numbers, so the median is number {middle + 1} in order: {ordered[middle]}")
        return Problem(kind="average", problem=text, steps=tuple(steps), answer=str(ordered[middle]))
    low, high = ordered[middle - 1], ordered[middle]
    steps += [f"{len(ordered)} numbers, so the median is the mean of the middle two, {low} and {high}",
              f"{low} + {high} = {low + high}",
              f"{low + high} / 2 = {decimal_text(Fraction(low + high, 2))}"]
    return Problem(kind="average", problem=text, steps=tuple(steps), answer=decimal_text(Fraction(low + high, 2)))


def average(rng: random.Random) -> Problem:
    """The mean of three to six numbers (a whole number or a short decimal), a missing value given the mean, a
    total from the mean, or a list's median, mode or range.

    >>> p = average(random.Random(2)); p.problem, p.answer
    ('Work out the average of 22, 95 and 87.', '68')
    >>> p = average(random.Random(14)); p.problem, p.answer
    ("Dan's scores were 18, 48, 17, 19, 47 and 5. What is the median score?", '18.5')
    """
    count = rng.randint(3, 6)
    name = pick_names(rng, 1)[0]
    what = rng.choices(("mean", "missing", "total", "median", "mode", "range"), weights=(44, 18, 8, 12, 9, 9))[0]
    if what in ("median", "mode", "range"):
        return _spread(rng, what, name)
    values = [rng.randint(1, 99) for _ in range(count)]
    if what == "total":
        mean = rng.randint(2, 60)
        text = rng.choice(_TOTALS).format(n=count, m=mean, name=name)
        return Problem(kind="average", problem=text, steps=(f"sum is mean * count: {count} * {mean} = "
                                                            f"{count * mean}",), answer=str(count * mean))
    if what == "missing":
        mean = rng.randint(10, 60)
        known = [rng.randint(1, 2 * mean - 1) for _ in range(count - 1)]
        while count * mean - sum(known) < 1:
            known[known.index(max(known))] //= 2
        shown = join_list(list(map(str, known)))
        text = rng.choice(_MISSING).format(n=count, m=mean, k=count - 1, v=shown, name=name, nth=_NTH[count])
        paths = solution_paths(text)
        total = count * mean
        steps = [f"the total is {count} * {mean} = {total}", *_sum_steps(known, paths),
                 f"{total} - {sum(known)} = {total - sum(known)}"]
        return Problem(kind="average", problem=text, steps=tuple(steps), answer=str(total - sum(known)))
    if count in (3, 6) or rng.random() < 0.6:  # a whole-number mean
        values[-1] += (-sum(values)) % count
    mean = Fraction(sum(values), count)
    shown = join_list(list(map(str, values)))
    text = rng.choice(_LISTS).format(v=shown, n=count, name=name, said=in_words(count))
    steps = [*_sum_steps(values, solution_paths(text)),
             f"there are {count} numbers: {sum(values)} / {count} = {decimal_text(mean)}"]
    return Problem(kind="average", problem=text, steps=tuple(steps), answer=decimal_text(mean))
