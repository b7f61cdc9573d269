"""Every kind's boxed answer equals a value read back from the problem's own text and computed here, exactly
(Fractions and integers, never eval): a wrong answer, or a text that says something else than the answer
assumes, fails."""

from __future__ import annotations

import random
import re
from collections import Counter
from fractions import Fraction
from math import gcd, isqrt

import pytest

from m1reason.answers import extract_answer, is_equivalent
from m1reason.train.data import KINDS, make_problem, render_solution
from tests.train.exact import NUMBER, digits, equations, evaluate, math_span, number, plain
from tests.train.word_reader import read_multi_step, read_story, with_names

PROBLEMS_PER_KIND = 300


def _ints(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.?]) ", text)[0]


def _no_money(text: str) -> str:
    return re.sub(r"[$£€]", "", text).replace(" dollars", "")


def _bare(text: str) -> Fraction:
    return evaluate(math_span(plain(text)))


def _order(text: str) -> Fraction:
    """An expression whose brackets may be square (``2 * [10 - (3 + 4)]``), or a power said in words."""
    said = re.search(r"(?:the (square|cube) of|\(?(-?\d+)\)? (squared|cubed))", text)
    if said and "^" not in plain(text):
        base = int(re.search(r"-?\d+", text)[0])
        return Fraction(base) ** (2 if "squ" in said[0] else 3)
    return _bare(text.replace("[", "(").replace("]", ")"))


# A story's cue -> its answer from its first two numbers as written (a depth "below sea level" negated)
_STORIES = {"fell by": lambda a, b: a - b, "risen": lambda a, b: a + b, "warmer is": lambda b, a: b - a,
            "goes down another": lambda a, b: a - b, "rises": lambda a, b: a + b, "taken out": lambda a, b: a - b,
            "lowest temperature": lambda a, b: b - a}


def _integers(text: str) -> Fraction:
    """Signed arithmetic: a bare expression, a pair said in words, or a story (temperatures, sea level, a bank
    balance)."""
    for cue, answer in _STORIES.items():
        if cue in text:
            first, second = (int(n) for n in re.findall(r"-?\d+", text)[:2])
            return Fraction(answer(-first if "below" in text else first, second))
    pair = re.search(r"(?:sum|product) of (-?\d+) and (-?\d+)|(?:Add|Multiply|Divide|Subtract) (-?\d+) "
                     r"(?:and|by|from) (-?\d+)|What is (-?\d+) (minus|divided by) (-?\d+)", text)
    if pair:
        numbers = [int(n) for n in pair.groups() if n and re.fullmatch(r"-?\d+", n)]
        a, b = numbers
        if "sum" in text or "Add" in text:
            return Fraction(a + b)
        if "product" in text or "Multiply" in text:
            return Fraction(a * b)
        if "Subtract" in text:
            return Fraction(b - a)
        if "minus" in text:
            return Fraction(a - b)
        return Fraction(a, b)
    return _bare(text)


_SAID = ((" plus ", " + "), (" minus ", " - "), (" take away ", " - "), (" multiplied by ", " * "),
         (" times ", " * "), (" divided by ", " / "))


def _arithmetic(text: str) -> Fraction:
    """A bare expression, a product of a list, or a question said in words (``seven times eight``)."""
    t = plain(digits(text))
    if re.search("product of|Multiply", t):
        product = Fraction(1)
        for n in _ints(t):
            product *= n
        return product
    for said, sign in _SAID:
        t = t.replace(said, sign)
    return _bare(t)


def _addition(text: str) -> Fraction:
    return Fraction(sum(_ints(plain(digits(text)))))


def _subtraction(text: str) -> Fraction:
    a, b = _ints(plain(digits(text)))
    return Fraction(max(a, b) - min(a, b))


def _multiplication(text: str) -> Fraction:
    ints = _ints(plain(digits(text)))
    if len(ints) == 1:  # double, twice, triple
        ints.append(3 if "riple" in text else 2)
    a, b = ints
    return Fraction(a * b)


