"""The ``word`` kind: story problems, with a whole-number answer (or an exact money amount, ``3.75``, for a
story in cents). A little under half are one-step stories (``stories.ONE_STEP``: in all, left, how many more,
equal groups, sharing, rows, years between dates, rises and falls, money per day) with numbers of 1 to 5 digits;
the rest are multi-step: ``stories.TWO_STEP`` (change after buying several, earn then spend, groups plus
leftovers, total then share), the stories here (bags of things, shopping with change, sharing with remainders,
ages, time, saving, comparing, rows of seats, spending half) and ``multistep.MULTI_STEP`` (one amount changed
several times, fractions of amounts, divisions rounded up or down, money in cents, sums and differences, chains
of comparisons, means, rates). Some facts come in a different order, and some stories carry an irrelevant fact.

Sentences are fixed patterns per story so the tests can read the numbers back.
"""

from __future__ import annotations

import random

from m1reason.train.data.multistep import multi_step
from m1reason.train.data.phrasing import ITEMS, currency, pick_names
from m1reason.train.data.problem import Problem, solution_paths
from m1reason.train.data.stories import TWO_STEP, one_step, tell
from m1reason.train.data.written import operation_steps

__all__ = ["word"]

_GOODS = (("notebooks", "notebook"), ("pens", "pen"), ("sandwiches", "sandwich"), ("juice boxes", "juice box"),
          ("comics", "comic"), ("muffins", "muffin"), ("rulers", "ruler"), ("tickets", "ticket"))


def _bags(rng: random.Random, name: str) -> tuple[str, list[str], int]:
    item = rng.choice(ITEMS)
    have, bags, each = rng.randint(2, 40), rng.randint(2, 6), rng.randint(2, 9)
    got = bags * each
    if rng.random() < 0.5:
        text = tell(rng, [f"{name} has {have} {item}.", f"{name} buys {bags} bags with {each} {item} in each bag."],
                      f"How many {item} does {name} have now?", name)
        return text, [f"{bags} * {each} = {got}", *operation_steps(have, "+", got, solution_paths(text))], have + got
    give = rng.randint(1, have + got - 1)
    text = tell(rng, [f"{name} has {have} {item} and gets {bags} more packs of {each}.",
                        f"Then {name} gives away {give}."], f"How many {item} are left?", name)
    paths = solution_paths(text)
    return text, [f"{bags} * {each} = {got}", *operation_steps(have, "+", got, paths),
                  *operation_steps(have + got, "-", give, paths)], have + got - give


def _shopping(rng: random.Random, name: str) -> tuple[str, list[str], int]:
    cash = currency(rng).format
    (many1, one1), (many2, one2) = rng.sample(_GOODS, 2)
    n1, p1, n2, p2 = rng.randint(2, 6), rng.randint(2, 15), rng.randint(1, 5), rng.randint(2, 15)
    cost = n1 * p1 + n2 * p2
    buys = (f"{name} buys {n1} {many1} at {cash(p1)} each and "
            + (f"{n2} {many2} at {cash(p2)} each." if n2 > 1 else f"1 {one2} for {cash(p2)}."))
    note = next(n for n in (20, 50, 100, 200) if n > cost)
    if rng.random() < 0.4:
        note, text = 0, tell(rng, [buys], f"How much does {name} spend in all?", name)
    else:
        text = tell(rng, [buys, f"{name} pays with {cash(note)}."], "How much change does " + name +
                      " get?", name, movable=2)
    paths = solution_paths(text)
    lines = [f"{n1} * {p1} = {n1 * p1}"] + ([f"{n2} * {p2} = {n2 * p2}"] if n2 > 1 else [])
    lines += operation_steps(n1 * p1, "+", n2 * p2, paths)
    if not note:
        return text, lines, cost
    return text, [*lines, *operation_steps(note, "-", cost, paths)], note - cost


