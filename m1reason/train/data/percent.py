"""The ``percent`` kind: p% of a number, an increase or decrease by p% (a discount, a tax or a tip), what percent
one number is of another, the percent change from one value to another, and the whole from a part (``20% of a
number is 12``, the price before a discount), bare or in a short story.

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


_TAX, _TIP = (5, 8, 10, 15, 20), (10, 15, 18, 20, 25)  # what sales taxes and tips are, not 150%


def _of(rng: random.Random) -> Problem:
    cash = currency(rng).format
    pct = rng.choice(_PERCENTS)
    n = _base(rng, pct)
    name, item = pick_names(rng, 1)[0], rng.choice(ITEMS)
    part = n * pct // 100
    if rng.random() < 0.25:  # what is left after a share is taken away
        text = rng.choice((f"A shop has {n} {item} and sells {pct}% of them. How many {item} are left?",
                           f"{name} has {n} {item} and gives away {pct}% of them. How many {item} does {name} "
                           "keep?", f"A tank holds {n} litres of water and {pct}% of it leaks out. How many litres "
                           "are left?") if pct < 100 else (f"What is {pct}% of {n}?",))
        if text.startswith("What"):
            return Problem(kind="percent", problem=text, steps=tuple(_part_steps(n, pct, solution_paths(text))),
                           answer=str(part))
        steps = _part_steps(n, pct, solution_paths(text)) + [f"{n} - {part} = {n - part}"]
        return Problem(kind="percent", problem=text, steps=tuple(steps), answer=str(n - part))
    if rng.random() < 0.35 and pct < 100:  # a part of something in a story (no one saves 150%)
        if pct in _TIP or pct in _TAX:
            pct = rng.choice(_TIP + _TAX)
            n = _base(rng, pct)
            part = n * pct // 100
            text = rng.choice((f"A bill is {cash(n)}. The tip is {pct}% of the bill. How much is the tip?",
                               f"A meal costs {cash(n)}. {name} leaves a {pct}% tip. How much is the tip?",
                               f"Sales tax is {pct}%. How much tax is paid on a {cash(n)} bike?",
                               f"How much do you save on a {cash(n)} coat with a {pct}% discount?"))
        else:
            text = rng.choice((
                f"A class has {n} students. {pct}% of them walk to school. How many students walk to school?",
                f"{name} has {n} {item}. {pct}% of them are red. How many red {item} does {name} have?",
                f"In a survey of {n} people, {pct}% said yes. How many people said yes?",
                f"{name} earns {cash(n)} and saves {pct}% of it. How much does {name} save?",
                f"A {cash(n)} bike is on sale at {pct}% off. How much money do you save?"))
    else:
        text = rng.choice((f"What is {pct}% of {n}?", f"Find {pct}% of {n}.", f"Calculate {pct}% of {n}.",
                           f"How much is {pct} percent of {n}?", f"What is ${pct}\\%$ of ${n}$?",
                           f"Find {pct} percent of {n}.", f"What is {pct} per cent of {n}?", f"{pct}% of {n} = ?",
                           f"{pct}% of {n} is what number?", f"Work out {pct}% of {n}.",
                           f"Calculate {pct} percent of {n}.", f"Find ${pct}\\%$ of ${n}$."))
    return Problem(kind="percent", problem=text, steps=tuple(_part_steps(n, pct, solution_paths(text))),
                   answer=str(part))


_UP = ("Increase {n} by {pct}%.", "A price of {price} goes up by {pct}%. What is the new price?",
       "A town had {n} people. The population grew by {pct}%. How many people live there now?",
       "{n} increased by {pct}% is what number?", "What is {n} increased by {pct}%?",
       "What is {n} after a {pct}% increase?", "Increase {n} by {pct} percent.",
       "{name}'s pay of {price} a week rises by {pct}%. What is the new pay?")
_DOWN = ("Decrease {n} by {pct}%.", "A shirt costs {price} and is on sale for {pct}% off. What is the sale price?",
         "A game that costs {price} is discounted by {pct}%. How much does it cost now?",
         "{n} decreased by {pct}% is what number?", "A {price} jacket is {pct}% off. What is the sale price?",
         "A {price} lamp is reduced by {pct}%. What is the new price?", "What is {n} after a {pct}% decrease?",
         "Reduce {n} by {pct}%.", "A car worth {price} loses {pct}% of its value. What is it worth now?",
         "{name} buys a {price} game with a {pct}% discount. How much does {name} pay?")
_TOTAL = ("A meal costs {price} plus {pct}% tax. What is the total cost?",
          "A meal costs {price} and {name} adds a {pct}% tip. How much does {name} pay in total?",
          "A {price} bike has {pct}% sales tax added. What is the total price?")


def _change(rng: random.Random) -> Problem:
    cash = currency(rng).format
    pct = rng.choice(_PERCENTS[:-2])
    up = rng.random() < 0.5
    wordings = _UP if up else _DOWN
    if up and rng.random() < 0.25:  # a tax or a tip on top
        pct, wordings = rng.choice(_TAX + _TIP), _TOTAL
    n = _base(rng, pct, 20)
    part = n * pct // 100
    new = n + part if up else n - part
    text = rng.choice(wordings).format(n=n, pct=pct, price=cash(n), name=pick_names(rng, 1)[0])
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
                       f"In a class of {whole} students, {part} are girls. What percent of the class are girls?",
                       f"What percent is {part} of {whole}?", f"{part} is what % of {whole}?",
                       f"Write {part} out of {whole} as a percentage.", f"{name} got {part} out of {whole} questions "
                       "right. What percentage is that?"))
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
                       f"price {word}?", f"What is the percentage {word} from {old} to {new}?",
                       f"A price {'rose' if up else 'fell'} from {cash(old)} to {cash(new)}. By what percent?",
                       f"The number of students went from {old} to {new}. What is the percentage {word}?",
                       f"Find the percent {word} from {old} to {new}."))
    diff = abs(new - old)
    steps = (f"the change is {max(old, new)} - {min(old, new)} = {diff}", f"{diff} * 100 = {diff * 100}",
             f"{diff * 100} / {old} = {pct}")
    return Problem(kind="percent", problem=text, steps=steps, answer=str(pct))


def _original(rng: random.Random) -> Problem:
    """The whole from a part (``20% of a number is 12``) or the price before a discount: the part times 100, over
    its percent."""
    cash = currency(rng).format
    pct = rng.choice(_PERCENTS[:-2])
    n = _base(rng, pct, 12)
    if rng.random() < 0.3 and pct < 100:  # before a discount: the sale price is (100 - p)% of it
        left = 100 - pct
        sale = n * left // 100
        text = rng.choice((f"After a {pct}% discount, a coat costs {cash(sale)}. What was the original price?",
                           f"A shirt is {pct}% off and now costs {cash(sale)}. What was its price before the sale?"))
        steps = (f"the sale price is 100 - {pct} = {left}% of the original", f"{sale} * 100 = {sale * 100}",
                 f"{sale * 100} / {left} = {n}")
        return Problem(kind="percent", problem=text, steps=steps, answer=str(n))
    part = n * pct // 100
    text = rng.choice((f"{pct}% of a number is {part}. What is the number?", f"{part} is {pct}% of what number?",
                       f"{pct} percent of a number is {part}. Find the number.",
                       f"{part} students walk to school. This is {pct}% of the school. How many students are in the "
                       "school?"))
    q = Fraction(pct, 100)
    if q.numerator == 1 and solution_paths(text).random() < 0.5:
        steps = (f"{pct}% is {pct}/100 = 1/{q.denominator}", f"the whole is {part} * {q.denominator} = {n}")
    else:
        steps = (f"{part} * 100 = {part * 100}", f"{part * 100} / {pct} = {n}")
    return Problem(kind="percent", problem=text, steps=steps, answer=str(n))


def percent(rng: random.Random) -> Problem:
    """One percentage problem: a part, a change by a percent, what percent, a percent change, or the whole from a
    part.

    >>> p = percent(random.Random(3)); p.problem, p.answer
    ('A class has 300 students. 12% of them walk to school. How many students walk to school?', '36')
    """
    what = rng.choices((_of, _change, _what_percent, _percent_change, _original), weights=(34, 25, 18, 13, 10))[0]
    return what(rng)