def _division(text: str) -> str | Fraction:
    """The quotient (exact, or a decimal when the division does not come out even), ``q remainder r`` when the
    question asks for a remainder with the quotient, or the remainder alone."""
    ints = _ints(plain(digits(text)))
    a, b = ints if len(ints) == 2 else (ints[0], 2)  # halve
    q, r = divmod(max(a, b), min(a, b))
    if "quotient and" in text or re.search("with (a )?remainder", text):
        return f"{q} remainder {r}"
    if "remainder" in text or "left over" in text or " mod " in text:
        return str(r)
    return Fraction(max(a, b), min(a, b))  # a bare division that is not even is a decimal, as a calculator says


_WORDED = ((r"(?:Add|What is the sum of|Find the sum of|Find the total of) (.+) and (.+?)[.?]$", "+"),
           (r"What is (.+) plus (.+?)\?$", "+"), (r"Subtract (.+) from (.+?)\.$", "-reversed"),
           (r"What is (.+) minus (.+?)\?$", "-"), (r"Find the difference between (.+) and (.+?)\.$", "-"),
           (r"Multiply (.+) by (.+?)\.$", "*"), (r"What is the product of (.+) and (.+?)\?$", "*"),
           (r"What is (.+) times (.+?)\?$", "*"),
           (r"(?:What is|Find|Calculate|How much is) (?!the )(.+) of (.+?)[.?]$", "*"),
           (r"Divide (.+) by (.+?)\.$", "/"), (r"What is (.+) divided by (.+?)\?$", "/"),
           (r"How many times does (.+) go into (.+?)\?$", "/reversed"),
           (r"Share (.+) equally into (.+?) parts\.$", "/"))


def _value(text: str, *, mixed_numbers: bool = False) -> Fraction:
    """A fraction, mixed-number or decimal question: a worded operation, else its one expression."""
    first = plain(_first_sentence(text))
    if m := re.fullmatch(r"(?:Which (?:fraction |number )?is (\w+)[,:]? |Is )(\S+) or (\S+?)(?: (larger))?\?", first):
        pair = evaluate(m[2]), evaluate(m[3])
        return min(pair) if (m[1] or m[4]) in ("smaller", "less") else max(pair)
    if mixed_numbers:
        first = re.sub(r"(\d+) \((\d+)/(\d+)\)", r"(\1 + \2/\3)", first)
    for pattern, op in _WORDED:
        match = re.match(pattern, first)
        if match:
            x, y = evaluate(match[1]), evaluate(match[2])
            if op.endswith("reversed"):
                x, y = y, x
            return {"+": x + y, "-": x - y, "*": x * y, "/": x / y}[op[0]]
    return evaluate(math_span(first))


def _mixed(text: str, answer: str) -> Fraction:
    if "as a mixed number" in text or "into a mixed number" in text:
        whole, _, part = answer.partition(" ")
        assert 0 < Fraction(part) < 1 and int(whole) >= 1, answer  # a proper mixed number, as asked
    return _value(text, mixed_numbers=True)


def _decimal(text: str, answer: str) -> Fraction:
    if not (text.startswith("Round") or "rounded to" in text or "correct to" in text):
        return _value(text)
    t = plain(text)
    value = Fraction(re.search(NUMBER, t)[0])
    if m := re.search(r"nearest (ten|hundred|thousand|10|100|1000)\b", t):
        unit = Fraction({"ten": 10, "hundred": 100, "thousand": 1000}.get(m[1]) or int(m[1]))
        places = 0
    else:
        places = next(p for words, p in (("whole number", 0), ("0 decimal", 0), ("tenth", 1), ("1 decimal", 1),
                                         ("one decimal", 1), ("hundredth", 2), ("2 decimal", 2), ("two decimal", 2))
                      if words in t)
        unit = Fraction(1, 10**places)
    rounded = (value / unit + Fraction(1, 2)).__floor__() * unit  # half up
    assert len(answer.partition(".")[2]) == places, (text, answer)  # the places asked for, trailing zeros too
    return rounded