def _sharing(rng: random.Random, name: str) -> tuple[str, list[str], int]:
    item = rng.choice(ITEMS)
    friends, each = rng.randint(2, 12), rng.randint(2, 15)
    form = rng.randrange(3)
    if form == 0:
        total = friends * each
        text = tell(rng, [f"{name} has {total} {item} and shares them equally among {friends} friends."],
                      f"How many {item} does each friend get?", name)
        return text, [f"{total} / {friends} = {each}"], each
    left = rng.randint(1, friends - 1)
    total = friends * each + left
    if form == 1:
        text = tell(rng, [f"{name} packs {total} {item} into boxes of {friends}."],
                      f"How many full boxes can {name} fill?", name)
        return text, [f"{friends} * {each} = {friends * each}", f"{total} - {friends * each} = {left}, less than "
                                                                  f"{friends}", f"so {each} full boxes"], each
    text = tell(rng, [f"{name} shares {total} {item} equally among {friends} friends."],
                  f"How many {item} are left over?", name)
    return text, [f"{friends} * {each} = {friends * each}", f"{total} - {friends * each} = {left}"], left


def _ages(rng: random.Random, name: str) -> tuple[str, list[str], int]:
    other = pick_names(rng, 2)
    other = other[0] if other[0] != name else other[1]
    form = rng.randrange(3)
    if form == 0:
        times, young, later = rng.randint(2, 5), rng.randint(3, 12), rng.randint(2, 10)
        text = tell(rng, [f"{name} is {times} times as old as {other}.", f"{other} is {young} years old."],
                      f"How old will {name} be in {later} years?", name, movable=2, avoid="years old")
        return text, [f"{name} is {times} * {young} = {times * young}",
                      f"{times * young} + {later} = {times * young + later}"], times * young + later
    if form == 1:
        future, ahead, ago = rng.randint(15, 60), rng.randint(2, 9), rng.randint(1, 9)
        text = tell(rng, [f"In {ahead} years, {name} will be {future} years old."],
                      f"How old was {name} {ago} years ago?", name,
                      avoid="years old")
        now = future - ahead
        return text, [f"now {name} is {future} - {ahead} = {now}", f"{now} - {ago} = {now - ago}"], now - ago
    young, gap = rng.randint(3, 30), rng.randint(1, 9)
    total = 2 * young + gap
    older = rng.random() < 0.5
    text = tell(rng, [f"{name} is {gap} years older than {other}.", f"The sum of their ages is {total}."],
                  f"How old is {name if older else other}?", name, movable=2, avoid="years old")
    lines = [f"take away the gap: {total} - {gap} = {total - gap}", f"{other} is {total - gap} / 2 = {young}"]
    if older:
        lines.append(f"{name} is {young} + {gap} = {young + gap}")
    return text, lines, young + gap if older else young


def _clock(hour: int, minute: int, twelve: bool) -> str:
    if twelve:
        return f"{(hour - 1) % 12 + 1}:{minute:02d} {'am' if hour < 12 else 'pm'}"
    return f"{hour}:{minute:02d}"


def _time(rng: random.Random, name: str) -> tuple[str, list[str], int]:
    if rng.random() < 0.35:
        daily, days = rng.randint(10, 60), rng.randint(2, 7)
        activity = rng.choice(("practises the piano", "reads", "runs", "does homework"))
        text = tell(rng, [f"{name} {activity} for {daily} minutes a day for {days} days."],
                      "How many minutes is that in total?", name)
        return text, operation_steps(daily, "*", days, solution_paths(text)) if daily < 20 else [
            f"{daily} * {days} = {daily * days}"], daily * days
    h1, m1 = rng.randint(6, 18), rng.choice(range(0, 60, 5))
    length = rng.randint(20, 200)
    h2, m2 = h1 + (m1 + length) // 60, (m1 + length) % 60
    twelve = rng.random() < 0.5 and (h1 < 12) == (h2 < 12)
    event = rng.choice(("A film", "A football match", "A train trip", "A school play"))
    text = tell(rng, [f"{event} starts at {_clock(h1, m1, twelve)} and ends at {_clock(h2, m2, twelve)}."],
                  "How many minutes does it last?", name)
    if h1 == h2:
        return text, [f"{m2} - {m1} = {length}"], length
    lines, parts = [], []
    if m1:
        lines.append(f"to the next hour: 60 - {m1} = {60 - m1}")
        parts.append(60 - m1)
    whole = h2 - h1 - (1 if m1 else 0)
    if whole:
        lines.append(f"then {whole} whole hour{'s' if whole > 1 else ''}: {whole} * 60 = {whole * 60}")
        parts.append(whole * 60)
    if m2:
        lines.append(f"then {m2} more minutes")
        parts.append(m2)
    if len(parts) > 1:
        lines.append(f"{' + '.join(map(str, parts))} = {length}")
    return text, lines, length


