"""Ratio and measurement kinds: ``ratio`` (sharing or dividing in a ratio, simplifying a ratio, scaling a ratio,
a recipe or a map scale, unit rates and prices, speed, distance and time) and ``unit`` (converting lengths,
masses, volumes and times up to days and weeks, including two-unit amounts).

Answers are whole numbers or exact decimals, and a simplified ratio is boxed as ``2:3``. A conversion states its
factor in words (``1 km is 1000 m``) and then multiplies or divides by it, so the only claims are plain
arithmetic.
"""

from __future__ import annotations

import random
from fractions import Fraction
from math import gcd

from m1reason.train.data.phrasing import ITEMS, currency, pick_names
from m1reason.train.data.problem import Problem, decimal_text, solution_paths

__all__ = ["ratio", "unit"]


def _share(rng: random.Random) -> Problem:
    names = pick_names(rng, 3)
    parts = [rng.randint(1, 9) for _ in range(3 if rng.random() < 0.2 else 2)]
    while gcd(*parts) > 1 or len(set(parts)) == 1:  # a ratio in lowest terms, not 2:2
        parts[rng.randrange(len(parts))] = rng.randint(1, 9)
    one = rng.randint(2, 15)
    total, sum_parts = one * sum(parts), sum(parts)
    item = rng.choice(ITEMS)
    ratio_text = ":".join(map(str, parts))
    people = names[:len(parts)]
    who = rng.randrange(len(parts))
    if len(parts) == 2:
        sharers = f"{people[0]} and {people[1]}"
        if parts[0] != parts[1] and rng.random() < 0.3:  # the difference of the shares
            text = f"{sharers} share {total} {item} in the ratio {ratio_text}. How many more {item} does " + (
                f"{people[0]} get than {people[1]}?" if parts[0] > parts[1] else f"{people[1]} get than {people[0]}?")
            big, small = max(parts), min(parts)
            steps = (f"{parts[0]} + {parts[1]} = {sum_parts} parts", f"one part is {total} / {sum_parts} = {one}",
                     f"the difference is {big} - {small} = {big - small} parts", f"{big - small} * {one} = "
                     f"{(big - small) * one}")
            return Problem(kind="ratio", problem=text, steps=steps, answer=str((big - small) * one))
    else:
        sharers = f"{people[0]}, {people[1]} and {people[2]}"
    if rng.random() < 0.3:  # money shared: "Share $60 between Ava and Ben in the ratio 1:2."
        money = currency(rng).format(total)
        text = rng.choice((f"Share {money} between {sharers} in the ratio {ratio_text}. How much does {people[who]} "
                           "get?", f"{sharers} share {money} in the ratio {ratio_text}. How much money does "
                           f"{people[who]} get?", f"{sharers} split {money} in the ratio {ratio_text}. How much "
                           f"goes to {people[who]}?"))
    else:
        text = rng.choice((f"Share {total} {item} between {sharers} in the ratio {ratio_text}. How many {item} does "
                           f"{people[who]} get?", f"{sharers} share {total} {item} in the ratio {ratio_text}. How "
                           f"many does {people[who]} get?", f"{sharers} split {total} {item} in the ratio "
                           f"{ratio_text}. How many {item} go to {people[who]}?"))
    steps = (f"{' + '.join(map(str, parts))} = {sum_parts} parts", f"one part is {total} / {sum_parts} = {one}",
             f"{people[who]} gets {parts[who]} * {one} = {parts[who] * one}")
    return Problem(kind="ratio", problem=text, steps=steps, answer=str(parts[who] * one))


def _coprime_pair(rng: random.Random, least: int = 1) -> tuple[int, int]:
    """Two different numbers from ``least`` to 9 with no common factor: a ratio in lowest terms (``least`` 2 where
    the words would read "1 cups")."""
    return rng.choice([(a, b) for a in range(least, 10) for b in range(least, 10) if a != b and gcd(a, b) == 1])