def _percent(text: str) -> Fraction:
    t = _no_money(plain(text)).replace(" per cent", " percent")
    if m := re.search(r"from (\d+) to (\d+)", t):
        old, new = int(m[1]), int(m[2])
        return Fraction(abs(new - old) * 100, old)
    for pattern, part_first in ((r"scored (\d+) out of (\d+)", True), (r"class of (\d+) students, (\d+) are", False),
                                (r"What percent(?:age)? of (\d+) is (\d+)", False),
                                (r"(\d+) is what (?:percent|%) of (\d+)", True),
                                (r"Express (\d+) as a percentage of (\d+)", True),
                                (r"What percent is (\d+) of (\d+)", True), (r"(\d+) out of (\d+)", True)):
        if m := re.search(pattern, t):
            part, whole = (int(m[1]), int(m[2])) if part_first else (int(m[2]), int(m[1]))
            return Fraction(part * 100, whole)
    # The whole from a part: "20% of a number is 12", "12 is 20% of what number", and the price before a discount.
    if m := re.search(r"(\d+)(?:%| percent) of a number is (\d+)", t):
        return Fraction(int(m[2]) * 100, int(m[1]))
    if m := re.search(r"(\d+) is (\d+)% of what number|(\d+) students walk to school\. This is (\d+)% of", t):
        part, pct = (m[1], m[2]) if m[1] else (m[3], m[4])
        return Fraction(int(part) * 100, int(pct))
    if m := re.search(r"After a (\d+)% discount, [a-z ]+ costs (\d+)|(\d+)% off and now costs (\d+)", t):
        pct, sale = (m[1], m[2]) if m[1] else (m[3], m[4])
        return Fraction(int(sale) * 100, 100 - int(pct))
    pct = Fraction(re.search(r"(\d+)(?:%| percent)", t)[1])
    base = Fraction(re.search(r"\d+(?!\d|%| percent)", t)[0])
    part = base * pct / 100
    if re.search(r"\bsave\b|the tip\?$|How much tax", t):
        return part
    if t.endswith("left?") or t.endswith("keep?"):
        return base - part
    if re.search(r"Increase|goes up|grew|increased|increase\b|rises|tax|in total", t):
        return base + part
    if re.search(r"Decrease|off\.|discount|decreased|decrease\b|Reduce|reduced|loses", t):
        return base - part
    return part


