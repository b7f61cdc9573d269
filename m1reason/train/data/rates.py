"""Ratio and measurement kinds: ``ratio`` (sharing in a ratio, scaling a ratio, unit rates and prices, speed,
distance and time) and ``unit`` (converting lengths, masses, volumes and times, including two-unit amounts).

Answers are whole numbers or exact decimals. A conversion states its factor in words (``1 km is 1000 m``) and
then multiplies or divides by it, so the only claims are plain arithmetic.
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
    text = rng.choice((f"Share {total} {item} between {sharers} in the ratio {ratio_text}. How many {item} does "
                       f"{people[who]} get?", f"{sharers} share {total} {item} in the ratio {ratio_text}. How many "
                       f"does {people[who]} get?", f"{sharers} split {total} {item} in the ratio {ratio_text}. "
                       f"How many {item} go to {people[who]}?"))
    steps = (f"{' + '.join(map(str, parts))} = {sum_parts} parts", f"one part is {total} / {sum_parts} = {one}",
             f"{people[who]} gets {parts[who]} * {one} = {parts[who] * one}")
    return Problem(kind="ratio", problem=text, steps=steps, answer=str(parts[who] * one))


_PAIRS = (("boys", "girls", "children in the club"), ("red beads", "blue beads", "beads in the bag"),
          ("cats", "dogs", "animals at the shelter"), ("adults", "children", "people on the trip"))


def _scale(rng: random.Random) -> Problem:
    a, b = rng.choice([(a, b) for a in range(1, 10) for b in range(1, 10) if a != b and gcd(a, b) == 1])
    k = rng.randint(2, 12)
    first, second, everyone = rng.choice(_PAIRS)
    ask_total = rng.random() < 0.3
    question = f"How many {everyone} are there?" if ask_total else f"How many {second} are there?"
    text = rng.choice((f"The ratio of {first} to {second} is {a}:{b}. There are {a * k} {first}. {question}",
                       f"There are {a * k} {first}. The ratio of {first} to {second} is {a}:{b}. {question}"))
    steps = [f"one part is {a * k} / {a} = {k}"]
    if ask_total:
        steps += [f"{a} + {b} = {a + b} parts", f"{a + b} * {k} = {(a + b) * k}"]
        return Problem(kind="ratio", problem=text, steps=tuple(steps), answer=str((a + b) * k))
    steps.append(f"{second}: {b} * {k} = {b * k}")
    return Problem(kind="ratio", problem=text, steps=tuple(steps), answer=str(b * k))


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
    """One ratio or rate problem: share in a ratio, scale a ratio, a unit rate or price, or speed/distance/time.

    >>> p = ratio(random.Random(1)); p.problem, p.answer
    ('Maya, Grace and Tom share 69 coins in the ratio 7:8:8. How many does Maya get?', '21')
    """
    return rng.choices((_share, _scale, _unit_rate, _speed), weights=(30, 20, 25, 25))[0](rng)


# (small unit, big unit, how many small in one big, spellings of small, spellings of big)
_UNITS = (("mm", "cm", 10, ("mm", "millimetres"), ("cm", "centimetres")),
          ("cm", "m", 100, ("cm", "centimetres", "centimeters"), ("m", "metres", "meters")),
          ("m", "km", 1000, ("m", "metres", "meters"), ("km", "kilometres", "kilometers")),
          ("g", "kg", 1000, ("g", "grams"), ("kg", "kilograms")),
          ("ml", "l", 1000, ("ml", "millilitres", "milliliters"), ("l", "litres", "liters")),
          ("min", "h", 60, ("min", "minutes"), ("h", "hours")),
          ("s", "min", 60, ("s", "seconds"), ("min", "minutes")))
_OBJECTS = {"cm": "A rope is {} long.", "m": "A path is {} long.", "kg": "A bag of rice weighs {}.",
            "l": "A bottle holds {}.", "h": "A film lasts {}.", "min": "A song lasts {}."}


def _big_amount(rng: random.Random, factor: int) -> Fraction:
    if factor == 60:
        return Fraction(rng.randint(1, 20), rng.choice((1, 2, 4)))
    return Fraction(rng.randint(1, 999), rng.choice((1, 10, 100))) if factor >= 100 else Fraction(rng.randint(1, 99),
                                                                                                    rng.choice((1, 10)))


def unit(rng: random.Random) -> Problem:
    """One conversion: a big unit to a small one, a small to a big one, or a two-unit amount to the small unit.

    >>> p = unit(random.Random(5)); p.problem, p.answer
    ('A bottle holds 7.08 liters. How much is that in milliliters?', '7080')
    """
    small, big, factor, small_names, big_names = rng.choice(_UNITS)
    s_name, b_name = rng.choice(small_names), rng.choice(big_names)
    form = rng.choices(("down", "up", "two"), weights=(40, 35, 25))[0]
    if form == "two":
        whole, rest = rng.randint(1, 9), rng.randint(1, factor - 1)
        amount = f"{whole} {b_name} {rest} {s_name}"
        text = rng.choice((f"How many {small_names[-1]} are in {amount}?", f"Write {amount} in {s_name}.",
                           f"Convert {amount} to {small_names[-1]}."))
        steps = (f"1 {big} is {factor} {small}", f"{whole} * {factor} = {whole * factor}",
                 f"{whole * factor} + {rest} = {whole * factor + rest}")
        return Problem(kind="unit", problem=text, steps=steps, answer=str(whole * factor + rest))
    value = _big_amount(rng, factor)
    if form == "down":
        source, target, result = f"{decimal_text(value)} {b_name}", s_name, value * factor
        claim = f"{decimal_text(value)} * {factor} = {decimal_text(result)}"
    else:
        value = value * factor
        source, target, result = f"{decimal_text(value)} {s_name}", b_name, value / factor
        claim = f"{decimal_text(value)} / {factor} = {decimal_text(result)}"
    target_word = small_names[-1] if form == "down" else big_names[-1]
    wordings = [f"Convert {source} to {target}.", f"How many {target_word} are in {source}?",
                f"Write {source} in {target}.", f"What is {source} in {target_word}?", f"{source} = ? {target}"]
    story = _OBJECTS.get(big if form == "down" else small)
    if story:
        wordings.append(story.format(source) + f" How much is that in {target_word}?")
    text = rng.choice(wordings)
    steps = (f"1 {big} is {factor} {small}", claim)
    return Problem(kind="unit", problem=text, steps=steps, answer=decimal_text(result))
