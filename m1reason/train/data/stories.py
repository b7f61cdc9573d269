"""Story problems for the ``word`` kind, the way worksheets and textbooks tell them. One-step: two counts and a
question "in all", what is "left" after giving away, "how many more", "each of 6 buses carries 45", "a box holds
12", "52 weeks in a year", sharing and grouping equally, rows and columns, years between two dates, a temperature
or height that rises or falls, money earned per day. Two-step: change after buying several, earn then spend,
groups and leftovers, a total shared. The multi-step families are in ``multistep``.

Each family draws a setting (people, shops, schools, farms, libraries, stadiums, factories, travel, savings), its
numbers (1-2 digits up to 4-5, thousands separators when the problem's ``Notation`` draws them) and one of several
question wordings. Its solution first says in plain words which operation the story calls for (no number claim),
then works the operation with ``written.worked``, one digit at a time for large numbers.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from m1reason.train.data.phrasing import ITEMS, Notation, currency, distractor, pick_names, refer_back
from m1reason.train.data.problem import solution_paths
from m1reason.train.data.written import worked

__all__ = ["ONE_STEP", "Story", "TWO_STEP", "one_step", "other_name", "tell"]

# A story: its text, its step lines and its answer (a whole number, or a money amount's exact text: "3.75").
Story = tuple[str, list[str], int | str]


def tell(rng: random.Random, facts: list[str], question: str, name: str, *, movable: int = 0,
         avoid: str = "") -> str:
    """The facts (the first ``movable`` of them in any order), maybe an irrelevant fact (none that contains
    ``avoid``), then the question: reading past facts in any order, and past bait, is part of the skill; half the
    stories then refer back to ``name`` with pronouns (``refer_back``).

    >>> tell(random.Random(0), ["Ava has 3 pens.", "Ben has 4 pens."], "How many pens in all?", "Ava", movable=2)
    'Ava has 3 pens. Ben has 4 pens. How many pens in all?'
    """
    facts = list(facts)
    if movable > 1:
        head = facts[:movable]
        rng.shuffle(head)
        facts[:movable] = head
    if rng.random() < 0.3:
        facts.insert(rng.randint(0, len(facts)), distractor(rng, name, avoid=avoid))
    return refer_back(" ".join(facts + [question]), name)


def _digits(rng: random.Random, low: int, high: int) -> int:
    """A number of ``low`` to ``high`` digits, shorter ones as often as longer ones."""
    d = rng.randint(low, high)
    return rng.randint(10 ** (d - 1) if d > 1 else 2, 10**d - 1)


def other_name(rng: random.Random, name: str) -> str:
    """A second person for a story about ``name``.

    >>> other_name(random.Random(1), "Mia") != "Mia"
    True
    """
    return next(n for n in pick_names(rng, 2) if n != name)


# One-step families: each returns (facts, question, cue, a, op, b, movable) where ``a op b`` is the answer, the
# cue is the plain sentence naming the operation, and the first ``movable`` facts may be told in any order.
Step = tuple[list[str], str, str, int, str, int, int]

_ALL = ("in all", "altogether", "in total", "combined")


def _two_groups(rng: random.Random, name: str, n: Notation) -> Step:
    place, first, second, whole = rng.choice((
        ("A farm has", "cows", "sheep", "animals"), ("A school has", "boys", "girls", "pupils"),
        ("A library has", "fiction books", "non-fiction books", "books"),
        ("A car park has", "red cars", "blue cars", "cars"), ("A stadium has", "home fans", "away fans", "fans"),
        ("An orchard has", "apple trees", "pear trees", "trees"), ("A shop has", "large boxes", "small boxes",
                                                                     "boxes")))
    a, b = _digits(rng, 1, 4), _digits(rng, 1, 4)
    all_ = rng.choice(_ALL)
    question = rng.choice((f"How many {whole} are there {all_}?", f"What is the total number of {whole}?",
                           f"How many {whole} does it have {all_}?"))
    facts = ([f"{place} {n.num(a)} {first} and {n.num(b)} {second}."] if rng.random() < 0.5 else
             [f"{place} {n.num(a)} {first}.", f"It also has {n.num(b)} {second}."])
    return facts, question, f"{'the total' if 'total' in question else all_} means add the two groups", a, "+", b, 0


def _two_days(rng: random.Random, name: str, n: Notation) -> Step:
    who, did, do, things = rng.choice((
        ("A bakery", "sold", "sell", "loaves"), ("A museum", "welcomed", "welcome", "visitors"),
        ("The library", "lent", "lend", "books"), ("A factory", "made", "make", "toys"),
        (name, "collected", "collect", "shells"), ("A farmer", "picked", "pick", "apples"),
        ("A cinema", "sold", "sell", "tickets")))
    d1, d2, both = rng.choice((("on Monday", "on Tuesday", "over the two days"),
                               ("on Saturday", "on Sunday", "over the weekend"),
                               ("in March", "in April", "in the two months"),
                               ("last year", "this year", "in the two years"), ("in the morning", "in the afternoon",
                                                                               "in the whole day")))
    a, b = _digits(rng, 1, 4), _digits(rng, 1, 4)
    it = "they" if who == name else "it"
    facts = [f"{who} {did} {n.num(a)} {things} {d1}.", f"{d2[0].upper()}{d2[1:]}, {it} {did} {n.num(b)} {things}."]
    how = rng.choice((both, "in total", "altogether", "on both days" if "day" in d1 else "in all"))
    question = rng.choice((f"How many {things} did {who if who == name else it} {do} {how}?",
                           f"How many {things} is that {how}?"))
    return facts, question, "the two amounts together means add", a, "+", b, 0


_GAIN = ("buys", "is given", "finds", "wins", "collects", "gets")
_LOSS = ("gives away", "sells", "eats", "loses", "uses", "gives")


def _gain(rng: random.Random, name: str, n: Notation) -> Step:
    item = rng.choice(ITEMS)
    a, b = _digits(rng, 1, 3), _digits(rng, 1, 3)
    verb = rng.choice(_GAIN)
    more = "" if verb == "is given" else " more"
    facts = [f"{name} has {n.num(a)} {item}.", f"Then {name} {verb} {n.num(b)}{more} {item}."]
    question = rng.choice((f"How many {item} does {name} have now?", f"How many {item} does {name} have {'in all'}?",
                           f"How many {item} does {name} have altogether?"))
    return facts, question, f"{name} {verb} more, so add", a, "+", b, 0


def _lose(rng: random.Random, name: str, n: Notation) -> Step:
    item = rng.choice(ITEMS)
    a = _digits(rng, 1, 4)
    b = rng.randint(1, a - 1)
    verb = rng.choice(_LOSS)
    to = " to a friend" if verb == "gives" else ""
    facts = [f"{name} has {n.num(a)} {item}.", f"{name} {verb} {n.num(b)} {item}{to}."]
    if rng.random() < 0.3:
        facts = [f"{name} had {n.num(a)} {item} and {verb} {n.num(b)} of them{to}."]
    question = rng.choice((f"How many {item} are left?", f"How many {item} does {name} have now?",
                           f"How many {item} remain?", f"How many {item} does {name} still have?"))
    return facts, question, f"{name} {verb} some away, so subtract", a, "-", b, 0


def _stock(rng: random.Random, name: str, n: Notation) -> Step:
    who, had, verb, things = rng.choice((
        ("A shop", "had", "sold", "bottles of water"), ("A library", "had", "lent out", "books"),
        ("A farm", "had", "sold", "chickens"), ("A stadium", "has", "sold", "tickets for a match"),
        ("A factory", "made", "shipped", "boxes"), ("A school", "had", "handed out", "pencils")))
    a = _digits(rng, 2, 5)
    b = rng.randint(1, a - 1)
    facts = [f"{who} {had} {n.num(a)} {things}.", f"It {verb} {n.num(b)} of them."]
    question = rng.choice(("How many are left?", "How many are left now?", "How many does it have left?",
                           "How many remain?"))
    return facts, question, f"{verb} takes away, so subtract", a, "-", b, 0


def _difference(rng: random.Random, name: str, n: Notation) -> Step:
    other = other_name(rng, name)
    a, b = _digits(rng, 1, 4), _digits(rng, 1, 4)
    if a == b:
        a += rng.randint(1, 9)
    big, small = max(a, b), min(a, b)
    if rng.random() < 0.5:
        item = rng.choice(ITEMS)
        facts = [f"{name} has {n.num(a)} {item}.", f"{other} has {n.num(b)} {item}."]
        top, low = (name, other) if a > b else (other, name)
        question = rng.choice((f"How many more {item} does {top} have than {low}?",
                               f"How many fewer {item} does {low} have than {top}?"))
    else:
        one, two, noun, word = rng.choice((
            ("Hill School", "Park School", "pupils", "more"), ("The red team", "the blue team", "points", "more"),
            ("The city stadium", "the town stadium", "seats", "more"), ("Mount Ash", "Mount Birch", "metres high",
                                                                         "higher")))
        facts = [f"{one} has {n.num(a)} {noun}.", f"{two[0].upper()}{two[1:]} has {n.num(b)} {noun}."]
        if word == "higher":
            facts = [f"{one} is {n.num(a)} {noun}.", f"{two} is {n.num(b)} {noun}."]
        first = one if a > b else two[0].upper() + two[1:]
        second = two if a > b else one
        question = (f"How much {word} is {first} than {second}?" if word == "higher" else
                    rng.choice((f"How many {word} {noun} does {first} have than {second}?",
                                f"What is the difference between the two numbers of {noun}?")))
    return facts, question, "how many more means find the difference: the larger minus the smaller", big, "-", small, 2


def _more_than(rng: random.Random, name: str, n: Notation) -> Step:
    other, item = other_name(rng, name), rng.choice(ITEMS)
    a, b = _digits(rng, 2, 3), _digits(rng, 1, 3)
    if rng.random() < 0.5:
        facts = [f"{name} has {n.num(a)} {item}.", f"{other} has {n.num(b)} more {item} than {name}."]
        return facts, f"How many {item} does {other} have?", "more than means add", a, "+", b, 0
    b = rng.randint(1, a - 1)
    word = rng.choice(("fewer", "less"))
    thing = "money" if word == "less" else item
    if word == "less":
        cash = currency(rng).format
        facts = [f"{name} has {cash(n.num(a))}.", f"{other} has {cash(n.num(b))} less than {name}."]
    else:
        facts = [f"{name} has {n.num(a)} {item}.", f"{other} has {n.num(b)} fewer {item} than {name}."]
    question = f"How much {thing} does {other} have?" if word == "less" else f"How many {item} does {other} have?"
    return facts, question, f"{word} than means subtract", a, "-", b, 0


def _save(rng: random.Random, name: str, n: Notation) -> Step:
    cash = currency(rng).format
    a, b = _digits(rng, 1, 4), _digits(rng, 1, 4)
    m1, m2 = rng.choice((("January", "February"), ("May", "June"), ("the spring", "the summer")))
    verb = rng.choice(("saved", "earned", "raised for charity"))
    facts = [f"{name} {verb} {cash(n.num(a))} in {m1}.", f"In {m2}, {name} {verb} {cash(n.num(b))}."]
    question = rng.choice((f"How much money did {name} get {rng.choice(_ALL)}?", "What is the total amount?",
                           f"How much is that in {m1} and {m2} combined?"))
    return facts, question, "the total means add", a, "+", b, 0


def _trip(rng: random.Random, name: str, n: Notation) -> Step:
    who = rng.choice(("A train", "A lorry", f"{name}'s family", "A cyclist", "A plane"))
    a, b = _digits(rng, 2, 4), _digits(rng, 2, 4)
    if rng.random() < 0.5:
        facts = [f"{who} travels {n.num(a)} km on the first day and {n.num(b)} km on the second day."]
        question = rng.choice(("How far is that in total?", "How many km is that in all?",
                               "How far does it go over the two days?"))
        return facts, question, "the whole distance means add", a, "+", b, 0
    b = rng.randint(1, a - 1)
    facts = [f"A journey is {n.num(a)} km long.", f"{who} has already travelled {n.num(b)} km."]
    question = rng.choice(("How far is there still to go?", "How many km are left?",
                           "How much further is it to the end?"))
    return facts, question, "the distance still to go means subtract", a, "-", b, 0


def _rise_fall(rng: random.Random, name: str, n: Notation) -> Step:
    if rng.random() < 0.5:
        a, b = rng.randint(1, 30), rng.randint(1, 15)
        start, by, end = rng.choice((("at dawn", "noon", "at noon"), ("in the morning", "the afternoon",
                                                                    "in the afternoon"),
                                     ("at breakfast time", "lunchtime", "at lunchtime")))
        up = rng.random() < 0.5 or b >= a
        moved = "risen" if up else "fallen"
        facts = [f"The temperature {start} was {a} degrees.", f"By {by}, it had {moved} by {b} degrees."]
        question = f"What was the temperature {end}?"
        return facts, question, f"{moved} means {'add' if up else 'subtract'}", a, "+" if up else "-", b, 0
    a, b = _digits(rng, 3, 4), _digits(rng, 2, 3)
    what = rng.choice(("A plane", "A hot-air balloon", "A climber"))
    if rng.random() < 0.5:
        facts = [f"{what} is at a height of {n.num(a)} metres.", f"It climbs another {n.num(b)} metres."]
        return facts, "How high is it now?", "climbing means add", a, "+", b, 0
    b = rng.randint(1, a - 1)
    facts = [f"{what} is at a height of {n.num(a)} metres.", f"It goes down {n.num(b)} metres."]
    return facts, rng.choice(("How high is it now?", "What is its height now?")), "going down means subtract", a, \
        "-", b, 0


def _years(rng: random.Random, name: str, n: Notation) -> Step:
    y1 = rng.randint(1800, 2010)
    y2 = rng.randint(y1 + 1, 2030)
    form = rng.randrange(4)
    if form == 0:
        facts = [f"{name} was born in {y1}."]
        question = f"How old will {name} turn in {y2}?"
    elif form == 1:
        what = rng.choice(("A bridge", "The school", "A castle wall", "The town hall", "The library"))
        facts = [f"{what} was built in {y1}."]
        question = f"How many years old is it in {y2}?"
    elif form == 2:
        facts = []
        question = f"How many years are there between {y1} and {y2}?"
    else:
        gap = y2 - y1
        facts = [f"A tree was planted in {y1}.", f"It was cut down {gap} years later."]
        return facts, "In what year was it cut down?", "years later means add", y1, "+", gap, 0
    return facts, question, "the years between two dates: the later year minus the earlier", y2, "-", y1, 0


def _change(rng: random.Random, name: str, n: Notation) -> Step:
    cash = currency(rng).format
    thing = rng.choice(("a toy", "a jacket", "a bike helmet", "a book", "a pair of shoes", "a game"))
    price = rng.randint(2, 95)
    note = next(v for v in (5, 10, 20, 50, 100) if v > price)
    facts = [f"{name} buys {thing} for {cash(price)}.", f"{name} pays with {cash(note)}."]
    question = rng.choice((f"How much change does {name} get?", "How much change is given?"))
    return facts, question, "change is what was paid minus the price", note, "-", price, 0


def _to_go(rng: random.Random, name: str, n: Notation) -> Step:
    if rng.random() < 0.5:
        a = _digits(rng, 2, 3)
        b = rng.randint(1, a - 1)
        facts = [f"A book has {n.num(a)} pages.", f"{name} has read {n.num(b)} pages."]
        question = rng.choice(("How many pages are left to read?", f"How many more pages must {name} read?"))
        return facts, question, "the pages still to read means subtract", a, "-", b, 0
    cash = currency(rng).format
    thing = rng.choice(("a bike", "a laptop", "a guitar", "a tent", "a games console"))
    a = _digits(rng, 2, 4)
    b = rng.randint(1, a - 1)
    facts = [f"{name} wants to buy {thing} that costs {cash(n.num(a))}.", f"{name} has saved {cash(n.num(b))}."]
    return facts, f"How much more money does {name} need?", "how much more means subtract", a, "-", b, 0


# --- multiplication -----------------------------------------------------------------------------------------

def _each_of(rng: random.Random, name: str, n: Notation) -> Step:
    groups, people, each = rng.choice((("buses", "pupils", 40), ("coaches", "fans", 55), ("vans", "boxes", 30),
                                       ("boats", "tourists", 25), ("classes", "children", 32),
                                       ("trains", "passengers", 450), ("shelves", "books", 60)))
    g, e = rng.randint(2, 40), rng.randint(max(2, each // 3), each)
    if g > 9 and e > 99:
        g = rng.randint(2, 9)
    verb = "holds" if groups in ("shelves", "classes") else "carries"
    facts = [rng.choice((f"Each of {g} {groups} {verb} {e} {people}.",
                         f"There are {g} {groups}. Each one {verb} {e} {people}."))]
    question = rng.choice((f"How many {people} are there {rng.choice(_ALL)}?", f"How many {people} is that?"))
    return facts, question, "equal groups: multiply the number of groups by the size of each", e, "*", g, 0


def _containers(rng: random.Random, name: str, n: Notation) -> Step:
    box, things = rng.choice((("box", "crayons"), ("crate", "bottles"), ("pack", "yoghurts"), ("bag", "oranges"),
                              ("carton", "eggs"), ("tray", "cupcakes"), ("case", "cans")))
    per, count = rng.randint(4, 48), rng.randint(2, 99)
    facts = [rng.choice((f"A {box} holds {per} {things}.", f"There are {per} {things} in each {box}."))]
    question = rng.choice((f"How many {things} are in {count} {box}es?" if box.endswith(("x", "s")) else
                           f"How many {things} are in {count} {box}s?",
                           f"{name} buys {count} {box}{'es' if box.endswith(('x', 's')) else 's'}. How many "
                           f"{things} is that?"))
    return facts, question, "a number of full containers: multiply", per, "*", count, 0


_UNITS = (("weeks", "year", 52), ("months", "year", 12), ("days", "week", 7), ("hours", "day", 24),
          ("minutes", "hour", 60), ("seconds", "minute", 60), ("days", "year", 365), ("eggs", "dozen", 12))


def _units(rng: random.Random, name: str, n: Notation) -> Step:
    small, big, per = rng.choice(_UNITS)
    fact = f"There are {per} {small} in a {big}."
    if rng.random() < 0.5:
        count = rng.randint(2, 60 if per < 100 else 12)
        question = rng.choice((f"How many {small} are there in {count} {big}s?",
                               f"How many {small} are in {count} {big}s?"))
        return [fact], question, f"each {big} has the same number of {small}: multiply", per, "*", count, 0
    count = rng.randint(2, 40 if per < 100 else 9)
    total = per * count
    question = f"How many {big}s are there in {n.num(total)} {small}?"
    return [fact], question, f"how many {big}s fit in: divide", total, "/", per, 0


def _rows(rng: random.Random, name: str, n: Notation) -> Step:
    where, things = rng.choice((("A theatre", "seats"), ("An orchard", "trees"), ("A field", "cabbages"),
                                ("A car park", "parking spaces"), ("A box of chocolates", "chocolates"),
                                ("A stadium stand", "seats")))
    r, c = rng.randint(3, 60), rng.randint(3, 45)
    facts = [rng.choice((f"{where} has {r} rows with {c} {things} in each row.",
                         f"{where} has {r} rows of {c} {things}.", f"{where} has {things} in {r} rows and "
                                                                    f"{c} columns."))]
    question = rng.choice((f"How many {things} are there?", f"How many {things} are there {rng.choice(_ALL)}?"))
    return facts, question, "rows times the number in each row: multiply", r, "*", c, 0


def _per_day(rng: random.Random, name: str, n: Notation) -> Step:
    cash = currency(rng).format
    who, verb, do = rng.choice(((name, "earns", "earn"), ("A shop", "takes", "take"), (name, "saves", "save")))
    rate, days = rng.randint(5, 250), rng.randint(2, 31)
    unit, units = rng.choice((("a day", "days"), ("a week", "weeks"), ("per day", "days"), ("an hour", "hours")))
    if rate > 99 and days > 9:
        days = rng.randint(2, 9)
    facts = [f"{who} {verb} {cash(rate)} {unit}."]
    question = f"How much does {'it' if who == 'A shop' else who} {do} in {days} {units}?"
    return facts, question, f"the same amount {unit.split()[-1]} after {unit.split()[-1]}: multiply", rate, "*", \
        days, 0


def _price(rng: random.Random, name: str, n: Notation) -> Step:
    cash = currency(rng).format
    things, one = rng.choice((("tickets", "ticket"), ("books", "book"), ("football shirts", "football shirt"),
                              ("plants", "plant"), ("bus passes", "bus pass")))
    p, count = rng.randint(2, 60), rng.randint(2, 250)
    if count > 99:
        p = rng.randint(2, 9)
    who = rng.choice((name, "A school", "A club"))
    facts = [rng.choice((f"{things[0].upper()}{things[1:]} cost {cash(p)} each.", f"One {one} costs {cash(p)}."))]
    question = rng.choice((f"How much do {count} {things} cost?", f"{who} buys {count} {things}. How much is that?"))
    return facts, question, "the price of one times how many: multiply", p, "*", count, 0


def _factory(rng: random.Random, name: str, n: Notation) -> Step:
    who, things = rng.choice((("A factory", "toys"), ("A bakery", "loaves"), ("A printer", "pages"),
                              ("A farm", "litres of milk"), ("A mill", "bags of flour")))
    rate, days = _digits(rng, 2, 4), rng.randint(2, 30)
    if rate > 999 and days > 9:
        days = rng.randint(2, 9)
    facts = [f"{who} makes {n.num(rate)} {things} every day."]
    question = rng.choice((f"How many {things} does it make in {days} days?",
                           f"How many {things} is that in {days} days?"))
    return facts, question, "the same number every day: multiply", rate, "*", days, 0


def _times_as(rng: random.Random, name: str, n: Notation) -> Step:
    other, item = other_name(rng, name), rng.choice(ITEMS)
    k, few = rng.randint(2, 9), _digits(rng, 1, 3)
    facts = [f"{other} has {n.num(few)} {item}.", f"{name} has {k} times as many {item} as {other} does."]
    return facts, f"How many {item} does {name} have?", "times as many means multiply", few, "*", k, 2


# --- division ------------------------------------------------------------------------------------------------

def _quotient(rng: random.Random, small: bool = False) -> tuple[int, int]:
    """A divisor of one digit (or up to 12 with a small quotient) and an exact quotient."""
    d = rng.randint(2, 9) if rng.random() < 0.8 else rng.randint(10, 12)
    q = rng.randint(2, 12 if small else (999 if d < 10 else 40))
    return d * q, d


def _share(rng: random.Random, name: str, n: Notation) -> Step:
    item = rng.choice(ITEMS)
    total, d = _quotient(rng)
    who = rng.choice(("friends", "children", "classes", "teams"))
    facts = [rng.choice((f"{name} shares {n.num(total)} {item} equally among {d} {who}.",
                         f"{n.num(total)} {item} are shared equally between {d} {who}."))]
    one = who[:-1] if who != "children" else "child"
    question = rng.choice((f"How many {item} does each {one} get?", f"How many {item} is that for each {one}?"))
    return facts, question, "sharing equally means divide", total, "/", d, 0


def _groups_of(rng: random.Random, name: str, n: Notation) -> Step:
    people, group, verb = rng.choice((("pupils", "teams", "split into"), ("players", "groups", "put into"),
                                      ("campers", "tents", "put into"), ("runners", "relay teams", "split into")))
    total, d = _quotient(rng, small=rng.random() < 0.5)
    facts = [f"{n.num(total)} {people} are {verb} {group} of {d}."]
    question = rng.choice((f"How many {group} are there?", f"How many {group} can be made?"))
    return facts, question, "how many groups of the same size: divide", total, "/", d, 0


def _pack(rng: random.Random, name: str, n: Notation) -> Step:
    things, box = rng.choice((("eggs", "boxes"), ("pencils", "packs"), ("apples", "bags"), ("cans", "crates"),
                              ("muffins", "trays")))
    total, d = _quotient(rng)
    facts = [f"A farm packs {n.num(total)} {things} into {box} of {d}." if things in ("eggs", "apples") else
             f"{name} packs {n.num(total)} {things} into {box} of {d}."]
    question = rng.choice((f"How many {box} are filled?", f"How many {box} are needed?"))
    return facts, question, "how many full containers: divide", total, "/", d, 0


def _rows_div(rng: random.Random, name: str, n: Notation) -> Step:
    things = rng.choice(("chairs", "trees", "desks", "plants"))
    total, d = _quotient(rng, small=True)
    facts = [f"{name} sets out {n.num(total)} {things} in {d} equal rows."]
    return facts, f"How many {things} are in each row?", "equal rows: divide by the number of rows", total, "/", d, 0


def _per_one(rng: random.Random, name: str, n: Notation) -> Step:
    cash = currency(rng).format
    total, d = _quotient(rng, small=rng.random() < 0.5)
    if rng.random() < 0.5:
        things, one = rng.choice((("tickets", "ticket"), ("books", "book"), ("T-shirts", "T-shirt")))
        facts = [f"{d} {things} cost {cash(n.num(total))} in total."]
        question = rng.choice((f"How much does one {one} cost?", f"What is the price of one {one}?"))
        return facts, question, "the cost of one: divide the total", total, "/", d, 0
    facts = [f"{name} earned {cash(n.num(total))} in {d} days, the same amount each day."]
    return facts, f"How much did {name} earn per day?", "the amount for one day: divide", total, "/", d, 0


def _needed(rng: random.Random, name: str, n: Notation) -> Step:
    people, vehicle = rng.choice((("pupils", "bus"), ("fans", "coach"), ("guests", "table"), ("tourists", "boat")))
    total, d = _quotient(rng, small=True)
    d, total = (d * 5, total * 5) if rng.random() < 0.5 else (d, total)
    facts = [f"{n.num(total)} {people} are going on a trip.", f"Each {vehicle} holds {d} {people}."]
    if vehicle == "table":
        facts = [f"{n.num(total)} {people} come to a party.", f"Each {vehicle} seats {d} {people}."]
    question = f"How many {vehicle}{'es' if vehicle.endswith('s') or vehicle == 'coach' else 's'} are needed " \
               "if every one is full?"
    return facts, question, "how many full groups: divide", total, "/", d, 2


def _cut(rng: random.Random, name: str, n: Notation) -> Step:
    what, unit = rng.choice((("A rope", "m"), ("A ribbon", "cm"), ("A plank", "cm"), ("A cable", "m")))
    total, d = _quotient(rng, small=rng.random() < 0.5)
    facts = [f"{what} {n.num(total)} {unit} long is cut into {d} equal pieces."]
    return facts, "How long is each piece?", "equal pieces: divide", total, "/", d, 0


ONE_STEP: tuple[Callable[[random.Random, str, Notation], Step], ...] = (
    _two_groups, _two_days, _gain, _save, _more_than, _trip, _rise_fall, _years,
    _lose, _stock, _difference, _change, _to_go,
    _each_of, _containers, _units, _rows, _per_day, _price, _factory, _times_as,
    _share, _groups_of, _pack, _rows_div, _per_one, _needed, _cut)


def one_step(rng: random.Random, name: str) -> Story:
    """A one-step story from one of ``ONE_STEP``'s families: the cue sentence, then the operation worked.

    >>> text, steps, answer = one_step(random.Random(4), "Mia")
    >>> text, steps[0], answer
    ('A tree was planted in 1817. It was cut down 6 years later. In what year was it cut down?', \
'years later means add', 1823)
    """
    family = rng.choice(ONE_STEP)
    facts, question, cue, a, op, b, movable = family(rng, name, Notation.draw(rng, latex=0.0))
    text = tell(rng, facts, question, name, movable=movable, avoid="years old" if family is _years else "")
    answer = {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]
    return text, [cue, *worked(a, op, b, solution_paths(text))], answer


# --- two-step stories ----------------------------------------------------------------------------------------

def _buy_change(rng: random.Random, name: str) -> Story:
    """Several of one thing at one price, paid with a note: multiply, then subtract for the change."""
    cash = currency(rng).format
    things = rng.choice(("notebooks", "cinema tickets", "pizzas", "train tickets", "T-shirts", "plants"))
    count, price = rng.randint(2, 9), rng.randint(2, 45)
    cost = count * price
    note = next(v for v in (10, 20, 50, 100, 200, 500) if v > cost)
    facts = [f"{name} buys {count} {things} at {cash(price)} each.", f"{name} pays with {cash(note)}."]
    text = tell(rng, facts, rng.choice((f"How much change does {name} get?", "How much change is there?")), name,
                movable=2)
    paths = solution_paths(text)
    return text, ["first the cost: multiply the price by how many", *worked(price, "*", count, paths),
                  "then the change: subtract the cost from what was paid", *worked(note, "-", cost, paths)], note - cost


def _earn_spend(rng: random.Random, name: str) -> Story:
    """Money earned per day over some days, then some spent: multiply, then subtract."""
    cash = currency(rng).format
    rate, days = rng.randint(5, 90), rng.randint(2, 14)
    earned = rate * days
    spent = rng.randint(1, earned - 1)
    job = rng.choice(("walking dogs", "at a cafe", "washing cars", "delivering papers", "babysitting"))
    facts = [f"{name} earns {cash(rate)} a day {job} for {days} days.", f"Then {name} spends {cash(spent)}."]
    question = rng.choice((f"How much money does {name} have left?", "How much of it is left?"))
    text = tell(rng, facts, question, name)
    paths = solution_paths(text)
    return text, ["first what was earned: multiply", *worked(rate, "*", days, paths),
                  "then take away what was spent", *worked(earned, "-", spent, paths)], earned - spent


def _groups_left(rng: random.Random, name: str) -> Story:
    """Full groups and some left over: multiply, then add the leftovers."""
    item, box = rng.choice(ITEMS), rng.choice(("boxes", "bags", "jars", "packs"))
    full, size = rng.randint(2, 40), rng.randint(3, 25)
    left = rng.randint(1, size - 1)
    facts = [f"{name} fills {full} {box} with {size} {item} in each.", f"There are {left} {item} left over."]
    question = rng.choice((f"How many {item} were there to start with?", f"How many {item} did {name} have?"))
    text = tell(rng, facts, question, name)
    paths = solution_paths(text)
    return text, ["first the full ones: multiply", *worked(size, "*", full, paths), "then add the ones left over",
                  *worked(full * size, "+", left, paths)], full * size + left


def _total_share(rng: random.Random, name: str) -> Story:
    """Two amounts put together, then shared equally: add, then divide."""
    other, item = other_name(rng, name), rng.choice(ITEMS)
    d, each = rng.randint(2, 9), rng.randint(2, 60)
    total = d * each
    a = rng.randint(1, total - 1)
    facts = [f"{name} has {a} {item} and {other} has {total - a}.",
             f"They put them together and share them equally among {d} children."]
    text = tell(rng, facts, f"How many {item} does each child get?", name)
    paths = solution_paths(text)
    return text, ["first the total: add", *worked(a, "+", total - a, paths), "then share equally: divide",
                  *worked(total, "/", d, paths)], each


def _spend_two(rng: random.Random, name: str) -> Story:
    """Money at the start, two things bought: add the prices (or take away one at a time), then subtract."""
    cash = currency(rng).format
    p1, p2 = rng.randint(2, 60), rng.randint(2, 60)
    start = rng.randint(p1 + p2 + 1, 200)
    t1, t2 = rng.sample(("a book", "a hat", "lunch", "a ball", "a comic", "a present", "paint"), 2)
    facts = [f"{name} had {cash(start)}.", f"{name} spent {cash(p1)} on {t1} and {cash(p2)} on {t2}."]
    text = tell(rng, facts, f"How much money does {name} have left?", name)
    paths = solution_paths(text)
    return text, ["first what was spent: add", *worked(p1, "+", p2, paths), "then take it from the start",
                  *worked(start, "-", p1 + p2, paths)], start - p1 - p2


TWO_STEP: tuple[Callable[[random.Random, str], Story], ...] = (_buy_change, _earn_spend, _groups_left,
                                                               _total_share, _spend_two)