def _divide(rng: random.Random) -> Problem:
    """A bare number divided in a ratio, asking for the larger or smaller part: ``Divide 45 in the ratio 2:3.``"""
    a, b = _coprime_pair(rng)
    one = rng.randint(2, 20)
    total = (a + b) * one
    larger = rng.random() < 0.5
    which = rng.choice(("larger", "bigger", "greater") if larger else ("smaller",))
    text = rng.choice((f"Divide {total} in the ratio {a}:{b}. What is the {which} part?",
                       f"Split {total} into two parts in the ratio {a}:{b}. How big is the {which} part?",
                       f"{total} is divided in the ratio {a}:{b}. Find the {which} share.",
                       f"Divide {total} into two parts in the ratio {a} : {b}. What is the {which} part?"))
    part = max(a, b) if larger else min(a, b)
    steps = (f"{a} + {b} = {a + b} parts", f"one part is {total} / {a + b} = {one}",
             f"the {which} part is {part} * {one} = {part * one}")
    return Problem(kind="ratio", problem=text, steps=steps, answer=str(part * one))


def _simplify(rng: random.Random) -> Problem:
    """A ratio in its simplest form (the answer ``2:3``): divide both sides by what they share, at once or in two
    goes when that factor splits (12:18 by 2, then by 3)."""
    a, b = _coprime_pair(rng)
    k = rng.randint(2, 12)
    big_a, big_b = a * k, b * k
    first, second = rng.choice((("boys", "girls"), ("cats", "dogs"), ("red beads", "blue beads"),
                                ("adults", "children")))
    text = rng.choice((f"Simplify the ratio {big_a}:{big_b}.", f"Write the ratio {big_a}:{big_b} in its simplest form.",
                       f"Express {big_a}:{big_b} in lowest terms.", f"Simplify {big_a} : {big_b}.",
                       f"What is {big_a}:{big_b} in simplest form?",
                       f"There are {big_a} {first} and {big_b} {second}. What is the ratio of {first} to {second} in "
                       "its simplest form?"))
    small = next((p for p in (2, 3, 5) if k % p == 0 and k > p), None)
    if small and solution_paths(text).random() < 0.4:
        rest = k // small
        steps = (f"both divide by {small}: {big_a} / {small} = {a * rest}, {big_b} / {small} = {b * rest}",
                 f"both divide by {rest}: {a * rest} / {rest} = {a}, {b * rest} / {rest} = {b}")
    else:
        steps = (f"both divide by {k}: {big_a} / {k} = {a}, {big_b} / {k} = {b}",)
    steps += (f"{a} and {b} share no factor, so the ratio is {a}:{b}",)
    return Problem(kind="ratio", problem=text, steps=steps, answer=f"{a}:{b}")


_PAIRS = (("boys", "girls", "children in the club"), ("red beads", "blue beads", "beads in the bag"),
          ("cats", "dogs", "animals at the shelter"), ("adults", "children", "people on the trip"),
          ("apples", "oranges", "pieces of fruit in the box"), ("cars", "vans", "vehicles in the car park"),
          ("pens", "pencils", "things in the pot"), ("boys", "girls", "students in the class"))