def _ratio(text: str) -> Fraction | str:
    t = _no_money(text)
    if re.search(r"[Ss]implify|simplest form|lowest terms", t):
        a, b = (int(n) for n in re.search(r"(\d+) ?: ?(\d+)|There are (\d+) [a-z ]+ and (\d+)", t).groups() if n)
        return f"{a // gcd(a, b)}:{b // gcd(a, b)}"
    if m := re.search(r"^(?:Divide|Split) (\d+)|^(\d+) is divided", t):
        a, b = map(int, re.search(r"ratio (\d+) ?: ?(\d+)", t).groups())
        part = max(a, b) if re.search(r"larger|bigger|greater", t) else min(a, b)
        return Fraction(int(m[1] or m[2]) * part, a + b)
    if m := re.search(r"in the ratio (\d+(?::\d+)+)", t):
        parts = [int(p) for p in m[1].split(":")]
        names = re.split(", | and ", re.search(r"([A-Z][a-z]+(?:, [A-Z][a-z]+)? and [A-Z][a-z]+)", t)[1])
        one = Fraction(int(re.search(r"(?:[Ss]hare|split) (\d+)", t)[1]), sum(parts))
        if m := re.search(r"How many more [a-z ]+ does (\w+) get than (\w+)\?", t):
            return (parts[names.index(m[1])] - parts[names.index(m[2])]) * one
        who = re.search(r"(?:does|go to|goes to) ([A-Z][a-z]+)(?: get)?\?$", t)[1]
        return parts[names.index(who)] * one
    if m := re.search(r"[Tt]he ratio of ([a-z ]+) to ([a-z ]+) is (\d+):(\d+)|For every (\d+) ([a-z ]+) there are "
                      r"(\d+) ([a-z ]+)\.", t):
        first, second, a, b = (m[1], m[2], m[3], m[4]) if m[1] else (m[6], m[8], m[5], m[7])
        parts = {first: int(a), second: int(b)}
        if more := re.search(r"There are (\d+) more ", t):
            one = Fraction(int(more[1]), abs(parts[first] - parts[second]))
        else:
            have = re.search(rf"There are (\d+) ({first}|{second})\b", t)
            one = Fraction(int(have[1]), parts[have[2]])
        asked = re.search(r"(?:How many|number of) ([a-z ]+?)(?: are there)?[?.]$", t)[1]
        return one * parts[asked] if asked in parts else one * sum(parts.values())
    if m := re.search(r"(\d+) \w+ of ([a-z ]+?) (?:for|go with) every (\d+) \w+ of ([a-z ]+)\.", t):
        amounts = {m[2]: int(m[1]), m[4]: int(m[3])}
        given = re.search(r"(?:for|with) (\d+) \w+ of ([a-z ]+)\?$", t)
        other = next(name for name in amounts if name != given[2])
        return Fraction(int(given[1]) * amounts[other], amounts[given[2]])
    if m := re.search(r"for (\d+) people needs (\d+) .* for (\d+) people|uses (\d+) .* to serve (\d+)\. .* to serve "
                      r"(\d+)\?", t):
        people, amount, other = (m[1], m[2], m[3]) if m[1] else (m[5], m[4], m[6])
        return Fraction(int(amount) * int(other), int(people))
    if m := re.search(r"1 cm (?:stands for|to|for every) (\d+) (?:km|m)\.", t):
        if real := re.search(r"A real \w+ is (\d+) ", t):
            return Fraction(int(real[1]), int(m[1]))
        return int(re.search(r"(\d+) cm (?:long|apart) on", t)[1]) * Fraction(int(m[1]))
    if m := re.search(r"(\d+) [a-z ]+ cost (\d+)[.,] (?:How much do|what do) (\d+) ", t):
        return Fraction(int(m[2]), int(m[1])) * int(m[3])
    if m := re.search(r"makes (\d+) [a-z ]+ in (\d+) minutes\. .* in (\d+) minutes\?", t):
        return Fraction(int(m[1]), int(m[2])) * int(m[3])
    if m := re.search(r"earns (\d+) for (\d+) hours", t):
        return Fraction(int(m[1]), int(m[2]))
    for pattern, how in ((r"(?:travels|goes) (\d+) [a-z]+ in (\d+) hours", "d/t"),
                         (r"at (\d+) (?:km/h|miles per hour) for (\d+) hours", "s*t"),
                         (r"in (\d+) hours at (\d+) ", "t*s"), (r"to travel (\d+) [a-z]+ at (\d+) ", "d/s"),
                         (r"at (\d+) .* a (\d+) [a-z]+ trip", "s,d"), (r"at (\d+) .* for (\d+) minutes", "s*m")):
        if m := re.search(pattern, t):
            a, b = int(m[1]), int(m[2])
            return {"d/t": Fraction(a, b), "s*t": Fraction(a * b), "t*s": Fraction(a * b), "d/s": Fraction(a, b),
                    "s,d": Fraction(b, a), "s*m": Fraction(a * b, 60)}[how]
    raise AssertionError(f"unread ratio problem: {text}")


_LENGTHS = {"mm": Fraction(1, 1000), "millimetre": Fraction(1, 1000), "cm": Fraction(1, 100),
            "centimetre": Fraction(1, 100), "centimeter": Fraction(1, 100), "m": 1, "metre": 1, "meter": 1,
            "km": 1000, "kilometre": 1000, "kilometer": 1000, "g": 1, "gram": 1, "kg": 1000, "kilogram": 1000,
            "ml": 1, "millilitre": 1, "milliliter": 1, "l": 1000, "litre": 1000, "liter": 1000, "s": 1, "second": 1,
            "min": 60, "minute": 60, "h": 3600, "hour": 3600, "day": 86400, "week": 604800,
            "in": 1, "inch": 1, "inche": 1, "ft": 12, "foot": 12, "feet": 12, "yd": 36, "yard": 36,
            "mi": 63360, "mile": 63360, "oz": 1, "ounce": 1, "lb": 16, "pound": 16}
# Every unit by its symbol, its name and its plural name (a "1 metre" is a metre too).
_UNITS = {**_LENGTHS, **{f"{name}s": size for name, size in _LENGTHS.items() if len(name) > 2}}


