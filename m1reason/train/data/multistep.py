"""Multi-step story problems for the ``word`` kind (``MULTI_STEP``): the structures real word problems are built
on that take more than one operation. One amount changed three or four times (people on a bus, stock, a bank
balance; or the start found from the end), a fraction of an amount ("sold 3/4 of them", then maybe some of the
rest), a division rounded up ("how many vans are needed") or down ("how many full boxes") or its remainder, two
amounts from their total and difference, prices in cents, chains of "times as many" and "5 more than twice as
many", a mean, a rate run backwards ("how many days to read 168 pages"). Solutions name each operation in words,
then work it with ``written.worked``; money is worked in cents, the way the decimal kind works decimals.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from math import gcd
from typing import NamedTuple

from m1reason.train.data.phrasing import ITEMS, currency, in_words, join_list, pick_names
from m1reason.train.data.problem import solution_paths
from m1reason.train.data.stories import Story, other_name, tell
from m1reason.train.data.written import column_addition, column_subtraction, long_division, worked

__all__ = ["MULTI_STEP", "multi_step"]

# The structures that real word problems are built on and that take more than one operation: one quantity
# changed again and again, a fraction of an amount, a division rounded up or down, two amounts from their total
# and difference, prices in cents, a chain of "times as many" and "more than", a mean, and a rate run backwards.

_ORDINALS = ("first", "second", "third", "fourth")


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


class _Setting(NamedTuple):
    """A quantity that changes several times: its opening (``{n}`` the start), the opening and the closing fact
    of a story that asks for the start, when the changes happen, the changes (``{n}``, ``{who}``, ``{things}``)
    and the questions (``{last}`` the last time's ordinal). ``money`` writes every amount as money."""

    start: tuple[str, ...]
    unknown: str
    end: str
    times: tuple[str, ...]
    gains: tuple[str, ...]
    losses: tuple[str, ...]
    ask: tuple[str, ...]
    ask_start: str
    things: tuple[str, ...] = ("",)
    money: bool = False


def _ordinal_times(place: str) -> tuple[str, ...]:
    return tuple(f"At the {o} {place}" for o in _ORDINALS)


_DAYTIMES = ("In the morning", "At noon", "In the afternoon", "In the evening")
_SETTINGS = (
    _Setting(("There are {n} people on a bus.", "A bus leaves the station with {n} passengers."),
             "A bus leaves the station with some passengers.", "Now there are {n} people on the bus.",
             _ordinal_times("stop"), ("{n} people get on", "{n} more get on", "{n} passengers get on"),
             ("{n} people get off", "{n} get off", "{n} passengers get off"),
             ("How many people are on the bus now?", "How many passengers are on the bus after the {last} stop?"),
             "How many passengers were on the bus when it left the station?"),
    _Setting(("A train leaves with {n} passengers on board.", "There are {n} passengers on a train."),
             "A train leaves with some passengers.", "Now {n} passengers are on the train.",
             _ordinal_times("station"), ("{n} people board", "{n} passengers get on"),
             ("{n} people get off", "{n} passengers get off"),
             ("How many passengers are on the train now?", "How many people are on the train after the {last} "
              "station?"), "How many passengers were on the train at the start?"),
    _Setting(("A shop has {n} {things} in stock.", "A shop starts the week with {n} {things}."),
             "A shop has some {things}.", "Now it has {n} {things}.",
             ("On Monday", "On Tuesday", "On Wednesday", "On Thursday"),
             ("a delivery brings {n} more", "it gets {n} more", "{n} are brought back"),
             ("it sells {n}", "it sells {n} of them"),
             ("How many {things} does the shop have now?", "How many {things} are left at the end?"),
             "How many {things} did the shop have at the start?",
             ("footballs", "umbrellas", "plant pots", "kites", "lamps", "mugs")),
    _Setting(("{who} has {n} {things}.", "{who} starts the day with {n} {things}."),
             "{who} starts the day with some {things}.", "Now {who} has {n} {things}.",
             tuple(f"In the {o} game" for o in _ORDINALS), ("{who} wins {n}", "{who} wins {n} more"),
             ("{who} loses {n}",), ("How many {things} does {who} have now?",
                                    "How many {things} does {who} have after the {last} game?"),
             "How many {things} did {who} have at the start?", ("marbles", "cards", "counters", "tokens")),
    _Setting(("{who} has {n} in a bank account.", "There is {n} in {who}'s savings account."),
             "{who} has some money in the bank.", "Now there is {n} in the account.",
             ("In January", "In February", "In March", "In April"),
             ("{who} pays in {n}", "{who} deposits {n}", "{who} puts in {n}"), ("{who} takes out {n}",
                                                                                "{who} withdraws {n}"),
             ("How much money is in the account now?", "How much is in the account after that?"),
             "How much was in the account at the start?", money=True),
    _Setting(("A library has {n} books.", "A school library owns {n} books."), "A school library owns some books.",
             "Now it owns {n} books.", ("In September", "In October", "In November", "In December"),
             ("it buys {n} new books", "it is given {n} books"), ("it throws away {n} old books",
                                                                  "it gives away {n} books"),
             ("How many books does the library have now?", "How many books does it own after that?"),
             "How many books did the library have at the start?"),
    _Setting(("There are {n} cars in a car park.", "A car park has {n} cars in it."), "A car park has some cars in it.",
             "Now there are {n} cars in it.", _DAYTIMES, ("{n} cars arrive", "{n} more cars drive in"),
             ("{n} cars leave", "{n} cars drive out"),
             ("How many cars are in the car park now?", "How many cars are in it at the end of the day?"),
             "How many cars were in the car park at the start?"),
    _Setting(("{who} has {n} points in a quiz.", "{who} starts the last part of a quiz with {n} points."),
             "{who} starts the last part of a quiz with some points.", "Now {who} has {n} points.",
             tuple(f"In the {o} round" for o in _ORDINALS), ("{who} scores {n} points", "{who} wins {n} points"),
             ("{who} loses {n} points",), ("How many points does {who} have now?",
                                           "How many points does {who} have after the {last} round?"),
             "How many points did {who} have before the first round?"),
    _Setting(("A tank holds {n} litres of water.", "There are {n} litres in a tank."),
             "A tank holds some water.", "Now it holds {n} litres.", _DAYTIMES,
             ("{n} litres are added", "rain adds {n} litres"), ("{n} litres are used", "{n} litres leak out"),
             ("How many litres are in the tank now?", "How much water is in the tank now?"),
             "How many litres were in the tank at the start?"))
_THEN = ("First", "Then", "After that", "Later")


def _signed_changes(rng: random.Random, start: int, count: int, big: bool) -> list[int]:
    """``count`` gains (+) and losses (-) that keep the amount at 1 or more, and under 100 unless ``big``."""
    changes, value, top = [], start, 999 if big else 99
    for _ in range(count):
        size = rng.randint(10, 99) if big else rng.randint(2, 25)
        gain = value + size <= top and (size >= value or rng.random() < 0.5)
        size = size if gain else min(size, value - 1)
        changes.append(size if gain else -size)
        value += changes[-1]
    return changes


def _in_groups(rng: random.Random, changes: list[int]) -> list[list[int]]:
    """The positions of ``changes`` in order, one or two at a time: a gain and a loss at the same stop share a
    sentence (``8 get off and 5 get on``)."""
    groups: list[list[int]] = []
    at = 0
    while at < len(changes):
        pair = at + 1 < len(changes) and (changes[at] > 0) != (changes[at + 1] > 0) and rng.random() < 0.5
        groups.append([at, at + 1] if pair else [at])
        at += len(groups[-1])
    return groups


def _joined(clauses: list[str]) -> str:
    """Clauses of one sentence: a second that has the first's subject drops it (``Mia wins 5 and loses 3``)."""
    if len(clauses) == 2 and clauses[0].split()[0] == clauses[1].split()[0] and not clauses[0][0].isdigit():
        return f"{clauses[0]} and {clauses[1].split(' ', 1)[1]}"
    return " and ".join(clauses)


def _changes(rng: random.Random, name: str) -> Story:
    """One amount changed three or four times in order (people on a bus, stock, a bank balance), some of them
    of hundreds: one operation per change; a quarter ask for the start from the end, undoing the changes from the
    last."""
    s = rng.choice(_SETTINGS)
    backwards = rng.random() < 0.25
    big = not backwards and rng.random() < 0.3
    start = rng.randint(120, 900) if big else rng.randint(12, 75)
    # Three changes of three-digit amounts, or worked backwards, are as long as a reply and a question may be.
    changes = _signed_changes(rng, start, 3 if big or backwards else rng.choice((3, 4)), big)
    said = [rng.choice(s.gains if c > 0 else s.losses) for c in changes]
    fill = {"who": name, "things": rng.choice(s.things)}
    facts, question = _told_changes(rng, s, start, changes, [w.format(**fill, n="{n}") for w in said], backwards,
                                    fill)
    text = tell(rng, facts, question, name)
    named = [w.format(n=abs(c), **fill) for w, c in zip(said, changes)]
    if backwards:
        return text, _undo_steps(start + sum(changes), changes, named, solution_paths(text)), start
    named = [w.removeprefix(f"{name} ").removeprefix("it ") for w in named]  # "withdraws 64: subtract"
    return text, _change_steps(start, changes, named, solution_paths(text)), start + sum(changes)


def _told_changes(rng: random.Random, s: _Setting, start: int, changes: list[int], said: list[str],
                  backwards: bool, fill: dict[str, str]) -> tuple[list[str], str]:
    """The facts and the question: the start (or "some"), a sentence for each time, the end when the start is
    asked. Long names of the times ("At the third station") give way to "First", "Then", ... in a long story."""
    show = currency(rng).format if s.money else str
    clauses = [w.format(n=show(abs(c))) for w, c in zip(said, changes)]
    groups = _in_groups(rng, changes)
    fill = {**fill, "last": _ORDINALS[len(groups) - 1]}
    for times in (_THEN,) if rng.random() < 0.3 else (s.times, _THEN):
        told = [f"{t}, {_joined([clauses[i] for i in g])}." for t, g in zip(times, groups)]
        if backwards:
            facts = [s.unknown.format(**fill), *told, s.end.format(n=show(start + sum(changes)), **fill)]
            question = s.ask_start.format(**fill)
        else:
            facts = [rng.choice(s.start).format(n=show(start), **fill), *told]
            question = rng.choice([a for a in s.ask if "{last}" not in a or times is not _THEN]).format(**fill)
        if len(" ".join([*facts, question])) <= 170:  # room for an irrelevant fact within the length limit
            break
    return facts, question


def _change_steps(start: int, changes: list[int], named: list[str], paths: random.Random) -> list[str]:
    lines, value = [f"start with {start}"], start
    for what, c in zip(named, changes):
        lines += [f"{what}: {'add' if c > 0 else 'subtract'}", *worked(value, "+-"[c < 0], abs(c), paths)]
        value += c
    return lines


def _undo_steps(end: int, changes: list[int], named: list[str], paths: random.Random) -> list[str]:
    lines, value = [f"work back from the {end} at the end, undoing the changes from the last"], end
    for what, c in reversed(list(zip(named, changes))):
        lines += [f"undo {what}: {'subtract' if c > 0 else 'add'}", *worked(value, "-+"[c < 0], abs(c), paths)]
        value -= c
    return lines


_FRACTION_NAMES = {3: ("third", "thirds"), 4: ("quarter", "quarters"), 5: ("fifth", "fifths"), 6: ("sixth", "sixths"),
                   8: ("eighth", "eighths"), 10: ("tenth", "tenths")}


def _fraction_said(rng: random.Random, num: int, den: int) -> str:
    """A fraction as a story says it: ``3/4``, ``three quarters``, ``three fourths``, ``a third``, ``half``."""
    if rng.random() < 0.35:
        return f"{num}/{den}"
    if den == 2:
        return "half"
    one, many = ("fourth", "fourths") if den == 4 and rng.random() < 0.3 else _FRACTION_NAMES[den]
    return f"{rng.choice(('a', 'one'))} {one}" if num == 1 else f"{in_words(num)} {many}"


def _fraction(rng: random.Random) -> tuple[int, int]:
    den = rng.choice((2, 2, 3, 3, 4, 4, 5, 6, 8, 10))
    return rng.choice([k for k in range(1, den) if gcd(k, den) == 1]), den


def _part_steps(whole: int, num: int, den: int, paths: random.Random) -> list[str]:
    """``num/den`` of ``whole``: one part is ``whole / den``, then ``num`` of those parts."""
    cue = f"{num}/{den} of {whole}: divide by {den}" + (f", then multiply by {num}" if num > 1 else "")
    return [cue, *worked(whole, "/", den, paths), *(worked(whole // den, "*", num, paths) if num > 1 else [])]


# (fact, question for the part, question for the rest, whether the whole is money): {f} the fraction, {F} it at
# the start of a sentence, {w} the whole.
_FRACTION_OF = (
    ("{who} had {w} {item} and gave {f} of them to {other}.", "How many {item} did {who} give to {other}?",
     "How many {item} does {who} have left?", False),
    ("There are {w} students in a class. {F} of them walk to school.", "How many students walk to school?",
     "How many students do not walk to school?", False),
    ("A baker made {w} muffins and sold {f} of them.", "How many muffins did the baker sell?",
     "How many muffins were not sold?", False),
    ("{who} ate {f} of the {w} {snack}.", "How many {snack} did {who} eat?", "How many {snack} are left?", False),
    ("A shelf holds {w} books. {F} of them are comics.", "How many comics are on the shelf?",
     "How many of the books are not comics?", False),
    ("{F} of the {w} seats in a hall are taken.", "How many seats are taken?", "How many seats are free?", False),
    ("A farmer has {w} sheep. {F} of them are black.", "How many black sheep are there?",
     "How many of the sheep are not black?", False),
    ("{who} has {w} and spends {f} of it on a game.", "How much does the game cost?",
     "How much money does {who} have left?", True),
    ("A book has {w} pages. {who} has read {f} of them.", "How many pages has {who} read?",
     "How many pages are left to read?", False),
    ("A tank holds {w} litres of water. {F} of the water is used.", "How many litres are used?",
     "How many litres are left in the tank?", False))
# Two takings, the second a number or a fraction of the rest ({then}): (fact, question, whether money).
_FRACTION_THEN = (
    ("{who} had {w} {item}. {who} gave {f} of them to {other} and {then} to a friend.",
     "How many {item} does {who} have left?", False),
    ("{who} had {w}. {who} spent {f} of it on a book and {then} on lunch.", "How much money does {who} have left?",
     True),
    ("A farmer picked {w} apples. The farmer sold {f} of them at a market and used {then} to make jam.",
     "How many apples are left?", False))
_SNACKS = ("cookies", "sweets", "grapes", "cherries", "strawberries", "crackers")


def _fraction_of(rng: random.Random, name: str) -> Story:
    """A fraction of an amount ("sold 3/4 of them", "two fifths of the 35 students"), asking for the part or
    for what is left; some take a second amount, or a fraction of the rest, from what is left."""
    num, den = _fraction(rng)
    whole = den * rng.randint(2, 12 if rng.random() < 0.7 else 20)
    part = whole // den * num
    said = _fraction_said(rng, num, den)
    show = currency(rng).format
    fill = {"who": name, "other": other_name(rng, name), "item": rng.choice(ITEMS), "snack": rng.choice(_SNACKS),
            "f": said, "F": _cap(said)}
    if rng.random() < 0.3 and whole < 100:  # a second taking from a larger whole makes too long a reply
        return _fraction_then(rng, name, (num, den, whole), fill)
    fact, ask_part, ask_rest, money = rng.choice(_FRACTION_OF)
    rest = rng.random() < 0.5
    text = tell(rng, [fact.format(w=show(whole) if money else whole, **fill)],
                (ask_rest if rest else ask_part).format(**fill), name)
    paths = solution_paths(text)
    lines = _part_steps(whole, num, den, paths)
    if not rest:
        return text, lines, part
    return text, [*lines, "what is left: subtract", *worked(whole, "-", part, paths)], whole - part


def _fraction_then(rng: random.Random, name: str, first: tuple[int, int, int], fill: dict[str, str]) -> Story:
    """``first`` (a fraction ``num/den`` of ``whole``) taken, then a number or a fraction of the rest: what is
    left at the end."""
    num, den, whole = first
    left = whole - whole // den * num
    fact, question, money = rng.choice(_FRACTION_THEN)
    show = currency(rng).format if money else str
    if rng.random() < 0.5 and (options := [(k, d) for d in (2, 3, 4, 5) for k in range(1, d)
                                           if left % d == 0 and gcd(k, d) == 1]):
        num2, den2 = rng.choice(options)
        then, taken = f"{_fraction_said(rng, num2, den2)} of the rest", left // den2 * num2
    else:
        num2 = den2 = 0
        taken = rng.randint(1, left - 1) if left > 1 else 0
        then = show(taken)
    if not taken:  # nothing left to take a second amount from: ask about the first alone
        return _fraction_of(rng, name)
    text = tell(rng, [fact.format(w=show(whole), then=then, **fill)], question.format(**fill), name)
    paths = solution_paths(text)
    lines = [*_part_steps(whole, num, den, paths), "what is left: subtract", *worked(whole, "-", whole - left, paths)]
    if den2:
        lines += _part_steps(left, num2, den2, paths)
    return text, [*lines, "take that away too", *worked(left, "-", taken, paths)], left - taken


# Rounding up: (facts with {n} to fit and {c} in each, question); facts may come in either order.
_ROUND_UP = (
    (("{n} pupils are going on a trip.", "Each minibus holds {c} pupils."), "How many minibuses are needed?"),
    (("A school takes {n} children to a museum.", "A coach seats {c} children."),
     "How many coaches does the school need?"),
    (("Eggs are packed in boxes of {c}.",), "How many boxes are needed for {n} eggs?"),
    (("A lift can carry {c} people at a time.",), "How many trips does the lift make to carry {n} people up?"),
    (("Each table seats {c} guests.", "{n} guests come to a party."), "How many tables are needed?"),
    (("{who} needs {n} {item}.", "{Item} are sold in packs of {c}."), "How many packs must {who} buy?"),
    (("A boat takes {c} passengers on each trip.", "{n} passengers are waiting."),
     "How many trips must the boat make?"),
    (("Each shelf holds {c} books.",), "How many shelves are needed for {n} books?"),
    (("{n} people are going to a concert by car.", "Each car takes {c} people."), "How many cars do they need?"),
    (("A tent sleeps {c} campers.",), "How many tents are needed for {n} campers?"))
# Rounding down: (facts, question for the whole groups, question for what is left over, whether money).
_ROUND_DOWN = (
    (("{who} has {n} {item} and puts them into bags of {c}.",), "How many bags can {who} fill?",
     "How many {item} are left over?", False),
    (("{n} children are split into teams of {c}.",), "How many complete teams can be made?",
     "How many children are not in a team?", False),
    (("A ribbon is {n} cm long.", "Each bow needs {c} cm of ribbon."), "How many bows can be made?",
     "How many cm of ribbon are left over?", False),
    (("Tickets cost {c} each.", "{who} has {n}."), "How many tickets can {who} buy?",
     "How much money is left after buying as many tickets as possible?", True),
    (("A baker has {n} eggs.", "Each cake needs {c} eggs."), "How many cakes can the baker make?",
     "How many eggs are left over?", False),
    (("A farmer puts {n} apples into crates of {c}.",), "How many crates can be filled?",
     "How many apples are left over?", False),
    (("{n} stickers are shared out in sets of {c}.",), "How many full sets are there?",
     "How many stickers are left over?", False))


def _with_remainder(n: int, d: int) -> list[str]:
    """``n / d`` with its remainder: a table fact and a subtraction when small, else long division."""
    q, r = divmod(n, d)
    lines = [f"{d} * {q} = {d * q}, {n} - {d * q} = {r}"] if q <= 12 and d <= 12 else long_division(n, d)[0]
    return [f"how many {d}s fit into {n}: divide", *lines, f"so {n} / {d} is {q} remainder {r}"]


def _round_division(rng: random.Random, name: str) -> Story:
    """A division whose remainder decides the answer: round up when what is left over still needs a van (or a
    box, a trip, a table), down for full boxes or complete teams, or the remainder itself."""
    c = rng.randint(3, 12) if rng.random() < 0.75 else rng.choice((15, 20, 25, 30))
    q = rng.randint(2, 12 if c <= 12 else 9)
    mode = rng.choice(("up", "up", "down", "left"))
    r = 0 if mode == "up" and rng.random() < 0.15 else rng.randint(1, c - 1)
    n = c * q + r
    item = rng.choice(ITEMS)
    fill = {"who": name, "item": item, "Item": _cap(item)}
    if mode == "up":
        facts, question = rng.choice(_ROUND_UP)
        money = False
    else:
        facts, *asks, money = rng.choice(_ROUND_DOWN)
        question = asks[mode == "left"]
    show = currency(rng).format if money else str
    told = [f.format(n=show(n), c=show(c), **fill) for f in facts]
    text = tell(rng, told, question.format(n=n, **fill), name, movable=len(told) if mode == "up" else 0)
    lines = _with_remainder(n, c)
    if mode == "left":
        return text, [*lines, f"so {r} {'is' if money else 'are'} left over"], r
    if mode == "down":
        return text, [*lines, f"the {r} left over are not enough for one more, so {q}"], q
    if not r:
        return text, [*lines, f"nothing is left over, so {q} are enough"], q
    return text, [*lines, f"the {r} left over still need one more, so {q} + 1 = {q + 1}"], q + 1


def _sum_difference(rng: random.Random, name: str) -> Story:
    """Two amounts from their total and their difference: take the difference away and halve for the smaller,
    add it back for the larger."""
    d, small = rng.randint(2, 30), rng.randint(3, 60)
    total, larger = 2 * small + d, rng.random() < 0.5
    big_one, small_one, facts, question = _two_amounts(rng, name, total, d)
    question = question.format(asked=big_one if larger else small_one)
    text = tell(rng, facts, question, name, movable=2)
    paths = solution_paths(text)
    lines = [f"take away the {d} extra, then halve: that is the smaller", *worked(total, "-", d, paths),
             *worked(total - d, "/", 2, paths)]
    if larger:
        lines += [f"the larger has {d} more: add", *worked(small, "+", d, paths)]
    return text, lines, small + d if larger else small


def _two_amounts(rng: random.Random, name: str, total: int, d: int) -> tuple[str, str, list[str], str]:
    """A setting for ``_sum_difference``: the larger one, the smaller one, the two facts and the question
    (``{asked}`` the one asked for)."""
    form = rng.randrange(6)
    more = rng.random() < 0.5
    if form == 0:
        other, item = other_name(rng, name), rng.choice(ITEMS)
        together = rng.choice(("together", "altogether", "between them", "in all"))
        relation = (f"{name} has {d} more {item} than {other}." if more else
                    f"{other} has {d} fewer {item} than {name}.")
        return name, other, [f"{name} and {other} have {total} {item} {together}.", relation], \
            f"How many {item} does {{asked}} have?"
    if form == 1:
        big, small, whole = rng.choice((("girls", "boys", "children in a class"), ("adults", "children",
                                        "people on a trip"), ("cats", "dogs", "animals at a shelter"),
                                        ("apples", "pears", "pieces of fruit in a basket"),
                                        ("novels", "comics", "books on a shelf")))
        relation = f"There are {d} more {big} than {small}." if more else f"There are {d} fewer {small} than {big}."
        return big, small, [f"There are {total} {whole}.", relation], "How many {asked} are there?"
    if form == 2:
        item = rng.choice(ITEMS)
        relation = (f"The big box holds {d} more {item} than the small box." if more else
                    f"The small box holds {d} fewer {item} than the big box.")
        return "big", "small", [f"Two boxes hold {total} {item} in all.", relation], \
            f"How many {item} are in the {{asked}} box?"
    if form == 3:
        cash = currency(rng).format
        big, small = rng.choice((("jacket", "hat"), ("bike", "helmet"), ("book", "pen"), ("racket", "ball"),
                                 ("lamp", "bulb")))
        return big, small, [f"A {big} and a {small} cost {cash(total)} together.",
                            f"The {big} costs {cash(d)} more than the {small}."], "How much does the {asked} cost?"
    if form == 4:
        return "larger", "smaller", [f"The sum of two numbers is {total}.",
                                     f"One number is {d} more than the other."], "What is the {asked} number?"
    other = other_name(rng, name)
    return name, other, [f"{name} and {other} scored {total} points between them.",
                         f"{name} scored {d} more points than {other}."], "How many points did {asked} score?"


# --- money in cents: worked as whole numbers of cents, the way the decimal kind works decimals -----------------
_CENT_PLACES = ("hundredths", "tenths", "ones", "tens", "hundreds")
_BOUGHT = ("a notebook", "a pen", "a sandwich", "a drink", "a comic", "a bag of crisps", "an apple", "a cake",
           "a ruler", "a bottle of water", "a muffin", "a magazine", "a yo-yo", "a birthday card")
_BOUGHT_MANY = ("pencils", "stickers", "apples", "bottles of water", "muffins", "postcards", "erasers", "bread rolls")


def _two_places(cents: int) -> str:
    """An amount as a step writes it, always with two places: ``12.50``, ``20.00``."""
    return f"{cents // 100}.{cents % 100:02d}"


def _money_text(cents: int) -> str:
    """An amount as a story or an answer writes it: ``12.50``, but a whole ``20``."""
    return _two_places(cents) if cents % 100 else str(cents // 100)


def _cents(rng: random.Random, high: int) -> int:
    """A price under ``high`` cents that is not a whole amount, mostly in steps of 5 cents."""
    step = 5 if rng.random() < 0.8 else 1
    while True:
        cents = step * rng.randint(1, high // step)
        if cents % 100:
            return cents


def _times_cents(cents: int, k: int, paths: random.Random) -> list[str]:
    return [f"without the point: {cents} * {k}", *worked(cents, "*", k, paths),
            f"2 decimal places: {cents * k} / 100 = {_two_places(cents * k)}"]


def _add_cents(a: int, b: int) -> list[str]:
    a_, b_, sum_ = _two_places(a), _two_places(b), _two_places(a + b)
    return [*column_addition([a, b], _CENT_PLACES), f"so {a_} + {b_} = {sum_}"]


def _subtract_cents(a: int, b: int) -> list[str]:
    lines = [f"write {a // 100} as {_two_places(a)}"] if a % 100 == 0 else []
    a_, b_, difference = _two_places(a), _two_places(b), _two_places(a - b)
    return [*lines, *column_subtraction(a, b, _CENT_PLACES), f"so {a_} - {b_} = {difference}"]


def _note(cost: int) -> int:
    return next(v for v in (500, 1000, 2000, 5000, 10000) if v > cost)


def _money(rng: random.Random, name: str) -> Story:
    """Prices with cents: several at one price (maybe paid with a note), or two or three things added (maybe
    taken from a note or from some money). The answer is the exact amount (``3.75``)."""
    cash = currency(rng).format
    if rng.random() < 0.4:
        return _many_at_a_price(rng, name, cash)
    bought = rng.sample(_BOUGHT, 3 if rng.random() < 0.2 else 2)
    prices = [_cents(rng, 1000) for _ in bought]
    cost, form = sum(prices), rng.random()
    if len(bought) == 3:
        shown = [f"{b} costs {cash(_money_text(p))}" for b, p in zip(bought, prices)]
        facts = [f"At a cafe, {shown[0]}, {shown[1]} and {shown[2]}.", f"{name} buys one of each."]
        text = tell(rng, facts, f"How much does {name} pay?", name)
        return text, ["the total cost: add the prices", *_add_cents(prices[0], prices[1]),
                      *_add_cents(prices[0] + prices[1], prices[2])], _money_text(cost)
    facts = [f"{name} buys {bought[0]} for {cash(_money_text(prices[0]))} and {bought[1]} for "
             f"{cash(_money_text(prices[1]))}."]
    lines = ["the total cost: add the prices", *_add_cents(*prices)]
    if form < 0.3:
        return tell(rng, facts, f"How much does {name} spend in all?", name), lines, _money_text(cost)
    paid = _note(cost) if form < 0.7 else cost + _cents(rng, 1000)
    if paid % 100:  # some money, not a note
        facts.insert(0, f"{name} has {cash(_money_text(paid))}.")
        text = tell(rng, facts, f"How much money does {name} have left?", name, movable=2)
    else:
        facts.append(f"{name} pays with {cash(_money_text(paid))}.")
        text = tell(rng, facts, f"How much change does {name} get?", name, movable=2)
    return text, [*lines, "then take the cost away", *_subtract_cents(paid, cost)], _money_text(paid - cost)


def _many_at_a_price(rng: random.Random, name: str, cash: Callable[[str], str]) -> Story:
    k, cents, things = rng.randint(2, 9), _cents(rng, 600), rng.choice(_BOUGHT_MANY)
    cost, note = k * cents, _note(k * cents)
    change = rng.random() < 0.4 and note <= 2000  # change from a larger note makes too long a reply
    if change:
        facts = [f"{name} buys {k} {things} at {cash(_money_text(cents))} each and pays with "
                 f"{cash(_money_text(note))}."]
        question = f"How much change does {name} get?"
    elif rng.random() < 0.6:
        facts = [f"{name} buys {k} {things} at {cash(_money_text(cents))} each."]
        question = rng.choice((f"How much does {name} spend?", f"How much does {name} pay in all?"))
    else:
        facts, question = [f"{_cap(things)} cost {cash(_money_text(cents))} each."], f"How much do {k} {things} cost?"
    text = tell(rng, facts, question, name)
    lines = ["the cost: multiply the price by how many", *_times_cents(cents, k, solution_paths(text))]
    if not change:
        return text, lines, _money_text(cost)
    return text, [*lines, "the change: take the cost from what was paid", *_subtract_cents(note, cost)], \
        _money_text(note - cost)


# --- chains of comparisons -----------------------------------------------------------------------------------
# A relation of one amount to another: (kind, factor, amount). ``times``: factor times as many; ``part``: one
# factor-th as many; ``more``/``fewer``: amount more or fewer; ``times_more``/``times_fewer``: amount more or fewer
# than factor times as many.
Relation = tuple[str, int, int]
_PARTS = {2: "half", 3: "a third", 4: "a quarter"}
_PLACES = (("A farm", ("cows", "sheep", "goats", "pigs", "hens"), "animals"),
           ("A garden", ("roses", "tulips", "daisies", "lilies"), "flowers"),
           ("A pet shop", ("rabbits", "hamsters", "kittens", "puppies"), "pets"),
           ("A toy shop", ("dolls", "kites", "robots", "puzzles"), "toys"),
           ("A fruit stall", ("apples", "pears", "plums", "lemons"), "pieces of fruit"))


def _relation(rng: random.Random, base: int) -> tuple[Relation, int]:
    """A relation to ``base`` whose result is a whole number of 1 or more, and that result."""
    options = ["times", "more", "times_more"] + (["fewer", "times_fewer"] if base > 3 else []) + (
        ["part"] if any(base % k == 0 for k in _PARTS) else [])
    kind = rng.choice(options)
    k = rng.choice([k for k in _PARTS if base % k == 0]) if kind == "part" else rng.randint(2, 4)
    m = rng.randint(2, min(15, {"fewer": base - 1, "times_fewer": base * k - 1}.get(kind, 15)))
    value = {"times": base * k, "part": base // k, "more": base + m, "fewer": base - m, "times_more": base * k + m,
             "times_fewer": base * k - m}[kind]
    return (kind, k, m), value


def _relation_said(rng: random.Random, relation: Relation, noun: str, ref: str) -> str:
    """``3 times as many cards as Ava``, ``half as many sheep as cows``, ``5 more than twice as many ...``."""
    kind, k, m = relation
    times = "twice" if k == 2 else rng.choice((f"{k} times", f"{in_words(k)} times"))
    return {"times": f"{times} as many {noun} as {ref}", "part": f"{_PARTS[k]} as many {noun} as {ref}",
            "more": f"{m} more {noun} than {ref}", "fewer": f"{m} fewer {noun} than {ref}",
            "times_more": f"{m} more than {times} as many {noun} as {ref}",
            "times_fewer": f"{m} fewer than {times} as many {noun} as {ref}"}[relation[0]]


def _relation_steps(who: str, relation: Relation, base: int, paths: random.Random) -> list[str]:
    kind, k, m = relation
    if kind == "part":
        return [f"{who}: {_PARTS[k]} as many, so divide by {k}", *worked(base, "/", k, paths)]
    if kind in ("more", "fewer"):
        return [f"{who}: {m} {kind}, so {'add' if kind == 'more' else 'subtract'}",
                *worked(base, "+" if kind == "more" else "-", m, paths)]
    lines = [f"{who}: {k} times as many, so multiply by {k}" + (f", then {'add' if kind == 'times_more' else 'take'}"
                                                                f" {m}" if kind != "times" else ""),
             *worked(base, "*", k, paths)]
    if kind != "times":
        lines += worked(base * k, "+" if kind == "times_more" else "-", m, paths)
    return lines


def _comparisons(rng: random.Random, name: str) -> Story:
    """Three amounts, each told by how it compares with the one before (``3 times as many``, ``half as many``,
    ``5 more than twice as many``): work out each in turn, then the last one or all three together."""
    base = rng.randint(4, 30)
    first, b = _relation(rng, base)
    second, c = _relation(rng, b)
    if max(b, c) > 99:  # keep the amounts under 100, and the reply short: draw again
        return _comparisons(rng, name)
    if rng.random() < 0.5:
        who = [name, *(n for n in pick_names(rng, 3) if n != name)][:3]
        item = rng.choice(ITEMS)
        facts = [f"{who[0]} has {base} {item}.", f"{who[1]} has {_relation_said(rng, first, item, who[0])}.",
                 f"{who[2]} has {_relation_said(rng, second, item, who[1])}."]
        asks = (f"How many {item} does {who[2]} have?", f"How many {item} do the three of them have {{all}}?")
    else:
        place, nouns, whole = rng.choice(_PLACES)
        who = rng.sample(nouns, 3)
        facts = [f"{place} has {base} {who[0]}.", f"It has {_relation_said(rng, first, who[1], who[0])}.",
                 f"It also has {_relation_said(rng, second, who[2], who[1])}."]
        asks = (f"How many {who[2]} does it have?", f"How many {whole} does it have {{all}}?")
    total = rng.random() < 0.5
    text = tell(rng, facts, asks[total].format(all=rng.choice(("in all", "altogether", "in total"))), name)
    paths = solution_paths(text)
    lines = [*_relation_steps(who[1], first, base, paths), *_relation_steps(who[2], second, b, paths)]
    if not total:
        return text, lines, c
    return text, [*lines, "all three together: add", *worked(base, "+", b, paths), *worked(base + b, "+", c, paths)], \
        base + b + c


# --- a mean, and a rate run backwards ------------------------------------------------------------------------
# (fact with {v} the values and {count} how many, questions); the values are listed "12, 15 and 18".
_MEANS = (
    ("{who} scored {v} points in {count} games.", ("What was {who}'s mean score?",
                                                   "On average, how many points did {who} score per game?")),
    ("A cafe sold {v} cakes on {count} days.", ("What is the mean number of cakes sold per day?",
                                                "On average, how many cakes did the cafe sell each day?")),
    ("{Count} plants are {v} cm tall.", ("What is the mean height of the plants?",
                                         "What is their average height in cm?")),
    ("{who} ran {v} km on {count} days.", ("How far did {who} run per day on average?",
                                           "What is the mean distance {who} ran each day?")),
    ("The {count} children in a group have {v} stickers.", ("What is the mean number of stickers per child?",
                                                            "On average, how many stickers does each child have?")))


def _sum_lines(values: list[int], paths: random.Random) -> list[str]:
    lines, running = [], values[0]
    for v in values[1:]:
        lines += worked(running, "+", v, paths)
        running += v
    return lines


def _mean_story(rng: random.Random, name: str) -> Story:
    """The mean of three to five amounts in a story, or the next amount that would make a given mean."""
    count, mean = rng.randint(3, 5), rng.randint(8, 30)
    values = [rng.randint(max(2, mean - 12), mean + 12) for _ in range(count - 1)]
    values.append(count * mean - sum(values))
    if values[-1] < 1:  # the others ran high: start again
        return _mean_story(rng, name)
    if rng.random() < 0.3:
        known = join_list([str(v) for v in values[:-1]])
        fact = f"{name} scored {known} points in the first {in_words(count - 1)} games."
        text = tell(rng, [fact], f"How many points must {name} score in the next game to have a mean of {mean}?",
                    name)
        paths = solution_paths(text)
        return text, ["the total needed: the mean times the number of games", *worked(mean, "*", count, paths),
                      "the total so far: add", *_sum_lines(values[:-1], paths), "the next game makes up the rest",
                      *worked(count * mean, "-", sum(values[:-1]), paths)], values[-1]
    fact, asks = rng.choice(_MEANS)
    said = in_words(count)
    text = tell(rng, [fact.format(v=join_list([str(v) for v in values]), count=said, Count=_cap(said), who=name)],
                rng.choice(asks).format(who=name), name)
    paths = solution_paths(text)
    return text, ["the mean: add them up, then divide by how many", *_sum_lines(values, paths),
                  *worked(count * mean, "/", count, paths)], mean


# (rate fact with {r}, fact of what is done with {d}, question for a total {t}, question for the rest).
_RATES = (
    ("{who} reads {r} pages a day.", "{who} has already read {d} pages.",
     "How many days will it take {who} to read a {t}-page book?",
     "How many more days will it take {who} to finish a {t}-page book?"),
    ("A pump fills a pool at {r} litres a minute.", "It has already pumped {d} litres.",
     "How many minutes does it take to fill a {t}-litre pool?",
     "How many more minutes does it take to fill the {t}-litre pool?"),
    ("A printer prints {r} pages a minute.", "It has already printed {d} pages.",
     "How many minutes does it take to print {t} pages?", "How many more minutes does it need to print {t} pages "
                                                          "in all?"),
    ("A team lays {r} metres of road a day.", "It has already laid {d} metres.",
     "How many days does it take to lay {t} metres of road?", "How many more days does it need to finish a "
                                                              "{t}-metre road?"),
    ("{who} types {r} words a minute.", "{who} has already typed {d} words.",
     "How many minutes will it take {who} to type {t} words?",
     "How many more minutes will it take {who} to type {t} words in all?"),
    ("A factory makes {r} bikes an hour.", "It has already made {d} bikes.",
     "How many hours does it take to make {t} bikes?", "How many more hours does it need to make {t} bikes in all?"))


def _rate_story(rng: random.Random, name: str) -> Story:
    """So much per day (or minute, or hour), and how long a whole job takes; some have part of it done."""
    rate, units = rng.randint(5, 60), rng.randint(2, 12)
    total = rate * units
    fact, done_fact, ask_all, ask_rest = rng.choice(_RATES)
    done = rate * rng.randint(1, units - 1) if rng.random() < 0.4 else 0
    facts = [fact.format(r=rate, who=name)] + ([done_fact.format(d=done, who=name)] if done else [])
    text = tell(rng, facts, (ask_rest if done else ask_all).format(t=total, who=name), name)
    paths = solution_paths(text)
    lines = ["first what is still to do: subtract", *worked(total, "-", done, paths)] if done else []
    lines += [f"how many times {rate} fits into {total - done}: divide", *worked(total - done, "/", rate, paths)]
    return text, lines, units - done // rate


# The multi-step families and how often each is drawn: the structures most missing from the other stories
# (a quantity changed several times, fractions of amounts, rounded divisions, money) come most often.
MULTI_STEP: dict[Callable[[random.Random, str], Story], int] = {
    _changes: 20, _fraction_of: 16, _round_division: 16, _money: 16, _sum_difference: 10, _comparisons: 12,
    _mean_story: 5, _rate_story: 5}


def multi_step(rng: random.Random, name: str) -> Story:
    """A story from one of ``MULTI_STEP``'s families, drawn by its weight.

    >>> text, steps, answer = multi_step(random.Random(9), "Mia")
    >>> text, answer
    ('A school takes 24 children to a museum. A coach seats 5 children. How many coaches does the school need?', 5)
    >>> steps[-1]
    'the 4 left over still need one more, so 4 + 1 = 5'
    """
    family = rng.choices(list(MULTI_STEP), weights=list(MULTI_STEP.values()))[0]
    return family(rng, name)
