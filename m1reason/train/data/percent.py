"""The ``percent`` kind: p% of a number, an increase or decrease by p%, what percent one number is of another,
and the percent change from one value to another, bare or in a short story.

Answers are whole numbers (a percent is boxed without its % sign). Valid paths differ per problem: ``n * p / 100``,
or ``p/100`` as a fraction first, or 10% first; a change as the part then added, or one multiplication by
``100 + p`` percent.
"""

from __future__ import annotations

import random
from fractions import Fraction
from math import gcd

from m1reason.train.data.phrasing import ITEMS, currency, pick_names
from m1reason.train.data.problem import Problem, fraction_text, solution_paths

__all__ = ["percent"]

_PERCENTS = (1, 2, 5, 10, 12, 15, 20, 25, 30, 35, 40, 45, 50, 60, 65, 75, 80, 90, 120, 150)


def _base(rng: random.Random, pct: int, most: int = 30) -> int:
    """A number whose ``pct`` percent is whole."""
    return rng.randint(1, most) * (100 // gcd(pct, 100))


def _part_steps(n: int, pct: int, paths: random.Random) -> list[str]:
    """The lines of ``pct``% of ``n`` (whole): ``n * p / 100``, ``p/100`` as a fraction first, or 10% first
    (``n * p`` only while it stays a small product: one claim must be one easy step)."""
    part = n * pct // 100
    choice = paths.random()
    if pct % 10 == 0 and n % 10 == 0 and choice < 0.33:
        tenth = n // 10
        return [f"10% of {n} is {n} / 10 = {tenth}"] + ([] if pct == 10 else [f"{tenth} * {pct // 10} = {part}"])
    if (choice < 0.66 or n * pct > 3000) and gcd(pct, 100) > 1:
        q = Fraction(pct, 100)
        lines = [f"{pct}/100 = {fraction_text(q)}", f"{n} / {q.denominator} = {n // q.denominator}"]
        return lines + ([] if q.numerator == 1 else [f"{n // q.denominator} * {q.numerator} = {part}"])
    return [f"{n} * {pct} = {n * pct}", f"{n * pct} / 100 = {part}"]


def _of(rng: random.Random) -> Problem:
    cash = currency(rng).format
    pct = rng.choice(_PERCENTS)
    n = _base(rng, pct)
    name, item = pick_names(rng, 1)[0], rng.choice(ITEMS)
    part = n * pct // 100
    if rng.random() < 0.25:  # what is left after a share is taken away
        text = rng.choice((f"A shop has {n} {item} and sells {pct}% of them. How many {item} are left?",
                           f"{name} has {n} {item} and gives away {pct}% of them. How many {item} does {name} "
                           "keep?"))
        steps = _part_steps(n, pct, solution_paths(text)) + [f"{n} - {part} = {n - part}"]
        return Problem(kind="percent", problem=text, steps=tuple(steps), answer=str(n - part))
    text = rng.choice((f"What is {pct}% of {n}?", f"Find {pct}% of {n}.", f"Calculate {pct}% of {n}.",
                       f"How much is {pct} percent of {n}?", f"What is ${pct}\\%$ of ${n}$?",
                       f"A class has {n} students. {pct}% of them walk to school. How many students walk to school?",
                       f"{name} has {n} {item}. {pct}% of them are red. How many red {item} does {name} have?",
                       f"A bill is {cash(n)}. The tip is {pct}% of the bill. How much is the tip?"))
    return Problem(kind="percent", problem=text, steps=tuple(_part_steps(n, pct, solution_paths(text))),
                   answer=str(part))


def _change(rng: random.Random) -> Problem:
    cash = currency(rng).format
    pct = rng.choice(_PERCENTS[:-2])
    n = _base(rng, pct, 20)
    up = rng.random() < 0.5
    part = n * pct // 100
    new = n + part if up else n - part
    price = cash(n)
    if up:
        text = rng.choice((f"Increase {n} by {pct}%.", f"A price of {price} goes up by {pct}%. What is the new price?",
                           f"A town had {n} people. The population grew by {pct}%. How many people live there now?",
                           f"{n} increased by {pct}% is what number?"))
    else:
        text = rng.choice((f"Decrease {n} by {pct}%.", f"A shirt costs {price} and is on sale for {pct}% off. What is "
                           "the sale price?", f"A game that costs {price} is discounted by {pct}%. How much does it "
                           "cost now?", f"{n} decreased by {pct}% is what number?"))
    paths = solution_paths(text)
    sign = "+" if up else "-"
    if paths.random() < 0.4 and n <= 40:  # one multiplication by the new percentage (small n: one easy claim)
        whole = 100 + pct if up else 100 - pct
        steps = [f"the new amount is (100 {sign} {pct})% of the old: 100 {sign} {pct} = {whole}",
                 f"{n} * {whole} = {n * whole}", f"{n * whole} / 100 = {new}"]
    else:
        steps = _part_steps(n, pct, paths) + [f"{n} {sign} {part} = {new}"]
    return Problem(kind="percent", problem=text, steps=tuple(steps), answer=str(new))


def _what_percent(rng: random.Random) -> Problem:
    pct = rng.randint(1, 99) if rng.random() < 0.5 else rng.choice((10, 20, 25, 40, 50, 60, 75, 80, 90))
    whole = _base(rng, pct, 12)
    part = whole * pct // 100
    name = pick_names(rng, 1)[0]
    text = rng.choice((f"What percent of {whole} is {part}?", f"{part} is what percent of {whole}?",
                       f"Express {part} as a percentage of {whole}.", f"What percentage of {whole} is {part}?",
                       f"{name} scored {part} out of {whole} on a test. What was {name}'s score as a percentage?",
                       f"In a class of {whole} students, {part} are girls. What percent of the class are girls?"))
    if solution_paths(text).random() < 0.5:
        steps = (f"{part} * 100 = {part * 100}", f"{part * 100} / {whole} = {pct}")
    else:
        q = Fraction(part, whole)
        steps = (f"{part}/{whole} = {fraction_text(q)}", f"{fraction_text(q)} * 100 = {pct}")
    return Problem(kind="percent", problem=text, steps=steps, answer=str(pct))


def _percent_change(rng: random.Random) -> Problem:
    cash = currency(rng).format
    pct = rng.choice(_PERCENTS[:-2])
    old = _base(rng, pct, 12)
    up = rng.random() < 0.5
    new = old + old * pct // 100 if up else old - old * pct // 100
    word = "increase" if up else "decrease"
    text = rng.choice((f"A value changes from {old} to {new}. What is the percent {word}?",
                       f"The price of a bike went from {cash(old)} to {cash(new)}. By what percent did the "
                       f"price {word}?", f"What is the percentage {word} from {old} to {new}?"))
    diff = abs(new - old)
    steps = (f"the change is {max(old, new)} - {min(old, new)} = {diff}", f"{diff} * 100 = {diff * 100}",
             f"{diff * 100} / {old} = {pct}")
    return Problem(kind="percent", problem=text, steps=steps, answer=str(pct))


def percent(rng: random.Random) -> Problem:
    """One percentage problem: a part, a change by a percent, what percent, or a percent change.

    >>> p = percent(random.Random(3)); p.problem, p.answer
    ('Find 12% of 300.', '36')
    """
    what = rng.choices((_of, _change, _what_percent, _percent_change), weights=(40, 25, 20, 15))[0]
    return what(rng)