def _unit(text: str) -> Fraction:
    names = "|".join(sorted(_UNITS, key=len, reverse=True))
    t = re.sub(r"^There are \d+ [a-z]+ in 1 [a-z]+\. ", "", text)  # the factor stated first is no amount
    target = re.search(rf"(?:How many ({names}) (?:are )?in|(?:to|in|into) ({names})[.?]?$|= \? ({names})$|is how "
                       rf"many ({names})\?$)", t)
    target = next(g for g in target.groups() if g)
    amounts = re.findall(rf"({NUMBER}) ({names})\b", t)
    return sum(Fraction(v) * _UNITS[u] for v, u in amounts) / _UNITS[target]


def _linear(side: str, letters: str) -> list[Fraction]:
    """Coefficients of ``letters`` and the constant of a linear expression, by evaluating it at unit points."""
    zero = {v: Fraction(0) for v in letters}
    constant = evaluate(side, zero)
    return [evaluate(side, {**zero, v: Fraction(1)}) - constant for v in letters] + [constant]


def _equation(text: str) -> Fraction:
    sign = lambda word: 1 if word in ("add", "added", "plus", "added to") else -1  # noqa: E731
    times = lambda word: 2 if word == "Twice" else int(word.split()[0])  # noqa: E731
    if m := re.search(r"multiply it by (\d+) and (add|subtract) (\d+)\. The result is (-?\d+)", text) or re.search(
            r"When a number is multiplied by (\d+) and then (\d+) is (added|subtracted), the answer is (-?\d+)", text):
        a, op, b, c = (m[1], m[2], m[3], m[4]) if m[2].isalpha() else (m[1], m[3], m[2], m[4])
        return Fraction(int(c) - sign(op) * int(b), int(a))
    if m := re.search(r"(Twice|\d+ times) a number (plus|minus) (\d+) is (-?\d+)", text):
        return Fraction(int(m[4]) - sign(m[2]) * int(m[3]), times(m[1]))
    if m := re.search(r"(add|subtract) (\d+) and multiply the result by (\d+)\. I get (-?\d+)", text):
        return Fraction(int(m[4]), int(m[3])) - sign(m[1]) * int(m[2])
    if m := re.search(r"(\d+) is (added to|subtracted from) a number and the result is multiplied by (\d+), giving "
                      r"(-?\d+)", text):
        return Fraction(int(m[4]), int(m[3])) - sign(m[2]) * int(m[1])
    if m := re.search(r"divided by (\d+) and then (\d+) is (added|taken away)\. The result is (-?\d+)", text):
        return (int(m[4]) - sign(m[3]) * int(m[2])) * Fraction(int(m[1]))
    if m := re.search(r"A number divided by (\d+), (plus|minus) (\d+), equals (-?\d+)", text):
        return (int(m[4]) - sign(m[2]) * int(m[3])) * Fraction(int(m[1]))
    if m := re.search(r"A number multiplied by (\d+) gives (-?\d+)|(Twice|\d+ times) a number is (-?\d+)", text):
        return Fraction(int(m[2]), int(m[1])) if m[1] else Fraction(int(m[4]), times(m[3]))
    [(left, right)] = [(left, right) for left, right in equations(plain(text, times_x=False)) if left and right]
    [letter] = set(re.findall("[a-z]", left + right))
    a, c1 = _linear(left, letter)
    b, c2 = _linear(right, letter)
    return (c2 - c1) / (a - b)


def _solve(rows: list[list[Fraction]]) -> tuple[Fraction, Fraction]:
    """The solution of ``a1 u + b1 v + c1 = 0`` and ``a2 u + b2 v + c2 = 0`` (Cramer's rule)."""
    (a1, b1, c1), (a2, b2, c2) = rows
    det = a1 * b2 - a2 * b1
    return (-c1 * b2 + c2 * b1) / det, (-a1 * c2 + a2 * c1) / det