def _scale(rng: random.Random) -> Problem:
    """A ratio and one of its two amounts (or their difference): the other amount or the total."""
    a, b = _coprime_pair(rng)
    k = rng.randint(2, 12)
    first, second, everyone = rng.choice(_PAIRS)
    if rng.random() < 0.2:  # the difference is known: "There are 8 more girls than boys."
        more, fewer = (first, second) if a > b else (second, first)
        want = rng.choice((first, second))
        text = (f"The ratio of {first} to {second} is {a}:{b}. There are {abs(a - b) * k} more {more} than {fewer}. "
                f"How many {want} are there?")
        count = a if want == first else b
        steps = (f"the difference is {max(a, b)} - {min(a, b)} = {abs(a - b)} parts",
                 f"one part is {abs(a - b) * k} / {abs(a - b)} = {k}", f"{want}: {count} * {k} = {count * k}")
        return Problem(kind="ratio", problem=text, steps=steps, answer=str(count * k))
    ask_total = rng.random() < 0.25
    known_first = rng.random() < 0.7
    known, other, have, get = (first, second, a, b) if known_first else (second, first, b, a)
    question = rng.choice((f"How many {everyone} are there?",) if ask_total else
                          (f"How many {other} are there?", f"How many {other}?", f"Find the number of {other}."))
    ratio = f"The ratio of {first} to {second} is {a}:{b}."
    wordings = [f"{ratio} There are {have * k} {known}. {question}", f"There are {have * k} {known}. {ratio} "
                f"{question}", f"There are {have * k} {known} and the ratio of {first} to {second} is {a}:{b}. "
                f"{question}"]
    if min(a, b) > 1:  # not "for every 4 cats there are 1 dogs"
        wordings.append(f"For every {a} {first} there are {b} {second}. There are {have * k} {known}. {question}")
    text = rng.choice(wordings)
    steps = [f"one part is {have * k} / {have} = {k}"]
    if ask_total:
        steps += [f"{a} + {b} = {a + b} parts", f"{a + b} * {k} = {(a + b) * k}"]
        return Problem(kind="ratio", problem=text, steps=tuple(steps), answer=str((a + b) * k))
    steps.append(f"{other}: {get} * {k} = {get * k}")
    return Problem(kind="ratio", problem=text, steps=tuple(steps), answer=str(get * k))


# (first, second, unit, what mixes them): a recipe's or a mix's two parts, in a unit both are measured in.
_MIXES = (("flour", "milk", "cups", "recipe"), ("flour", "sugar", "cups", "recipe"), ("oats", "milk", "cups", "recipe"),
          ("red paint", "white paint", "litres", "paint mix"), ("sand", "cement", "buckets", "concrete mix"),
          ("juice", "water", "glasses", "drink"))


def _recipe(rng: random.Random) -> Problem:
    """Scaling a recipe: one ingredient for every so much of another, or an amount for some number of people."""
    if rng.random() < 0.5:
        first, second, unit, what = rng.choice(_MIXES)
        a, b = _coprime_pair(rng, least=2)
        k = rng.randint(2, 10)
        if rng.random() < 0.5:
            first, second, a, b = second, first, b, a
        mix = rng.choice((f"A {what} uses {a} {unit} of {first} for every {b} {unit} of {second}.",
                          f"In a {what}, {a} {unit} of {first} go with every {b} {unit} of {second}."))
        text = mix + rng.choice((f" How many {unit} of {second} are needed for {a * k} {unit} of {first}?",
                                 f" How much {second} goes with {a * k} {unit} of {first}?"))
        paths = solution_paths(text)
        if paths.random() < 0.5:  # how many times the recipe
            steps = (f"{a * k} / {a} = {k}, so it is {k} times the {what}", f"{b} * {k} = {b * k}")
        else:
            steps = (f"{a * k} {unit} of {first} is {a * k} / {a} = {k} lots of {a}", f"{k} * {b} = {b * k}")
        return Problem(kind="ratio", problem=text, steps=steps, answer=str(b * k))
    people, other = rng.sample((2, 3, 4, 5, 6, 8, 10, 12), 2)
    each = rng.choice((5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 100))
    ingredient, unit, unit_name = rng.choice((("flour", "g", "grams"), ("butter", "g", "grams"),
                                              ("sugar", "g", "grams"), ("milk", "ml", "millilitres"),
                                              ("rice", "g", "grams")))
    amount = people * each
    text = rng.choice((f"A recipe for {people} people needs {amount} {unit} of {ingredient}. How much {ingredient} is "
                       f"needed for {other} people?", f"A recipe uses {amount} {unit} of {ingredient} to serve "
                       f"{people}. How many {unit_name} of {ingredient} are needed to serve {other}?"))
    if other % people == 0 and solution_paths(text).random() < 0.5:
        steps = (f"{other} / {people} = {other // people} times the recipe", f"{amount} * {other // people} = "
                 f"{each * other}")
    else:
        steps = (f"for one person: {amount} / {people} = {each}", f"{each} * {other} = {each * other}")
    return Problem(kind="ratio", problem=text, steps=steps, answer=str(each * other))