def _saving(rng: random.Random, name: str) -> tuple[str, list[str], int]:
    cash = currency(rng).format
    start, weekly, weeks = rng.randint(0, 40), rng.randint(3, 20), rng.randint(2, 12)
    goal = start + weekly * weeks
    text = tell(rng, [f"{name} has {cash(start)} and saves {cash(weekly)} each week."],
                  f"How many weeks will it take {name} to have {cash(goal)}?", name)
    return text, [f"still needed: {goal} - {start} = {goal - start}", f"{goal - start} / {weekly} = {weeks}"], weeks


def _compare(rng: random.Random, name: str) -> tuple[str, list[str], int]:
    other = [n for n in pick_names(rng, 2) if n != name][0]
    item = rng.choice(ITEMS)
    times, few = rng.randint(2, 6), rng.randint(3, 25)
    many = times * few
    together = rng.random() < 0.5
    question = (f"How many {item} do they have together?" if together else
                f"How many more {item} does {name} have than {other}?")
    text = tell(rng, [f"{name} has {times} times as many {item} as {other}.", f"{other} has {few} {item}."],
                  question, name, movable=2)
    lines = [f"{name} has {times} * {few} = {many}"]
    lines += operation_steps(many, "+" if together else "-", few, solution_paths(text))
    return text, lines, many + few if together else many - few


def _rows(rng: random.Random, name: str) -> tuple[str, list[str], int]:
    rows, seats = rng.randint(3, 15), rng.randint(4, 20)
    full = rows * seats
    people = rng.randint(1, full - 1)
    text = tell(rng, [f"A hall has {rows} rows of {seats} chairs.", f"{people} people sit down."],
                  "How many chairs are empty?", name)
    steps = [f"{rows} * {seats} = {full}", *operation_steps(full, "-", people, solution_paths(text))]
    return text, steps, full - people


def _spending(rng: random.Random, name: str) -> tuple[str, list[str], int]:
    cash = currency(rng).format
    start, spent = rng.randint(20, 100), rng.randint(2, 19)
    rest = start - spent
    if rest % 2:
        start, rest = start + 1, rest + 1
    text = tell(rng, [f"{name} had {cash(start)}.", f"{name} spent {cash(spent)} on a book and then "
                        "half of the rest on lunch."], f"How much money does {name} have left?", name)
    return text, [*operation_steps(start, "-", spent, solution_paths(text)), f"half of {rest} is {rest} / 2 = "
                  f"{rest // 2}", f"{rest} - {rest // 2} = {rest // 2}"], rest // 2


_STORIES = (_bags, _shopping, _sharing, _ages, _time, _saving, _compare, _rows, _spending)


def word(rng: random.Random) -> Problem:
    """A story problem: one-step (45%: what most users ask and what longer stories are built from), else
    multi-step: two-step (10%), the stories here (15%) or ``multistep.MULTI_STEP`` (30%: changes in sequence,
    fractions of amounts, rounded divisions, money in cents, sums and differences, chains of comparisons, means,
    rates). The answer is a whole number, or an exact money amount (``3.75``) for a story in cents.

    >>> p = word(random.Random(28)); p.problem, p.steps[:2], p.answer
    ("Max's grandma has 6 cats. Max buys 9 bottles of water at $1.35 each and pays with $20. How much change \
does Max get?", ('the cost: multiply the price by how many', 'without the point: 135 * 9'), '7.85')
    """
    name = pick_names(rng, 1)[0]
    draw = rng.random()
    if draw < 0.45:
        text, steps, answer = one_step(rng, name)
    elif draw < 0.55:
        text, steps, answer = rng.choice(TWO_STEP)(rng, name)
    elif draw < 0.7:
        text, steps, answer = rng.choice(_STORIES)(rng, name)
    else:
        text, steps, answer = multi_step(rng, name)
    return Problem(kind="word", problem=text, steps=tuple(steps), answer=str(answer))