def _system(text: str) -> str:
    t = _no_money(text)
    if m := re.search(r"Adult tickets cost (\d+) and child tickets cost (\d+)\. \w+ buys (\d+) tickets for (\d+)", t):
        adult, child, count, total = map(int, m.groups())
        adults = Fraction(total - count * child, adult - child)
        return str(adults if "many adult" in t else count - adults)
    larger = bool(re.search(r"larger|bigger|greater", t))
    if m := re.search(r"(\d+) times (?:the other|another)", t):
        k = int(m[1])
        if total := re.search(r"sum of two numbers is (\d+)|together they make (\d+)", t):
            small = Fraction(int(total[1] or total[2]), k + 1)
        else:
            small = Fraction(int(re.search(r"difference (?:of two numbers )?is (\d+)", t)[1]), k - 1)
        return str(k * small if larger else small)
    if m := re.search(r"(?:add up to|sum of two numbers is|have a sum of) (\d+)", t):
        diff = re.search(r"difference (?:is|of) (\d+)|(\d+) more than the other", t)
        d = int(diff[1] or diff[2])
        return str(Fraction(int(m[1]) + d, 2) if larger else Fraction(int(m[1]) - d, 2))
    if lots := re.findall(r"(\d+) (\w+) and (\d+) (\w+) cost (\d+)\.", t):
        singular = lambda word: word.removesuffix("s")  # noqa: E731
        goods = [singular(lots[0][1]), singular(lots[0][3])]
        rows = [[Fraction(int(a)), Fraction(int(b)), -Fraction(int(c))] for a, _, b, _, c in lots]
        prices = _solve(rows)
        return str(prices[goods.index(re.search(r"one (\w+)", t.split(". ")[-1])[1])])
    asked_bare = re.search(r"\. ([a-z]) = \?$", t)  # "x + y = 12, x - y = 4. x = ?": read without the question
    found = [(left, right) for left, right in equations(plain(t[:asked_bare.start()] if asked_bare else t,
                                                              times_x=False)) if left and right]
    u, v = sorted(set(re.findall(r"(?<![a-z])[a-z](?![a-z])", " ".join(left + " " + right for left, right in found))))
    rows = [[p - q for p, q in zip(_linear(left, u + v), _linear(right, u + v))] for left, right in found]
    x, y = _solve(rows)
    if re.search(r"\([a-z], [a-z]\)", t):
        return f"({x}, {y})"
    if re.search(r"(?:what is|find|value of) [a-z] \+ [a-z][?.]$", t, re.IGNORECASE):
        return str(x + y)
    if asked := asked_bare or re.search(r"(?:what is|find|for) ([a-z])[?.]$|Find the value of ([a-z]) if", t,
                                        re.IGNORECASE):
        letter = next(g for g in asked.groups() if g)
        return str(x if letter == u else y)
    return f"{u} = {x}, {v} = {y}"


_AREA_SIGN = re.compile(r"(?:mm|cm|m)(?:²|\^2)|square (?:millimetres|centimetres|metres|units)")


def _geometry(text: str) -> Fraction:
    t = _AREA_SIGN.sub("", text)
    question = re.split(r"(?<=[.;]) ", t)[-1]
    nums = [Fraction(n) for n in re.findall(r"\d+", t)]
    area = re.search(r"area (?:of an? \w+ is|of|is) (\d+)", t)
    perimeter = re.search(r"perimeter (?:of an? \w+ is|of|is) (\d+)", t)
    asks = ("perimeter" if re.search("perimeter|around", question) else
            "side" if re.search(r"How (?:long|wide|tall)|width\?|length\?|height\?|(?:one|each|other) side",
                                question) else "area")
    if "triangle" in t:
        if "equilateral" in t:
            return 3 * nums[0]
        if "sides" in t:
            return sum(nums[:3])
        if m := re.search(r"legs of (\d+)(?: \w+)? and (\d+)", t):
            return Fraction(int(m[1]) * int(m[2]), 2)
        base = int(re.search(r"base (?:of |is )?(\d+)", t)[1])
        if area:
            return Fraction(2 * int(area[1]), base)
        return Fraction(base * int(re.search(r"height (?:of |is )?(\d+)", t)[1]), 2)
    if "square" in t:
        side = nums[0] / 4 if perimeter else Fraction(isqrt(int(area[1]))) if area else nums[0]
        return {"side": side, "perimeter": 4 * side, "area": side * side}[asks]
    if asks == "side":
        given = area or perimeter
        other = next(n for i, n in enumerate(nums) if i != nums.index(Fraction(int(given[1]))))
        return Fraction(int(area[1])) / other if area else Fraction(int(perimeter[1]), 2) - other
    a, b = nums[:2]
    return 2 * (a + b) if asks == "perimeter" else a * b