def _map_scale(rng: random.Random) -> Problem:
    """A map's or a plan's scale, ``1 cm to 5 km``: the real length from the drawn one, or the drawn from the real."""
    per, real = rng.choice(((2, "km"), (5, "km"), (10, "km"), (4, "km"), (25, "km"), (2, "m"), (5, "m"), (3, "m")))
    drawing, thing = ("map", "road") if real == "km" else ("plan", "wall")
    on_map = rng.randint(2, 15)
    scale = rng.choice((f"On a {drawing}, 1 cm stands for {per} {real}.", f"The scale of a {drawing} is 1 cm to {per} "
                        f"{real}.", f"A {drawing} uses a scale of 1 cm for every {per} {real}."))
    if rng.random() < 0.65:
        text = scale + rng.choice((f" A {thing} is {on_map} cm long on the {drawing}. How long is the real {thing} in "
                                   f"{real}?", f" Two points are {on_map} cm apart on the {drawing}. How far apart are "
                                   f"they really, in {real}?"))
        steps = (f"each cm is {per} {real}: {on_map} * {per} = {on_map * per}",)
        return Problem(kind="ratio", problem=text, steps=steps, answer=str(on_map * per))
    text = scale + f" A real {thing} is {on_map * per} {real} long. How long is it on the {drawing}, in cm?"
    steps = (f"each cm is {per} {real}: {on_map * per} / {per} = {on_map}",)
    return Problem(kind="ratio", problem=text, steps=steps, answer=str(on_map))


def _unit_rate(rng: random.Random) -> Problem:
    cash = currency(rng).format
    count, other = rng.sample(range(2, 13), 2)
    each = rng.randint(2, 25)
    name = pick_names(rng, 1)[0]
    item = rng.choice(ITEMS)
    form = rng.randrange(3)
    if form == 0:
        text = rng.choice((f"{count} {item} cost {cash(count * each)}. How much do {other} {item} cost?",
                           f"If {count} {item} cost {cash(count * each)}, what do {other} {item} cost?"))
    elif form == 1:
        text = (f"A machine makes {count * each} {item} in {count} minutes. How many {item} does it make in {other} "
                "minutes?")
    else:
        text = f"{name} earns {cash(count * each)} for {count} hours of work. How much is that per hour?"
        steps = (f"{count * each} / {count} = {each}",)
        return Problem(kind="ratio", problem=text, steps=steps, answer=str(each))
    paths = solution_paths(text)
    if other % count == 0 and paths.random() < 0.5:  # scale the whole group
        times = other // count
        steps = (f"{other} / {count} = {times}", f"{count * each} * {times} = {count * each * times}")
    else:
        steps = (f"one costs {count * each} / {count} = {each}" if form == 0 else
                 f"in one minute: {count * each} / {count} = {each}", f"{each} * {other} = {each * other}")
    return Problem(kind="ratio", problem=text, steps=steps, answer=str(each * other))


def _speed(rng: random.Random) -> Problem:
    speed, hours = rng.randint(3, 90), rng.randint(2, 8)
    vehicle, unit = rng.choice((("car", "km"), ("train", "km"), ("cyclist", "km"), ("runner", "km"), ("car", "miles")))
    per = "km/h" if unit == "km" else "miles per hour"
    form = rng.randrange(4)
    distance = speed * hours
    if form == 0:
        text = rng.choice((f"A {vehicle} travels {distance} {unit} in {hours} hours. What is its average speed in "
                           f"{per}?", f"What is the speed of a {vehicle} that goes {distance} {unit} in {hours} "
                           "hours?"))
        steps = ("speed is distance / time", f"{distance} / {hours} = {speed}")
        return Problem(kind="ratio", problem=text, steps=steps, answer=str(speed))
    if form == 1:
        text = rng.choice((f"A {vehicle} goes at {speed} {per} for {hours} hours. How far does it go in {unit}?",
                           f"How many {unit} does a {vehicle} cover in {hours} hours at {speed} {per}?"))
        return Problem(kind="ratio", problem=text, steps=("distance is speed * time", f"{speed} * {hours} = "
                                                          f"{distance}"), answer=str(distance))
    if form == 2:
        text = rng.choice((f"How many hours does it take a {vehicle} to travel {distance} {unit} at {speed} {per}?",
                           f"A {vehicle} travels at {speed} {per}. How long, in hours, does a {distance} {unit} trip "
                           "take?"))
        return Problem(kind="ratio", problem=text, steps=("time is distance / speed", f"{distance} / {speed} = "
                                                          f"{hours}"), answer=str(hours))
    minutes = rng.choice((15, 30, 45, 20, 40))
    part = Fraction(minutes, 60)
    speed = part.denominator * rng.randint(1, 20)
    text = f"A {vehicle} goes at {speed} {per} for {minutes} minutes. How far does it go in {unit}?"
    steps = (f"{minutes} minutes is {minutes} / 60 = {part.numerator}/{part.denominator} of an hour",
             f"{speed} * {part.numerator}/{part.denominator} = {speed * part}")
    return Problem(kind="ratio", problem=text, steps=steps, answer=str(speed * part))