def _average(text: str) -> Fraction:
    listed = re.search(r"\d+(?:, \d+)* and \d+", text)
    values = [int(v) for v in re.findall(r"\d+", listed[0])] if listed else []
    ordered = sorted(values)
    if "median" in text:
        return Fraction(ordered[(len(values) - 1) // 2] + ordered[len(values) // 2], 2)
    if "mode" in text:
        (mode, times), (_, next_times) = Counter(values).most_common(2)
        assert times > next_times, text  # one mode
        return Fraction(mode)
    if "range" in text:
        return Fraction(ordered[-1] - ordered[0])
    for pattern, order in ((r"(?:mean|average) of (\d+) numbers is (\d+)", "count, mean"),
                           (r"mean score of (\d+) over (\d+) tests", "mean, count"),
                           (r"mean score over (\d+) games is (\d+)", "count, mean"),
                           (r"(\d+) friends have an average age of (\d+)", "count, mean"),
                           (r"mean mass of (\d+) parcels is (\d+)", "count, mean"),
                           (r"on (\d+) tests\. What must \w+ score on the next test to have a mean of (\d+)", "known")):
        if m := re.search(pattern, text):
            first, second = int(m[1]), int(m[2])
            count, mean = {"count, mean": (first, second), "mean, count": (second, first),
                           "known": (first + 1, second)}[order]
            break
    else:
        return Fraction(sum(values), len(values))
    if re.search(r"\b(?:sum|total)\b", text):
        return Fraction(count * mean)
    assert len(values) == count - 1, text
    return Fraction(count * mean - sum(values))


def _clock_minutes(clock: str) -> int:
    hour, minute, half = re.fullmatch(r"(\d+):(\d+)(?: (am|pm))?", clock).groups()
    hour = int(hour) % 12 + (12 if half == "pm" else 0) if half else int(hour)
    return hour * 60 + int(minute)


def _word(text: str) -> Fraction:
    if (value := read_multi_step(text)) is not None:  # first: word.py's stories below share some of their phrases
        return value
    t = _no_money(with_names(text))
    if m := re.search(r"(\w+) has (\d+) ([a-z ]+)\. \1 buys (\d+) bags with (\d+) ", t) or re.search(
            r"(\w+) buys (\d+) bags with (\d+) [a-z ]+ in each bag\..*", t):
        have = int(re.search(rf"\b{m[1]} has (\d+) ", t)[1])
        bags, each = map(int, re.search(r"buys (\d+) bags with (\d+) ", t).groups())
        return Fraction(have + bags * each)
    if m := re.search(r"(\w+) has (\d+) [a-z ]+ and gets (\d+) more packs of (\d+)\.", t):
        give = int(re.search(r"gives away (\d+)\.", t)[1])
        return Fraction(int(m[2]) + int(m[3]) * int(m[4]) - give)
    if m := re.search(r"buys (\d+) [a-z ]+ at (\d+) each and (?:(\d+) [a-z ]+ at (\d+) each|1 [a-z ]+ for (\d+))\.", t):
        cost = int(m[1]) * int(m[2]) + (int(m[3]) * int(m[4]) if m[3] else int(m[5]))
        paid = re.search(r"pays with (\d+)\.", t)
        return Fraction(int(paid[1]) - cost if paid else cost)
    if m := re.search(r"has (\d+) [a-z ]+ and shares them equally among (\d+) friends", t):
        return Fraction(int(m[1]), int(m[2]))
    if m := re.search(r"packs (\d+) [a-z ]+ into boxes of (\d+)\.", t):
        return Fraction(int(m[1]) // int(m[2]))
    if m := re.search(r"shares (\d+) [a-z ]+ equally among (\d+) friends\. .*left over", t):
        return Fraction(int(m[1]) % int(m[2]))
    if m := re.search(r"(\w+) is (\d+) times as old as (\w+)\.", t):
        young = int(re.search(rf"{m[3]} is (\d+) years old", t)[1])
        return Fraction(int(m[2]) * young + int(re.search(r"be in (\d+) years", t)[1]))
    if m := re.search(r"In (\d+) years, (\w+) will be (\d+) years old\..* (\d+) years ago", t):
        return Fraction(int(m[3]) - int(m[1]) - int(m[4]))
    if m := re.search(r"(\w+) is (\d+) years older than (\w+)\.", t):
        total = int(re.search(r"sum of their ages is (\d+)", t)[1])
        older = re.search(r"How old is (\w+)\?", t)[1] == m[1]
        return Fraction(total + int(m[2]), 2) if older else Fraction(total - int(m[2]), 2)
    if m := re.search(r"for (\d+) minutes a day for (\d+) days", t):
        return Fraction(int(m[1]) * int(m[2]))
    if m := re.search(r"starts at (\d+:\d+(?: [ap]m)?) and ends at (\d+:\d+(?: [ap]m)?)\.", t):
        return Fraction(_clock_minutes(m[2]) - _clock_minutes(m[1]))
    if m := re.search(r"has (\d+) and saves (\d+) each week\..* to have (\d+)\?", t):
        return Fraction(int(m[3]) - int(m[1]), int(m[2]))
    if m := re.search(r"(\w+) has (\d+) times as many ([a-z ]+) as (\w+)\.", t):
        few = int(re.search(rf"\b{m[4]} has (\d+) ", t)[1])
        return Fraction(int(m[2]) * few + few if "together" in t else int(m[2]) * few - few)
    if m := re.search(r"(\d+) rows of (\d+) chairs\.", t):
        return Fraction(int(m[1]) * int(m[2]) - int(re.search(r"(\d+) people sit down", t)[1]))
    if m := re.search(r"had (\d+)\..* spent (\d+) on a book and then half of the rest", t):
        return Fraction(int(m[1]) - int(m[2]), 2)
    return read_story(text, multi_step=False)  # the one- and two-step stories of stories.py


_READERS = {"arithmetic": _arithmetic, "order": _order, "integers": _integers, "addition": _addition,
            "subtraction": _subtraction, "multiplication": _multiplication, "fraction": _value, "percent": _percent,
            "ratio": _ratio, "unit": _unit, "equation": _equation, "geometry": _geometry, "average": _average,
            "word": _word}


def test_every_kind_has_a_reader():
    assert set(_READERS) | {"division", "mixed_number", "decimal", "system"} == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_boxed_answer_is_the_value_the_text_asks_for(kind):
    rng = random.Random(f"answers-{kind}")
    for _ in range(PROBLEMS_PER_KIND):
        p = make_problem(rng, kind)
        if kind in ("division", "ratio"):  # a remainder or a ratio is compared as written, a number by value
            expected = (_division if kind == "division" else _ratio)(p.problem)
            assert p.answer == expected if isinstance(expected, str) else number(p.answer) == expected, p
            assert kind == "ratio" or "/" not in p.answer, p  # an uneven quotient is a decimal, not a fraction
        elif kind == "system":
            assert p.answer == _system(p.problem), p
        elif kind == "mixed_number":
            assert number(p.answer) == _mixed(p.problem, p.answer), p
        elif kind == "decimal":
            assert number(p.answer) == _decimal(p.problem, p.answer), p
        else:
            assert number(p.answer) == _READERS[kind](p.problem), p
        assert is_equivalent(extract_answer(render_solution(p)), p.answer), p


def test_answers_are_written_plainly():
    """Integers, decimals and a/b in lowest terms; "q remainder r", a mixed number, "x = a, y = b" (or in other
    letters), a pair "(a, b)" or a ratio "2:3" only where the question asks for one."""
    shapes = re.compile(rf"-?{NUMBER}|-?\d+/\d+|\d+ remainder \d+|\d+ \d+/\d+|([a-z]) = -?\d+, (?!\1)[a-z] = -?\d+|"
                        r"\(-?\d+, -?\d+\)|\d+:\d+")
    for kind in KINDS:
        rng = random.Random(f"shapes-{kind}")
        for _ in range(100):
            answer = make_problem(rng, kind).answer
            assert shapes.fullmatch(answer), (kind, answer)
            if re.fullmatch(r"-?\d+/\d+", answer):
                assert Fraction(answer).denominator == int(answer.split("/")[1]) > 1, answer