def ratio(rng: random.Random) -> Problem:
    """One ratio or rate problem: share or divide in a ratio, simplify a ratio, scale a ratio or a recipe, a map
    scale, a unit rate or price, or speed/distance/time.

    >>> p = ratio(random.Random(1)); p.problem, p.answer
    ('Ali and Elena share 165 apples in the ratio 8:7. How many more apples does Ali get than Elena?', '11')
    """
    makers = (_share, _divide, _simplify, _scale, _recipe, _map_scale, _unit_rate, _speed)
    return rng.choices(makers, weights=(18, 10, 10, 16, 12, 6, 14, 14))[0](rng)


# (small unit, big unit, how many small in one big, spellings of small, spellings of big)
_UNITS = (("mm", "cm", 10, ("mm", "millimetres"), ("cm", "centimetres")),
          ("cm", "m", 100, ("cm", "centimetres", "centimeters"), ("m", "metres", "meters")),
          ("m", "km", 1000, ("m", "metres", "meters"), ("km", "kilometres", "kilometers")),
          ("mm", "m", 1000, ("mm", "millimetres"), ("m", "metres")),
          ("g", "kg", 1000, ("g", "grams"), ("kg", "kilograms")),
          ("ml", "l", 1000, ("ml", "millilitres", "milliliters"), ("l", "litres", "liters")),
          ("min", "h", 60, ("min", "minutes"), ("h", "hours")),
          ("s", "min", 60, ("s", "seconds"), ("min", "minutes")),
          ("s", "h", 3600, ("s", "seconds"), ("h", "hours")),
          ("h", "day", 24, ("h", "hours"), ("days",)),
          ("days", "week", 7, ("days",), ("weeks",)),
          # US customary units, as American textbooks and their students write them
          ("in", "ft", 12, ("inches",), ("ft", "feet")),
          ("ft", "yd", 3, ("ft", "feet"), ("yd", "yards")),
          ("in", "yd", 36, ("inches",), ("yd", "yards")),
          ("ft", "mi", 5280, ("ft", "feet"), ("mi", "miles")),
          ("oz", "lb", 16, ("oz", "ounces"), ("lb", "pounds")))
_OBJECTS = {"cm": "A rope is {} long.", "m": "A path is {} long.", "kg": "A bag of rice weighs {}.",
            "l": "A bottle holds {}.", "h": "A film lasts {}.", "min": "A song lasts {}.", "g": "A letter weighs {}.",
            "km": "A race is {} long.", "ml": "A glass holds {}.", "day": "A holiday lasts {}.",
            "mm": "A screw is {} long.", "s": "A race took {}.", "in": "A ribbon is {} long.",
            "ft": "A board is {} long.", "yd": "A roll of fabric is {} long.", "mi": "A hike is {} long.",
            "oz": "A cup of yogurt weighs {}.", "lb": "A bag of flour weighs {}."}
_SINGULAR = {"inches": "inch", "feet": "foot"}


def _big_amount(rng: random.Random, factor: int) -> Fraction:
    """An amount in the big unit that converts to a whole or short decimal amount of the small one: quarter hours,
    half days, tenths and hundredths of a metre or a kilogram."""
    if factor in (60, 3600):
        return Fraction(rng.randint(1, 20 if factor == 60 else 8), rng.choice((1, 2, 4)))
    if factor in (3, 7, 12, 16, 24, 36, 5280):
        return Fraction(rng.randint(1, 20), rng.choice((1, 1, 2)))
    return Fraction(rng.randint(1, 999), rng.choice((1, 10, 100))) if factor >= 100 else Fraction(rng.randint(1, 99),
                                                                                                    rng.choice((1, 10)))


def _one(name: str) -> str:
    """A unit's name after "1": ``metres`` as ``metre``, ``feet`` as ``foot``; a symbol stays as it is."""
    return _SINGULAR.get(name) or (name[:-1] if len(name) > 3 and name.endswith("s") else name)


def _two_units(rng: random.Random, unit_row: tuple) -> Problem:
    """A two-unit amount (``2 hours 15 minutes``, ``3 m and 45 cm``) in the small unit."""
    small, big, factor, small_names, big_names = unit_row
    s_name, b_name = rng.choice(small_names), rng.choice(big_names)
    whole, rest = rng.randint(1, 9), rng.randint(1, factor - 1)
    amount = f"{whole} {_one(b_name) if whole == 1 else b_name}{rng.choice((' ', ' ', ' and '))}{rest} {s_name}"
    target = small_names[-1]
    text = rng.choice((f"How many {target} are in {amount}?", f"Write {amount} in {s_name}.",
                       f"Convert {amount} to {target}.", f"Change {amount} into {target}.",
                       f"{amount[0].upper()}{amount[1:]} is how many {target}?", f"Express {amount} in {target}."))
    steps = (f"1 {_one(big)} is {factor} {small}", f"{whole} * {factor} = {whole * factor}",
             f"{whole * factor} + {rest} = {whole * factor + rest}")
    return Problem(kind="unit", problem=text, steps=steps, answer=str(whole * factor + rest))


def unit(rng: random.Random) -> Problem:
    """One conversion: a big unit to a small one, a small to a big one, or a two-unit amount to the small unit;
    metric units, time, and US customary lengths and weights.

    >>> p = unit(random.Random(12)); p.problem, p.answer
    ('How many ounces in 13 lb?', '208')
    """
    unit_row = rng.choice(_UNITS)
    small, big, factor, small_names, big_names = unit_row
    form = rng.choices(("down", "up", "two"), weights=(42, 35, 23))[0]
    if form == "two" and factor not in (3600, 5280):  # "3 hours 2215 seconds" is nobody's amount
        return _two_units(rng, unit_row)
    s_name, b_name = rng.choice(small_names), rng.choice(big_names)
    value = _big_amount(rng, factor)
    if form != "up":
        b_name = _one(b_name) if value == 1 else b_name
        source, target, result = f"{decimal_text(value)} {b_name}", s_name, value * factor
        claim = f"{decimal_text(value)} * {factor} = {decimal_text(result)}"
    else:
        value = value * factor
        source, target, result = f"{decimal_text(value)} {s_name}", b_name, value / factor
        claim = f"{decimal_text(value)} / {factor} = {decimal_text(result)}"
    target_word = big_names[-1] if form == "up" else small_names[-1]
    wordings = [f"Convert {source} to {target}.", f"How many {target_word} are in {source}?",
                f"Write {source} in {target}.", f"What is {source} in {target_word}?", f"{source} = ? {target}",
                f"How many {target} in {source}?", f"{source} is how many {target_word}?",
                f"Change {source} into {target_word}.", f"Express {source} in {target_word}.",
                f"{source} in {target_word}", f"Convert {source} into {target_word}.",
                f"There are {factor} {small_names[-1]} in 1 {_one(big_names[-1])}. How many {target_word} are in "
                f"{source}?"]
    story = _OBJECTS.get(small if form == "up" else big)
    if story:
        wordings += [story.format(source) + f" How much is that in {target_word}?",
                     story.format(source) + f" What is that in {target_word}?"]
    text = rng.choice(wordings)
    steps = (f"1 {_one(big)} is {factor} {small}", claim)
    return Problem(kind="unit", problem=text, steps=steps, answer=decimal_text(result))
